package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

func init() { register(newRunCommand) }

type runFlags struct {
	secretFlags
	command       string
	watch         bool
	watchInterval watchInterval
}

// watchInterval is --watch-interval: whole seconds as in Infisical's CLI
// ("10"), or a Go duration ("500ms", "1m").
type watchInterval struct{ d time.Duration }

func (w *watchInterval) String() string {
	if w.d%time.Second == 0 {
		return strconv.Itoa(int(w.d / time.Second))
	}
	return w.d.String()
}

func (w *watchInterval) Set(s string) error {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		w.d = time.Duration(n) * time.Second
	} else if d, err := time.ParseDuration(s); err == nil {
		w.d = d
	} else {
		return fmt.Errorf("want seconds or a duration such as 500ms")
	}
	if w.d <= 0 {
		return fmt.Errorf("must be positive")
	}
	return nil
}

func (w *watchInterval) Type() string { return "seconds" }

func newRunCommand(app *App) *cobra.Command {
	fl := runFlags{watchInterval: watchInterval{d: 10 * time.Second}}
	cmd := &cobra.Command{
		Use:   "run [flags] -- <command> [args...]",
		Short: "Run a command with the secrets of an environment in its environment variables",
		Long: `Fetch the secrets of an environment and start a command with them added to
its environment. The command's exit code becomes infisical's exit code and
signals (SIGINT, SIGTERM, SIGHUP, ...) are passed on to it. --command runs a
shell command string instead (so &&, ; and pipes work).

With --watch the secrets are polled (--watch-interval) and the command is
restarted when they change; this is meant for development.

When the server cannot be reached, the last secrets fetched for the same
project, environment and path are used (with a warning on stderr).`,
		Example: `  infisical run --env=prod -- npm start
  infisical run --command "npm run build && npm start"
  infisical run --watch --path=/api -- ./server`,
		DisableFlagsInUseLine: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("command") {
				if strings.TrimSpace(fl.command) == "" {
					return usagef("--command needs a command string")
				}
				if len(args) > 0 {
					return usagef("--command takes a single command string: remove the arguments after --")
				}
				return nil
			}
			if len(args) == 0 {
				return usagef("give the command to run after --, or use --command")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(app, cmd, &fl, args) },
	}
	f := cmd.Flags()
	fl.bind(f, flagsTarget|flagsRead)
	f.StringVarP(&fl.command, "command", "c", "", `shell command string to run (e.g. "npm install && npm start")`)
	f.BoolVar(&fl.watch, "watch", false, "restart the command when the secrets change (development)")
	f.Var(&fl.watchInterval, "watch-interval", "how often --watch checks for changes: seconds, or a duration such as 500ms")
	return cmd
}

