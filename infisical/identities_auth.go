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

// Auth method identifiers (authMethods[], the authMethod claim,
// lastLoginAuthMethod).
const (
	AuthMethodUniversal = "universal-auth"
	AuthMethodToken     = "token-auth"
)

// authMethodLabels name methods in messages, as Infisical does.
var authMethodLabels = map[string]string{
	AuthMethodUniversal: "Universal Auth",
	AuthMethodToken:     "Token Auth",
}

func methodLabel(method string) string {
	if l, ok := authMethodLabels[method]; ok {
		return l
	}
	return method
}

// Bounds and defaults of the access-token settings every auth method has.
const (
	DefaultAccessTokenTTL = 2592000   // 30 days
	MaxAccessTokenTTL     = 315360000 // 10 years
)

// TokenSettings are the access-token settings common to every auth method.
// On attach, nil fields take the defaults; on update, nil fields are left
// unchanged.
type TokenSettings struct {
	AccessTokenTTL          *int64
	AccessTokenMaxTTL       *int64
	AccessTokenNumUsesLimit *int64
	AccessTokenPeriod       *int64
	// AccessTokenTrustedIPs are IPs or CIDRs ("0.0.0.0/0" and "::/0" mean
	// any). nil = default (any) or unchanged.
	AccessTokenTrustedIPs []string
}

