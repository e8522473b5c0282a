package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// sanitizedProject is Infisical's SanitizedProject.
type sanitizedProject struct {
	ID                          string   `json:"id"`
	Name                        string   `json:"name"`
	Description                 *string  `json:"description"`
	Type                        string   `json:"type"`
	DefaultProduct              *string  `json:"defaultProduct"`
	Slug                        string   `json:"slug"`
	AutoCapitalization          *bool    `json:"autoCapitalization"`
	OrgID                       string   `json:"orgId"`
	CreatedAt                   isoTime  `json:"createdAt"`
	UpdatedAt                   isoTime  `json:"updatedAt"`
	Version                     int      `json:"version"`
	UpgradeStatus               *string  `json:"upgradeStatus"`
	PitVersionLimit             int      `json:"pitVersionLimit"`
	KMSCertificateKeyID         *string  `json:"kmsCertificateKeyId"`
	AuditLogsRetentionDays      *int     `json:"auditLogsRetentionDays"`
	HasDeleteProtection         bool     `json:"hasDeleteProtection"`
	SecretSharing               bool     `json:"secretSharing"`
	ShowSnapshotsLegacy         bool     `json:"showSnapshotsLegacy"`
	SecretDetectionIgnoreValues []string `json:"secretDetectionIgnoreValues"`
	EnforceEncryptedMetadata    *bool    `json:"enforceEncryptedSecretManagerSecretMetadata"`
}

type projectEnv struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	ID   string `json:"id"`
}

// projectWithEnvs is Infisical's ProjectWithEnvs.
type projectWithEnvs struct {
	sanitizedProject
	LegacyID              string       `json:"_id"`
	Environments          []projectEnv `json:"environments"`
	KMSSecretManagerKeyID *string      `json:"kmsSecretManagerKeyId"`
}

func toSanitizedProject(p *infisical.Project) sanitizedProject {
	return sanitizedProject{ID: p.ID, Name: p.Name, Description: p.Description, Type: p.Type, DefaultProduct: p.DefaultProduct,
		Slug: p.Slug, AutoCapitalization: p.AutoCapitalization, OrgID: p.OrgID, CreatedAt: ts(p.CreatedAt), UpdatedAt: ts(p.UpdatedAt),
		Version: p.Version, PitVersionLimit: p.PitVersionLimit, AuditLogsRetentionDays: p.AuditLogsRetentionDays,
		HasDeleteProtection: p.HasDeleteProtection, SecretSharing: p.SecretSharing, ShowSnapshotsLegacy: p.ShowSnapshotsLegacy,
		SecretDetectionIgnoreValues: p.SecretDetectionIgnoreValues}
}

func toProjectWithEnvs(p *infisical.Project) projectWithEnvs {
	out := projectWithEnvs{sanitizedProject: toSanitizedProject(p), LegacyID: p.ID, Environments: []projectEnv{}, KMSSecretManagerKeyID: p.KMSSecretManagerKeyID}
	for _, e := range p.Environments {
		out.Environments = append(out.Environments, projectEnv{Name: e.Name, Slug: e.Slug, ID: e.ID})
	}
	return out
}

// envRow is Infisical's environment row.
type envRow struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Slug      string  `json:"slug"`
	Position  int     `json:"position"`
	ProjectID string  `json:"projectId"`
	CreatedAt isoTime `json:"createdAt"`
	UpdatedAt isoTime `json:"updatedAt"`
}

func toEnvRow(e *infisical.Environment) envRow {
	return envRow{ID: e.ID, Name: e.Name, Slug: e.Slug, Position: e.Position, ProjectID: e.ProjectID, CreatedAt: ts(e.CreatedAt), UpdatedAt: ts(e.UpdatedAt)}
}

