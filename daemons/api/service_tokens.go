package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// Legacy service tokens (spec §7.12). GET /api/v2/service-token is what
// older CLIs and the Kubernetes operator call first with an st. token to
// learn the project and environment.

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerServiceTokenRoutes) }

func (s *Server) registerServiceTokenRoutes() {
	const tag = "Service tokens"
	s.handle(http.MethodGet, "/api/v2/service-token", authService, tag, "Data of the calling service token (deprecated)", s.getServiceToken)
	s.handle(http.MethodPost, "/api/v2/service-token", authUser, tag, "Create a service token (deprecated)", s.createServiceToken)
	s.handle(http.MethodDelete, "/api/v2/service-token/{serviceTokenId}", authUser, tag, "Delete a service token (deprecated)", s.deleteServiceToken)
	s.handle(http.MethodGet, "/api/v1/workspace/{workspaceId}/service-token-data", authUser, tag, "List the service tokens of a project (deprecated)", s.listServiceTokens)
}

type serviceScopeJSON struct {
	Environment string `json:"environment"`
	SecretPath  string `json:"secretPath"`
}

// serviceTokenUserJSON is the creator inside GET /api/v2/service-token.
type serviceTokenUserJSON struct {
	ID          string   `json:"id"`
	LegacyID    string   `json:"_id"`
	V           int      `json:"__v"`
	Email       *string  `json:"email"`
	Username    string   `json:"username"`
	FirstName   *string  `json:"firstName"`
	LastName    *string  `json:"lastName"`
	AuthMethods []string `json:"authMethods"`
	Devices     []string `json:"devices"`
	MfaMethods  []string `json:"mfaMethods"`
	CreatedAt   isoTime  `json:"createdAt"`
	UpdatedAt   isoTime  `json:"updatedAt"`
}

// serviceTokenDataJSON is a service token without secret material (create,
// delete and list responses).
type serviceTokenDataJSON struct {
	ID          string             `json:"id"`
	LegacyID    string             `json:"_id"`
	Name        string             `json:"name"`
	Scopes      []serviceScopeJSON `json:"scopes"`
	Permissions []string           `json:"permissions"`
	LastUsed    *isoTime           `json:"lastUsed"`
	ExpiresAt   *isoTime           `json:"expiresAt"`
	CreatedBy   string             `json:"createdBy"`
	ProjectID   string             `json:"projectId"`
	CreatedAt   isoTime            `json:"createdAt"`
	UpdatedAt   isoTime            `json:"updatedAt"`
}

func toServiceTokenData(t *infisical.ServiceToken) serviceTokenDataJSON {
	out := serviceTokenDataJSON{ID: t.ID, LegacyID: t.ID, Name: t.Name, Scopes: make([]serviceScopeJSON, 0, len(t.Scopes)),
		Permissions: nonNilStrings(t.Permissions), LastUsed: tsp(t.LastUsed), ExpiresAt: tsp(t.ExpiresAt), CreatedBy: t.CreatedBy,
		ProjectID: t.ProjectID, CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt)}
	for _, sc := range t.Scopes {
		out.Scopes = append(out.Scopes, serviceScopeJSON{Environment: sc.Environment, SecretPath: sc.SecretPath})
	}
	return out
}

// serviceTokenJSON is GET /api/v2/service-token's unwrapped row. The legacy
// key material fields are kept for shape but always empty: clients do not
// read them, and the server never stores them.
type serviceTokenJSON struct {
	serviceTokenDataJSON
	V            int                   `json:"__v"`
	SecretHash   string                `json:"secretHash"`
	EncryptedKey string                `json:"encryptedKey"`
	IV           string                `json:"iv"`
	Tag          string                `json:"tag"`
	Workspace    string                `json:"workspace"`
	User         *serviceTokenUserJSON `json:"user"`
}

func (s *Server) getServiceToken(rq *request) (any, error) {
	t, err := s.eng.ServiceTokens.Current(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	out := serviceTokenJSON{serviceTokenDataJSON: toServiceTokenData(t), Workspace: t.ProjectID}
	if u := t.User; u != nil {
		out.User = &serviceTokenUserJSON{ID: u.ID, LegacyID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName,
			LastName: u.LastName, AuthMethods: []string{"email"}, Devices: []string{}, MfaMethods: []string{},
			CreatedAt: ts(u.CreatedAt), UpdatedAt: ts(u.UpdatedAt)}
	}
	return out, nil
}

// createServiceTokenBody: encryptedKey, iv and tag (legacy end-to-end
// encryption) are accepted and ignored.
type createServiceTokenBody struct {
	Name        string             `json:"name"`
	WorkspaceID string             `json:"workspaceId"`
	Scopes      []serviceScopeJSON `json:"scopes"`
	ExpiresIn   *int64             `json:"expiresIn"`
	Permissions []string           `json:"permissions"`
}

func (s *Server) createServiceToken(rq *request) (any, error) {
	var b createServiceTokenBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in := infisical.CreateServiceTokenInput{Name: b.Name, ProjectID: b.WorkspaceID, Permissions: b.Permissions, ExpiresIn: b.ExpiresIn}
	for _, sc := range b.Scopes {
		in.Scopes = append(in.Scopes, infisical.ServiceScope{Environment: sc.Environment, SecretPath: sc.SecretPath})
	}
	tok, data, err := s.eng.ServiceTokens.Create(rq.ctx(), rq.actor, in)
	if err != nil {
		return nil, err
	}
	return struct {
		ServiceToken     string               `json:"serviceToken"`
		ServiceTokenData serviceTokenDataJSON `json:"serviceTokenData"`
	}{tok, toServiceTokenData(data)}, nil
}

func (s *Server) deleteServiceToken(rq *request) (any, error) {
	t, err := s.eng.ServiceTokens.Delete(rq.ctx(), rq.actor, rq.path("serviceTokenId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"serviceTokenData": toServiceTokenData(t)}, nil
}

func (s *Server) listServiceTokens(rq *request) (any, error) {
	list, err := s.eng.ServiceTokens.List(rq.ctx(), rq.actor, rq.path("workspaceId"))
	if err != nil {
		return nil, err
	}
	out := make([]serviceTokenDataJSON, 0, len(list))
	for i := range list {
		out = append(out, toServiceTokenData(&list[i]))
	}
	return map[string]any{"serviceTokenData": out}, nil
}
