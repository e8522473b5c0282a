// Package gcp verifies Google Cloud workload credentials:
//
//   - TypeGCE (ID-token flow): a Google-signed RS256 ID token from the
//     metadata server (audience = the expected audience), checked against
//     Google's published certificates; service account, and for Compute
//     Engine instances project and zone, against allow-lists.
//   - TypeIAM (IAM signJwt flow): a JWT signed by the IAM Credentials API
//     for a service account (sub = its email), checked against that service
//     account's public x509 certificates.
//
// Both endpoints are configurable so that tests and air-gapped sites can
// point them at their own issuer.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/jwks"
)

// Login types.
const (
	TypeGCE = "gce"
	TypeIAM = "iam"
)

// Default Google endpoints.
const (
	DefaultCertsURL       = "https://www.googleapis.com/oauth2/v3/certs"
	DefaultIAMMetadataURL = "https://www.googleapis.com/service_accounts/v1/metadata/x509/"
	DefaultIssuer         = "https://accounts.google.com"
)

// Config configures a verifier.
type Config struct {
	// Type is TypeGCE or TypeIAM.
	Type string
	// Audience must equal the token's aud (Infisical: the identity id).
	Audience string
	// AllowedServiceAccounts, AllowedProjects and AllowedZones are checked
	// when non-empty (projects and zones only for GCE instance tokens).
	AllowedServiceAccounts []string
	AllowedProjects        []string
	AllowedZones           []string

	// CertsURL is Google's JWKS for ID tokens (default DefaultCertsURL).
	CertsURL string
	// IAMMetadataURL is the prefix to which a service account email is
	// appended to get its {kid: PEM} certificates (default
	// DefaultIAMMetadataURL).
	IAMMetadataURL string
	// Issuer of ID tokens (default DefaultIssuer; the short form
	// "accounts.google.com" is accepted too).
	Issuer string

	HTTPClient *http.Client
	Cache      *jwks.Cache
	Now        func() time.Time
	Leeway     time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Type != TypeGCE && c.Type != TypeIAM {
		return fmt.Errorf("gcp: type must be %q or %q", TypeGCE, TypeIAM)
	}
	if c.Audience == "" {
		return errors.New("gcp: audience is required")
	}
	if c.CertsURL == "" {
		c.CertsURL = DefaultCertsURL
	}
	if c.IAMMetadataURL == "" {
		c.IAMMetadataURL = DefaultIAMMetadataURL
	}
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	for _, u := range []string{c.CertsURL, c.IAMMetadataURL} {
		if p, err := url.Parse(u); err != nil || p.Host == "" {
			return fmt.Errorf("gcp: %q is not a URL", u)
		}
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
	Type           string
	ServiceAccount string // email
	Subject        string
	// Compute Engine instance details (ID-token flow, format=full).
	ProjectID    string
	Zone         string
	InstanceID   string
	InstanceName string
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

// saEmail is the shape of an IAM service-account email.
var saEmail = regexp.MustCompile(`^[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com$`)

// Verify checks a token and returns its principal. Refusals are
// *authn.LoginError.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if v.cfg.Type == TypeIAM {
		return v.verifyIAM(ctx, token)
	}
	return v.verifyGCE(ctx, token)
}

func (v *Verifier) checkAudience(c jwks.Claims) error {
	if !audienceIs(c["aud"], v.cfg.Audience) {
		return authn.Refuse(authn.ReasonAudience, "Access denied: GCP token audience mismatch")
	}
	return nil
}

func audienceIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, e := range a {
			if s, _ := e.(string); s == want {
				return true
			}
		}
	}
	return false
}

