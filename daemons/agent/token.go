package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// maxTTLMargin is kept between a renewal and the end of the token's max-TTL
// budget: past it, the agent logs in again instead of renewing.
const maxTTLMargin = 5 * time.Second

// token is the access token the agent holds.
type token struct {
	value string
	ttl   time.Duration // lifetime from refreshedAt; 0 = never expires
	// maxTTL is the total budget from issuedAt; 0 = unlimited.
	maxTTL      time.Duration
	issuedAt    time.Time // first issuance (login), the max-TTL anchor
	refreshedAt time.Time // last login or renewal
	// expiresAt is when the token stops working (zero: never): the
	// earlier of refreshedAt+ttl and the JWT's exp claim, which has
	// whole-second precision and may come up to a second sooner.
	expiresAt time.Time
}

// tokenManager obtains the access token, keeps it renewed, logs in again
// before the max TTL runs out, and writes every new token to the sinks.
type tokenManager struct {
	auth    *authenticator
	api     *api
	sinks   []Sink
	log     *slog.Logger
	now     func() time.Time
	backoff backoff

	mu      sync.Mutex
	cur     *token
	ready   chan struct{} // closed once the first token is held
	once    sync.Once
	relogin chan string // a token the server refused (401)
	logins  int         // successful logins (tests, logs)
	renews  int         // successful renewals
}

func newTokenManager(a *authenticator, c *api, sinks []Sink, log *slog.Logger, now func() time.Time, b backoff) *tokenManager {
	return &tokenManager{auth: a, api: c, sinks: sinks, log: log, now: now, backoff: b,
		ready: make(chan struct{}), relogin: make(chan string, 1)}
}

// get returns the current token ("" before the first login).
func (m *tokenManager) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return ""
	}
	return m.cur.value
}

