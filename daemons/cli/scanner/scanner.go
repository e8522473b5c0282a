package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/cmd/scm"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/report"
	"github.com/zricethezav/gitleaks/v8/sources"
)

// IgnoreMarker is Infisical's inline marker: a finding whose line contains
// it is dropped. gitleaks' own marker, gitleaks:allow, is honoured too
// (Infisical's scanner is a gitleaks fork and its code checks that one).
const IgnoreMarker = "infisical-scan:ignore"

// DefaultMaxDecodeDepth is how many nested encodings (base64, hex,
// percent) are decoded looking for secrets (gitleaks' CLI default).
const DefaultMaxDecodeDepth = 5

// Mode says what is scanned.
type Mode int

const (
	// ModeGit scans the repository's history (git log -p).
	ModeGit Mode = iota
	// ModeDir scans the files of a directory (or one file), ignoring git.
	ModeDir
	// ModeGitChanges scans uncommitted, unstaged changes (git diff).
	ModeGitChanges
	// ModeGitStaged scans staged changes (git diff --staged).
	ModeGitStaged
	// ModePipe scans Options.Stdin.
	ModePipe
)

// Options describe one scan.
type Options struct {
	// Source is the repository or directory (default ".").
	Source string
	Mode   Mode
	// LogOpts are extra `git log` options (ModeGit only), e.g. "--all A..B".
	LogOpts string
	// BaselinePath names a JSON report whose findings are not reported again.
	BaselinePath string
	// Redact hides secrets in findings: 100 replaces them by REDACTED,
	// smaller values keep that percentage hidden.
	Redact uint
	// MaxTargetMegabytes skips larger files (0: no limit).
	MaxTargetMegabytes int
	// FollowSymlinks scans the targets of symbolic links (ModeDir).
	FollowSymlinks bool
	// MaxDecodeDepth bounds recursive decoding (negative: none; 0:
	// DefaultMaxDecodeDepth).
	MaxDecodeDepth int
	// MaxArchiveDepth lets the scan enter nested archives (0: none).
	MaxArchiveDepth int
	// Stdin is read in ModePipe.
	Stdin io.Reader
}

// Result is the outcome of a scan.
type Result struct {
	// Findings are sorted by file, line, column and rule.
	Findings []report.Finding
	// Bytes is how much content was scanned.
	Bytes uint64
	// Duration is the wall-clock time of the scan.
	Duration time.Duration
}

// quietLibrary lowers the gitleaks library's own logger (a package-level
// zerolog logger writing to stderr) to errors, once: its info lines would
// interleave with the command's output. It is set before any scan runs and
// never written again.
var quietLibrary = sync.OnceFunc(func() {
	logging.Logger = logging.Logger.Level(zerolog.ErrorLevel)
})

