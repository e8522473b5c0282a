package infisical

import (
	"context"
	"net/url"
	"strings"

	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/oidc"
)

// OIDCAuthSettings configures OIDC auth (§7.10).
type OIDCAuthSettings struct {
	// OIDCDiscoveryURL and BoundIssuer are required on attach.
	OIDCDiscoveryURL *string `json:"oidcDiscoveryUrl"`
	// CACert (PEM, stored encrypted) is trusted for the provider.
	CACert      *string `json:"caCert"`
	BoundIssuer *string `json:"boundIssuer"`
	// BoundAudiences is a comma-separated list of patterns.
	BoundAudiences *string `json:"boundAudiences"`
	// BoundClaims maps a claim dot path to comma-separated patterns.
	BoundClaims *map[string]string `json:"boundClaims"`
	// ClaimMetadataMapping maps an alias to a claim dot path.
	ClaimMetadataMapping *map[string]string `json:"claimMetadataMapping"`
	// ClearClaimMetadataMapping removes the mapping ("claimMetadataMapping": null).
	ClearClaimMetadataMapping bool    `json:"-"`
	BoundSubject              *string `json:"boundSubject"`
}

// AuthMethod names the method the settings belong to.
func (OIDCAuthSettings) AuthMethod() string { return AuthMethodOIDC }

// OIDCAuthFields are the OIDC-specific columns of identityOidcAuth.
type OIDCAuthFields struct {
	OIDCDiscoveryURL     string            `json:"oidcDiscoveryUrl"`
	CACert               string            `json:"caCert"`
	BoundIssuer          string            `json:"boundIssuer"`
	BoundAudiences       string            `json:"boundAudiences"`
	BoundClaims          map[string]string `json:"boundClaims"`
	ClaimMetadataMapping map[string]string `json:"claimMetadataMapping"`
	BoundSubject         string            `json:"boundSubject"`
}

type caSecret struct {
	CACert string `json:"caCert"`
}

type oidcMethod struct{}

func (oidcMethod) name() string  { return AuthMethodOIDC }
func (oidcMethod) label() string { return "OIDC" }

func (oidcMethod) load(st *methodState) OIDCAuthFields {
	f := decodeInto[OIDCAuthFields](st.Config)
	f.CACert = decodeInto[caSecret](st.Secret).CACert
	if f.BoundClaims == nil {
		f.BoundClaims = map[string]string{}
	}
	return f
}

func (oidcMethod) save(st *methodState, f OIDCAuthFields) {
	sec := caSecret{CACert: f.CACert}
	f.CACert = ""
	st.Config, st.Secret = mustJSON(f), mustJSON(sec)
}

// validURL checks an http(s) URL setting.
func validURL(field, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Invalid(field, "%s must be an http(s) URL", field)
	}
	return nil
}

// claimMap trims a claims map and checks that keys and values are present.
func claimMap(field string, in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, Invalid(field, "%s keys must not be empty", field)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

func (m oidcMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[OIDCAuthSettings](in)
	if err != nil {
		return err
	}
	f := m.load(st)
	if attach {
		f = OIDCAuthFields{BoundClaims: map[string]string{}}
	}
	if s.OIDCDiscoveryURL != nil {
		f.OIDCDiscoveryURL = strings.TrimRight(strings.TrimSpace(*s.OIDCDiscoveryURL), "/")
	}
	if err := validURL("oidcDiscoveryUrl", f.OIDCDiscoveryURL); err != nil {
		return err
	}
	if s.CACert != nil {
		ca := strings.TrimSpace(*s.CACert)
		if !fetch.ValidCA(ca) {
			return Invalid("caCert", "caCert must be a PEM certificate")
		}
		f.CACert = ca
	}
	if s.BoundIssuer != nil {
		f.BoundIssuer = strings.TrimSpace(*s.BoundIssuer)
	}
	if f.BoundIssuer == "" {
		return Invalid("boundIssuer", "boundIssuer is required")
	}
	if s.BoundAudiences != nil {
		f.BoundAudiences = normList(*s.BoundAudiences)
	}
	if s.BoundClaims != nil {
		if f.BoundClaims, err = claimMap("boundClaims", *s.BoundClaims); err != nil {
			return err
		}
	}
	if s.ClearClaimMetadataMapping {
		f.ClaimMetadataMapping = nil
	} else if s.ClaimMetadataMapping != nil {
		if f.ClaimMetadataMapping, err = claimMap("claimMetadataMapping", *s.ClaimMetadataMapping); err != nil {
			return err
		}
	}
	if s.BoundSubject != nil {
		f.BoundSubject = strings.TrimSpace(*s.BoundSubject)
	}
	m.save(st, f)
	return nil
}

func (m oidcMethod) fields(st *methodState, _ configOp) any {
	f := m.load(st)
	return &f
}

// claimPatterns turns {path: "v1, v2"} into {path: [v1, v2]}.
func claimPatterns(in map[string]string) map[string][]string {
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = splitList(v)
	}
	return out
}

func (m oidcMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	f := m.load(st)
	if strings.TrimSpace(in.JWT) == "" {
		return nil, Invalid("jwt", "jwt is required")
	}
	v, err := oidc.New(oidc.Config{DiscoveryURL: f.OIDCDiscoveryURL, CACert: f.CACert, BoundIssuer: f.BoundIssuer,
		BoundSubject: f.BoundSubject, BoundAudiences: splitList(f.BoundAudiences), BoundClaims: claimPatterns(f.BoundClaims),
		ClaimMetadataMapping: f.ClaimMetadataMapping, HTTPClient: env.httpClient(), Cache: env.cache, Clients: env.clients, Now: env.e.cfg.Now})
	if err != nil {
		return nil, BadRequest("Invalid OIDC auth configuration: %s", err.Error())
	}
	p, err := v.Verify(ctx, in.JWT)
	if err != nil {
		return nil, err
	}
	return &loginProof{identityAuth: p.IdentityAuth(), audit: map[string]any{"subject": p.Subject, "issuer": p.Issuer}}, nil
}
