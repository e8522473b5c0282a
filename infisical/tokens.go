package infisical

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/store"
)

// tokenState is what the per-request check needs to know about an identity
// access token row.
type tokenState struct {
	id           string
	identityID   string
	identityName string
	orgID        string
	authMethod   string
	revoked      bool
	numUsesLimit int64
	maxTTL       int64
	createdAt    time.Time
	ips          authn.IPSet
	principal    map[string]any
}

// tokenCache caches token states (SQLite only: a single process owns the
// database, so local invalidation is exact) and accumulates use counters of
// tokens without a use limit, which are written back periodically so the
// read path never writes.
type tokenCache struct {
	enabled bool
	lru     *lru.Cache[string, *tokenState]

	mu      sync.Mutex
	pending map[string]tokenUse
}

type tokenUse struct {
	n    int64
	last time.Time
}

func newTokenCache(size int) *tokenCache {
	c, _ := lru.New[string, *tokenState](size)
	return &tokenCache{lru: c, pending: map[string]tokenUse{}}
}

func (c *tokenCache) drop(id string) { c.lru.Remove(id) }

func (c *tokenCache) dropIdentity(identityID string) {
	for _, k := range c.lru.Keys() {
		if st, ok := c.lru.Peek(k); ok && st.identityID == identityID {
			c.lru.Remove(k)
		}
	}
}

func (c *tokenCache) clear() { c.lru.Purge() }

func (c *tokenCache) used(id string, at time.Time) {
	c.mu.Lock()
	u := c.pending[id]
	u.n++
	u.last = at
	c.pending[id] = u
	c.mu.Unlock()
}