// Scan runs one scan with cfg.
func Scan(ctx context.Context, cfg config.Config, opt Options) (*Result, error) {
	quietLibrary()
	start := time.Now()
	if opt.Source == "" {
		opt.Source = "."
	}
	d := detect.NewDetectorContext(ctx, cfg)
	d.Redact = opt.Redact
	d.MaxTargetMegaBytes = opt.MaxTargetMegabytes
	d.FollowSymlinks = opt.FollowSymlinks
	d.MaxArchiveDepth = opt.MaxArchiveDepth
	switch {
	case opt.MaxDecodeDepth < 0:
		d.MaxDecodeDepth = 0
	case opt.MaxDecodeDepth == 0:
		d.MaxDecodeDepth = DefaultMaxDecodeDepth
	default:
		d.MaxDecodeDepth = opt.MaxDecodeDepth
	}

	st, err := os.Stat(opt.Source)
	if err != nil && opt.Mode != ModePipe {
		return nil, fmt.Errorf("scan source: %w", err)
	}
	if err == nil && opt.Mode != ModeDir && opt.Mode != ModePipe && !st.IsDir() {
		return nil, fmt.Errorf("scan source %s: not a directory (use --no-git to scan a file)", opt.Source)
	}
	if err == nil && st.IsDir() {
		ignore := filepath.Join(opt.Source, IgnoreFileName)
		if ist, err := os.Stat(ignore); err == nil && ist.Mode().IsRegular() {
			if err := addIgnoreFile(d, ignore); err != nil {
				return nil, fmt.Errorf("read %s: %w", ignore, err)
			}
		}
	}
	if opt.BaselinePath != "" {
		if err := d.AddBaseline(opt.BaselinePath, opt.Source); err != nil {
			return nil, fmt.Errorf("load baseline %s (it must be a JSON report of infisical scan): %w", opt.BaselinePath, err)
		}
	}

	var src sources.Source
	switch opt.Mode {
	case ModeDir:
		maxSize := 0
		if opt.MaxTargetMegabytes > 0 {
			maxSize = opt.MaxTargetMegabytes * 1_000_000
		}
		src = &sources.Files{Config: &d.Config, FollowSymlinks: opt.FollowSymlinks, MaxFileSize: maxSize,
			Path: opt.Source, Sema: d.Sema, MaxArchiveDepth: opt.MaxArchiveDepth}
	case ModePipe:
		if opt.Stdin == nil {
			return nil, errors.New("scan: no input to read")
		}
		src = &sources.File{Content: opt.Stdin, Config: &d.Config, MaxArchiveDepth: opt.MaxArchiveDepth}
	case ModeGit, ModeGitChanges, ModeGitStaged:
		if err := requireGitRepo(ctx, opt.Source); err != nil {
			return nil, err
		}
		var (
			cmd *sources.GitCmd
			err error
		)
		if opt.Mode == ModeGit {
			cmd, err = sources.NewGitLogCmdContext(ctx, opt.Source, opt.LogOpts)
		} else {
			cmd, err = sources.NewGitDiffCmdContext(ctx, opt.Source, opt.Mode == ModeGitStaged)
		}
		if err != nil {
			return nil, fmt.Errorf("run git: %w", err)
		}
		src = &sources.Git{Cmd: cmd, Config: &d.Config, Remote: &sources.RemoteInfo{Platform: scm.NoPlatform},
			Sema: d.Sema, MaxArchiveDepth: opt.MaxArchiveDepth}
	default:
		return nil, fmt.Errorf("scan: unknown mode %d", opt.Mode)
	}

	findings, err := d.DetectSource(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opt.Source, err)
	}
	res := &Result{Findings: filterIgnored(findings), Bytes: d.TotalBytes.Load(), Duration: time.Since(start)}
	sortFindings(res.Findings)
	return res, nil
}

// maxIgnoreLine is the longest .infisicalignore line passed on to gitleaks:
// far longer than any fingerprint, shorter than the line limit of its
// reader.
const maxIgnoreLine = 32 << 10

// addIgnoreFile loads a .infisicalignore file into d. gitleaks reads it
// with a bufio.Scanner and silently stops at the first line longer than
// 64 KiB, dropping every fingerprint after it; such lines cannot be
// fingerprints, so a copy without them is loaded instead.
func addIgnoreFile(d *detect.Detector, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(raw), "\n")
	kept := make([]string, 0, len(lines))
	for _, l := range lines {
		if len(l) <= maxIgnoreLine {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(lines) {
		return d.AddGitleaksIgnore(path)
	}
	tmp, err := os.CreateTemp("", "infisicalignore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(strings.Join(kept, "\n"))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return d.AddGitleaksIgnore(tmp.Name())
}

// requireGitRepo gives a clear error before git's own.
func requireGitRepo(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--is-inside-work-tree")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		if errors.Is(err, exec.ErrNotFound) {
			return errors.New("git is not installed")
		}
		return fmt.Errorf("%s is not a git repository (use --no-git to scan it as a directory)", dir)
	}
	return nil
}

// filterIgnored drops findings whose line carries an inline ignore marker.
func filterIgnored(in []report.Finding) []report.Finding {
	out := make([]report.Finding, 0, len(in))
	for _, f := range in {
		if strings.Contains(f.Line, IgnoreMarker) || strings.Contains(f.Line, "gitleaks:allow") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// sortFindings orders findings deterministically (the scan is concurrent).
func sortFindings(fs []report.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.File != b.File:
			return a.File < b.File
		case a.Commit != b.Commit:
			return a.Commit < b.Commit
		case a.StartLine != b.StartLine:
			return a.StartLine < b.StartLine
		case a.StartColumn != b.StartColumn:
			return a.StartColumn < b.StartColumn
		default:
			return a.RuleID < b.RuleID
		}
	})
}