func (s *Server) registerProjectRoutes() {
	const tag = "Projects"
	s.handle(http.MethodPost, "/api/v2/workspace", authUI, tag, "Create a project", s.createProject)
	s.handle(http.MethodGet, "/api/v1/workspace", authUI, tag, "List the caller's projects", s.listProjects)
	for _, base := range []string{"/api/v1/workspace/{workspaceId}", "/api/v1/projects/{workspaceId}"} {
		s.handle(http.MethodGet, base, authUIS, tag, "Get a project", s.getProject)
		s.handle(http.MethodPatch, base, authUI, tag, "Update a project", s.updateProject)
		s.handle(http.MethodDelete, base, authUI, tag, "Delete a project", s.deleteProject)
	}
	s.handle(http.MethodGet, "/api/v1/projects/slug/{slug}", authUI, tag, "Get a project by slug (unwrapped)", s.getProjectBySlug)
	s.handle(http.MethodGet, "/api/v2/workspace/{slug}", authUI, tag, "Get a project by slug (unwrapped)", s.getProjectBySlug)
	s.handle(http.MethodPatch, "/api/v2/workspace/{slug}", authUI, tag, "Update a project by slug", s.updateProjectBySlug)
	s.handle(http.MethodDelete, "/api/v2/workspace/{slug}", authUI, tag, "Delete a project by slug", s.deleteProjectBySlug)
	s.handle(http.MethodGet, "/api/v2/organizations/{organizationId}/workspaces", authUI, tag, "List the caller's projects in an organization", s.listOrgProjects)
	s.handle(http.MethodPut, "/api/v1/workspace/{workspaceId}/audit-logs-retention", authUI, tag, "Set audit log retention", s.setAuditRetention)

	const envTag = "Environments"
	for _, base := range []string{"/api/v1/workspace/{workspaceId}/environments", "/api/v1/projects/{workspaceId}/environments"} {
		s.handle(http.MethodPost, base, authUI, envTag, "Create an environment", s.createEnvironment)
		s.handle(http.MethodPatch, base+"/{envId}", authUI, envTag, "Update an environment", s.updateEnvironment)
		s.handle(http.MethodDelete, base+"/{envId}", authUI, envTag, "Delete an environment", s.deleteEnvironment)
		s.handle(http.MethodGet, base+"/{envId}", authUI, envTag, "Get an environment", s.getEnvironment)
	}
	s.handle(http.MethodGet, "/api/v1/projects/{workspaceId}/environments/slug/{slug}", authUI, envTag, "Get an environment by slug", s.getEnvironmentBySlug)
	s.handle(http.MethodGet, "/api/v1/workspace/environments/{envId}", authUI, envTag, "Get an environment by id", s.getEnvironmentByID)
}

type createProjectBody struct {
	ProjectName             string  `json:"projectName"`
	ProjectDescription      *string `json:"projectDescription"`
	Slug                    string  `json:"slug"`
	KMSKeyID                string  `json:"kmsKeyId"`
	Template                string  `json:"template"`
	Type                    string  `json:"type"`
	ShouldCreateDefaultEnvs *bool   `json:"shouldCreateDefaultEnvs"`
	HasDeleteProtection     bool    `json:"hasDeleteProtection"`
}

func (s *Server) createProject(rq *request) (any, error) {
	var b createProjectBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.ProjectName == "" {
		return nil, infisical.Invalid("projectName", "projectName is required")
	}
	p, err := s.eng.Projects.Create(rq.ctx(), rq.actor, infisical.CreateProjectInput{Name: b.ProjectName, Description: b.ProjectDescription,
		Slug: b.Slug, KMSKeyID: b.KMSKeyID, Template: b.Template, Type: b.Type, ShouldCreateDefaultEnvs: b.ShouldCreateDefaultEnvs,
		HasDeleteProtection: b.HasDeleteProtection})
	if err != nil {
		return nil, err
	}
	return map[string]any{"project": toProjectWithEnvs(p)}, nil
}

func (s *Server) listProjects(rq *request) (any, error) {
	if _, err := rq.qbool("includeRoles", false); err != nil {
		return nil, err
	}
	ps, err := s.eng.Projects.List(rq.ctx(), rq.actor, "")
	if err != nil {
		return nil, err
	}
	typ := rq.query("type")
	out := make([]projectWithEnvs, 0, len(ps))
	for _, p := range ps {
		if typ != "" && typ != "all" && p.Type != typ {
			continue
		}
		out = append(out, toProjectWithEnvs(p))
	}
	return map[string]any{"workspaces": out}, nil
}

