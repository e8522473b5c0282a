package api

import (
	"encoding/json"
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerExternalKMSRoutes) }

// externalKMSInfo is the "external" part of Infisical's sanitized external
// KMS.
type externalKMSInfo struct {
	ID            string                 `json:"id"`
	Status        string                 `json:"status"`
	StatusDetails *string                `json:"statusDetails"`
	Provider      string                 `json:"provider"`
	ProviderInput *infisical.AWSKMSInput `json:"providerInput,omitempty"`
}

// externalKMSBody is KmsKeysSchema extended with external.
type externalKMSBody struct {
	ID          string          `json:"id"`
	Description *string         `json:"description"`
	IsDisabled  bool            `json:"isDisabled"`
	IsReserved  bool            `json:"isReserved"`
	OrgID       string          `json:"orgId"`
	Name        string          `json:"name"`
	Slug        string          `json:"slug"`
	ProjectID   *string         `json:"projectId"`
	CreatedAt   isoTime         `json:"createdAt"`
	UpdatedAt   isoTime         `json:"updatedAt"`
	External    externalKMSInfo `json:"external"`
}

func toExternalKMS(k *infisical.ExternalKMS) externalKMSBody {
	return externalKMSBody{ID: k.ID, Description: k.Description, IsDisabled: k.IsDisabled, OrgID: k.OrgID, Name: k.Name, Slug: k.Name,
		CreatedAt: ts(k.CreatedAt), UpdatedAt: ts(k.UpdatedAt),
		External: externalKMSInfo{ID: k.ID, Status: k.Status, StatusDetails: k.StatusDetails, Provider: k.Provider, ProviderInput: k.Input}}
}

type externalKMSResponse struct {
	ExternalKMS externalKMSBody `json:"externalKms"`
}

func (s *Server) registerExternalKMSRoutes() {
	const tag = "External KMS"
	s.handle(http.MethodPost, "/api/v1/external-kms", authUI, tag, "Add an external KMS (AWS KMS) to the organization", s.createExternalKMS)
	s.handle(http.MethodGet, "/api/v1/external-kms", authUI, tag, "List the organization's external KMSs", s.listExternalKMS)
	s.handle(http.MethodGet, "/api/v1/external-kms/{id}", authUI, tag, "Get an external KMS", s.getExternalKMS)
	s.handle(http.MethodGet, "/api/v1/external-kms/name/{name}", authUI, tag, "Get an external KMS by name", s.getExternalKMSByName)
	s.handle(http.MethodPatch, "/api/v1/external-kms/{id}", authUI, tag, "Update an external KMS", s.updateExternalKMS)
	s.handle(http.MethodDelete, "/api/v1/external-kms/{id}", authUI, tag, "Delete an unused external KMS", s.deleteExternalKMS)

	const ptag = "Project KMS"
	for _, base := range []string{"/api/v1/workspace/{workspaceId}/kms", "/api/v1/projects/{workspaceId}/kms"} {
		s.handle(http.MethodGet, base, authUI, ptag, "Get the KMS of a project", s.getProjectKMS)
		s.handle(http.MethodPatch, base, authUI, ptag, "Switch the KMS of a project (re-wraps its data key)", s.updateProjectKMS)
		s.handle(http.MethodGet, base+"/backup", authUI, ptag, "Export the project key backup", s.getProjectKMSBackup)
		s.handle(http.MethodPost, base+"/backup", authUI, ptag, "Restore the project key from a backup", s.loadProjectKMSBackup)
	}
}

// externalKMSInputBody is {name, description, provider: {type, inputs}}.
type externalKMSInputBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Provider    *struct {
		Type   string          `json:"type"`
		Inputs json.RawMessage `json:"inputs"`
	} `json:"provider"`
}

func (b *externalKMSInputBody) input(create bool) (infisical.ExternalKMSInput, error) {
	in := infisical.ExternalKMSInput{Name: b.Name, Description: b.Description}
	if b.Provider == nil {
		if create {
			return in, infisical.Invalid("provider", "provider is required")
		}
		return in, nil
	}
	in.Provider = b.Provider.Type
	if b.Provider.Type != infisical.ExternalKMSProviderAWS {
		return in, infisical.Invalid("provider.type", "provider.type must be 'aws'")
	}
	if len(b.Provider.Inputs) > 0 && string(b.Provider.Inputs) != "null" {
		var aws infisical.AWSKMSInput
		if err := json.Unmarshal(b.Provider.Inputs, &aws); err != nil {
			return in, infisical.Invalid("provider.inputs", "provider.inputs is not a valid AWS KMS configuration")
		}
		in.AWS = &aws
	} else if create {
		return in, infisical.Invalid("provider.inputs", "provider.inputs is required")
	}
	return in, nil
}

