package store

import (
	"context"
	"errors"
	"time"
)

// Queries of identity auth-method configurations, universal-auth client
// secrets, login lockouts, identity access tokens and the instance
// configuration row.

// GetAuthMethod returns the configuration of one auth method of an identity.
func (q Q) GetAuthMethod(ctx context.Context, identityID, method string) (*AuthMethod, error) {
	var m AuthMethod
	err := q.db.NewSelect().Model(&m).Where("identity_id = ? AND method = ?", identityID, method).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &m, nil
}

// GetAuthMethodByLookup returns the configuration of method whose public
// lookup key (universal auth: the client id) is key.
func (q Q) GetAuthMethodByLookup(ctx context.Context, method, key string) (*AuthMethod, error) {
	var m AuthMethod
	err := q.db.NewSelect().Model(&m).Where("method = ? AND lookup_key = ?", method, key).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &m, nil
}

// ListClientSecrets returns the non-revoked client secrets of a
// universal-auth configuration, newest first.
func (q Q) ListClientSecrets(ctx context.Context, authMethodID string) ([]ClientSecret, error) {
	out := []ClientSecret{}
	err := q.db.NewSelect().Model(&out).Where("auth_method_id = ? AND is_revoked = ?", authMethodID, false).
		Order("created_at DESC", "id DESC").Scan(ctx)
	return out, classify(err)
}

// ClientSecretCandidates returns the non-revoked client secrets of a
// configuration whose stored prefix is prefix.
func (q Q) ClientSecretCandidates(ctx context.Context, authMethodID, prefix string) ([]ClientSecret, error) {
	var out []ClientSecret
	err := q.db.NewSelect().Model(&out).Where("auth_method_id = ? AND prefix = ? AND is_revoked = ?", authMethodID, prefix, false).
		Order("created_at ASC").Scan(ctx)
	return out, classify(err)
}

// GetClientSecret loads a client secret of a configuration.
func (q Q) GetClientSecret(ctx context.Context, authMethodID, id string) (*ClientSecret, error) {
	var s ClientSecret
	err := q.db.NewSelect().Model(&s).Where("id = ? AND auth_method_id = ?", id, authMethodID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &s, nil
}

// UseClientSecret counts one login with a client secret, atomically: it
// reports false when the secret is revoked or its use limit is reached.
func (q Q) UseClientSecret(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*ClientSecret)(nil)).
		Set("num_uses = num_uses + 1").Set("updated_at = ?", at).
		Where("id = ? AND is_revoked = ? AND (num_uses_limit = 0 OR num_uses < num_uses_limit)", id, false).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RevokeClientSecret marks a client secret revoked.
func (q Q) RevokeClientSecret(ctx context.Context, id string, at time.Time) error {
	_, err := q.db.NewUpdate().Model((*ClientSecret)(nil)).
		Set("is_revoked = ?", true).Set("updated_at = ?", at).Where("id = ?", id).Exec(ctx)
	return classify(err)
}

// GetLockout returns the lockout counter stored under key.
func (q Q) GetLockout(ctx context.Context, key string) (*Lockout, error) {
	var l Lockout
	err := q.db.NewSelect().Model(&l).Where("key = ?", key).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &l, nil
}

// LockForUpdate returns the lockout counter under key, creating it when
// absent, and on PostgreSQL locks its row until the transaction ends so that
// concurrent failures from several servers are all counted. (SQLite runs one
// write transaction at a time.)
func (q Q) LockForUpdate(ctx context.Context, key string, now time.Time) (*Lockout, error) {
	l := &Lockout{Key: key, WindowStart: now}
	if _, err := q.db.NewInsert().Model(l).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
		return nil, classify(err)
	}
	var out Lockout
	sq := q.db.NewSelect().Model(&out).Where("key = ?", key)
	if q.s.pg {
		sq = sq.For("UPDATE")
	}
	if err := sq.Scan(ctx); err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// SaveLockout writes a lockout counter.
func (q Q) SaveLockout(ctx context.Context, l *Lockout) error {
	_, err := q.db.NewUpdate().Model(l).WherePK().Exec(ctx)
	return classify(err)
}

// DeleteLockout removes the counter under key.
func (q Q) DeleteLockout(ctx context.Context, key string) error {
	_, err := q.db.NewDelete().Model((*Lockout)(nil)).Where("key = ?", key).Exec(ctx)
	return classify(err)
}

// DeleteLockoutsWithPrefix removes every counter whose key starts with
// prefix and returns how many there were.
func (q Q) DeleteLockoutsWithPrefix(ctx context.Context, prefix string) (int, error) {
	res, err := q.db.NewDelete().Model((*Lockout)(nil)).
		Where("key LIKE ? ESCAPE '\\'", likeEscape(prefix)+"%").Exec(ctx)
	if err != nil {
		return 0, classify(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// GetAccessToken loads an identity access token row.
func (q Q) GetAccessToken(ctx context.Context, id string) (*AccessToken, error) {
	var t AccessToken
	if err := q.GetByID(ctx, &t, id); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListIdentityTokens returns the non-revoked tokens of an identity issued
// through method, newest first.
func (q Q) ListIdentityTokens(ctx context.Context, identityID, method string, offset, limit int) ([]AccessToken, error) {
	out := []AccessToken{}
	sq := q.db.NewSelect().Model(&out).
		Where("identity_id = ? AND auth_method = ? AND is_revoked = ?", identityID, method, false).
		Order("created_at DESC", "id DESC")
	if offset > 0 {
		sq = sq.Offset(int64(offset))
	}
	if limit > 0 {
		sq = sq.Limit(int64(limit))
	}
	err := sq.Scan(ctx)
	return out, classify(err)
}

// InstanceConfigID is the fixed id of the single instance_config row.
const InstanceConfigID = "00000000-0000-0000-0000-000000000000"

// GetInstanceConfig returns the instance configuration row.
func (q Q) GetInstanceConfig(ctx context.Context) (*InstanceConfig, error) {
	var c InstanceConfig
	if err := q.GetByID(ctx, &c, InstanceConfigID); err != nil {
		return nil, err
	}
	return &c, nil
}

// MarkInitialized sets the instance's initialized flag and reports whether
// this call did it. Inside a transaction it is the check-and-set of the
// bootstrap: a concurrent bootstrap either waits for this one's row lock
// (update) or its unique key (insert), then sees the flag set.
func (q Q) MarkInitialized(ctx context.Context, at time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*InstanceConfig)(nil)).
		Set("initialized = ?", true).Set("updated_at = ?", at).
		Where("id = ? AND initialized = ?", InstanceConfigID, false).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	row := &InstanceConfig{ID: InstanceConfigID, Initialized: true, CreatedAt: at, UpdatedAt: at}
	if _, err := q.db.NewInsert().Model(row).Exec(ctx); err != nil {
		err = classify(err)
		if errors.Is(err, ErrDuplicate) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// SetAccessTokenName renames a token.
func (q Q) SetAccessTokenName(ctx context.Context, id, name string, at time.Time) error {
	res, err := q.db.NewUpdate().Model((*AccessToken)(nil)).Set("name = ?", name).Set("updated_at = ?", at).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
