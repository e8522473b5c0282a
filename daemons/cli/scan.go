package cli

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/infisical-go/engine/daemons/cli/scanner"
)

func init() { register(newScanCommand) }

// scanFlags are the flags shared by `scan` and `scan git-changes`
// (persistent flags of `scan`, as in Infisical's CLI).
type scanFlags struct {
	config         string
	exitCode       int
	source         string
	reportPath     string
	reportFormat   string
	baselinePath   string
	verbose        bool
	noColor        bool
	maxTargetMB    int
	maxDecodeDepth int
	redact         redactFlag
}

// redactFlag is --redact: a bare flag or "true" hides secrets entirely,
// "false" shows them, a number 0..100 hides that percentage (gitleaks).
type redactFlag uint

func (r *redactFlag) String() string { return strconv.FormatUint(uint64(*r), 10) }
func (r *redactFlag) Type() string   { return "percent" }
func (r *redactFlag) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*r = 100
		return nil
	case "false":
		*r = 0
		return nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 8)
	if err != nil || n > 100 {
		return fmt.Errorf("want true, false or a percentage 0..100, got %q", s)
	}
	*r = redactFlag(n)
	return nil
}

var _ pflag.Value = (*redactFlag)(nil)

const scanConfigHelp = `config file path
order of precedence:
1. --config flag
2. env var INFISICAL_SCAN_CONFIG
3. (--source/-s)/.infisical-scan.toml
If none of the three options are used, then the built-in default config is used`

func newScanCommand(app *App) *cobra.Command {
	var (
		sf             scanFlags
		logOpts        string
		noGit, pipe    bool
		followSymlinks bool
	)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan for leaked secrets in git history, directories and files",
		Long: "infisical scan looks for secrets (API keys, tokens, private keys, ...) in a git\n" +
			"repository's history (git log -p), or with --no-git in plain files, or with --pipe in\n" +
			"standard input. It exits with --exit-code (default 1) when it finds any.",
		Example: "  infisical scan\n  infisical scan --verbose --redact\n  infisical scan --no-git --source ./config\n" +
			"  infisical scan --report-path leaks.json\n  infisical scan --baseline-path leaks.json --report-path new.json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := scanner.ModeGit
			switch {
			case noGit:
				mode = scanner.ModeDir
			case pipe:
				mode = scanner.ModePipe
			}
			return runScan(cmd, app, &sf, scanner.Options{Mode: mode, LogOpts: logOpts, FollowSymlinks: followSymlinks})
		},
	}
	f := cmd.Flags()
	f.StringVar(&logOpts, "log-opts", "", "git log options, e.g. --log-opts=\"--all commitA..commitB\"")
	f.BoolVar(&noGit, "no-git", false, "treat a git repository as a plain directory and scan its files; --log-opts has no effect")
	f.BoolVar(&pipe, "pipe", false, "scan input from stdin, e.g. cat some_file | infisical scan --pipe")
	f.BoolVar(&followSymlinks, "follow-symlinks", false, "scan files that are symlinks to other files")

	pf := cmd.PersistentFlags()
	pf.StringVarP(&sf.config, "config", "c", "", scanConfigHelp)
	pf.IntVar(&sf.exitCode, "exit-code", 1, "exit code when leaks have been encountered")
	pf.StringVarP(&sf.source, "source", "s", ".", "path to source")
	pf.StringVarP(&sf.reportPath, "report-path", "r", "", "report file (\"-\" for stdout)")
	pf.StringVarP(&sf.reportFormat, "report-format", "f", "json", "output format (json, csv, sarif, junit)")
	pf.StringVarP(&sf.baselinePath, "baseline-path", "b", "", "path to baseline with issues that can be ignored")
	pf.BoolVarP(&sf.verbose, "verbose", "v", false, "show verbose output from scan (which file, where in the file, what secret)")
	pf.BoolVar(&sf.noColor, "no-color", false, "turn off color for verbose output")
	pf.IntVar(&sf.maxTargetMB, "max-target-megabytes", 0, "files larger than this will be skipped")
	pf.IntVar(&sf.maxDecodeDepth, "max-decode-depth", scanner.DefaultMaxDecodeDepth, "decode base64/hex/percent-encoded text up to this depth (0: no decoding)")
	pf.Var(&sf.redact, "redact", "redact secrets from logs and stdout (a percentage such as --redact=20 redacts part of each secret)")
	pf.Lookup("redact").NoOptDefVal = "100"

	cmd.AddCommand(newScanGitChangesCommand(app, &sf), newScanInstallCommand(app, &sf))
	return cmd
}