// AuthMethodConfig is the part of an auth method configuration common to
// every method.
type AuthMethodConfig struct {
	ID                      string
	IdentityID              string
	AccessTokenTTL          int64
	AccessTokenMaxTTL       int64
	AccessTokenNumUsesLimit int64
	AccessTokenPeriod       int64
	AccessTokenTrustedIPs   []authn.TrustedIP
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

func authMethodConfigFromRow(r *store.AuthMethod) AuthMethodConfig {
	return AuthMethodConfig{ID: r.ID, IdentityID: r.IdentityID, AccessTokenTTL: r.AccessTokenTTL, AccessTokenMaxTTL: r.AccessTokenMax,
		AccessTokenNumUsesLimit: r.NumUsesLimit, AccessTokenPeriod: r.Period, AccessTokenTrustedIPs: decodeTrustedIPs(r.TrustedIPs),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func decodeTrustedIPs(s string) []authn.TrustedIP {
	var ips []authn.TrustedIP
	if s != "" {
		_ = json.Unmarshal([]byte(s), &ips)
	}
	if ips == nil {
		ips = []authn.TrustedIP{}
	}
	return ips
}

func encodeTrustedIPs(ips []authn.TrustedIP) string {
	b, _ := json.Marshal(ips)
	return string(b)
}

// parseTrustedIPs validates a trusted-IP list of a request; the error names
// the field and the entry.
func parseTrustedIPs(field string, entries []string) ([]authn.TrustedIP, error) {
	if len(entries) == 0 {
		return nil, Invalid(field, "%s must contain at least one IP address or CIDR range", field)
	}
	ips, err := authn.ParseTrustedIPs(entries)
	if err != nil {
		return nil, Invalid(field, "%s: %v", field, err)
	}
	return ips, nil
}

func checkSeconds(field string, v int64, max int64) error {
	if v < 0 || v > max {
		return Invalid(field, "%s must be between 0 and %d", field, max)
	}
	return nil
}

// applyTokenSettings validates in and writes it onto row. attach selects
// defaults for absent fields.
func applyTokenSettings(row *store.AuthMethod, in TokenSettings, attach bool) error {
	if attach {
		row.AccessTokenTTL, row.AccessTokenMax = DefaultAccessTokenTTL, DefaultAccessTokenTTL
		row.TrustedIPs = encodeTrustedIPs(authn.AnyIP())
	}
	if in.AccessTokenTTL != nil {
		if err := checkSeconds("accessTokenTTL", *in.AccessTokenTTL, MaxAccessTokenTTL); err != nil {
			return err
		}
		row.AccessTokenTTL = *in.AccessTokenTTL
	}
	if in.AccessTokenMaxTTL != nil {
		if err := checkSeconds("accessTokenMaxTTL", *in.AccessTokenMaxTTL, MaxAccessTokenTTL); err != nil {
			return err
		}
		row.AccessTokenMax = *in.AccessTokenMaxTTL
	}
	if in.AccessTokenNumUsesLimit != nil {
		if *in.AccessTokenNumUsesLimit < 0 {
			return Invalid("accessTokenNumUsesLimit", "accessTokenNumUsesLimit must be ≥ 0")
		}
		row.NumUsesLimit = *in.AccessTokenNumUsesLimit
	}
	if in.AccessTokenPeriod != nil {
		if err := checkSeconds("accessTokenPeriod", *in.AccessTokenPeriod, MaxAccessTokenTTL); err != nil {
			return err
		}
		row.Period = *in.AccessTokenPeriod
	}
	if in.AccessTokenTrustedIPs != nil {
		ips, err := parseTrustedIPs("accessTokenTrustedIps", in.AccessTokenTrustedIPs)
		if err != nil {
			return err
		}
		row.TrustedIPs = encodeTrustedIPs(ips)
	}
	// On update the pair is compared only when both are sent, as upstream;
	// on attach the defaults make it always meaningful.
	both := attach || (in.AccessTokenTTL != nil && in.AccessTokenMaxTTL != nil)
	if both && row.AccessTokenMax > 0 && row.AccessTokenTTL > row.AccessTokenMax {
		return Invalid("accessTokenTTL", "Access Token TTL cannot be greater than Access Token Max TTL.")
	}
	return nil
}

// lockoutPrefix is the prefix of every lockout counter of an identity.
func lockoutPrefix(identityID string) string { return "ua:" + identityID + ":" }

// authConfigAccess loads an identity of the caller's organization for an
// auth-method operation and checks the org identity permission.
func (e *Engine) authConfigAccess(ctx context.Context, actor Actor, identityID, action string) (*store.IdentityOrgMembership, *store.Identity, error) {
	m, ident, _, err := e.identityAccess(ctx, actor, identityID, action)
	return m, ident, err
}

// methodRow loads the configuration of method for an identity; absent ⇒
// 404.
func (e *Engine) methodRow(ctx context.Context, q store.Q, identityID, method string) (*store.AuthMethod, error) {
	row, err := q.GetAuthMethod(ctx, identityID, method)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("The identity does not have %s configured", methodLabel(method))
	}
	if err != nil {
		return nil, Internal("load auth method", err)
	}
	return row, nil
}

// insertAuthMethod stores a new configuration inside q. An identity holds
// each method at most once.
func (e *Engine) insertAuthMethod(ctx context.Context, q store.Q, row *store.AuthMethod) error {
	now := e.now()
	row.ID = uuid.NewString()
	row.CreatedAt, row.UpdatedAt = now, now
	if err := q.Insert(ctx, row); err != nil {
		if isDuplicate(err) {
			return BadRequest("Failed to add %s to already configured identity", methodLabel(row.Method))
		}
		return Internal("store auth method", err)
	}
	return nil
}

// attachMethod configures method on an identity of the caller's org.
func (e *Engine) attachMethod(ctx context.Context, actor Actor, identityID string, row *store.AuthMethod, in TokenSettings) error {
	_, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return err
	}
	if err := applyTokenSettings(row, in, true); err != nil {
		return err
	}
	row.IdentityID = ident.ID
	return e.store.Tx(ctx, func(q store.Q) error {
		if err := e.insertAuthMethod(ctx, q, row); err != nil {
			return err
		}
		return e.auditMethodTx(ctx, q, actor, row)
	})
}

// getMethod returns the configuration of method on an identity of the
// caller's org.
func (e *Engine) getMethod(ctx context.Context, actor Actor, identityID, method string) (*store.AuthMethod, error) {
	_, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	return e.methodRow(ctx, e.store.Read(), ident.ID, method)
}

// updateMethod applies token settings and a method-specific change (mod,
// may be nil) in one transaction. Tokens already issued keep the settings
// they were issued with.
func (e *Engine) updateMethod(ctx context.Context, actor Actor, identityID, method string, in TokenSettings, mod func(row *store.AuthMethod) error) (*store.AuthMethod, error) {
	_, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	var row *store.AuthMethod
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err = e.methodRow(ctx, q, ident.ID, method)
		if err != nil {
			return err
		}
		if err := applyTokenSettings(row, in, false); err != nil {
			return err
		}
		if mod != nil {
			if err := mod(row); err != nil {
				return err
			}
		}
		row.UpdatedAt = e.now()
		if err := q.Update(ctx, row); err != nil {
			return Internal("update auth method", err)
		}
		return e.auditMethodTx(ctx, q, actor, row)
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// revokeMethod removes a configuration (client secrets cascade) and revokes
// every token issued through it.
func (e *Engine) revokeMethod(ctx context.Context, actor Actor, identityID, method string) (*store.AuthMethod, error) {
	_, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionRevokeAuth)
	if err != nil {
		return nil, err
	}
	var row *store.AuthMethod
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err = e.methodRow(ctx, q, ident.ID, method)
		if err != nil {
			return err
		}
		if err := e.revokeMethodTokens(ctx, q, row.ID); err != nil {
			return Internal("revoke auth method tokens", err)
		}
		if method == AuthMethodUniversal {
			if _, err := q.DeleteLockoutsWithPrefix(ctx, lockoutPrefix(ident.ID)); err != nil {
				return Internal("delete lockouts", err)
			}
		}
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete auth method", err)
		}
		return e.auditMethodTx(ctx, q, actor, row)
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// loginOrg decides the organization a login is scoped to. An empty slug or
// the identity's own organization's slug keep the home organization;
// another slug must name an organization the identity belongs to (404
// unknown, 401 not a member).
func (e *Engine) loginOrg(ctx context.Context, q store.Q, identityID, slug string) (*store.IdentityOrgMembership, error) {
	all, err := q.IdentityOrgMembershipsOf(ctx, identityID)
	if err != nil {
		return nil, Internal("load identity memberships", err)
	}
	if len(all) == 0 {
		return nil, Unauthorized("Identity does not belong to any organization")
	}
	home := &all[0]
	slug = strings.TrimSpace(slug)
	if slug == "" {
		return home, nil
	}
	org, err := q.GetOrgBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Organization with slug '%s' not found", slug)
	}
	if err != nil {
		return nil, Internal("load organization", err)
	}
	for i := range all {
		if all[i].OrgID == org.ID {
			return &all[i], nil
		}
	}
	return nil, Unauthorized("Identity not authorized to access organization '%s'", slug)
}

