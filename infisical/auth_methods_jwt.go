package infisical

import (
	"context"
	"strings"

	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/jwks"
	"github.com/infisical-go/engine/authn/jwtauth"
)

// JWTAuthSettings configures JWT auth (§7.11): tokens verified with static
// public keys or a JWKS URL.
type JWTAuthSettings struct {
	// ConfigurationType is "jwks" or "static" (required on attach).
	ConfigurationType *string `json:"configurationType"`
	JWKSURL           *string `json:"jwksUrl"`
	// JWKSCACert (PEM) is trusted for the JWKS URL (stored encrypted).
	JWKSCACert *string `json:"jwksCaCert"`
	// PublicKeys are PEM public keys (stored encrypted).
	PublicKeys     *[]string          `json:"publicKeys"`
	BoundIssuer    *string            `json:"boundIssuer"`
	BoundAudiences *string            `json:"boundAudiences"`
	BoundClaims    *map[string]string `json:"boundClaims"`
	BoundSubject   *string            `json:"boundSubject"`
}

// AuthMethod names the method the settings belong to.
func (JWTAuthSettings) AuthMethod() string { return AuthMethodJWT }

// JWTAuthFields are the JWT-specific columns of identityJwtAuth.
type JWTAuthFields struct {
	ConfigurationType string            `json:"configurationType"`
	JWKSURL           string            `json:"jwksUrl"`
	JWKSCACert        string            `json:"jwksCaCert"`
	PublicKeys        []string          `json:"publicKeys"`
	BoundIssuer       string            `json:"boundIssuer"`
	BoundAudiences    string            `json:"boundAudiences"`
	BoundClaims       map[string]string `json:"boundClaims"`
	BoundSubject      string            `json:"boundSubject"`
}

// jwtAuthPublic is identityJwtAuth without key material (revoke response,
// as upstream).
type jwtAuthPublic struct {
	ConfigurationType string            `json:"configurationType"`
	JWKSURL           string            `json:"jwksUrl"`
	BoundIssuer       string            `json:"boundIssuer"`
	BoundAudiences    string            `json:"boundAudiences"`
	BoundClaims       map[string]string `json:"boundClaims"`
	BoundSubject      string            `json:"boundSubject"`
}

type jwtSecret struct {
	JWKSCACert string   `json:"jwksCaCert"`
	PublicKeys []string `json:"publicKeys"`
}

type jwtMethod struct{}

func (jwtMethod) name() string  { return AuthMethodJWT }
func (jwtMethod) label() string { return "JWT" }

func (jwtMethod) load(st *methodState) JWTAuthFields {
	f := decodeInto[JWTAuthFields](st.Config)
	sec := decodeInto[jwtSecret](st.Secret)
	f.JWKSCACert, f.PublicKeys = sec.JWKSCACert, sec.PublicKeys
	if f.PublicKeys == nil {
		f.PublicKeys = []string{}
	}
	if f.BoundClaims == nil {
		f.BoundClaims = map[string]string{}
	}
	return f
}

func (jwtMethod) save(st *methodState, f JWTAuthFields) {
	sec := jwtSecret{JWKSCACert: f.JWKSCACert, PublicKeys: f.PublicKeys}
	f.JWKSCACert, f.PublicKeys = "", nil
	st.Config, st.Secret = mustJSON(f), mustJSON(sec)
}

func (m jwtMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[JWTAuthSettings](in)
	if err != nil {
		return err
	}
	f := m.load(st)
	if attach {
		f = JWTAuthFields{PublicKeys: []string{}, BoundClaims: map[string]string{}}
	}
	if s.ConfigurationType != nil {
		f.ConfigurationType = strings.TrimSpace(*s.ConfigurationType)
	}
	if f.ConfigurationType != jwtauth.TypeJWKS && f.ConfigurationType != jwtauth.TypeStatic {
		return Invalid("configurationType", "configurationType must be \"jwks\" or \"static\"")
	}
	if s.JWKSURL != nil {
		f.JWKSURL = strings.TrimSpace(*s.JWKSURL)
	}
	if s.JWKSCACert != nil {
		ca := strings.TrimSpace(*s.JWKSCACert)
		if !fetch.ValidCA(ca) {
			return Invalid("jwksCaCert", "jwksCaCert must be a PEM certificate")
		}
		f.JWKSCACert = ca
	}
	if s.PublicKeys != nil {
		keys := make([]string, 0, len(*s.PublicKeys))
		for i, k := range *s.PublicKeys {
			k = strings.TrimSpace(k)
			if _, err := jwks.ParsePEM(k); err != nil {
				return Invalid("publicKeys", "publicKeys[%d] is not a PEM public key or certificate", i)
			}
			keys = append(keys, k)
		}
		f.PublicKeys = keys
	}
	switch f.ConfigurationType {
	case jwtauth.TypeJWKS:
		if err := validURL("jwksUrl", f.JWKSURL); err != nil {
			return err
		}
	case jwtauth.TypeStatic:
		if len(f.PublicKeys) == 0 {
			return Invalid("publicKeys", "publicKeys must contain at least one key when configurationType is \"static\"")
		}
	}
	if s.BoundIssuer != nil {
		f.BoundIssuer = strings.TrimSpace(*s.BoundIssuer)
	}
	if s.BoundAudiences != nil {
		f.BoundAudiences = normList(*s.BoundAudiences)
	}
	if s.BoundClaims != nil {
		if f.BoundClaims, err = claimMap("boundClaims", *s.BoundClaims); err != nil {
			return err
		}
	}
	if s.BoundSubject != nil {
		f.BoundSubject = strings.TrimSpace(*s.BoundSubject)
	}
	m.save(st, f)
	return nil
}

func (m jwtMethod) fields(st *methodState, op configOp) any {
	f := m.load(st)
	if op == opRevoke {
		return &jwtAuthPublic{ConfigurationType: f.ConfigurationType, JWKSURL: f.JWKSURL, BoundIssuer: f.BoundIssuer,
			BoundAudiences: f.BoundAudiences, BoundClaims: f.BoundClaims, BoundSubject: f.BoundSubject}
	}
	return &f
}

func (m jwtMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	f := m.load(st)
	if strings.TrimSpace(in.JWT) == "" {
		return nil, Invalid("jwt", "jwt is required")
	}
	v, err := jwtauth.New(jwtauth.Config{Type: f.ConfigurationType, JWKSURL: f.JWKSURL, JWKSCACert: f.JWKSCACert, PublicKeys: f.PublicKeys,
		BoundIssuer: f.BoundIssuer, BoundSubject: f.BoundSubject, BoundAudiences: splitList(f.BoundAudiences),
		BoundClaims: claimPatterns(f.BoundClaims), HTTPClient: env.httpClient(), Cache: env.cache, Clients: env.clients, Now: env.e.cfg.Now})
	if err != nil {
		return nil, BadRequest("Invalid JWT auth configuration: %s", err.Error())
	}
	p, err := v.Verify(ctx, in.JWT)
	if err != nil {
		return nil, err
	}
	return &loginProof{audit: map[string]any{"subject": p.Subject, "issuer": p.Issuer}}, nil
}
