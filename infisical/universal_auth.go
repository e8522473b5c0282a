package infisical

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Lockout bounds and defaults of universal auth.
const (
	defaultLockoutThreshold     = 3
	defaultLockoutDuration      = 300
	defaultLockoutCounterReset  = 30
	minLockoutThreshold         = 1
	maxLockoutThreshold         = 30
	minLockoutDuration          = 30
	maxLockoutDuration          = 86400
	minLockoutCounterReset      = 5
	maxLockoutCounterReset      = 3600
	invalidCredentials          = "Invalid credentials"
	lockedOutMessage            = "This identity auth method is temporarily locked, please try again later"
	expiredClientSecretMessage  = "Access denied due to expired client secret"
	clientSecretUsageMessage    = "Access denied due to client secret usage limit reached"
	clientSecretNotFoundMessage = "Client secret with ID '%s' not found"
)

// uaConfig is the method-specific part of a universal-auth configuration,
// stored as JSON in identity_auth_methods.config.
type uaConfig struct {
	ClientSecretTrustedIPs     []authn.TrustedIP `json:"clientSecretTrustedIps"`
	LockoutEnabled             bool              `json:"lockoutEnabled"`
	LockoutThreshold           int               `json:"lockoutThreshold"`
	LockoutDurationSeconds     int               `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int               `json:"lockoutCounterResetSeconds"`
}

func decodeUAConfig(s string) uaConfig {
	c := uaConfig{LockoutEnabled: true, LockoutThreshold: defaultLockoutThreshold, LockoutDurationSeconds: defaultLockoutDuration,
		LockoutCounterResetSeconds: defaultLockoutCounterReset}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &c)
	}
	if c.ClientSecretTrustedIPs == nil {
		c.ClientSecretTrustedIPs = []authn.TrustedIP{}
	}
	return c
}

func (c uaConfig) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// UniversalAuthConfig is an identity's universal-auth configuration. It
// never contains a client secret.
type UniversalAuthConfig struct {
	AuthMethodConfig
	ClientID                   string
	ClientSecretTrustedIPs     []authn.TrustedIP
	LockoutEnabled             bool
	LockoutThreshold           int
	LockoutDurationSeconds     int
	LockoutCounterResetSeconds int
}

func universalAuthFromRow(r *store.AuthMethod) *UniversalAuthConfig {
	c := decodeUAConfig(r.Config)
	out := &UniversalAuthConfig{AuthMethodConfig: authMethodConfigFromRow(r), ClientSecretTrustedIPs: c.ClientSecretTrustedIPs,
		LockoutEnabled: c.LockoutEnabled, LockoutThreshold: c.LockoutThreshold, LockoutDurationSeconds: c.LockoutDurationSeconds,
		LockoutCounterResetSeconds: c.LockoutCounterResetSeconds}
	if r.LookupKey != nil {
		out.ClientID = *r.LookupKey
	}
	return out
}

// UniversalAuthSettings configures universal auth. On attach nil fields take
// the defaults; on update they are left unchanged.
type UniversalAuthSettings struct {
	TokenSettings
	// ClientSecretTrustedIPs are IPs or CIDRs from which client secrets may
	// be used to log in.
	ClientSecretTrustedIPs     []string
	LockoutEnabled             *bool
	LockoutThreshold           *int
	LockoutDurationSeconds     *int
	LockoutCounterResetSeconds *int
}

func checkRange(field string, v, min, max int) error {
	if v < min || v > max {
		return Invalid(field, "%s must be between %d and %d", field, min, max)
	}
	return nil
}

// apply validates in and writes it onto c.
func (in UniversalAuthSettings) apply(c *uaConfig) error {
	if in.ClientSecretTrustedIPs != nil {
		ips, err := parseTrustedIPs("clientSecretTrustedIps", in.ClientSecretTrustedIPs)
		if err != nil {
			return err
		}
		c.ClientSecretTrustedIPs = ips
	}
	if in.LockoutEnabled != nil {
		c.LockoutEnabled = *in.LockoutEnabled
	}
	if in.LockoutThreshold != nil {
		if err := checkRange("lockoutThreshold", *in.LockoutThreshold, minLockoutThreshold, maxLockoutThreshold); err != nil {
			return err
		}
		c.LockoutThreshold = *in.LockoutThreshold
	}
	if in.LockoutDurationSeconds != nil {
		if err := checkRange("lockoutDurationSeconds", *in.LockoutDurationSeconds, minLockoutDuration, maxLockoutDuration); err != nil {
			return err
		}
		c.LockoutDurationSeconds = *in.LockoutDurationSeconds
	}
	if in.LockoutCounterResetSeconds != nil {
		if err := checkRange("lockoutCounterResetSeconds", *in.LockoutCounterResetSeconds, minLockoutCounterReset, maxLockoutCounterReset); err != nil {
			return err
		}
		c.LockoutCounterResetSeconds = *in.LockoutCounterResetSeconds
	}
	return nil
}

// Attach configures universal auth on an identity of the caller's
// organization; the server generates the client id.
func (s *UniversalAuthService) Attach(ctx context.Context, actor Actor, identityID string, in UniversalAuthSettings) (*UniversalAuthConfig, error) {
	c := decodeUAConfig("")
	c.ClientSecretTrustedIPs = authn.AnyIP()
	if err := in.apply(&c); err != nil {
		return nil, err
	}
	clientID := uuid.NewString()
	row := &store.AuthMethod{Method: AuthMethodUniversal, LookupKey: &clientID, Config: c.encode()}
	ctx = withMethodAudit(ctx, func(r *store.AuthMethod) AuditEvent { return uaConfigEvent("add-identity-universal-auth", r) })
	if err := s.e.attachMethod(ctx, actor, identityID, row, in.TokenSettings); err != nil {
		return nil, err
	}
	return universalAuthFromRow(row), nil
}

// Get returns the universal-auth configuration of an identity.
func (s *UniversalAuthService) Get(ctx context.Context, actor Actor, identityID string) (*UniversalAuthConfig, error) {
	row, err := s.e.getMethod(ctx, actor, identityID, AuthMethodUniversal)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-identity-universal-auth", Metadata: map[string]any{"identityId": row.IdentityID}})
	return universalAuthFromRow(row), nil
}

// Update changes an identity's universal-auth configuration.
func (s *UniversalAuthService) Update(ctx context.Context, actor Actor, identityID string, in UniversalAuthSettings) (*UniversalAuthConfig, error) {
	ctx = withMethodAudit(ctx, func(r *store.AuthMethod) AuditEvent { return uaConfigEvent("update-identity-universal-auth", r) })
	row, err := s.e.updateMethod(ctx, actor, identityID, AuthMethodUniversal, in.TokenSettings, func(row *store.AuthMethod) error {
		c := decodeUAConfig(row.Config)
		if err := in.apply(&c); err != nil {
			return err
		}
		row.Config = c.encode()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return universalAuthFromRow(row), nil
}

// Revoke removes universal auth (and its client secrets and lockouts) from
// an identity and revokes every token issued through it.
func (s *UniversalAuthService) Revoke(ctx context.Context, actor Actor, identityID string) (*UniversalAuthConfig, error) {
	ctx = withMethodAudit(ctx, func(r *store.AuthMethod) AuditEvent { return uaConfigEvent("revoke-identity-universal-auth", r) })
	row, err := s.e.revokeMethod(ctx, actor, identityID, AuthMethodUniversal)
	if err != nil {
		return nil, err
	}
	return universalAuthFromRow(row), nil
}

// ClientSecret describes a universal-auth client secret; the secret itself
// is shown only once, at creation.
type ClientSecret struct {
	ID           string
	AuthMethodID string // identityUAId
	Description  string
	Prefix       string
	NumUses      int64
	NumUsesLimit int64
	TTL          int64
	IsRevoked    bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func clientSecretFromRow(r *store.ClientSecret) ClientSecret {
	return ClientSecret{ID: r.ID, AuthMethodID: r.AuthMethodID, Description: r.Description, Prefix: r.Prefix, NumUses: r.NumUses,
		NumUsesLimit: r.NumUsesLimit, TTL: r.TTL, IsRevoked: r.IsRevoked, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateClientSecretInput configures a new client secret.
type CreateClientSecretInput struct {
	Description  string
	NumUsesLimit int64 // 0 = unlimited
	TTL          int64 // seconds; 0 = never expires
}

// CreatedClientSecret carries a new client secret in clear (shown once).
type CreatedClientSecret struct {
	Secret string
	Data   ClientSecret
}

const maxClientSecretDescription = 1024

// uaAccess loads the universal-auth configuration of an identity of the
// caller's organization after checking action.
func (e *Engine) uaAccess(ctx context.Context, actor Actor, identityID, action string) (*store.AuthMethod, error) {
	_, ident, _, err := e.identityAccess(ctx, actor, identityID, action)
	if err != nil {
		return nil, err
	}
	return e.methodRow(ctx, e.store.Read(), ident.ID, AuthMethodUniversal)
}

// CreateClientSecret creates a client secret; only its prefix and hash are
// stored.
func (s *UniversalAuthService) CreateClientSecret(ctx context.Context, actor Actor, identityID string, in CreateClientSecretInput) (*CreatedClientSecret, error) {
	e := s.e
	if len(in.Description) > maxClientSecretDescription {
		return nil, Invalid("description", "description must be at most %d characters", maxClientSecretDescription)
	}
	if in.NumUsesLimit < 0 {
		return nil, Invalid("numUsesLimit", "numUsesLimit must be ≥ 0")
	}
	if err := checkSeconds("ttl", in.TTL, MaxAccessTokenTTL); err != nil {
		return nil, err
	}
	method, err := e.uaAccess(ctx, actor, identityID, permission.ActionCreateToken)
	if err != nil {
		return nil, err
	}
	secret, prefix, hash, err := authn.NewClientSecret()
	if err != nil {
		return nil, Internal("generate client secret", err)
	}
	now := e.now()
	row := &store.ClientSecret{ID: uuid.NewString(), AuthMethodID: method.ID, Description: in.Description, Prefix: prefix,
		SecretHash: hash, NumUsesLimit: in.NumUsesLimit, TTL: in.TTL, CreatedAt: now, UpdatedAt: now}
	if err := e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			return Internal("store client secret", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-identity-universal-auth-client-secret",
			Metadata: map[string]any{"identityId": method.IdentityID, "clientSecretId": row.ID}})
	}); err != nil {
		return nil, err
	}
	return &CreatedClientSecret{Secret: secret, Data: clientSecretFromRow(row)}, nil
}

// ListClientSecrets returns the live client secrets of an identity, newest
// first.
func (s *UniversalAuthService) ListClientSecrets(ctx context.Context, actor Actor, identityID string) ([]ClientSecret, error) {
	e := s.e
	method, err := e.uaAccess(ctx, actor, identityID, permission.ActionGetToken)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.Read().ListClientSecrets(ctx, method.ID)
	if err != nil {
		return nil, Internal("list client secrets", err)
	}
	out := make([]ClientSecret, len(rows))
	for i := range rows {
		out[i] = clientSecretFromRow(&rows[i])
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-universal-auth-client-secret", Metadata: map[string]any{"identityId": method.IdentityID}})
	return out, nil
}

// GetClientSecret returns one client secret of an identity.
func (s *UniversalAuthService) GetClientSecret(ctx context.Context, actor Actor, identityID, clientSecretID string) (*ClientSecret, error) {
	e := s.e
	method, err := e.uaAccess(ctx, actor, identityID, permission.ActionGetToken)
	if err != nil {
		return nil, err
	}
	row, err := e.store.Read().GetClientSecret(ctx, method.ID, strings.TrimSpace(clientSecretID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound(clientSecretNotFoundMessage, clientSecretID)
	}
	if err != nil {
		return nil, Internal("load client secret", err)
	}
	cs := clientSecretFromRow(row)
	e.auditRead(actor, AuditEvent{Type: "get-identity-universal-auth-client-secret-by-id",
		Metadata: map[string]any{"identityId": method.IdentityID, "clientSecretId": row.ID}})
	return &cs, nil
}

// RevokeClientSecret revokes a client secret. Tokens obtained with it stay
// valid (as upstream); revoke them separately if needed.
func (s *UniversalAuthService) RevokeClientSecret(ctx context.Context, actor Actor, identityID, clientSecretID string) (*ClientSecret, error) {
	e := s.e
	method, err := e.uaAccess(ctx, actor, identityID, permission.ActionDeleteToken)
	if err != nil {
		return nil, err
	}
	var out ClientSecret
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err := q.GetClientSecret(ctx, method.ID, strings.TrimSpace(clientSecretID))
		if errors.Is(err, store.ErrNotFound) {
			return NotFound(clientSecretNotFoundMessage, clientSecretID)
		}
		if err != nil {
			return Internal("load client secret", err)
		}
		now := e.now()
		if err := q.RevokeClientSecret(ctx, row.ID, now); err != nil {
			return Internal("revoke client secret", err)
		}
		row.IsRevoked, row.UpdatedAt = true, now
		out = clientSecretFromRow(row)
		return e.audit(ctx, q, actor, AuditEvent{Type: "revoke-identity-universal-auth-client-secret",
			Metadata: map[string]any{"identityId": method.IdentityID, "clientSecretId": row.ID}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ClearLockouts lifts every universal-auth lockout of an identity and
// returns how many counters were removed.
func (s *UniversalAuthService) ClearLockouts(ctx context.Context, actor Actor, identityID string) (int, error) {
	e := s.e
	_, ident, _, err := e.identityAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return 0, err
	}
	if _, err := e.methodRow(ctx, e.store.Read(), ident.ID, AuthMethodUniversal); err != nil {
		return 0, err
	}
	var n int
	err = e.store.Tx(ctx, func(q store.Q) error {
		var err error
		n, err = q.DeleteLockoutsWithPrefix(ctx, lockoutPrefix(ident.ID))
		if err != nil {
			return Internal("clear lockouts", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "clear-identity-universal-auth-lockouts", Metadata: map[string]any{"identityId": ident.ID}})
	})
	return n, err
}

// UniversalAuthLoginInput is the body of POST
// /api/v1/auth/universal-auth/login plus the caller's address.
type UniversalAuthLoginInput struct {
	ClientID         string
	ClientSecret     string
	OrganizationSlug string
	IP               string
	// UserAgent is the caller's User-Agent (recorded in the audit log).
	UserAgent string
}

// Login exchanges a client id and secret for an access token.
func (s *UniversalAuthService) Login(ctx context.Context, in UniversalAuthLoginInput) (*LoginResult, error) {
	e := s.e
	clientID := strings.TrimSpace(in.ClientID)
	secret := strings.TrimSpace(in.ClientSecret)
	if clientID == "" {
		return nil, Invalid("clientId", "clientId is required")
	}
	if secret == "" {
		return nil, Invalid("clientSecret", "clientSecret is required")
	}
	q := e.store.Read()
	method, err := q.GetAuthMethodByLookup(ctx, AuthMethodUniversal, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Unauthorized(invalidCredentials)
	}
	if err != nil {
		return nil, Internal("load universal auth", err)
	}
	cfg := decodeUAConfig(method.Config)
	if !authn.CompileIPs(cfg.ClientSecretTrustedIPs).Allows(in.IP) {
		return nil, Forbidden("Access denied: IP address %s is not in the trusted IPs of this client secret", in.IP)
	}
	key := lockoutPrefix(method.IdentityID) + clientID
	now := e.now()
	if cfg.LockoutEnabled {
		l, err := q.GetLockout(ctx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, Internal("load lockout", err)
		}
		if err == nil && l.LockedUntil != nil && now.Before(*l.LockedUntil) {
			return nil, Unauthorized(lockedOutMessage)
		}
	}
	var match *store.ClientSecret
	if prefix := authn.SecretPrefix(secret); prefix != "" {
		cands, err := q.ClientSecretCandidates(ctx, method.ID, prefix)
		if err != nil {
			return nil, Internal("load client secrets", err)
		}
		// Compare against every candidate so timing does not reveal which
		// one matched.
		for i := range cands {
			if authn.SecretMatches(secret, cands[i].SecretHash) && match == nil {
				match = &cands[i]
			}
		}
	}
	if match == nil {
		if cfg.LockoutEnabled {
			if err := e.recordLoginFailure(ctx, key, cfg, now); err != nil {
				e.log.Warn("could not record failed universal-auth login", "identityId", method.IdentityID, "err", err)
			}
		}
		return nil, Unauthorized(invalidCredentials)
	}

	var res *LoginResult
	var denied error
	err = e.store.Tx(ctx, func(q store.Q) error {
		cs, err := q.GetClientSecret(ctx, method.ID, match.ID)
		if errors.Is(err, store.ErrNotFound) {
			denied = Unauthorized(invalidCredentials)
			return nil
		}
		if err != nil {
			return Internal("load client secret", err)
		}
		if cs.IsRevoked {
			denied = Unauthorized(invalidCredentials)
			return nil
		}
		if cs.TTL > 0 && !now.Before(cs.CreatedAt.Add(time.Duration(cs.TTL)*time.Second)) {
			denied = Unauthorized(expiredClientSecretMessage)
			return q.RevokeClientSecret(ctx, cs.ID, now)
		}
		ok, err := q.UseClientSecret(ctx, cs.ID, now)
		if err != nil {
			return Internal("count client secret use", err)
		}
		if !ok {
			// The limit is reached: the secret is spent for good.
			denied = Unauthorized(clientSecretUsageMessage)
			return q.RevokeClientSecret(ctx, cs.ID, now)
		}
		if cfg.LockoutEnabled {
			if err := q.DeleteLockout(ctx, key); err != nil {
				return Internal("clear lockout", err)
			}
		}
		org, err := e.loginOrg(ctx, q, method.IdentityID, in.OrganizationSlug)
		if err != nil {
			return err
		}
		ident, err := q.GetIdentity(ctx, method.IdentityID)
		if err != nil {
			return Internal("load identity", err)
		}
		var tok *store.AccessToken
		res, tok, err = e.issueToken(ctx, q, TokenIssue{IdentityID: ident.ID, IdentityName: ident.Name, OrgID: org.OrgID,
			Method: method, ClientSecretID: cs.ID, IP: in.IP})
		if err != nil {
			return err
		}
		return e.audit(ctx, q, identityActor(ctx, ident.ID, ident.Name, org.OrgID, AuthMethodUniversal, in.IP, in.UserAgent),
			AuditEvent{Type: "login-identity-universal-auth", OrgID: org.OrgID, Metadata: map[string]any{"identityId": ident.ID,
				"clientSecretId": cs.ID, "identityAccessTokenId": tok.ID, "identityUniversalAuthId": method.ID}})
	})
	if err != nil {
		return nil, err
	}
	if denied != nil {
		return nil, denied
	}
	return res, nil
}

// recordLoginFailure counts a failed login under key and locks the method
// once the threshold is reached within the counter window. Counters live in
// the database so that every server process sees them.
func (e *Engine) recordLoginFailure(ctx context.Context, key string, cfg uaConfig, now time.Time) error {
	return e.store.Tx(ctx, func(q store.Q) error {
		l, err := q.LockForUpdate(ctx, key, now)
		if err != nil {
			return err
		}
		if l.LockedUntil != nil {
			if now.Before(*l.LockedUntil) {
				return nil
			}
			l.LockedUntil, l.Failures, l.WindowStart = nil, 0, now
		}
		if now.Sub(l.WindowStart) > time.Duration(cfg.LockoutCounterResetSeconds)*time.Second {
			l.Failures, l.WindowStart = 0, now
		}
		l.Failures++
		if l.Failures >= cfg.LockoutThreshold {
			until := now.Add(time.Duration(cfg.LockoutDurationSeconds) * time.Second)
			l.LockedUntil, l.Failures, l.WindowStart = &until, 0, now
		}
		return q.SaveLockout(ctx, l)
	})
}
