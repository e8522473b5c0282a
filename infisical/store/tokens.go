package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// GetAccessTokenWithIdentity loads a token row and its identity.
func (q Q) GetAccessTokenWithIdentity(ctx context.Context, id string) (*AccessToken, *Identity, error) {
	var t AccessToken
	if err := q.GetByID(ctx, &t, id); err != nil {
		return nil, nil, err
	}
	var ident Identity
	if err := q.GetByID(ctx, &ident, t.IdentityID); err != nil {
		return nil, nil, err
	}
	return &t, &ident, nil
}

// AddTokenUses adds n uses to a token without a use limit.
func (q Q) AddTokenUses(ctx context.Context, id string, n int64, last time.Time) error {
	_, err := q.db.NewUpdate().Model((*AccessToken)(nil)).
		Set("num_uses = num_uses + ?", n).
		Set("last_used_at = ?", last).
		Where("id = ?", id).Exec(ctx)
	return classify(err)
}

// UseLimitedToken counts one use of a token with a use limit, atomically;
// it reports false when the limit is already reached.
func (q Q) UseLimitedToken(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*AccessToken)(nil)).
		Set("num_uses = num_uses + 1").
		Set("last_used_at = ?", at).
		Where("id = ? AND is_revoked = ? AND num_uses < num_uses_limit", id, false).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RevokeAccessTokens marks tokens revoked and returns how many existed.
func (q Q) RevokeAccessTokens(ctx context.Context, ids []string, at time.Time) (int64, error) {
	res, err := q.db.NewUpdate().Model((*AccessToken)(nil)).
		Set("is_revoked = ?", true).Set("updated_at = ?", at).
		Where("id IN (?)", bunIn(ids)).Exec(ctx)
	if err != nil {
		return 0, classify(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RevokeTokensOfMethod revokes every live token issued through an auth
// method configuration and returns their ids.
func (q Q) RevokeTokensOfMethod(ctx context.Context, authMethodID string, at time.Time) ([]string, error) {
	return q.revokeLiveTokens(ctx, "auth_method_id", authMethodID, at)
}

// RevokeTokensOfIdentity revokes every live token of an identity.
func (q Q) RevokeTokensOfIdentity(ctx context.Context, identityID string, at time.Time) ([]string, error) {
	return q.revokeLiveTokens(ctx, "identity_id", identityID, at)
}

// revokeLiveTokens revokes the non-revoked tokens whose column equals
// value and returns their ids (callers invalidate caches by id).
func (q Q) revokeLiveTokens(ctx context.Context, column, value string, at time.Time) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*AccessToken)(nil)).Column("id").
		Where("? = ? AND is_revoked = ?", bun.Ident(column), value, false).Scan(ctx, &ids)
	if err != nil {
		return nil, classify(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	_, err = q.RevokeAccessTokens(ctx, ids, at)
	return ids, err
}

// TouchIdentityLogin records the last login of an identity in an org.
func (q Q) TouchIdentityLogin(ctx context.Context, orgID, identityID, method string, at time.Time) error {
	_, err := q.db.NewUpdate().Model((*IdentityOrgMembership)(nil)).
		Set("last_login_auth_method = ?", method).Set("last_login_time = ?", at).
		Where("org_id = ? AND identity_id = ?", orgID, identityID).Exec(ctx)
	return classify(err)
}