func runRun(app *App, cmd *cobra.Command, fl *runFlags, args []string) error {
	ctx := cmd.Context()
	t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
	if err != nil {
		return err
	}
	q := fl.query(t, true)
	res, err := app.fetchSecrets(ctx, t, q)
	if err != nil {
		return err
	}
	spec := childSpec{command: fl.command, args: args}
	if fl.watch {
		return runWatch(ctx, app, t, q, spec, res, fl.watchInterval.d)
	}
	env, count := app.childEnv(res.secrets)
	app.info("Injecting %d Infisical secrets into your application process", count)
	code, err := superviseOnce(ctx, app, spec, env)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// reservedEnv are variables a secret may not replace (Infisical's list);
// reservedPrefixes likewise.
var (
	reservedEnv      = []string{"HOME", "PATH", "PS1", "PS2", "PWD", "EDITOR", "XAUTHORITY", "USER", "TERM", "TERMINFO", "SHELL", "MAIL"}
	reservedPrefixes = []string{"XDG_", "LC_"}
)

func isReserved(key string) bool {
	for _, r := range reservedEnv {
		if key == r {
			return true
		}
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// childEnv is this process's environment with the secrets added (a secret
// wins over an inherited variable; reserved names are skipped with a
// warning; for a key present in several folders, the first wins). It
// returns the number of secrets injected.
func (a *App) childEnv(secrets []apiclient.Secret) ([]string, int) {
	vals := make(map[string]string, len(secrets))
	var order []string
	for _, s := range secrets {
		if _, dup := vals[s.SecretKey]; dup {
			continue
		}
		if s.SecretKey == "" || strings.ContainsAny(s.SecretKey, "=\x00") {
			fmt.Fprintf(a.Stderr, "Warning: Infisical secret named [%s] cannot be an environment variable and has been skipped\n", s.SecretKey)
			continue
		}
		if isReserved(s.SecretKey) {
			fmt.Fprintf(a.Stderr, "Warning: Infisical secret named [%s] has been removed because it is a reserved secret name\n", s.SecretKey)
			continue
		}
		vals[s.SecretKey] = s.SecretValue
		order = append(order, s.SecretKey)
	}
	base := os.Environ()
	env := make([]string, 0, len(base)+len(order))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, overridden := vals[k]; overridden {
			continue
		}
		env = append(env, kv)
	}
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, len(order)
}

// envDigest identifies the injected variables, to restart only on a real
// change.
func envDigest(secrets []apiclient.Secret) [32]byte {
	kv := make([]string, 0, len(secrets))
	for _, s := range secrets {
		kv = append(kv, s.SecretKey+"="+s.SecretValue)
	}
	sort.Strings(kv)
	return sha256.Sum256([]byte(strings.Join(kv, "\x00")))
}

// ---- child processes ------------------------------------------------------------------

// childSpec says what to run: a shell command string or argv.
type childSpec struct {
	command string
	args    []string
}

func (s childSpec) build(app *App, env []string) *exec.Cmd {
	var c *exec.Cmd
	if s.command != "" {
		if runtime.GOOS == "windows" {
			c = exec.Command("cmd", "/C", s.command)
		} else {
			shell := os.Getenv("SHELL")
			if shell == "" {
				shell = "sh"
			}
			c = exec.Command(shell, "-c", s.command)
		}
	} else {
		c = exec.Command(s.args[0], s.args[1:]...)
	}
	c.Env, c.Stdin, c.Stdout, c.Stderr = env, app.Stdin, app.Stdout, app.Stderr
	return c
}

// child is a started child process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returned
	code int
	err  error
}

func startChild(app *App, spec childSpec, env []string) (*child, error) {
	c := &child{cmd: spec.build(app, env), done: make(chan struct{})}
	if err := c.cmd.Start(); err != nil {
		name := spec.command
		if name == "" {
			name = spec.args[0]
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		err := c.cmd.Wait()
		c.code = exitCode(c.cmd.ProcessState)
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			c.err = err // I/O copy failure, not the child's status
		}
		close(c.done)
	}()
	return c, nil
}

// stop asks the child to end (SIGTERM, or a kill where there is no such
// signal) and kills it after grace.
func (c *child) stop(grace time.Duration) {
	_ = c.cmd.Process.Signal(terminateSignal)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// signalRelay forwards the process's signals to the current child. It is
// installed before the child starts, so no signal is lost in between.
type signalRelay struct {
	ch   chan os.Signal
	mu   sync.Mutex
	last time.Time // when a signal was last forwarded
}

func newSignalRelay() *signalRelay {
	r := &signalRelay{ch: make(chan os.Signal, 16)}
	signal.Notify(r.ch, forwardedSignals...)
	return r
}

func (r *signalRelay) stop() { signal.Stop(r.ch) }

func (r *signalRelay) forward(c *child, sig os.Signal) {
	r.mu.Lock()
	r.last = time.Now()
	r.mu.Unlock()
	if c != nil {
		_ = c.cmd.Process.Signal(sig)
	}
}

// recentlyForwarded reports a signal forwarded within d.
func (r *signalRelay) recentlyForwarded(d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.last.IsZero() && time.Since(r.last) < d
}

// ctxGrace is how long a cancelled context waits for a forwarded signal to
// explain the cancellation: the binary cancels its context on
// SIGINT/SIGTERM, which the relay has already passed on, and the child
// must not get a second, different signal for the same Ctrl-C.
const ctxGrace = 150 * time.Millisecond

// superviseOnce runs the child to completion, forwarding signals, and
// returns its exit code.
func superviseOnce(ctx context.Context, app *App, spec childSpec, env []string) (int, error) {
	relay := newSignalRelay()
	defer relay.stop()
	c, err := startChild(app, spec, env)
	if err != nil {
		return 0, err
	}
	ctxDone := ctx.Done()
	for {
		select {
		case sig := <-relay.ch:
			relay.forward(c, sig)
		case <-ctxDone:
			ctxDone = nil
			go func() {
				time.Sleep(ctxGrace)
				if !relay.recentlyForwarded(ctxGrace + time.Second) {
					c.stop(10 * time.Second)
				}
			}()
		case <-c.done:
			return c.code, c.err
		}
	}
}

// runWatch runs the child and restarts it whenever the secrets change,
// polling with If-None-Match every interval. It ends when the child ends on
// its own, with the child's exit code.
func runWatch(ctx context.Context, app *App, t *target, q secretQuery, spec childSpec, initial *fetched, interval time.Duration) error {
	relay := newSignalRelay()
	defer relay.stop()

	app.info("[HOT RELOAD] Watching for secret changes (every %s)...", interval)
	env, count := app.childEnv(initial.secrets)
	app.info("Injecting %d Infisical secrets into your application process", count)
	c, err := startChild(app, spec, env)
	if err != nil {
		return err
	}
	digest, etag := envDigest(initial.secrets), initial.etag
	if initial.fromCache {
		etag = "" // the server's current ETag is unknown
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	lastErr := ""
	ctxDone := ctx.Done()
	for {
		select {
		case sig := <-relay.ch:
			relay.forward(c, sig)
		case <-ctxDone:
			ctxDone = nil
			cur := c
			go func() {
				time.Sleep(ctxGrace)
				if !relay.recentlyForwarded(ctxGrace + time.Second) {
					cur.stop(10 * time.Second)
				}
			}()
		case <-c.done:
			if c.err != nil {
				return c.err
			}
			if c.code != 0 {
				return &exitError{code: c.code}
			}
			return nil
		case <-ticker.C:
			// Polls keep the offline copy current but never fall back to
			// it: the child already has the last good secrets.
			wq := q
			wq.etag, wq.fallback = etag, false
			res, err := app.fetchSecrets(ctx, t, wq)
			if err != nil {
				if msg := err.Error(); msg != lastErr {
					fmt.Fprintf(app.Stderr, "[HOT RELOAD] Failed to fetch secrets: %v\n", err)
					lastErr = msg
				}
				continue
			}
			lastErr = ""
			if res.notModified {
				continue
			}
			etag = res.etag
			d := envDigest(res.secrets)
			if d == digest {
				continue
			}
			digest = d
			app.info("[HOT RELOAD] Environment changes detected. Reloading process...")
			c.stop(10 * time.Second)
			newEnv, n := app.childEnv(res.secrets)
			app.info("Injecting %d Infisical secrets into your application process", n)
			if c, err = startChild(app, spec, newEnv); err != nil {
				return err
			}
		}
	}
}
