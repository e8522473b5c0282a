// Package jwtauth verifies JWTs signed by a party that is not a full OIDC
// provider: against static public keys (PEM) or a JWKS URL, then checks
// issuer, subject, audiences and claims.
package jwtauth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/jwks"
	"github.com/infisical-go/engine/authn/jwtpolicy"
)

// Configuration types.
const (
	TypeJWKS   = "jwks"
	TypeStatic = "static"
)

// Config configures a verifier.
type Config struct {
	// Type is TypeJWKS (keys from JWKSURL) or TypeStatic (PublicKeys).
	Type string
	// JWKSURL is fetched for the key set; JWKSCACert (PEM) is trusted for it.
	JWKSURL    string
	JWKSCACert string
	// PublicKeys are PEM public keys or certificates; a token must verify
	// with one of them.
	PublicKeys []string
	// BoundIssuer, when set, must equal iss. BoundSubject, BoundAudiences
	// and BoundClaims are glob patterns (package jwtpolicy).
	BoundIssuer    string
	BoundSubject   string
	BoundAudiences []string
	BoundClaims    map[string][]string

	HTTPClient *http.Client
	Cache      *jwks.Cache
	// Clients reuses the HTTP clients derived for JWKSCACert (optional).
	Clients *fetch.ClientCache
	Now     func() time.Time
	Leeway  time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	switch c.Type {
	case TypeJWKS:
		u, err := url.Parse(strings.TrimSpace(c.JWKSURL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("jwtauth: jwksUrl must be an http(s) URL")
		}
		if !fetch.ValidCA(c.JWKSCACert) {
			return errors.New("jwtauth: jwksCaCert is not valid PEM")
		}
	case TypeStatic:
		if len(c.PublicKeys) == 0 {
			return errors.New("jwtauth: at least one public key is required")
		}
		for i, k := range c.PublicKeys {
			if _, err := jwks.ParsePEM(k); err != nil {
				return fmt.Errorf("jwtauth: public key #%d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("jwtauth: configuration type must be %q or %q", TypeJWKS, TypeStatic)
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
	Issuer  string
	Subject string
	All     jwks.Claims
}

// Verifier verifies tokens for one configuration.
type Verifier struct {
	cfg    Config
	keys   []crypto.PublicKey
	client *http.Client
}

// New validates cfg and returns a verifier.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg}
	for _, k := range cfg.PublicKeys {
		pub, _ := jwks.ParsePEM(k)
		v.keys = append(v.keys, pub)
	}
	if cfg.Type == TypeJWKS {
		c, err := cfg.Clients.WithCA(cfg.HTTPClient, cfg.JWKSCACert, false)
		if err != nil {
			return nil, err
		}
		v.client = c
	}
	return v, nil
}

// Verify checks a token and returns its principal. Refusals are
// *authn.LoginError.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if _, _, err := jwks.Header(token); err != nil {
		return Principal{}, err
	}
	o := jwks.Options{Now: v.cfg.Now, Leeway: v.cfg.Leeway}
	var claims jwks.Claims
	var err error
	if v.cfg.Type == TypeJWKS {
		set, ferr := v.cfg.Cache.Keys(ctx, v.client, v.cfg.JWKSURL, false)
		if ferr != nil {
			return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: Failed to fetch the JWKS from %s", v.cfg.JWKSURL).Wrap(ferr)
		}
		refetch := func() (*jwks.Set, error) { return v.cfg.Cache.Keys(ctx, v.client, v.cfg.JWKSURL, true) }
		claims, err = jwks.VerifySet(token, set, refetch, o)
	} else {
		claims, err = v.verifyStatic(token, o)
	}
	if err != nil {
		return Principal{}, err
	}
	if v.cfg.BoundIssuer != "" && claims.String("iss") != v.cfg.BoundIssuer {
		return Principal{}, authn.Forbid(authn.ReasonIssuer, "Access denied: issuer mismatch")
	}
	if _, err := (jwtpolicy.Policy{BoundSubject: v.cfg.BoundSubject, BoundAudiences: v.cfg.BoundAudiences,
		BoundClaims: v.cfg.BoundClaims, Dialect: jwtpolicy.DialectJWT}).Check(claims); err != nil {
		return Principal{}, err
	}
	return Principal{Issuer: claims.String("iss"), Subject: claims.String("sub"), All: claims}, nil
}

// verifyStatic tries every configured key; only signature mismatches move
// on to the next key.
func (v *Verifier) verifyStatic(token string, o jwks.Options) (jwks.Claims, error) {
	var msgs []string
	for _, k := range v.keys {
		c, err := jwks.Verify(token, k, o)
		if err == nil {
			return c, nil
		}
		if authn.ReasonOf(err) != authn.ReasonBadSignature {
			return nil, err
		}
		msgs = append(msgs, "invalid signature")
	}
	return nil, authn.Refuse(authn.ReasonBadSignature, "Access denied: JWT verification failed with all keys. Errors - %s", strings.Join(msgs, "; "))
}
