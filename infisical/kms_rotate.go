package infisical

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// Root-key rotation.
//
// A rotation replaces the instance root key with a fresh one, wrapped by the
// target provider (the same one, or another: software ↔ HSM ↔ AWS KMS),
// and re-wraps every root-wrapped key (organization keys) under it. The
// organization keys keep their material, so nothing below them changes.
//
// Steps:
//  1. unwrap the current root key with the source provider;
//  2. generate the new root key and wrap it with the target provider
//     (network/HSM calls, outside any transaction); build the rotation link
//     AEAD(old root, new root);
//  3. in ONE transaction, with the root row locked: check that the root key
//     is still the one read in step 1, re-wrap every organization key,
//     write the new wrapped root key, its id, the previous id and the link,
//     and publish the root-key invalidation (PostgreSQL NOTIFY at commit);
//  4. after a grace period, drop the link.
//
// A crash (error, panic, killed process, lost connection) before the commit
// leaves the old state untouched; after it, the new state is complete. A
// re-run after a crash therefore always finds a consistent state: the old
// one (it rotates) or the new one (it sees that the target provider already
// opens the root key and only finishes the clean-up).
//
// Running servers keep serving: their organization-key caches stay valid,
// and they adopt the new root key through the link (they still hold the old
// root key) when notified, or lazily on the next root-wrapped key they
// cannot open (SQLite, or a missed notification). Once restarted they need
// the target provider's configuration.

// Rotation steps, passed to RotateRootOptions.Hook.
const (
	RotateStepUnwrapped = "unwrapped" // current root key unwrapped
	RotateStepWrapped   = "wrapped"   // new root key wrapped by the target
	RotateStepRewrap    = "rewrap"    // one organization key re-wrapped (inside the transaction)
	RotateStepCommit    = "commit"    // everything written, before commit (inside the transaction)
	RotateStepCommitted = "committed" // after commit, before the grace period
)

// RotateRootOptions configures a root-key rotation.
type RotateRootOptions struct {
	// From opens the current root key; To wraps the new one. They may be
	// the same provider (plain rotation).
	From, To kms.RootKey
	// Grace is how long the rotation link is kept so that running servers
	// can follow it (default 1 minute; negative keeps it until the next
	// rotation or FinishRootRotation).
	Grace time.Duration
	// Hook, when set, runs after each step; an error aborts the rotation.
	// Tests use it to inject crashes.
	Hook   func(step string, n int) error
	Logger *slog.Logger
	Now    func() time.Time
}

// RotateRootResult describes a finished rotation.
type RotateRootResult struct {
	// AlreadyRotated is true when the target provider already opened the
	// stored root key (a previous run committed); only clean-up was done.
	AlreadyRotated bool
	FromStrategy   string
	ToStrategy     string
	RootKeyID      string
	// OrgKeys is the number of organization keys re-wrapped.
	OrgKeys     int
	LinkCleared bool
}

