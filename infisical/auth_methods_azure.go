package infisical

import (
	"context"
	"strings"

	"github.com/infisical-go/engine/authn/azure"
)

// AzureAuthSettings configures Azure auth (§7.8).
type AzureAuthSettings struct {
	// TenantID and Resource are required on attach.
	TenantID                   *string `json:"tenantId"`
	Resource                   *string `json:"resource"`
	AllowedServicePrincipalIDs *string `json:"allowedServicePrincipalIds"`
}

// AuthMethod names the method the settings belong to.
func (AzureAuthSettings) AuthMethod() string { return AuthMethodAzure }

// AzureAuthFields are the Azure-specific columns of identityAzureAuth.
type AzureAuthFields struct {
	TenantID                   string `json:"tenantId"`
	Resource                   string `json:"resource"`
	AllowedServicePrincipalIDs string `json:"allowedServicePrincipalIds"`
}

type azureMethod struct{}

func (azureMethod) name() string  { return AuthMethodAzure }
func (azureMethod) label() string { return "Azure" }

func (azureMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[AzureAuthSettings](in)
	if err != nil {
		return err
	}
	f := decodeInto[AzureAuthFields](st.Config)
	if attach {
		f = AzureAuthFields{}
	}
	if s.TenantID != nil {
		f.TenantID = strings.TrimSpace(*s.TenantID)
	}
	if s.Resource != nil {
		f.Resource = strings.TrimSpace(*s.Resource)
	}
	if s.AllowedServicePrincipalIDs != nil {
		f.AllowedServicePrincipalIDs = normList(*s.AllowedServicePrincipalIDs)
	}
	if f.TenantID == "" {
		return Invalid("tenantId", "tenantId is required")
	}
	if strings.ContainsAny(f.TenantID, "/?#") {
		return Invalid("tenantId", "tenantId must not contain '/', '?' or '#'")
	}
	if f.Resource == "" {
		return Invalid("resource", "resource is required")
	}
	st.Config = mustJSON(f)
	return nil
}

func (azureMethod) fields(st *methodState, _ configOp) any {
	f := decodeInto[AzureAuthFields](st.Config)
	return &f
}

func (azureMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	f := decodeInto[AzureAuthFields](st.Config)
	if strings.TrimSpace(in.JWT) == "" {
		return nil, Invalid("jwt", "jwt is required")
	}
	v, err := azure.New(azure.Config{TenantID: f.TenantID, Resource: f.Resource, AllowedServicePrincipalIDs: splitList(f.AllowedServicePrincipalIDs),
		BaseURL: env.issuers.AzureBaseURL, HTTPClient: env.httpClient(), Cache: env.cache, Now: env.e.cfg.Now})
	if err != nil {
		return nil, Internal("configure Azure verifier", err)
	}
	p, err := v.Verify(ctx, in.JWT)
	if err != nil {
		return nil, err
	}
	return &loginProof{audit: map[string]any{"servicePrincipalId": p.ObjectID, "tenantId": p.TenantID}}, nil
}
