package infisical

import (
	"context"
	"strings"

	"github.com/infisical-go/engine/authn/gcp"
)

// GCPAuthSettings configures GCP auth (§7.7).
type GCPAuthSettings struct {
	// Type is "gce" (ID-token flow) or "iam" (IAM signJwt flow); required
	// on attach.
	Type                   *string `json:"type"`
	AllowedServiceAccounts *string `json:"allowedServiceAccounts"`
	AllowedProjects        *string `json:"allowedProjects"`
	AllowedZones           *string `json:"allowedZones"`
}

// AuthMethod names the method the settings belong to.
func (GCPAuthSettings) AuthMethod() string { return AuthMethodGCP }

// GCPAuthFields are the GCP-specific columns of identityGcpAuth.
type GCPAuthFields struct {
	Type                   string `json:"type"`
	AllowedServiceAccounts string `json:"allowedServiceAccounts"`
	AllowedProjects        string `json:"allowedProjects"`
	AllowedZones           string `json:"allowedZones"`
}

type gcpMethod struct{}

func (gcpMethod) name() string  { return AuthMethodGCP }
func (gcpMethod) label() string { return "GCP" }

func (gcpMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[GCPAuthSettings](in)
	if err != nil {
		return err
	}
	f := decodeInto[GCPAuthFields](st.Config)
	if attach {
		f = GCPAuthFields{}
		if s.Type == nil {
			return Invalid("type", "type is required: \"gce\" or \"iam\"")
		}
	}
	if s.Type != nil {
		t := strings.TrimSpace(*s.Type)
		if t != gcp.TypeGCE && t != gcp.TypeIAM {
			return Invalid("type", "type must be \"gce\" or \"iam\"")
		}
		f.Type = t
	}
	if s.AllowedServiceAccounts != nil {
		f.AllowedServiceAccounts = normList(*s.AllowedServiceAccounts)
	}
	if s.AllowedProjects != nil {
		f.AllowedProjects = normList(*s.AllowedProjects)
	}
	if s.AllowedZones != nil {
		f.AllowedZones = normList(*s.AllowedZones)
	}
	st.Config = mustJSON(f)
	return nil
}

func (gcpMethod) fields(st *methodState, _ configOp) any {
	f := decodeInto[GCPAuthFields](st.Config)
	return &f
}

func (gcpMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	f := decodeInto[GCPAuthFields](st.Config)
	if strings.TrimSpace(in.JWT) == "" {
		return nil, Invalid("jwt", "jwt is required")
	}
	v, err := gcp.New(gcp.Config{Type: f.Type, Audience: env.identityID, AllowedServiceAccounts: splitList(f.AllowedServiceAccounts),
		AllowedProjects: splitList(f.AllowedProjects), AllowedZones: splitList(f.AllowedZones),
		CertsURL: env.issuers.GoogleCertsURL, IAMMetadataURL: env.issuers.GoogleIAMMetadataURL,
		HTTPClient: env.httpClient(), Cache: env.cache, Now: env.e.cfg.Now})
	if err != nil {
		return nil, Internal("configure GCP verifier", err)
	}
	p, err := v.Verify(ctx, in.JWT)
	if err != nil {
		return nil, err
	}
	audit := map[string]any{"serviceAccount": p.ServiceAccount, "type": p.Type}
	if p.ProjectID != "" {
		audit["projectId"], audit["zone"] = p.ProjectID, p.Zone
	}
	return &loginProof{audit: audit}, nil
}