func (s *Server) getProject(rq *request) (any, error) {
	p, err := s.eng.Projects.Get(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")})
	if err != nil {
		return nil, err
	}
	return map[string]any{"workspace": toProjectWithEnvs(p)}, nil
}

func (s *Server) getProjectBySlug(rq *request) (any, error) {
	p, err := s.eng.Projects.Get(rq.ctx(), rq.actor, infisical.ProjectRef{Slug: rq.path("slug")})
	if err != nil {
		return nil, err
	}
	return toProjectWithEnvs(p), nil
}

type updateProjectBody struct {
	Name                        *string   `json:"name"`
	Description                 *string   `json:"description"`
	AutoCapitalization          *bool     `json:"autoCapitalization"`
	HasDeleteProtection         *bool     `json:"hasDeleteProtection"`
	Slug                        *string   `json:"slug"`
	SecretSharing               *bool     `json:"secretSharing"`
	ShowSnapshotsLegacy         *bool     `json:"showSnapshotsLegacy"`
	DefaultProduct              *string   `json:"defaultProduct"`
	SecretDetectionIgnoreValues *[]string `json:"secretDetectionIgnoreValues"`
}

func (b updateProjectBody) input() infisical.UpdateProjectInput {
	return infisical.UpdateProjectInput{Name: b.Name, Description: b.Description, AutoCapitalization: b.AutoCapitalization,
		HasDeleteProtection: b.HasDeleteProtection, Slug: b.Slug, SecretSharing: b.SecretSharing,
		ShowSnapshotsLegacy: b.ShowSnapshotsLegacy, DefaultProduct: b.DefaultProduct,
		SecretDetectionIgnoreValues: b.SecretDetectionIgnoreValues}
}

func (s *Server) updateProject(rq *request) (any, error) {
	var b updateProjectBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	p, err := s.eng.Projects.Update(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, b.input())
	if err != nil {
		return nil, err
	}
	return map[string]any{"workspace": toSanitizedProject(p)}, nil
}

func (s *Server) updateProjectBySlug(rq *request) (any, error) {
	var b updateProjectBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	p, err := s.eng.Projects.Update(rq.ctx(), rq.actor, infisical.ProjectRef{Slug: rq.path("slug")}, b.input())
	if err != nil {
		return nil, err
	}
	return toSanitizedProject(p), nil
}

func (s *Server) deleteProject(rq *request) (any, error) {
	p, err := s.eng.Projects.Delete(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")})
	if err != nil {
		return nil, err
	}
	return map[string]any{"workspace": toSanitizedProject(p)}, nil
}

func (s *Server) deleteProjectBySlug(rq *request) (any, error) {
	p, err := s.eng.Projects.Delete(rq.ctx(), rq.actor, infisical.ProjectRef{Slug: rq.path("slug")})
	if err != nil {
		return nil, err
	}
	return toSanitizedProject(p), nil
}

func (s *Server) listOrgProjects(rq *request) (any, error) {
	ps, err := s.eng.Projects.List(rq.ctx(), rq.actor, rq.path("organizationId"))
	if err != nil {
		return nil, err
	}
	type env struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	type item struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		Slug         string `json:"slug"`
		Organization string `json:"organization"`
		Environments []env  `json:"environments"`
	}
	out := make([]item, 0, len(ps))
	for _, p := range ps {
		it := item{ID: p.ID, Name: p.Name, Slug: p.Slug, Organization: p.OrgID, Environments: []env{}}
		for _, e := range p.Environments {
			it.Environments = append(it.Environments, env{Name: e.Name, Slug: e.Slug})
		}
		out = append(out, it)
	}
	return map[string]any{"workspaces": out}, nil
}

func (s *Server) setAuditRetention(rq *request) (any, error) {
	var b struct {
		Days *int `json:"auditLogsRetentionDays"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.Days == nil {
		return nil, infisical.Invalid("auditLogsRetentionDays", "auditLogsRetentionDays is required")
	}
	p, err := s.eng.Projects.Update(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, infisical.UpdateProjectInput{AuditLogsRetentionDays: b.Days})
	if err != nil {
		return nil, err
	}
	return map[string]any{"message": "Successfully updated project's audit logs retention period", "workspace": toSanitizedProject(p)}, nil
}

// ---- environments ----------------------------------------------------------

func (s *Server) createEnvironment(rq *request) (any, error) {
	var b struct {
		Name     string `json:"name"`
		Slug     string `json:"slug"`
		Position *int   `json:"position"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	pid := rq.path("workspaceId")
	env, err := s.eng.Environments.Create(rq.ctx(), rq.actor, infisical.ProjectRef{ID: pid}, infisical.CreateEnvironmentInput{Name: b.Name, Slug: b.Slug, Position: b.Position})
	if err != nil {
		return nil, err
	}
	return map[string]any{"message": "Successfully created new environment", "projectId": env.ProjectID, "workspace": env.ProjectID, "environment": toEnvRow(env)}, nil
}

func (s *Server) updateEnvironment(rq *request) (any, error) {
	var b struct {
		Name     *string `json:"name"`
		Slug     *string `json:"slug"`
		Position *int    `json:"position"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	env, err := s.eng.Environments.Update(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, rq.path("envId"),
		infisical.UpdateEnvironmentInput{Name: b.Name, Slug: b.Slug, Position: b.Position})
	if err != nil {
		return nil, err
	}
	return map[string]any{"message": "Successfully updated environment", "projectId": env.ProjectID, "workspace": env.ProjectID, "environment": toEnvRow(env)}, nil
}

func (s *Server) deleteEnvironment(rq *request) (any, error) {
	env, err := s.eng.Environments.Delete(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, rq.path("envId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"message": "Successfully deleted environment", "projectId": env.ProjectID, "workspace": env.ProjectID, "environment": toEnvRow(env)}, nil
}

func (s *Server) getEnvironment(rq *request) (any, error) {
	env, err := s.eng.Environments.Get(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, rq.path("envId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"environment": toEnvRow(env)}, nil
}

func (s *Server) getEnvironmentBySlug(rq *request) (any, error) {
	env, err := s.eng.Environments.GetBySlug(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, rq.path("slug"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"environment": toEnvRow(env)}, nil
}

func (s *Server) getEnvironmentByID(rq *request) (any, error) {
	pid, err := s.eng.Environments.ProjectOfEnvironment(rq.ctx(), rq.path("envId"))
	if err != nil {
		return nil, err
	}
	env, err := s.eng.Environments.Get(rq.ctx(), rq.actor, infisical.ProjectRef{ID: pid}, rq.path("envId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"environment": toEnvRow(env)}, nil
}
