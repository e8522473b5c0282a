package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// Options connects an agent to its environment. Zero values mean the
// process's own.
type Options struct {
	// Logger receives the agent's logs (never a secret value or token).
	Logger *slog.Logger
	// HTTPClient is used for the Infisical API and the metadata services.
	HTTPClient *http.Client
	// LookupEnv reads environment variables (credential overrides,
	// SHELL). Tests pass a map.
	LookupEnv func(string) (string, bool)
	// Stdout and Stderr receive the output of execute commands.
	Stdout, Stderr io.Writer
	// Address is used when infisical.address is empty (the CLI passes
	// --domain / INFISICAL_API_URL); without either, Infisical Cloud.
	Address string
	// RetryBase and RetryMax bound the back-off between failed logins and
	// failed polls (defaults 1 s and 30 s).
	RetryBase, RetryMax time.Duration
	// MinPollingInterval is the shortest polling interval honoured
	// (default 1 s); shorter intervals are raised to it.
	MinPollingInterval time.Duration
	// Endpoints overrides the cloud metadata services (tests).
	Endpoints Endpoints
	// Ready, when set, is called once the agent holds a token and every
	// template has been rendered once (not with exit-after-auth). The CLI
	// uses it to release start-up memory.
	Ready func()
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Agent is a configured Infisical Agent; Run starts it.
type Agent struct {
	cfg     *Config
	opt     Options
	log     *slog.Logger
	api     *api
	address string
	tokens  *tokenManager
	slugs   *slugCache
	backoff backoff

	mu    sync.Mutex
	stats Stats
}

// Stats counts what the agent did (tests and diagnostics).
type Stats struct {
	Logins, Renewals int
	// Renders counts renders that changed a destination file; Polls
	// counts every poll, Failures the polls that failed.
	Renders, Polls, Failures int
	// Commands counts execute commands run.
	Commands int
}

// New prepares an agent; it does not contact the server.
func New(cfg *Config, opt Options) (*Agent, error) {
	if cfg == nil {
		return nil, errors.New("agent: no configuration")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opt.LookupEnv == nil {
		opt.LookupEnv = os.LookupEnv
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.RetryBase <= 0 {
		opt.RetryBase = time.Second
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 30 * time.Second
	}
	if opt.RetryMax < opt.RetryBase {
		opt.RetryMax = opt.RetryBase
	}
	if opt.MinPollingInterval <= 0 {
		opt.MinPollingInterval = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	address := cfg.Infisical.Address
	if address == "" {
		address = opt.Address
	}
	if address == "" {
		address = DefaultAddress
	}
	c, err := apiclient.New(apiclient.Config{BaseURL: address, HTTPClient: opt.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("agent: infisical.address: %w", err)
	}
	ap := &api{c: c, retry: retryFrom(cfg.Infisical.RetryStrategy)}
	a := &Agent{cfg: cfg, opt: opt, log: opt.Logger, api: ap, address: strings.TrimSuffix(c.BaseURL(), "/api"),
		slugs: &slugCache{ids: map[string]string{}}, backoff: backoff{base: opt.RetryBase, max: opt.RetryMax}}
	auth := &authenticator{method: cfg.Auth.Type, s: cfg.Auth.Settings, lookupEnv: opt.LookupEnv,
		api: ap, ep: opt.Endpoints, now: opt.Now}
	a.tokens = newTokenManager(auth, ap, cfg.Sinks, opt.Logger, opt.Now, a.backoff)
	return a, nil
}

// Stats returns a snapshot of the counters.
func (a *Agent) Stats() Stats {
	a.mu.Lock()
	s := a.stats
	a.mu.Unlock()
	a.tokens.mu.Lock()
	s.Logins, s.Renewals = a.tokens.logins, a.tokens.renews
	a.tokens.mu.Unlock()
	return s
}

func (a *Agent) count(f func(*Stats)) {
	a.mu.Lock()
	f(&a.stats)
	a.mu.Unlock()
}

// Token returns the access token the agent currently holds ("" before the
// first login).
func (a *Agent) Token() string { return a.tokens.get() }

// ErrTemplateFailed is returned by Run with exit-after-auth when a template
// could not be rendered.
var ErrTemplateFailed = errors.New("a template could not be rendered")

// Run authenticates, keeps the token renewed and the templates rendered
// until ctx ends (or, with exit-after-auth, until every template has been
// rendered once). On the way out it revokes the credentials when
// revoke-credentials-on-shutdown is set. It returns nil on a clean stop.
func (a *Agent) Run(ctx context.Context) error {
	a.log.Info("starting Infisical agent", "address", a.address,
		"auth", a.cfg.Auth.Type, "templates", len(a.cfg.Templates), "sinks", len(a.cfg.Sinks))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.tokens.run(runCtx)
	}()

	exitAfterAuth := a.cfg.Infisical.ExitAfterAuth
	firstDone := make(chan error, len(a.cfg.Templates))
	for i := range a.cfg.Templates {
		t := &a.cfg.Templates[i]
		r := &renderer{tpl: t, name: templateName(t, i), api: a.api, slugs: a.slugs, funcs: baseFuncs()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.watch(runCtx, i, r, firstDone)
		}()
	}

	var result error
	if exitAfterAuth {
		// Wait for the token (sinks written) and one render of each
		// template, then stop.
		if _, err := a.tokens.wait(runCtx); err != nil {
			cancel()
			wg.Wait()
			return nil
		}
		for range a.cfg.Templates {
			select {
			case err := <-firstDone:
				if err != nil && result == nil {
					result = ErrTemplateFailed
				}
			case <-runCtx.Done():
			}
		}
		cancel()
		wg.Wait()
		if result == nil {
			a.log.Info("exit-after-auth: done")
		}
		return result
	}

	if a.opt.Ready != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.tokens.wait(runCtx); err != nil {
				return
			}
			for range a.cfg.Templates {
				select {
				case <-firstDone:
				case <-runCtx.Done():
					return
				}
			}
			a.opt.Ready()
		}()
	}
	<-runCtx.Done()
	cancel()
	wg.Wait()
	a.log.Info("agent is shutting down")
	if a.cfg.Infisical.RevokeCredentialsOnShutdown {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer rcancel()
		if err := a.revoke(rctx); err != nil {
			a.log.Error("unable to revoke the credentials", "err", err)
			return fmt.Errorf("revoke credentials: %w", err)
		}
	}
	return nil
}

// watch polls one template: it renders when an input changed, writes the
// file atomically, runs the command after a change, and on failure keeps
// the last good file and retries with back-off.
func (a *Agent) watch(ctx context.Context, i int, r *renderer, firstDone chan<- error) {
	t := r.tpl
	poll := max(t.PollingInterval(), a.opt.MinPollingInterval)
	first := true
	var lastFP string
	fails := 0
	for {
		tok, err := a.tokens.wait(ctx)
		if err != nil {
			return
		}
		res, err := r.render(ctx, tok)
		a.count(func(s *Stats) { s.Polls++ })
		if err == nil && !res.unchanged && (first || res.fingerprint != lastFP) {
			var changed bool
			changed, err = writeFileAtomic(t.DestinationPath, res.output)
			if err == nil {
				lastFP = res.fingerprint
				if changed {
					a.count(func(s *Stats) { s.Renders++ })
					a.log.Info("template rendered", "template", r.name, "destination", t.DestinationPath)
					if !first && t.Config.Execute.Command != "" {
						a.execute(ctx, t)
					}
				}
			} else {
				// Force a render on the next poll: the file is stale.
				r.calls = nil
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.count(func(s *Stats) { s.Failures++ })
			if tokenRefused(err) {
				a.tokens.rejected(tok)
			}
			if first && a.cfg.Infisical.ExitAfterAuth {
				a.log.Error("unable to render the template", "template", r.name, "err", err)
				firstDone <- err
				return
			}
			d := min(a.backoff.delay(fails), poll)
			fails++
			a.log.Warn("unable to render the template; keeping the last good file", "template", r.name,
				"destination", t.DestinationPath, "err", err, "retryIn", d.String())
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		fails = 0
		if first {
			first = false
			firstDone <- nil
			if a.cfg.Infisical.ExitAfterAuth {
				return
			}
		}
		if !sleep(ctx, poll) {
			return
		}
	}
}

// execute runs the template's command with $SHELL -c (sh when SHELL is
// unset), bounded by its timeout.
func (a *Agent) execute(ctx context.Context, t *Template) {
	shell, flag := "sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/C"
	} else if s, ok := a.opt.LookupEnv("SHELL"); ok && strings.TrimSpace(s) != "" {
		shell = strings.TrimSpace(s)
	}
	cctx := ctx
	if t.Config.Execute.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, time.Duration(t.Config.Execute.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(cctx, shell, flag, t.Config.Execute.Command)
	cmd.Stdout, cmd.Stderr = a.opt.Stdout, a.opt.Stderr
	cmd.WaitDelay = 5 * time.Second
	a.log.Info("executing command after template change", "destination", t.DestinationPath)
	a.count(func(s *Stats) { s.Commands++ })
	if err := cmd.Run(); err != nil {
		if cctx.Err() == context.DeadlineExceeded {
			a.log.Error("the command timed out", "destination", t.DestinationPath, "timeout", t.Config.Execute.Timeout)
			return
		}
		a.log.Error("the command failed", "destination", t.DestinationPath, "err", err)
	}
}

// revoke revokes the current token and every other token found in the
// sinks, then empties the sinks.
func (a *Agent) revoke(ctx context.Context) error {
	tokens := []string{}
	if cur := a.tokens.get(); cur != "" {
		tokens = append(tokens, cur)
	}
	for _, s := range a.cfg.Sinks {
		raw, err := os.ReadFile(s.Config.Path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(raw))
		if v != "" && !contains(tokens, v) {
			tokens = append(tokens, v)
		}
	}
	if len(tokens) == 0 {
		return nil
	}
	var errs []error
	for _, tok := range tokens {
		if err := a.api.revoke(ctx, tok); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range a.cfg.Sinks {
		if _, err := os.Stat(s.Config.Path); err == nil {
			if _, err := writeFileAtomic(s.Config.Path, nil); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		a.log.Info("credentials revoked", "tokens", len(tokens))
	}
	return errors.Join(errs...)
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
