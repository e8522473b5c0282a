package scanner

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/report"
)

// ReportFormats are the accepted --report-format values.
var ReportFormats = []string{"json", "csv", "sarif", "junit"}

// StdoutReport is the --report-path that writes the report to stdout.
const StdoutReport = "-"

// nopCloser keeps the reporters from closing stdout.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// WriteReport writes findings in format ("json", "csv", "sarif" or
// "junit") to w. The JSON report is the baseline format.
func WriteReport(w io.Writer, format string, findings []report.Finding, cfg config.Config) error {
	if findings == nil {
		findings = []report.Finding{}
	}
	var r report.Reporter
	switch strings.ToLower(format) {
	case "json", "":
		r = &report.JsonReporter{}
	case "csv":
		r = &report.CsvReporter{}
	case "sarif":
		r = &report.SarifReporter{OrderedRules: cfg.GetOrderedRules()}
	case "junit":
		r = &report.JunitReporter{}
	default:
		return fmt.Errorf("unknown report format %q: want %s", format, strings.Join(ReportFormats, ", "))
	}
	return r.Write(nopCloser{w}, findings)
}

// WriteReportFile writes the report to path ("-" for stdout), creating
// the file with mode 0600: a report holds the secrets it found unless the
// scan redacted them.
func WriteReportFile(path string, stdout io.Writer, format string, findings []report.Finding, cfg config.Config) error {
	if path == StdoutReport {
		return WriteReport(stdout, format, findings, cfg)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := WriteReport(f, format, findings, cfg); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// PrintFinding writes one finding the way --verbose shows it. With color,
// the secret is highlighted inside its line.
func PrintFinding(w io.Writer, f report.Finding, color bool) {
	line := strings.TrimSpace(f.Line)
	secret := strings.TrimSpace(f.Secret)
	match := strings.TrimSpace(f.Match)
	bold := func(s string) string {
		if !color || s == "" {
			return s
		}
		return "\x1b[1;31m" + s + "\x1b[0m"
	}
	shown := match
	if strings.HasPrefix(match, "file detected:") {
		shown = match
	} else if line != "" && len([]rune(line)) <= 500 {
		if i := strings.Index(line, match); i >= 0 && match != "" {
			shown = line[:i] + strings.Replace(match, secret, bold(secret), 1) + line[i+len(match):]
		} else {
			shown = line
		}
	}
	var b strings.Builder
	field := func(name, v string) {
		if v == "" {
			return
		}
		b.WriteString(name)
		b.WriteString(strings.Repeat(" ", max(1, 13-len(name))))
		b.WriteString(v)
		b.WriteByte('\n')
	}
	field("Finding:", shown)
	field("Secret:", bold(secret))
	field("RuleID:", f.RuleID)
	field("Entropy:", strconv.FormatFloat(float64(f.Entropy), 'f', 6, 32))
	field("File:", f.File)
	if f.SymlinkFile != "" {
		field("Symlink:", f.SymlinkFile)
	}
	field("Line:", strconv.Itoa(f.StartLine))
	field("Commit:", f.Commit)
	field("Author:", f.Author)
	field("Email:", f.Email)
	field("Date:", f.Date)
	field("Fingerprint:", f.Fingerprint)
	if len(f.Tags) > 0 {
		field("Tags:", "["+strings.Join(f.Tags, " ")+"]")
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(w, b.String())
}
