// Package azure verifies Azure managed-identity access tokens (Entra ID
// JWTs obtained from the instance metadata service): signature with the
// tenant's published keys (x5c certificates), issuer, tenant, audience
// (resource) and the service principal (oid) against an allow-list.
package azure

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/jwks"
)

// Defaults of the Entra ID endpoints.
const (
	DefaultBaseURL = "https://login.microsoftonline.com"
	// DefaultIssuer is the issuer of v1 managed-identity tokens; "{tenant}"
	// is replaced by the tenant id.
	DefaultIssuer = "https://sts.windows.net/{tenant}/"
)

// Config configures a verifier.
type Config struct {
	// TenantID is the Entra ID tenant (directory) id. Required.
	TenantID string
	// Resource is the expected audience, e.g. https://management.azure.com/.
	Resource string
	// AllowedServicePrincipalIDs, when non-empty, must contain the token's
	// oid.
	AllowedServicePrincipalIDs []string

	// BaseURL serves <BaseURL>/<tenant>/discovery/keys (default
	// DefaultBaseURL).
	BaseURL string
	// Issuer is the expected iss ("{tenant}" replaced; default
	// DefaultIssuer).
	Issuer string

	HTTPClient *http.Client
	Cache      *jwks.Cache
	Now        func() time.Time
	Leeway     time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.TenantID) == "" {
		return errors.New("azure: tenant id is required")
	}
	if strings.ContainsAny(c.TenantID, "/?#") {
		return errors.New("azure: tenant id must not contain '/', '?' or '#'")
	}
	if strings.TrimSpace(c.Resource) == "" {
		return errors.New("azure: resource is required")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" {
		return errors.New("azure: base URL is not a URL")
	}
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Cache == nil {
		c.Cache = jwks.NewCache(jwks.CacheConfig{Now: c.Now})
	}
	return nil
}

// KeysURL is where the tenant's signing keys are read.
func (c *Config) KeysURL() string {
	return c.BaseURL + "/" + url.PathEscape(c.TenantID) + "/discovery/keys"
}

// Principal is what a verified token proves.
type Principal struct {
	ObjectID string // oid: the service principal of the managed identity
	TenantID string
	AppID    string
	Subject  string
}

// Verifier verifies tokens for one configuration.
type Verifier struct{ cfg Config }

// New validates cfg and returns a verifier.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg}, nil
}

// Verify checks a token and returns its principal. Refusals are
// *authn.LoginError.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	kid, _, err := jwks.Header(token)
	if err != nil {
		return Principal{}, err
	}
	client := fetch.Default(v.cfg.HTTPClient)
	keysURL := v.cfg.KeysURL()
	set, err := v.cfg.Cache.Keys(ctx, client, keysURL, false)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: could not fetch the Azure signing keys").Wrap(err)
	}
	key, ok := set.Lookup(kid)
	if !ok {
		if fresh, err := v.cfg.Cache.Keys(ctx, client, keysURL, true); err == nil {
			key, ok = fresh.Lookup(kid)
		}
	}
	if !ok || kid == "" {
		return Principal{}, authn.Refuse(authn.ReasonUnknownKey, "Invalid signing key")
	}
	issuer := strings.ReplaceAll(v.cfg.Issuer, "{tenant}", v.cfg.TenantID)
	c, err := jwks.Verify(token, key.Public, jwks.Options{Algorithms: []string{"RS256"}, RequireExp: true, Issuer: issuer, Now: v.cfg.Now, Leeway: v.cfg.Leeway})
	if err != nil {
		return Principal{}, err
	}
	if !audienceMatches(c["aud"], v.cfg.Resource) {
		return Principal{}, authn.Refuse(authn.ReasonAudience, "Access denied: Azure token audience mismatch")
	}
	if c.String("tid") != v.cfg.TenantID {
		return Principal{}, authn.Refuse(authn.ReasonAccount, "Tenant ID mismatch")
	}
	p := Principal{ObjectID: c.String("oid"), TenantID: c.String("tid"), AppID: firstNonEmpty(c.String("appid"), c.String("azp")), Subject: c.String("sub")}
	if len(v.cfg.AllowedServicePrincipalIDs) > 0 && !slices.Contains(v.cfg.AllowedServicePrincipalIDs, p.ObjectID) {
		return Principal{}, authn.Refuse(authn.ReasonPrincipal, "Access denied: Azure service principal not allowed.")
	}
	return p, nil
}

// audienceMatches compares aud with the configured resource; a token whose
// aud lacks the trailing '/' of the resource still matches (IMDS drops it).
func audienceMatches(aud any, resource string) bool {
	ok := func(a string) bool {
		return a == resource || (strings.HasSuffix(resource, "/") && !strings.HasSuffix(a, "/") && a == strings.TrimSuffix(resource, "/"))
	}
	switch x := aud.(type) {
	case string:
		return ok(x)
	case []any:
		for _, e := range x {
			if s, _ := e.(string); ok(s) {
				return true
			}
		}
	}
	return false
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