func (v *Verifier) verifyGCE(ctx context.Context, token string) (Principal, error) {
	if _, _, err := jwks.Header(token); err != nil {
		return Principal{}, err
	}
	client := fetch.Default(v.cfg.HTTPClient)
	set, err := v.cfg.Cache.Keys(ctx, client, v.cfg.CertsURL, false)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: could not fetch Google's signing certificates").Wrap(err)
	}
	refetch := func() (*jwks.Set, error) { return v.cfg.Cache.Keys(ctx, client, v.cfg.CertsURL, true) }
	c, err := jwks.VerifySet(token, set, refetch, jwks.Options{Algorithms: []string{"RS256"}, RequireExp: true, Now: v.cfg.Now, Leeway: v.cfg.Leeway})
	if err != nil {
		return Principal{}, err
	}
	if iss := c.String("iss"); iss != v.cfg.Issuer && !(v.cfg.Issuer == DefaultIssuer && iss == "accounts.google.com") {
		return Principal{}, authn.Refuse(authn.ReasonIssuer, "Access denied: GCP token issuer mismatch")
	}
	if err := v.checkAudience(c); err != nil {
		return Principal{}, err
	}
	p := Principal{Type: TypeGCE, ServiceAccount: c.String("email"), Subject: c.String("sub")}
	if p.ServiceAccount == "" {
		return Principal{}, authn.Refuse(authn.ReasonMalformed, "Access denied: GCP ID token has no email")
	}
	if len(v.cfg.AllowedServiceAccounts) > 0 && !slices.Contains(v.cfg.AllowedServiceAccounts, p.ServiceAccount) {
		return Principal{}, authn.Refuse(authn.ReasonPrincipal, "Access denied: GCP service account not allowed.")
	}
	if g, ok := c["google"].(map[string]any); ok {
		if ce, ok := g["compute_engine"].(map[string]any); ok {
			p.ProjectID, _ = ce["project_id"].(string)
			p.Zone, _ = ce["zone"].(string)
			p.InstanceID, _ = ce["instance_id"].(string)
			p.InstanceName, _ = ce["instance_name"].(string)
			if len(v.cfg.AllowedProjects) > 0 && !slices.Contains(v.cfg.AllowedProjects, p.ProjectID) {
				return Principal{}, authn.Refuse(authn.ReasonAccount, "Access denied: GCP project not allowed.")
			}
			if len(v.cfg.AllowedZones) > 0 && !slices.Contains(v.cfg.AllowedZones, p.Zone) {
				return Principal{}, authn.Refuse(authn.ReasonZone, "Access denied: GCP zone not allowed.")
			}
		}
	}
	return p, nil
}

func (v *Verifier) verifyIAM(ctx context.Context, token string) (Principal, error) {
	kid, _, err := jwks.Header(token)
	if err != nil {
		return Principal{}, err
	}
	unverified, err := jwks.Unverified(token)
	if err != nil {
		return Principal{}, err
	}
	sub := unverified.String("sub")
	if !saEmail.MatchString(sub) {
		return Principal{}, authn.Refuse(authn.ReasonMalformed, "Access denied: invalid GCP service account in token subject")
	}
	if kid == "" {
		return Principal{}, authn.Refuse(authn.ReasonMalformed, "Access denied: GCP IAM token has no kid")
	}
	client := fetch.Default(v.cfg.HTTPClient)
	certsURL := v.cfg.IAMMetadataURL + url.PathEscape(sub)
	set, err := v.cfg.Cache.CertMap(ctx, client, certsURL, false)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: could not fetch the certificates of the GCP service account").Wrap(err)
	}
	refetch := func() (*jwks.Set, error) { return v.cfg.Cache.CertMap(ctx, client, certsURL, true) }
	// The IAM signJwt payload the clients send has no exp; it is checked
	// only when present.
	c, err := jwks.VerifySet(token, set, refetch, jwks.Options{Algorithms: []string{"RS256"}, Now: v.cfg.Now, Leeway: v.cfg.Leeway})
	if err != nil {
		return Principal{}, err
	}
	if err := v.checkAudience(c); err != nil {
		return Principal{}, err
	}
	if len(v.cfg.AllowedServiceAccounts) > 0 && !slices.Contains(v.cfg.AllowedServiceAccounts, sub) {
		return Principal{}, authn.Refuse(authn.ReasonPrincipal, "Access denied: GCP service account not allowed.")
	}
	return Principal{Type: TypeIAM, ServiceAccount: sub, Subject: sub}, nil
}