func (s *Server) createExternalKMS(rq *request) (any, error) {
	var b externalKMSInputBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.Name == nil {
		return nil, infisical.Invalid("name", "name is required")
	}
	in, err := b.input(true)
	if err != nil {
		return nil, err
	}
	k, err := s.eng.ExternalKMS().Create(rq.ctx(), rq.actor, in)
	if err != nil {
		return nil, err
	}
	return externalKMSResponse{toExternalKMS(k)}, nil
}

func (s *Server) updateExternalKMS(rq *request) (any, error) {
	var b externalKMSInputBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in, err := b.input(false)
	if err != nil {
		return nil, err
	}
	k, err := s.eng.ExternalKMS().Update(rq.ctx(), rq.actor, rq.path("id"), in)
	if err != nil {
		return nil, err
	}
	return externalKMSResponse{toExternalKMS(k)}, nil
}

func (s *Server) deleteExternalKMS(rq *request) (any, error) {
	k, err := s.eng.ExternalKMS().Delete(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return externalKMSResponse{toExternalKMS(k)}, nil
}

func (s *Server) getExternalKMS(rq *request) (any, error) {
	k, err := s.eng.ExternalKMS().Get(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return externalKMSResponse{toExternalKMS(k)}, nil
}

func (s *Server) getExternalKMSByName(rq *request) (any, error) {
	k, err := s.eng.ExternalKMS().GetByName(rq.ctx(), rq.actor, "", rq.path("name"))
	if err != nil {
		return nil, err
	}
	return externalKMSResponse{toExternalKMS(k)}, nil
}

type externalKMSListEntry struct {
	ID          string  `json:"id"`
	Description *string `json:"description"`
	IsDisabled  bool    `json:"isDisabled"`
	CreatedAt   isoTime `json:"createdAt"`
	UpdatedAt   isoTime `json:"updatedAt"`
	Name        string  `json:"name"`
	ExternalKMS struct {
		Provider      string  `json:"provider"`
		Status        string  `json:"status"`
		StatusDetails *string `json:"statusDetails"`
	} `json:"externalKms"`
}

func (s *Server) listExternalKMS(rq *request) (any, error) {
	list, err := s.eng.ExternalKMS().List(rq.ctx(), rq.actor, "")
	if err != nil {
		return nil, err
	}
	out := make([]externalKMSListEntry, 0, len(list))
	for _, k := range list {
		e := externalKMSListEntry{ID: k.ID, Description: k.Description, IsDisabled: k.IsDisabled, CreatedAt: ts(k.CreatedAt), UpdatedAt: ts(k.UpdatedAt), Name: k.Name}
		e.ExternalKMS.Provider, e.ExternalKMS.Status, e.ExternalKMS.StatusDetails = k.Provider, k.Status, k.StatusDetails
		out = append(out, e)
	}
	return struct {
		ExternalKMSList []externalKMSListEntry `json:"externalKmsList"`
	}{out}, nil
}

type projectKMSResponse struct {
	SecretManagerKmsKey struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		IsExternal bool   `json:"isExternal"`
	} `json:"secretManagerKmsKey"`
}

func toProjectKMS(k *infisical.ProjectKMS) projectKMSResponse {
	var out projectKMSResponse
	out.SecretManagerKmsKey.ID, out.SecretManagerKmsKey.Name, out.SecretManagerKmsKey.IsExternal = k.ID, k.Name, k.IsExternal
	return out
}

func (s *Server) getProjectKMS(rq *request) (any, error) {
	k, err := s.eng.ExternalKMS().GetProjectKMS(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")})
	if err != nil {
		return nil, err
	}
	return toProjectKMS(k), nil
}

func (s *Server) updateProjectKMS(rq *request) (any, error) {
	var b struct {
		KMS *struct {
			Type  string `json:"type"`
			KMSID string `json:"kmsId"`
		} `json:"kms"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.KMS == nil {
		return nil, infisical.Invalid("kms", "kms is required: {type: internal} or {type: external, kmsId}")
	}
	k, err := s.eng.ExternalKMS().SetProjectKMS(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")},
		infisical.ProjectKMSChoice{Type: b.KMS.Type, KMSID: b.KMS.KMSID})
	if err != nil {
		return nil, err
	}
	return toProjectKMS(k), nil
}

func (s *Server) getProjectKMSBackup(rq *request) (any, error) {
	backup, err := s.eng.ExternalKMS().GetProjectKMSBackup(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")})
	if err != nil {
		return nil, err
	}
	return struct {
		SecretManager string `json:"secretManager"`
	}{backup}, nil
}

func (s *Server) loadProjectKMSBackup(rq *request) (any, error) {
	var b struct {
		Backup string `json:"backup"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.Backup == "" {
		return nil, infisical.Invalid("backup", "backup is required")
	}
	k, err := s.eng.ExternalKMS().LoadProjectKMSBackup(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, b.Backup)
	if err != nil {
		return nil, err
	}
	return toProjectKMS(k), nil
}
