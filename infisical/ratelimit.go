package infisical

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/infisical-go/engine/infisical/store"
)

// Login attempts are rate limited with the generic cell rate algorithm
// (GCRA): each key (an email address, a client IP) may make Limit attempts
// per Period, in bursts of up to Limit, and then one attempt every
// Period/Limit. The state of a key is a single timestamp kept in the
// database, so every server process sharing a PostgreSQL database counts
// the same attempts, and a restart forgets nothing.

// Defaults of the login limits (attempts per minute).
const (
	defaultLoginPerEmail = 10
	defaultLoginPerIP    = 30
	// staleSweepEvery: one limiter transaction in this many also removes
	// keys whose allowance is full again.
	staleSweepEvery = 64
)

// rateLimit is one limit to apply to one key.
type rateLimit struct {
	key    string
	limit  int
	period time.Duration
}

// retryAfterError carries how long a rate-limited caller should wait. It is
// the cause inside the *Error returned to callers; RetryAfter extracts it.
type retryAfterError struct{ wait time.Duration }

func (r *retryAfterError) Error() string { return "retry after " + r.wait.String() }

// RetryAfter returns how long the caller of a rate-limited operation should
// wait before trying again (0 when err is not a rate-limit refusal). The API
// sends it as the Retry-After header.
func RetryAfter(err error) time.Duration {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.wait
	}
	return 0
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (at least 1
// for a refusal), as the Retry-After header wants it.
func RetryAfterSeconds(err error) int {
	d := RetryAfter(err)
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}

func rateLimited(wait time.Duration) *Error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return &Error{Kind: KindRateLimited, Message: fmt.Sprintf("Rate limit exceeded, retry in %d seconds", secs), Err: &retryAfterError{wait: wait}}
}

// limitValue turns a configured limit into an effective one: 0 means the
// default, a negative value disables the limit.
func limitValue(configured, def int) int {
	switch {
	case configured == 0:
		return def
	case configured < 0:
		return 0
	}
	return configured
}

// takeRate admits one event against every limit, or none: when any key is
// over its limit nothing is consumed and the refusal says how long to wait
// for all keys to admit the event.
func (e *Engine) takeRate(ctx context.Context, limits []rateLimit) error {
	active := limits[:0:0]
	for _, l := range limits {
		if l.limit > 0 && l.period > 0 {
			active = append(active, l)
		}
	}
	if len(active) == 0 {
		return nil
	}
	now := e.now()
	var wait time.Duration
	err := e.store.Tx(ctx, func(q store.Q) error {
		wait = 0
		keys := make([]string, len(active))
		for i, l := range active {
			keys[i] = l.key
		}
		tats, err := q.LockRateLimits(ctx, keys, now)
		if err != nil {
			return err
		}
		next := make([]time.Time, len(active))
		for i, l := range active {
			interval := l.period / time.Duration(l.limit)
			tat := tats[l.key]
			if tat.Before(now) {
				tat = now
			}
			newTAT := tat.Add(interval)
			// The event conforms once newTAT lies within one period from
			// now (a full allowance is Limit events).
			if allowAt := newTAT.Add(-l.period); now.Before(allowAt) {
				if d := allowAt.Sub(now); d > wait {
					wait = d
				}
				continue
			}
			next[i] = newTAT
		}
		if wait > 0 {
			return nil
		}
		for i, l := range active {
			if err := q.SetRateLimit(ctx, l.key, next[i]); err != nil {
				return err
			}
		}
		if e.accounts.sweeps.Add(1)%staleSweepEvery == 0 {
			if err := q.DeleteStaleRateLimits(ctx, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Internal("apply rate limit", err)
	}
	if wait > 0 {
		return rateLimited(wait)
	}
	return nil
}

// limitLogin counts one login attempt for email and for ip.
func (e *Engine) limitLogin(ctx context.Context, email, ip string) error {
	return e.takeRate(ctx, []rateLimit{
		{key: "login:email:" + email, limit: limitValue(e.cfg.LoginRateLimitPerEmail, defaultLoginPerEmail), period: time.Minute},
		{key: "login:ip:" + ip, limit: limitValue(e.cfg.LoginRateLimitPerIP, defaultLoginPerIP), period: time.Minute},
	})
}

// limitInviteCode counts one attempt to redeem an invitation code from ip.
// Codes carry 256 random bits; the limit only keeps the endpoint from being
// used to burn server time.
func (e *Engine) limitInviteCode(ctx context.Context, ip string) error {
	return e.takeRate(ctx, []rateLimit{
		{key: "invite:ip:" + ip, limit: limitValue(e.cfg.LoginRateLimitPerIP, defaultLoginPerIP), period: time.Minute},
	})
}