// AccessToken is an identity access token row (never the JWT itself).
type AccessToken struct {
	ID                      string
	IdentityID              string
	OrgID                   string
	Name                    *string
	AuthMethod              string
	AccessTokenTTL          int64
	AccessTokenMaxTTL       int64
	AccessTokenNumUses      int64
	AccessTokenNumUsesLimit int64
	AccessTokenPeriod       int64
	AccessTokenLastUsedAt   *time.Time
	AccessTokenLastRenewed  *time.Time
	IsAccessTokenRevoked    bool
	ClientSecretID          *string
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

func accessTokenFromRow(r *store.AccessToken) AccessToken {
	return AccessToken{ID: r.ID, IdentityID: r.IdentityID, OrgID: r.OrgID, Name: r.Name, AuthMethod: r.AuthMethod,
		AccessTokenTTL: r.TTL, AccessTokenMaxTTL: r.MaxTTL, AccessTokenNumUses: r.NumUses, AccessTokenNumUsesLimit: r.NumUsesLimit,
		AccessTokenPeriod: r.Period, AccessTokenLastUsedAt: r.LastUsedAt, AccessTokenLastRenewed: r.LastRenewedAt,
		IsAccessTokenRevoked: r.IsRevoked, ClientSecretID: r.ClientSecretID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