// RotateRootKey rotates the root key of the database behind st. It is what
// `infisical kms rotate-root` runs, in its own process, while servers keep
// serving.
func RotateRootKey(ctx context.Context, st *store.Store, opt RotateRootOptions) (*RotateRootResult, error) {
	if opt.From == nil || opt.To == nil {
		return nil, errors.New("rotate root key: both source and target providers are required")
	}
	if opt.Grace == 0 {
		opt.Grace = time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	now := func() time.Time { return opt.Now().UTC().Truncate(time.Millisecond) }
	hook := func(step string, n int) error {
		if opt.Hook == nil {
			return nil
		}
		if err := opt.Hook(step, n); err != nil {
			return fmt.Errorf("rotation aborted after step %s: %w", step, err)
		}
		return nil
	}
	log := opt.Logger
	res := &RotateRootResult{ToStrategy: opt.To.Strategy()}

	rs, err := st.Write().GetRootKeyState(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	res.FromStrategy = rs.EncryptionStrategy
	old, fromErr := unwrapWith(ctx, opt.From, rs)
	if fromErr != nil {
		// A previous run may have committed: then the target opens it.
		if cur, err := unwrapWith(ctx, opt.To, rs); err == nil {
			clear(cur)
			res.AlreadyRotated, res.RootKeyID = true, rs.KeyID()
			log.Info("the root key is already protected by the target provider; finishing", "strategy", rs.EncryptionStrategy)
			return res, finishRotation(ctx, st, rs, opt.Grace, now, res)
		}
		return nil, fmt.Errorf("the stored root key (strategy %s) opens with neither the source (%s) nor the target (%s) provider: %w",
			rs.EncryptionStrategy, opt.From.Strategy(), opt.To.Strategy(), fromErr)
	}
	defer clear(old)
	oldAEAD, err := kms.NewAEAD(old)
	if err != nil {
		return nil, err
	}
	if err := hook(RotateStepUnwrapped, 0); err != nil {
		return nil, err
	}

	fresh, err := kms.NewRootKeyMaterial(ctx, opt.To)
	if err != nil {
		return nil, err
	}
	defer clear(fresh)
	wrapped, err := opt.To.Wrap(ctx, fresh)
	if err != nil {
		return nil, fmt.Errorf("wrap the new root key with %s: %w", opt.To.Strategy(), err)
	}
	// Never commit a root key the target cannot open again.
	if back, err := opt.To.Unwrap(ctx, wrapped); err != nil || !bytes.Equal(back, fresh) {
		return nil, fmt.Errorf("the target provider %s cannot unwrap the root key it wrapped: %v", opt.To.Strategy(), err)
	}
	newAEAD, err := kms.NewAEAD(fresh)
	if err != nil {
		return nil, err
	}
	link, err := oldAEAD.Seal(fresh)
	if err != nil {
		return nil, err
	}
	newID := uuid.NewString()
	if err := hook(RotateStepWrapped, 0); err != nil {
		return nil, err
	}

	err = st.Tx(ctx, func(q store.Q) error {
		cur, err := q.GetRootKeyState(ctx, true)
		if err != nil {
			return fmt.Errorf("lock root key: %w", err)
		}
		if cur.KeyID() != rs.KeyID() || !bytes.Equal(cur.EncryptedRootKey, rs.EncryptedRootKey) {
			return errors.New("the root key changed while rotating (another rotation ran); re-run the command")
		}
		keys, err := q.RootWrappedKeys(ctx)
		if err != nil {
			return fmt.Errorf("list organization keys: %w", err)
		}
		t := now()
		for i := range keys {
			m, err := oldAEAD.Open(keys[i].EncryptedKey)
			if err != nil {
				return fmt.Errorf("key %s does not open with the current root key: %w", keys[i].ID, err)
			}
			blob, err := newAEAD.Seal(m)
			clear(m)
			if err != nil {
				return err
			}
			if err := q.SetKMSKeyMaterial(ctx, keys[i].ID, blob, t); err != nil {
				return fmt.Errorf("re-wrap key %s: %w", keys[i].ID, err)
			}
			if err := hook(RotateStepRewrap, i+1); err != nil {
				return err
			}
		}
		prev := rs.KeyID()
		next := *cur
		next.EncryptedRootKey, next.EncryptionStrategy = wrapped, opt.To.Strategy()
		next.RootKeyID, next.PreviousRootKeyID, next.PreviousLink, next.UpdatedAt = &newID, &prev, link, t
		if err := q.UpdateRootKeyState(ctx, &next); err != nil {
			return fmt.Errorf("store the new root key: %w", err)
		}
		q.Invalidate(topicRootKey, "")
		res.OrgKeys = len(keys)
		return hook(RotateStepCommit, len(keys))
	})
	if err != nil {
		return nil, err
	}
	res.RootKeyID = newID
	log.Info("root key rotated", "from", res.FromStrategy, "to", res.ToStrategy, "organization_keys", res.OrgKeys)
	if err := hook(RotateStepCommitted, res.OrgKeys); err != nil {
		return res, err
	}
	rs.RootKeyID = &newID
	return res, finishRotation(ctx, st, rs, opt.Grace, now, res)
}

// finishRotation drops the rotation link after the grace period (negative:
// keep it).
func finishRotation(ctx context.Context, st *store.Store, rs *store.RootKeyState, grace time.Duration, now func() time.Time, res *RotateRootResult) error {
	if grace < 0 || rs.KeyID() == "" {
		return nil
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for running servers to adopt the new root key: %w (the rotation itself is complete)", ctx.Err())
	case <-time.After(grace):
	}
	return st.Tx(ctx, func(q store.Q) error {
		ok, err := q.ClearRootKeyLink(ctx, rs.KeyID(), now())
		res.LinkCleared = ok
		return err
	})
}

// FinishRootRotation drops a leftover rotation link at once (after a
// rotation run with a negative grace, or interrupted during its grace).
func FinishRootRotation(ctx context.Context, st *store.Store) (bool, error) {
	rs, err := st.Write().GetRootKeyState(ctx, false)
	if err != nil {
		return false, fmt.Errorf("read root key: %w", err)
	}
	res := &RotateRootResult{}
	err = finishRotation(ctx, st, rs, 0, func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }, res)
	return res.LinkCleared, err
}

func unwrapWith(ctx context.Context, p kms.RootKey, rs *store.RootKeyState) ([]byte, error) {
	if rs.EncryptionStrategy != p.Strategy() {
		return nil, fmt.Errorf("strategy %s is not %s", rs.EncryptionStrategy, p.Strategy())
	}
	k, err := p.Unwrap(ctx, rs.EncryptedRootKey)
	if err != nil {
		return nil, err
	}
	if len(k) != kms.KeySize {
		clear(k)
		return nil, fmt.Errorf("unwrapped root key has %d bytes", len(k))
	}
	return k, nil
}

// RotateRootKey rotates the root key from a running engine (embedding
// programs): the source is the engine's own provider, the target to. The
// engine switches to the target provider once the rotation commits.
func (e *Engine) RotateRootKey(ctx context.Context, to kms.RootKey, opt RotateRootOptions) (*RotateRootResult, error) {
	e.keys.rootMu.Lock()
	from := e.keys.provider
	e.keys.rootMu.Unlock()
	opt.From, opt.To = from, to
	if opt.Logger == nil {
		opt.Logger = e.log
	}
	if opt.Now == nil {
		opt.Now = e.cfg.Now
	}
	inner := opt.Hook
	opt.Hook = func(step string, n int) error {
		if step == RotateStepCommitted {
			e.keys.rootMu.Lock()
			e.keys.provider = to
			e.keys.rootMu.Unlock()
		}
		if inner != nil {
			return inner(step, n)
		}
		return nil
	}
	res, err := RotateRootKey(ctx, e.store, opt)
	if err == nil && res.AlreadyRotated {
		e.keys.rootMu.Lock()
		e.keys.provider = to
		e.keys.rootMu.Unlock()
	}
	return res, err
}

// RootKeyStrategy returns the strategy protecting the stored root key.
func (e *Engine) RootKeyStrategy(ctx context.Context) (string, error) {
	rs, err := e.store.Read().GetRootKeyState(ctx, false)
	if err != nil {
		return "", err
	}
	return rs.EncryptionStrategy, nil
}
