// Package cli is the `infisical` command line: the root command with the
// global flags of Infisical's CLI, and one file per sub-command (server,
// bootstrap, version, ...). A command file adds itself with register from an
// init function, so a new command is one new file and no edit elsewhere.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes of the binary.
const (
	ExitOK    = 0 // success
	ExitError = 1 // the command failed (bad configuration, server error, ...)
	ExitUsage = 2 // wrong flags or arguments
)

// DefaultDomain is Infisical Cloud, the default of --domain as in Infisical's CLI.
const DefaultDomain = "https://app.infisical.com"

// Options connects the command line to its environment. Zero values mean
// the process's own (os.Stdout, os.Stderr, os.LookupEnv, a default client).
type Options struct {
	Stdout, Stderr io.Writer
	// Stdin is read by prompts and passed to child processes (`run`).
	Stdin io.Reader
	// LookupEnv reads environment variables (tests pass a map).
	LookupEnv func(string) (string, bool)
	// HTTPClient is used by client commands (bootstrap, ...).
	HTTPClient *http.Client
}

// App is the state shared by the commands of one invocation: the streams,
// the environment and the parsed global flags.
type App struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	LookupEnv      func(string) (string, bool)
	HTTPClient     *http.Client

	// Global flags.
	domain    string
	silent    bool
	logLevel  string
	logFormat string

	// onServing, when set, is called by `server` once it accepts
	// connections (tests use it to learn the chosen port).
	onServing func(addr net.Addr)
}

// commands holds the constructors of the top-level commands. It is filled
// only from init functions (one per command file) and read afterwards.
var commands []func(*App) *cobra.Command

// register adds a top-level command; call it from an init function.
func register(newCmd func(*App) *cobra.Command) { commands = append(commands, newCmd) }

// usageError marks errors caused by wrong flags or arguments (exit code 2).
type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitError carries an explicit exit code; its message (if any) was
// already printed by the command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// NewApp fills defaults from opt.
func NewApp(opt Options) *App {
	a := &App{Stdout: opt.Stdout, Stderr: opt.Stderr, LookupEnv: opt.LookupEnv, HTTPClient: opt.HTTPClient}
	if a.Stdout == nil {
		a.Stdout = os.Stdout
	}
	if a.Stderr == nil {
		a.Stderr = os.Stderr
	}
	if a.Stdin = opt.Stdin; a.Stdin == nil {
		a.Stdin = os.Stdin
	}
	if a.LookupEnv == nil {
		a.LookupEnv = os.LookupEnv
	}
	if a.HTTPClient == nil {
		a.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	return a
}

// NewRootCommand builds the `infisical` command with every registered
// sub-command.
func NewRootCommand(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "infisical",
		Short: "Infisical-compatible secrets engine: server and command line",
		Long: "infisical runs an Infisical-compatible secrets server (infisical server) and talks to\n" +
			"Infisical servers, this one or Infisical's own (infisical bootstrap, ...).",
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Validate the global flags once, for every sub-command.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseLevel(app.logLevel); err != nil {
				return err
			}
			switch app.logFormat {
			case "text", "json":
			default:
				return usagef("invalid --log-format %q: want text or json", app.logFormat)
			}
			return nil
		},
	}
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	root.SetVersionTemplate("infisical version {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })

	pf := root.PersistentFlags()
	pf.StringVar(&app.domain, "domain", "", "URL of the Infisical API to talk to, with or without /api (env INFISICAL_API_URL; default "+DefaultDomain+")")
	pf.BoolVar(&app.silent, "silent", false, "do not print tips and informational messages")
	pf.StringVar(&app.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error or fatal")
	pf.StringVar(&app.logFormat, "log-format", "text", "log format: text or json")

	for _, newCmd := range commands {
		root.AddCommand(newCmd(app))
	}
	return root
}

// Execute runs the command line with args (without the program name) and
// returns the process exit code. ctx is cancelled to stop long-running
// commands (the binary cancels it on SIGINT/SIGTERM).
func Execute(ctx context.Context, args []string, opt Options) int {
	return execute(ctx, NewApp(opt), args)
}

func execute(ctx context.Context, app *App, args []string) int {
	root := NewRootCommand(app)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(app.Stderr, "error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(app.Stderr, "error:", err)
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintln(app.Stderr, "Run 'infisical --help' for usage.")
		return ExitUsage
	}
	return ExitError
}

// isCobraUsageError recognises the argument errors cobra builds itself
// (unknown command, wrong number of arguments), which have no type.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.Contains(msg, "arg(s), received") ||
		strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "required flag")
}

// env returns the value of an environment variable; empty counts as unset,
// as in Infisical.
func (a *App) env(name string) string {
	v, _ := a.LookupEnv(name)
	return strings.TrimSpace(v)
}

// APIURL is the base URL of the Infisical API the client commands call,
// always ending in /api: --domain wins over INFISICAL_API_URL, which wins
// over Infisical Cloud.
func (a *App) APIURL() (string, error) {
	d := a.domain
	if d == "" {
		d = a.env("INFISICAL_API_URL")
	}
	if d == "" {
		d = DefaultDomain
	}
	return normalizeAPIURL(d)
}

// normalizeAPIURL accepts "https://host", "https://host/" or
// "https://host/api" and returns "https://host/api".
func normalizeAPIURL(d string) (string, error) {
	d = strings.TrimRight(strings.TrimSpace(d), "/")
	if !strings.HasPrefix(d, "http://") && !strings.HasPrefix(d, "https://") {
		return "", usagef("invalid domain %q: it must start with http:// or https://", d)
	}
	if !strings.HasSuffix(d, "/api") {
		d += "/api"
	}
	return d, nil
}

// info prints an informational message to stderr unless --silent.
func (a *App) info(format string, args ...any) {
	if a.silent {
		return
	}
	fmt.Fprintf(a.Stderr, format+"\n", args...)
}

// levelTrace is below slog's Debug; Infisical's CLI accepts "trace".
const levelTrace = slog.LevelDebug - 4

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return levelTrace, nil
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal", "panic":
		return slog.LevelError, nil
	}
	return 0, usagef("invalid --log-level %q: want trace, debug, info, warn, error or fatal", s)
}

// Logger builds the structured logger selected by --log-level and
// --log-format, writing to stderr.
func (a *App) Logger() *slog.Logger {
	level, err := parseLevel(a.logLevel)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.Stderr, opts))
}
