// Package oidc verifies ID tokens of any OpenID Connect provider (GitHub
// Actions, GitLab CI, CircleCI, Kubernetes service-account issuers, ...):
// it reads the provider's discovery document, fetches its JWKS, verifies the
// signature, time claims and issuer, then checks subject, audiences and
// claims against glob patterns and maps claims to metadata.
//
//	v, err := oidc.New(oidc.Config{
//		DiscoveryURL: "https://token.actions.githubusercontent.com",
//		BoundIssuer:  "https://token.actions.githubusercontent.com",
//		BoundSubject: "repo:octo-org/app:ref:refs/heads/main",
//	})
//	p, err := v.Verify(ctx, idToken)
package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/jwks"
	"github.com/infisical-go/engine/authn/jwtpolicy"
)

// Config configures a verifier for one provider.
type Config struct {
	// DiscoveryURL is the issuer base URL; the verifier reads
	// <DiscoveryURL>/.well-known/openid-configuration. Required.
	DiscoveryURL string
	// CACert (PEM) is trusted for https calls to the provider instead of
	// the system roots.
	CACert string
	// BoundIssuer must equal the token's iss. Required.
	BoundIssuer string
	// BoundSubject, BoundAudiences and BoundClaims are glob patterns (see
	// package jwtpolicy); empty means not checked.
	BoundSubject   string
	BoundAudiences []string
	BoundClaims    map[string][]string
	// ClaimMetadataMapping copies claims (alias → dot path) into the
	// principal.
	ClaimMetadataMapping map[string]string

	// HTTPClient makes the calls (default: 10 s timeout).
	HTTPClient *http.Client
	// Cache keeps discovery documents and key sets between logins; share
	// one per process. nil = no caching beyond this verifier.
	Cache *jwks.Cache
	// Clients reuses the HTTP clients derived for CACert (optional).
	Clients *fetch.ClientCache
	// Now is the clock (default time.Now); Leeway tolerates clock skew.
	Now    func() time.Time
	Leeway time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	c.DiscoveryURL = strings.TrimRight(strings.TrimSpace(c.DiscoveryURL), "/")
	if c.DiscoveryURL == "" {
		return errors.New("oidc: discovery URL is required")
	}
	u, err := url.Parse(c.DiscoveryURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("oidc: discovery URL must be an http(s) URL")
	}
	if strings.TrimSpace(c.BoundIssuer) == "" {
		return errors.New("oidc: bound issuer is required")
	}
	if !fetch.ValidCA(c.CACert) {
		return errors.New("oidc: CA certificate is not valid PEM")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Cache == nil {
		c.Cache = jwks.NewCache(jwks.CacheConfig{Now: c.Now})
	}
	return nil
}

// Principal is what a verified token proves.
type Principal struct {
	Issuer   string
	Subject  string
	Audience any
	// Claims holds the mapped claims (alias → value).
	Claims map[string]string
	// All holds every claim of the token.
	All jwks.Claims
}

// IdentityAuth is the identityAuth claim of an Infisical access token
// minted for this principal: {"oidc": {"claims": {alias: value}}}.
func (p Principal) IdentityAuth() map[string]any {
	claims := map[string]any{}
	for k, v := range p.Claims {
		claims[k] = v
	}
	return map[string]any{"oidc": map[string]any{"claims": claims}}
}

// Verifier verifies tokens of one provider configuration.
type Verifier struct {
	cfg    Config
	client *http.Client
}

// New validates cfg and returns a verifier.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, err := cfg.Clients.WithCA(cfg.HTTPClient, cfg.CACert, false)
	if err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg, client: client}, nil
}

type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// Verify checks an ID token and returns its principal. Refusals are
// *authn.LoginError.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if _, _, err := jwks.Header(token); err != nil {
		return Principal{}, err
	}
	docURL := v.cfg.DiscoveryURL + "/.well-known/openid-configuration"
	d, err := v.cfg.Cache.Document(ctx, v.client, docURL, func(b []byte) (any, error) {
		var d discovery
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, err
		}
		return &d, nil
	})
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable,
			"Access denied: Failed to fetch OIDC discovery document from %s", v.cfg.DiscoveryURL).Wrap(err)
	}
	jwksURI := d.(*discovery).JWKSURI
	if jwksURI == "" {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable,
			"Access denied: OIDC discovery document does not contain a jwks_uri. The identity provider may be misconfigured.")
	}
	set, err := v.cfg.Cache.Keys(ctx, v.client, jwksURI, false)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable,
			"Access denied: Failed to retrieve signing keys from OIDC provider").Wrap(err)
	}
	refetch := func() (*jwks.Set, error) { return v.cfg.Cache.Keys(ctx, v.client, jwksURI, true) }
	claims, err := jwks.VerifySet(token, set, refetch, jwks.Options{Issuer: v.cfg.BoundIssuer, Now: v.cfg.Now, Leeway: v.cfg.Leeway})
	if err != nil {
		return Principal{}, err
	}
	mapped, err := jwtpolicy.Policy{BoundSubject: v.cfg.BoundSubject, BoundAudiences: v.cfg.BoundAudiences,
		BoundClaims: v.cfg.BoundClaims, ClaimMetadataMapping: v.cfg.ClaimMetadataMapping, Dialect: jwtpolicy.DialectOIDC}.Check(claims)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Issuer: claims.String("iss"), Subject: claims.String("sub"), Audience: claims["aud"], Claims: mapped, All: claims}, nil
}