func newScanGitChangesCommand(app *App, sf *scanFlags) *cobra.Command {
	var (
		staged  bool
		logOpts string
	)
	cmd := &cobra.Command{
		Use:   "git-changes",
		Short: "Scan for secrets in uncommitted changes in a git repository",
		Long: "infisical scan git-changes scans the uncommitted changes of a git repository (git diff),\n" +
			"or with --staged the changes staged for the next commit: the pre-commit check.",
		Example: "  infisical scan git-changes\n  infisical scan git-changes --staged --verbose",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := scanner.ModeGitChanges
			if staged {
				mode = scanner.ModeGitStaged
			}
			_ = logOpts // accepted for compatibility; git diff takes no log options
			return runScan(cmd, app, sf, scanner.Options{Mode: mode})
		},
	}
	cmd.Flags().BoolVar(&staged, "staged", false, "detect secrets in a --staged state")
	cmd.Flags().StringVar(&logOpts, "log-opts", "", "git log options (no effect on git-changes)")
	return cmd
}

func newScanInstallCommand(app *App, sf *scanFlags) *cobra.Command {
	var preCommit bool
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install scanning tools into the development workflow (--pre-commit-hook)",
		Long: "infisical scan install --pre-commit-hook adds a git pre-commit hook that scans the staged\n" +
			"changes and blocks the commit when it finds secrets. Disable it with\n" +
			"`git config --bool hooks.infisical-scan false`.",
		Example: "  infisical scan install --pre-commit-hook",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !preCommit {
				return usagef("nothing to install: pass --pre-commit-hook")
			}
			res, err := scanner.InstallPreCommitHook(cmd.Context(), sf.source)
			if err != nil {
				return err
			}
			switch {
			case res.Unchanged:
				app.info("The pre-commit hook at %s already runs infisical scan.", res.Path)
			case res.Created:
				app.info("Pre-commit hook installed at %s: infisical scan now runs on each commit.", res.Path)
			default:
				app.info("infisical scan added to the existing pre-commit hook at %s.", res.Path)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&preCommit, "pre-commit-hook", false, "install a git pre-commit hook that scans staged changes")
	return cmd
}

// runScan loads the configuration, scans, prints and reports.
func runScan(cmd *cobra.Command, app *App, sf *scanFlags, opt scanner.Options) error {
	format := strings.ToLower(sf.reportFormat)
	if !slices.Contains(scanner.ReportFormats, format) {
		return usagef("invalid --report-format %q: want %s", sf.reportFormat, strings.Join(scanner.ReportFormats, ", "))
	}
	if sf.maxDecodeDepth < 0 {
		return usagef("invalid --max-decode-depth %d: must not be negative", sf.maxDecodeDepth)
	}
	cfgPath := scanner.ResolveConfigPath(sf.config, app.env(scanner.ConfigEnv), sf.source)
	var (
		cfg config.Config
		err error
	)
	if cfgPath == "" {
		cfg, err = scanner.DefaultConfig()
	} else {
		cfg, err = scanner.LoadConfig(cfgPath)
	}
	if err != nil {
		return err
	}
	opt.Source = sf.source
	opt.BaselinePath = sf.baselinePath
	opt.Redact = uint(sf.redact)
	opt.MaxTargetMegabytes = sf.maxTargetMB
	opt.MaxDecodeDepth = sf.maxDecodeDepth
	if sf.maxDecodeDepth == 0 {
		opt.MaxDecodeDepth = -1
	}
	if opt.Mode == scanner.ModePipe {
		opt.Stdin = app.Stdin
	}

	app.info("scanning for exposed secrets...")
	res, err := scanner.Scan(cmd.Context(), cfg, opt)
	if err != nil {
		return err
	}
	if sf.verbose {
		color := !sf.noColor && scanIsTerminal(app.Stdout)
		for _, f := range res.Findings {
			scanner.PrintFinding(app.Stdout, f, color)
		}
	}
	app.info("scan completed in %s (%s scanned)", scanDuration(res.Duration), scanBytes(res.Bytes))
	if len(res.Findings) > 0 {
		fmt.Fprintf(app.Stderr, "leaks found: %d\n", len(res.Findings))
	} else {
		app.info("no leaks found")
	}
	if sf.reportPath != "" {
		if err := scanner.WriteReportFile(sf.reportPath, app.Stdout, format, res.Findings, cfg); err != nil {
			return err
		}
	}
	if len(res.Findings) > 0 && sf.exitCode != 0 {
		return &exitError{code: sf.exitCode}
	}
	return nil
}

// scanIsTerminal reports whether w is a character device (a terminal).
func scanIsTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// scanDuration rounds d to three significant digits.
func scanDuration(d time.Duration) string {
	scale := 100 * time.Second
	for scale > d && scale > time.Microsecond {
		scale /= 10
	}
	return d.Round(scale / 100).String()
}

func scanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
