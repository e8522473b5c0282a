package infisical

import (
	"context"
	"errors"
	"strings"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// TokenAuthConfig is an identity's token-auth configuration: only the
// common token settings.
type TokenAuthConfig struct {
	AuthMethodConfig
}

func tokenAuthFromRow(r *store.AuthMethod) *TokenAuthConfig {
	return &TokenAuthConfig{AuthMethodConfig: authMethodConfigFromRow(r)}
}

// Attach configures token auth on an identity of the caller's organization.
func (s *TokenAuthService) Attach(ctx context.Context, actor Actor, identityID string, in TokenSettings) (*TokenAuthConfig, error) {
	row := &store.AuthMethod{Method: AuthMethodToken}
	ctx = withMethodAudit(ctx, func(r *store.AuthMethod) AuditEvent { return tokenAuthConfigEvent("add-identity-token-auth", r) })
	if err := s.e.attachMethod(ctx, actor, identityID, row, in); err != nil {
		return nil, err
	}
	return tokenAuthFromRow(row), nil
}

// Get returns the token-auth configuration of an identity.
func (s *TokenAuthService) Get(ctx context.Context, actor Actor, identityID string) (*TokenAuthConfig, error) {
	row, err := s.e.getMethod(ctx, actor, identityID, AuthMethodToken)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-identity-token-auth", Metadata: map[string]any{"identityId": row.IdentityID}})
	return tokenAuthFromRow(row), nil
}

// Update changes the token settings of an identity's token auth.
func (s *TokenAuthService) Update(ctx context.Context, actor Actor, identityID string, in TokenSettings) (*TokenAuthConfig, error) {
	ctx = withMethodAudit(ctx, func(r *store.AuthMethod) AuditEvent { return tokenAuthConfigEvent("update-identity-token-auth", r) })
	row, err := s.e.updateMethod(ctx, actor, identityID, AuthMethodToken, in, nil)
	if err != nil {
		return nil, err
	}
	return tokenAuthFromRow(row), nil
}

// Revoke removes token auth from an identity and revokes every token issued
// through it; it returns the removed configuration.
func (s *TokenAuthService) Revoke(ctx context.Context, actor Actor, identityID string) (*TokenAuthConfig, error) {
	ctx = withMethodAudit(ctx, func(r *store.AuthMethod) AuditEvent { return tokenAuthConfigEvent("revoke-identity-token-auth", r) })
	row, err := s.e.revokeMethod(ctx, actor, identityID, AuthMethodToken)
	if err != nil {
		return nil, err
	}
	return tokenAuthFromRow(row), nil
}

// CreateTokenInput names a token-auth token.
type CreateTokenInput struct {
	Name string
	// OrganizationSlug scopes the token to another organization the
	// identity belongs to ("" or the home organization's slug: home).
	OrganizationSlug string
}

// IssuedToken is a freshly minted access token (the JWT is only ever
// returned here) with its row.
type IssuedToken struct {
	LoginResult
	Token AccessToken
}

const maxTokenNameLen = 255

// CreateToken mints a token-auth access token for an identity of the
// caller's organization.
func (s *TokenAuthService) CreateToken(ctx context.Context, actor Actor, identityID string, in CreateTokenInput) (*IssuedToken, error) {
	e := s.e
	name := strings.TrimSpace(in.Name)
	if len(name) > maxTokenNameLen {
		return nil, Invalid("name", "name must be at most %d characters", maxTokenNameLen)
	}
	_, ident, _, err := e.identityAccess(ctx, actor, identityID, permission.ActionCreateToken)
	if err != nil {
		return nil, err
	}
	var out *IssuedToken
	err = e.store.Tx(ctx, func(q store.Q) error {
		method, err := e.methodRow(ctx, q, ident.ID, AuthMethodToken)
		if err != nil {
			return err
		}
		org, err := e.loginOrg(ctx, q, ident.ID, in.OrganizationSlug)
		if err != nil {
			return err
		}
		res, row, err := e.issueToken(ctx, q, TokenIssue{IdentityID: ident.ID, IdentityName: ident.Name, OrgID: org.OrgID,
			Method: method, Name: name, IP: actor.IP})
		if err != nil {
			return err
		}
		out = &IssuedToken{LoginResult: *res, Token: accessTokenFromRow(row)}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-token-identity-token-auth",
			Metadata: map[string]any{"identityId": ident.ID, "identityAccessTokenId": row.ID, "name": name}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTokens returns the live token-auth tokens of an identity, newest
// first.
func (s *TokenAuthService) ListTokens(ctx context.Context, actor Actor, identityID string, offset, limit int) ([]AccessToken, error) {
	e := s.e
	if offset < 0 {
		return nil, Invalid("offset", "offset must be ≥ 0")
	}
	if limit < 0 {
		return nil, Invalid("limit", "limit must be ≥ 0")
	}
	_, ident, _, err := e.identityAccess(ctx, actor, identityID, permission.ActionGetToken)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.Read().ListIdentityTokens(ctx, ident.ID, AuthMethodToken, offset, limit)
	if err != nil {
		return nil, Internal("list tokens", err)
	}
	out := make([]AccessToken, len(rows))
	for i := range rows {
		out[i] = accessTokenFromRow(&rows[i])
	}
	e.auditRead(actor, AuditEvent{Type: "get-tokens-identity-token-auth", Metadata: map[string]any{"identityId": ident.ID}})
	return out, nil
}

// tokenAuthToken loads a token-auth token of an identity of the caller's
// organization and checks action on that identity. identityID, when not
// empty, must be the token's identity.
func (e *Engine) tokenAuthToken(ctx context.Context, actor Actor, identityID, tokenID, action string) (*store.AccessToken, error) {
	tokenID = strings.TrimSpace(tokenID)
	if tokenID == "" {
		return nil, Invalid("tokenId", "tokenId is required")
	}
	notFound := NotFound("Token with ID '%s' not found", tokenID)
	row, err := e.store.Read().GetAccessToken(ctx, tokenID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, Internal("load token", err)
	}
	if row.AuthMethod != AuthMethodToken || (identityID != "" && row.IdentityID != identityID) {
		return nil, notFound
	}
	if _, _, _, err := e.identityAccess(ctx, actor, row.IdentityID, action); err != nil {
		if IsNotFound(err) {
			return nil, notFound
		}
		return nil, err
	}
	return row, nil
}

// GetToken returns a token-auth token row by id.
func (s *TokenAuthService) GetToken(ctx context.Context, actor Actor, tokenID string) (*AccessToken, error) {
	row, err := s.e.tokenAuthToken(ctx, actor, "", tokenID, permission.ActionGetToken)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-token-identity-token-auth", Metadata: map[string]any{"identityId": row.IdentityID, "tokenId": row.ID}})
	t := accessTokenFromRow(row)
	return &t, nil
}

// GetIdentityToken is GetToken restricted to one identity (the deprecated
// identity-scoped route).
func (s *TokenAuthService) GetIdentityToken(ctx context.Context, actor Actor, identityID, tokenID string) (*AccessToken, error) {
	row, err := s.e.tokenAuthToken(ctx, actor, strings.TrimSpace(identityID), tokenID, permission.ActionGetToken)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-token-identity-token-auth", Metadata: map[string]any{"identityId": row.IdentityID, "tokenId": row.ID}})
	t := accessTokenFromRow(row)
	return &t, nil
}

// UpdateToken renames a token-auth token.
func (s *TokenAuthService) UpdateToken(ctx context.Context, actor Actor, tokenID string, name *string) (*AccessToken, error) {
	e := s.e
	row, err := e.tokenAuthToken(ctx, actor, "", tokenID, permission.ActionCreateToken)
	if err != nil {
		return nil, err
	}
	if name != nil {
		n := strings.TrimSpace(*name)
		if len(n) > maxTokenNameLen {
			return nil, Invalid("name", "name must be at most %d characters", maxTokenNameLen)
		}
		err := e.store.Tx(ctx, func(q store.Q) error {
			if err := q.SetAccessTokenName(ctx, row.ID, n, e.now()); err != nil {
				return Internal("rename token", err)
			}
			return e.audit(ctx, q, actor, AuditEvent{Type: "update-token-identity-token-auth",
				Metadata: map[string]any{"identityId": row.IdentityID, "tokenId": row.ID, "name": n}})
		})
		if err != nil {
			return nil, err
		}
		if row, err = e.store.Read().GetAccessToken(ctx, row.ID); err != nil {
			return nil, Internal("load token", err)
		}
	}
	t := accessTokenFromRow(row)
	return &t, nil
}

// RevokeToken revokes a token-auth token by id.
func (s *TokenAuthService) RevokeToken(ctx context.Context, actor Actor, tokenID string) error {
	row, err := s.e.tokenAuthToken(ctx, actor, "", tokenID, permission.ActionDeleteToken)
	if err != nil {
		return err
	}
	ctx = withTxAudit(ctx, actor, AuditEvent{Type: "revoke-token-identity-token-auth",
		Metadata: map[string]any{"identityId": row.IdentityID, "tokenId": row.ID}})
	return s.e.revokeTokenIDs(ctx, []string{row.ID})
}