// flushTokenUsage writes accumulated use counters in one transaction.
func (e *Engine) flushTokenUsage(ctx context.Context) {
	e.tokens.mu.Lock()
	pending := e.tokens.pending
	e.tokens.pending = map[string]tokenUse{}
	e.tokens.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	err := e.store.Tx(ctx, func(q store.Q) error {
		for id, u := range pending {
			if err := q.AddTokenUses(ctx, id, u.n, u.last); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Warn("could not record access-token usage", "tokens", len(pending), "err", err)
	}
}

// Authenticate turns a bearer credential into an Actor. ip is the caller's
// address, checked against the token's trusted IPs.
func (e *Engine) Authenticate(ctx context.Context, bearer, ip string) (Actor, error) {
	bearer = strings.TrimSpace(bearer)
	if bearer == "" {
		return Actor{}, Unauthorized("Missing Authorization header")
	}
	if strings.HasPrefix(bearer, "st.") {
		if e.serviceTokenAuth == nil {
			return Actor{}, Unauthorized("Invalid service token")
		}
		return e.serviceTokenAuth(ctx, bearer, ip)
	}
	claims, err := e.parseCached(bearer)
	if err != nil {
		return Actor{}, &Error{Kind: KindTokenError, Message: err.Error()}
	}
	switch {
	case claims.IsIdentity():
		return e.authenticateIdentity(ctx, claims, ip)
	case claims.IsUser():
		if e.userTokenAuth == nil {
			return Actor{}, Unauthorized("User sessions are not supported")
		}
		return e.userTokenAuth(ctx, claims, ip)
	}
	return Actor{}, &Error{Kind: KindTokenError, Message: authn.ErrTokenMalformed.Error()}
}

func (e *Engine) authenticateIdentity(ctx context.Context, c *authn.Claims, ip string) (Actor, error) {
	st, err := e.tokenState(ctx, c.IdentityAccessTokenID)
	if err != nil {
		return Actor{}, err
	}
	if st.revoked {
		return Actor{}, Unauthorized("Failed to authenticate identity access token: token has been revoked")
	}
	if st.identityID != c.IdentityID {
		return Actor{}, Unauthorized("Failed to authenticate identity access token")
	}
	now := e.now()
	if st.maxTTL > 0 && now.After(st.createdAt.Add(time.Duration(st.maxTTL)*time.Second)) {
		return Actor{}, Unauthorized("Failed to authenticate identity access token: token has reached its max TTL")
	}
	if !st.ips.Allows(ip) {
		return Actor{}, Forbidden("Access denied: IP address %s is not in the trusted IPs of this access token", ip)
	}
	if st.numUsesLimit > 0 {
		// Exact accounting for limited tokens: one conditional update.
		ok, err := e.store.Write().UseLimitedToken(ctx, st.id, now)
		if err != nil {
			return Actor{}, Internal("record token use", err)
		}
		if !ok {
			return Actor{}, Unauthorized("Failed to authenticate identity access token: usage limit reached")
		}
	} else {
		e.tokens.used(st.id, now)
	}
	return Actor{
		Type:       ActorIdentity,
		ID:         st.identityID,
		Name:       st.identityName,
		OrgID:      st.orgID,
		AuthMethod: st.authMethod,
		TokenID:    st.id,
		IP:         ip,
		Principal:  st.principal,
	}, nil
}

func (e *Engine) tokenState(ctx context.Context, id string) (*tokenState, error) {
	if id == "" {
		return nil, Unauthorized("Failed to authenticate identity access token")
	}
	if e.tokens.enabled {
		if st, ok := e.tokens.lru.Get(id); ok {
			return st, nil
		}
	}
	row, ident, err := e.store.Read().GetAccessTokenWithIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Unauthorized("Failed to authenticate identity access token: token not found")
	}
	if err != nil {
		return nil, Internal("load access token", err)
	}
	st := &tokenState{id: row.ID, identityID: row.IdentityID, identityName: ident.Name, orgID: row.OrgID,
		authMethod: row.AuthMethod, revoked: row.IsRevoked, numUsesLimit: row.NumUsesLimit, maxTTL: row.MaxTTL,
		createdAt: row.CreatedAt}
	var ips []authn.TrustedIP
	_ = json.Unmarshal([]byte(row.TrustedIPs), &ips)
	st.ips = authn.CompileIPs(ips)
	if row.Principal != "" {
		_ = json.Unmarshal([]byte(row.Principal), &st.principal)
	}
	if e.tokens.enabled {
		e.tokens.lru.Add(id, st)
	}
	return st, nil
}

// LoginResult is the body of every login and renew response.
type LoginResult struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

// periodicMaxTTL is what periodic tokens report as max TTL so that old
// clients keep renewing forever.
const periodicMaxTTL = 1000000000

// TokenIssue describes a token to mint after a successful login.
type TokenIssue struct {
	IdentityID     string
	IdentityName   string
	OrgID          string
	Method         *store.AuthMethod
	ClientSecretID string
	Principal      map[string]any
	Name           string
	IP             string
}

// issueToken inserts a token row in q's transaction and signs its JWT.
func (e *Engine) issueToken(ctx context.Context, q store.Q, in TokenIssue) (*LoginResult, *store.AccessToken, error) {
	m := in.Method
	now := e.now()
	row := &store.AccessToken{
		ID:           uuid.NewString(),
		IdentityID:   in.IdentityID,
		OrgID:        in.OrgID,
		AuthMethod:   m.Method,
		AuthMethodID: &m.ID,
		TTL:          m.AccessTokenTTL,
		MaxTTL:       m.AccessTokenMax,
		Period:       m.Period,
		NumUsesLimit: m.NumUsesLimit,
		TrustedIPs:   m.TrustedIPs,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if in.ClientSecretID != "" {
		row.ClientSecretID = &in.ClientSecretID
	}
	if in.Name != "" {
		row.Name = &in.Name
	}
	if in.Principal != nil {
		b, _ := json.Marshal(in.Principal)
		row.Principal = string(b)
	}
	if err := q.Insert(ctx, row); err != nil {
		return nil, nil, Internal("store access token", err)
	}
	if err := q.TouchIdentityLogin(ctx, in.OrgID, in.IdentityID, m.Method, now); err != nil {
		return nil, nil, Internal("record login", err)
	}
	res, err := e.signToken(row, in.IdentityName, in.Principal, now)
	if err != nil {
		return nil, nil, err
	}
	return res, row, nil
}

// tokenLifetime is the lifetime of a JWT minted at now for row.
func tokenLifetime(row *store.AccessToken, now time.Time) time.Duration {
	ttl := time.Duration(row.TTL) * time.Second
	if row.Period > 0 {
		ttl = time.Duration(row.Period) * time.Second
	}
	if row.MaxTTL > 0 && row.Period == 0 {
		left := row.CreatedAt.Add(time.Duration(row.MaxTTL) * time.Second).Sub(now)
		if ttl == 0 || left < ttl {
			ttl = left
		}
	}
	if ttl < 0 {
		ttl = 0
	}
	return ttl.Truncate(time.Second)
}

func (e *Engine) signToken(row *store.AccessToken, identityName string, principal map[string]any, now time.Time) (*LoginResult, error) {
	var ips []authn.TrustedIP
	_ = json.Unmarshal([]byte(row.TrustedIPs), &ips)
	life := tokenLifetime(row, now)
	cs := ""
	if row.ClientSecretID != nil {
		cs = *row.ClientSecretID
	}
	claims := authn.IdentityClaims(authn.IdentityTokenSpec{
		TokenID: row.ID, IdentityID: row.IdentityID, IdentityName: identityName, OrgID: row.OrgID,
		AuthMethod: row.AuthMethod, ClientSecretID: cs, Principal: principal,
		TTL: life, MaxTTL: time.Duration(row.MaxTTL) * time.Second, Period: time.Duration(row.Period) * time.Second,
		NumUsesLimit: row.NumUsesLimit, IPRestricted: authn.CompileIPs(ips).Restricted(),
		CreatedAt: row.CreatedAt, IssuedAt: now,
	})
	tok, err := e.signer.Sign(claims)
	if err != nil {
		return nil, Internal("sign token", err)
	}
	maxTTL := row.MaxTTL
	if row.Period > 0 {
		maxTTL = periodicMaxTTL
	}
	return &LoginResult{AccessToken: tok, ExpiresIn: int64(life / time.Second), AccessTokenMaxTTL: maxTTL, TokenType: "Bearer"}, nil
}

// RenewToken extends an identity access token by one TTL within its max
// TTL and returns a freshly signed JWT with the same id.
func (e *Engine) RenewToken(ctx context.Context, accessToken string) (*LoginResult, error) {
	c, err := e.signer.Parse(strings.TrimSpace(accessToken))
	if err != nil {
		return nil, Unauthorized("Failed to renew access token: %s", err.Error())
	}
	if !c.IsIdentity() {
		return nil, BadRequest("Only identity access tokens can be renewed")
	}
	var res *LoginResult
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, ident, err := q.GetAccessTokenWithIdentity(ctx, c.IdentityAccessTokenID)
		if errors.Is(err, store.ErrNotFound) {
			return Unauthorized("No identity access token was found")
		}
		if err != nil {
			return Internal("load access token", err)
		}
		if row.IsRevoked {
			return Unauthorized("Failed to renew access token: token has been revoked")
		}
		if row.NumUsesLimit > 0 && row.NumUses >= row.NumUsesLimit {
			return Unauthorized("Unable to renew because access token number of uses limit reached")
		}
		now := e.now()
		if row.MaxTTL > 0 && row.Period == 0 {
			end := row.CreatedAt.Add(time.Duration(row.MaxTTL) * time.Second)
			if now.After(end) {
				return Unauthorized("Failed to renew MI access token due to Max TTL expiration")
			}
			if row.TTL > 0 && now.Add(time.Duration(row.TTL)*time.Second).After(end) {
				return Unauthorized("Failed to renew MI access token past its Max TTL expiration")
			}
		}
		row.LastRenewedAt = &now
		row.UpdatedAt = now
		if err := q.Update(ctx, row); err != nil {
			return Internal("renew access token", err)
		}
		var principal map[string]any
		if row.Principal != "" {
			_ = json.Unmarshal([]byte(row.Principal), &principal)
		}
		if res, err = e.signToken(row, ident.Name, principal, now); err != nil {
			return err
		}
		return e.audit(ctx, q, identityActor(ctx, row.IdentityID, ident.Name, row.OrgID, row.AuthMethod, "", ""),
			AuditEvent{Type: "renew-identity-access-token", OrgID: row.OrgID,
				Metadata: map[string]any{"identityId": row.IdentityID, "identityAccessTokenId": row.ID}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// RevokeToken revokes an identity access token given in full. An expired
// JWT may still be revoked; a forged one may not.
func (e *Engine) RevokeToken(ctx context.Context, accessToken string) error {
	c, err := e.signer.ParseUnverifiedExpiry(strings.TrimSpace(accessToken))
	if err != nil {
		return Unauthorized("Failed to revoke access token: %s", err.Error())
	}
	if !c.IsIdentity() {
		return BadRequest("Only identity access tokens can be revoked")
	}
	ctx = withTxAudit(ctx, identityActor(ctx, c.IdentityID, c.IdentityName, c.OrgID, c.AuthMethod, "", ""),
		AuditEvent{Type: "revoke-identity-access-token", OrgID: c.OrgID,
			Metadata: map[string]any{"identityId": c.IdentityID, "identityAccessTokenId": c.IdentityAccessTokenID}})
	return e.revokeTokenIDs(ctx, []string{c.IdentityAccessTokenID})
}

func (e *Engine) revokeTokenIDs(ctx context.Context, ids []string) error {
	return e.store.Tx(ctx, func(q store.Q) error {
		n, err := q.RevokeAccessTokens(ctx, ids, e.now())
		if err != nil {
			return Internal("revoke access token", err)
		}
		if n == 0 {
			return NotFound("Access token not found")
		}
		for _, id := range ids {
			q.Invalidate(topicToken, id)
		}
		return e.auditFromCtx(ctx, q)
	})
}

// revokeMethodTokens revokes, inside q, every token issued through an auth
// method configuration (used when the configuration is removed).
func (e *Engine) revokeMethodTokens(ctx context.Context, q store.Q, authMethodID string) error {
	ids, err := q.RevokeTokensOfMethod(ctx, authMethodID, e.now())
	if err != nil {
		return fmt.Errorf("revoke tokens of auth method %s: %w", authMethodID, err)
	}
	for _, id := range ids {
		q.Invalidate(topicToken, id)
	}
	return nil
}

// parseCached verifies a JWT, remembering verified claims so that a token
// used again costs a lookup and an expiry check instead of a signature
// verification and JSON decoding.
func (e *Engine) parseCached(token string) (*authn.Claims, error) {
	if c, ok := e.claims.Get(token); ok {
		if c.ExpiresAt != nil && !e.cfg.Now().Before(c.ExpiresAt.Time) {
			e.claims.Remove(token)
			return nil, authn.ErrTokenExpired
		}
		return c, nil
	}
	c, err := e.signer.Parse(token)
	if err != nil {
		return nil, err
	}
	e.claims.Add(token, c)
	return c, nil
}