// wait blocks until a token is held or ctx ends.
func (m *tokenManager) wait(ctx context.Context) (string, error) {
	select {
	case <-m.ready:
		return m.get(), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// rejected reports that the server answered 401 to tok: if it is still the
// current token, the manager logs in again at once.
func (m *tokenManager) rejected(tok string) {
	select {
	case m.relogin <- tok:
	default:
	}
}

// set installs a new token and writes it to the sinks.
func (m *tokenManager) set(t *token) {
	m.mu.Lock()
	m.cur = t
	m.mu.Unlock()
	for _, s := range m.sinks {
		if _, err := writeFileAtomic(s.Config.Path, []byte(t.value)); err != nil {
			m.log.Error("cannot write the access token to the sink", "path", s.Config.Path, "err", err)
			continue
		}
		m.log.Info("new access token saved to sink", "path", s.Config.Path)
	}
	m.once.Do(func() { close(m.ready) })
}

func fromCredential(c *apiclient.Token, issuedAt, now time.Time) *token {
	t := &token{
		value:       c.AccessToken,
		ttl:         time.Duration(c.ExpiresIn) * time.Second,
		maxTTL:      time.Duration(c.AccessTokenMaxTTL) * time.Second,
		issuedAt:    issuedAt,
		refreshedAt: now,
	}
	if t.ttl > 0 {
		t.expiresAt = now.Add(t.ttl)
	}
	if exp := jwtClaims(c.AccessToken).exp(); !exp.IsZero() && exp.After(now) && (t.expiresAt.IsZero() || exp.Before(t.expiresAt)) {
		t.expiresAt = exp
	}
	return t
}

// login obtains a fresh token with the configured method.
func (m *tokenManager) login(ctx context.Context) (*token, error) {
	c, err := m.auth.login(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	t := fromCredential(c, now, now)
	if t.ttl > 0 && t.ttl < 10*time.Second {
		m.log.Warn("the access token lives less than 10 seconds; renewals will be frequent", "ttl", t.ttl.String())
	}
	m.mu.Lock()
	m.logins++
	m.mu.Unlock()
	return t, nil
}

// renew renews t, keeping its max-TTL anchor.
func (m *tokenManager) renew(ctx context.Context, t *token) (*token, error) {
	c, err := m.api.renew(ctx, t.value)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.renews++
	m.mu.Unlock()
	return fromCredential(c, t.issuedAt, m.now()), nil
}

// fromSinks tries the token a previous run left in a sink: renewing it
// proves it is still valid and avoids a login (and, with
// remove_client_secret_on_read, survives a restart).
func (m *tokenManager) fromSinks(ctx context.Context) *token {
	for _, s := range m.sinks {
		raw, err := os.ReadFile(s.Config.Path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(raw))
		if v == "" {
			continue
		}
		c, err := m.api.renew(ctx, v)
		if err != nil {
			m.log.Info("the token found in the sink cannot be renewed; logging in", "path", s.Config.Path, "err", err)
			continue
		}
		now := m.now()
		issued := now
		if epoch := creationEpoch(c.AccessToken); !epoch.IsZero() && epoch.Before(now) {
			issued = epoch
		}
		m.log.Info("reusing the access token found in the sink", "path", s.Config.Path)
		return fromCredential(c, issued, now)
	}
	return nil
}

// claims are the parts of an identity JWT the agent schedules by. They
// are read without verifying the token: the server is the judge of its
// validity; the agent only plans renewals.
type claims struct {
	Exp           int64 `json:"exp"`
	CreationEpoch int64 `json:"creationEpoch"`
}

func jwtClaims(jwt string) claims {
	var c claims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c
	}
	_ = json.Unmarshal(raw, &c)
	return c
}

func (c claims) exp() time.Time {
	if c.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}

// creationEpoch is the first issuance of the token (its max-TTL anchor);
// zero when absent.
func creationEpoch(jwt string) time.Time {
	if c := jwtClaims(jwt); c.CreationEpoch > 0 {
		return time.Unix(c.CreationEpoch, 0)
	}
	return time.Time{}
}

// nextRefresh is when t must be renewed (or replaced): at two thirds of its
// life; the zero time means never.
func nextRefresh(t *token) time.Time {
	if t.expiresAt.IsZero() {
		return time.Time{}
	}
	return t.refreshedAt.Add(t.expiresAt.Sub(t.refreshedAt) * 2 / 3)
}

// mustRelogin reports whether renewing t at time at would run past its
// max-TTL budget (the server refuses a renewal whose new lifetime ends
// after the budget).
func mustRelogin(t *token, at time.Time) bool {
	if t.maxTTL <= 0 {
		return false
	}
	margin := min(maxTTLMargin, t.ttl/4)
	end := t.issuedAt.Add(t.maxTTL).Add(-margin)
	return at.Add(t.ttl).After(end)
}

// expired reports whether t no longer works at time at.
func (t *token) expired(at time.Time) bool {
	return !t.expiresAt.IsZero() && !at.Before(t.expiresAt)
}

// run keeps a valid token until ctx ends.
func (m *tokenManager) run(ctx context.Context) {
	var t *token
	if st := m.fromSinks(ctx); st != nil {
		t = st
		m.set(t)
	}
	fails := 0
	retry := false
	for ctx.Err() == nil {
		if t == nil {
			nt, err := m.login(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d := m.backoff.delay(fails)
				fails++
				m.log.Warn("unable to authenticate; retrying", "method", m.auth.method, "err", err, "retryIn", d.String())
				if !sleep(ctx, d) {
					return
				}
				continue
			}
			fails = 0
			t = nt
			m.log.Info("authenticated", "method", m.auth.method, "expiresIn", t.ttl.String())
			m.set(t)
			continue
		}

		var (
			timer   <-chan time.Time
			stopper = func() bool { return false }
		)
		if retry {
			retry = false
			c := make(chan time.Time, 1)
			c <- m.now()
			timer = c
		} else if at := nextRefresh(t); !at.IsZero() {
			tm := time.NewTimer(max(at.Sub(m.now()), 0))
			timer, stopper = tm.C, tm.Stop
		}
		select {
		case <-ctx.Done():
			stopper()
			return
		case bad := <-m.relogin:
			stopper()
			if bad == t.value {
				m.log.Warn("the server refused the access token; logging in again")
				t = nil
			}
			continue
		case <-timer:
		}

		if mustRelogin(t, m.now()) {
			m.log.Info("the access token is near its max TTL; logging in again")
			nt, err := m.login(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d := m.backoff.delay(fails)
				fails++
				m.log.Warn("unable to authenticate; retrying", "method", m.auth.method, "err", err, "retryIn", d.String())
				if !sleep(ctx, d) {
					return
				}
				if t.expired(m.now()) {
					t = nil // expired meanwhile: plain login loop
				}
				continue
			}
			fails = 0
			t = nt
			m.set(t)
			continue
		}
		nt, err := m.renew(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if s := apiclient.StatusCode(err); s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusBadRequest {
				m.log.Warn("the access token cannot be renewed; logging in again", "err", err)
				t = nil
				continue
			}
			d := m.backoff.delay(fails)
			fails++
			m.log.Warn("unable to renew the access token; retrying", "err", err, "retryIn", d.String())
			if !sleep(ctx, d) {
				return
			}
			if t.expired(m.now()) {
				t = nil
			} else {
				retry = true // retry now, not at the next two-thirds mark
			}
			continue
		}
		fails = 0
		t = nt
		m.log.Debug("access token renewed", "expiresIn", t.ttl.String())
		m.set(t)
	}
}

// backoff doubles a delay from base up to max.
type backoff struct{ base, max time.Duration }

func (b backoff) delay(failures int) time.Duration {
	d := b.base
	for i := 0; i < failures && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
