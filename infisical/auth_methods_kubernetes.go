package infisical

import (
	"context"
	"regexp"
	"strings"

	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/kubernetes"
)

// KubernetesAuthSettings configures Kubernetes auth (§7.9).
type KubernetesAuthSettings struct {
	// KubernetesHost is the API server (URL, host or host:port).
	KubernetesHost *string `json:"kubernetesHost"`
	// CACert is the PEM CA of the API server (stored encrypted).
	CACert *string `json:"caCert"`
	// TokenReviewerJWT authenticates TokenReview calls (stored encrypted);
	// without one, the presented token reviews itself.
	TokenReviewerJWT *string `json:"tokenReviewerJwt"`
	// ClearTokenReviewerJWT removes the stored reviewer token
	// ("tokenReviewerJwt": null).
	ClearTokenReviewerJWT bool `json:"-"`
	// TokenReviewMode is "api" (default); "gateway" is not supported.
	TokenReviewMode   *string `json:"tokenReviewMode"`
	AllowedNamespaces *string `json:"allowedNamespaces"`
	AllowedNames      *string `json:"allowedNames"`
	AllowedAudience   *string `json:"allowedAudience"`
	GatewayID         *string `json:"gatewayId"`
}

// AuthMethod names the method the settings belong to.
func (KubernetesAuthSettings) AuthMethod() string { return AuthMethodKubernetes }

// KubernetesAuthFields are the Kubernetes-specific columns of
// identityKubernetesAuth (caCert and tokenReviewerJwt decrypted).
type KubernetesAuthFields struct {
	KubernetesHost    *string `json:"kubernetesHost"`
	CACert            string  `json:"caCert"`
	TokenReviewerJWT  *string `json:"tokenReviewerJwt"`
	TokenReviewMode   string  `json:"tokenReviewMode"`
	AllowedNamespaces string  `json:"allowedNamespaces"`
	AllowedNames      string  `json:"allowedNames"`
	AllowedAudience   string  `json:"allowedAudience"`
	GatewayID         *string `json:"gatewayId"`
}

type k8sSecret struct {
	CACert           string  `json:"caCert"`
	TokenReviewerJWT *string `json:"tokenReviewerJwt"`
}

var k8sHostChars = regexp.MustCompile(`^[A-Za-z0-9:./-]+$`)

type kubernetesMethod struct{}

func (kubernetesMethod) name() string  { return AuthMethodKubernetes }
func (kubernetesMethod) label() string { return "Kubernetes" }

func (kubernetesMethod) load(st *methodState) KubernetesAuthFields {
	f := decodeInto[KubernetesAuthFields](st.Config)
	sec := decodeInto[k8sSecret](st.Secret)
	f.CACert, f.TokenReviewerJWT = sec.CACert, sec.TokenReviewerJWT
	return f
}

func (kubernetesMethod) save(st *methodState, f KubernetesAuthFields) {
	sec := k8sSecret{CACert: f.CACert, TokenReviewerJWT: f.TokenReviewerJWT}
	f.CACert, f.TokenReviewerJWT = "", nil
	st.Config, st.Secret = mustJSON(f), mustJSON(sec)
}

func (m kubernetesMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[KubernetesAuthSettings](in)
	if err != nil {
		return err
	}
	f := m.load(st)
	if attach {
		f = KubernetesAuthFields{TokenReviewMode: "api"}
	}
	if s.KubernetesHost != nil {
		h := strings.TrimSpace(*s.KubernetesHost)
		if h == "" {
			f.KubernetesHost = nil
		} else {
			if !k8sHostChars.MatchString(h) {
				return Invalid("kubernetesHost", "kubernetesHost may contain only letters, digits, ':', '.', '/' and '-'")
			}
			f.KubernetesHost = &h
		}
	}
	if s.CACert != nil {
		ca := strings.TrimSpace(*s.CACert)
		if !fetch.ValidCA(ca) {
			return Invalid("caCert", "caCert must be a PEM certificate")
		}
		f.CACert = ca
	}
	if s.ClearTokenReviewerJWT {
		f.TokenReviewerJWT = nil
	} else if s.TokenReviewerJWT != nil {
		if t := strings.TrimSpace(*s.TokenReviewerJWT); t == "" {
			f.TokenReviewerJWT = nil
		} else {
			f.TokenReviewerJWT = &t
		}
	}
	if s.TokenReviewMode != nil {
		mode := strings.TrimSpace(*s.TokenReviewMode)
		switch mode {
		case "", "api":
			f.TokenReviewMode = "api"
		case "gateway":
			return Invalid("tokenReviewMode", "tokenReviewMode \"gateway\" is not supported by this server; use \"api\"")
		default:
			return Invalid("tokenReviewMode", "tokenReviewMode must be \"api\" or \"gateway\"")
		}
	}
	if s.AllowedNamespaces != nil {
		f.AllowedNamespaces = normList(*s.AllowedNamespaces)
	}
	if s.AllowedNames != nil {
		f.AllowedNames = normList(*s.AllowedNames)
	}
	if s.AllowedAudience != nil {
		f.AllowedAudience = strings.TrimSpace(*s.AllowedAudience)
	}
	if s.GatewayID != nil {
		if g := strings.TrimSpace(*s.GatewayID); g != "" {
			return Invalid("gatewayId", "gateways are not supported by this server")
		}
		f.GatewayID = nil
	}
	if f.KubernetesHost == nil {
		return Invalid("kubernetesHost", "kubernetesHost is required when tokenReviewMode is \"api\"")
	}
	m.save(st, f)
	return nil
}

func (m kubernetesMethod) fields(st *methodState, _ configOp) any {
	f := m.load(st)
	return &f
}

func (m kubernetesMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	f := m.load(st)
	if strings.TrimSpace(in.JWT) == "" {
		return nil, Invalid("jwt", "jwt is required")
	}
	if f.KubernetesHost == nil {
		return nil, BadRequest("Kubernetes host is not configured")
	}
	reviewer := ""
	if f.TokenReviewerJWT != nil {
		reviewer = *f.TokenReviewerJWT
	}
	v, err := kubernetes.New(kubernetes.Config{Host: *f.KubernetesHost, CACert: f.CACert, ReviewerJWT: reviewer,
		AllowedNamespaces: splitList(f.AllowedNamespaces), AllowedNames: splitList(f.AllowedNames), AllowedAudience: f.AllowedAudience,
		HTTPClient: env.httpClient(), Clients: env.clients})
	if err != nil {
		return nil, BadRequest("Invalid Kubernetes auth configuration: %s", err.Error())
	}
	p, err := v.Verify(ctx, in.JWT)
	if err != nil {
		return nil, err
	}
	return &loginProof{identityAuth: p.IdentityAuth(), audit: map[string]any{"namespace": p.Namespace, "serviceAccountName": p.Name}}, nil
}
