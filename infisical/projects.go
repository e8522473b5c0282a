package infisical

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// ProjectService manages projects.
type ProjectService struct{ e *Engine }

// CreateProjectInput is the body of POST /api/v2/workspace.
type CreateProjectInput struct {
	// OrgID is required only for the platform actor; others create in the
	// organization their credential is scoped to.
	OrgID                   string
	Name                    string
	Description             *string
	Slug                    string
	Type                    string
	Template                string
	ShouldCreateDefaultEnvs *bool
	HasDeleteProtection     bool
	KMSKeyID                string
}

// defaultEnvironments are created by the built-in "default" template.
var defaultEnvironments = []struct{ name, slug string }{
	{"Development", "dev"}, {"Staging", "staging"}, {"Production", "prod"},
}

// Create creates a project; the creator becomes its admin.
func (s *ProjectService) Create(ctx context.Context, actor Actor, in CreateProjectInput) (*Project, error) {
	e := s.e
	orgID := actor.OrgID
	if actor.Type == ActorPlatform && in.OrgID != "" {
		orgID = in.OrgID
	}
	if orgID == "" {
		return nil, BadRequest("Missing organization")
	}
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot create projects")
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.SubjectWorkspace, nil); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 64 {
		return nil, Invalid("projectName", "projectName must be 1 to 64 characters")
	}
	if in.Description != nil && len(*in.Description) > 1024 {
		return nil, Invalid("projectDescription", "projectDescription must be at most 1024 characters")
	}
	slug := strings.TrimSpace(in.Slug)
	if slug == "" {
		slug = generatedSlug(name, 64)
	} else if !validSlug(slug, 5, 64) {
		return nil, Invalid("slug", "slug must be 5 to 64 lowercase letters, digits and single hyphens or underscores")
	}
	typ := in.Type
	if typ == "" {
		typ = ProjectTypeSecretManager
	}
	if !projectTypes[typ] {
		return nil, Invalid("type", "Invalid project type '%s'", typ)
	}
	// A project may start on its organization's external KMS: the data key
	// is then wrapped by AWS before the transaction (kms_external.go).
	var extKey *projectExternalKey
	if in.KMSKeyID != "" {
		if extKey, err = e.newExternalProjectKey(ctx, orgID, in.KMSKeyID); err != nil {
			return nil, err
		}
	}
	tmpl := strings.TrimSpace(in.Template)
	if tmpl != "" && tmpl != "default" {
		if e.applyTemplate == nil {
			return nil, NotFound("Project template with name '%s' not found", tmpl)
		}
	}
	createEnvs := in.ShouldCreateDefaultEnvs == nil || *in.ShouldCreateDefaultEnvs

	now := e.now()
	p := &store.Project{ID: uuid.NewString(), OrgID: orgID, Name: name, Slug: slug, Description: in.Description, Type: typ,
		Version: 3, HasDeleteProtection: in.HasDeleteProtection, PitVersionLimit: 10, SecretSharing: true,
		CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		dk, err := e.keys.newProjectDataKey(ctx, q, orgID)
		if err != nil {
			return Internal("create project key", err)
		}
		p.KMSEncryptedDataKey = dk
		if extKey != nil {
			p.KMSKeyID, p.KMSEncryptedDataKey = &extKey.kmsID, extKey.wrapped
		}
		if err := q.Insert(ctx, p); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("A project with the slug '%s' already exists in this organization", slug)
			}
			return Internal("create project", err)
		}
		if tmpl != "" && tmpl != "default" {
			if err := e.applyTemplate(ctx, q, actor, p, tmpl); err != nil {
				return err
			}
		} else if createEnvs {
			for i, de := range defaultEnvironments {
				if _, err := e.insertEnvironment(ctx, q, p.ID, de.name, de.slug, i+1); err != nil {
					return err
				}
			}
		}
		if actor.Type == ActorUser || actor.Type == ActorIdentity {
			typ := store.ActorUser
			if actor.Type == ActorIdentity {
				typ = store.ActorIdentity
			}
			if _, err := e.insertMembership(ctx, q, p.ID, typ, actor.ID, []RoleAssignment{{Role: "admin"}}); err != nil {
				return err
			}
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-project", OrgID: orgID, ProjectID: p.ID, ProjectName: p.Name,
			Metadata: map[string]any{"projectId": p.ID, "name": p.Name, "slug": p.Slug, "type": p.Type}})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, p.ID)
}

// insertEnvironment adds an environment and its root folder inside q.
func (e *Engine) insertEnvironment(ctx context.Context, q store.Q, projectID, name, slug string, position int) (*store.Environment, error) {
	now := e.now()
	env := &store.Environment{ID: uuid.NewString(), ProjectID: projectID, Name: name, Slug: slug, Position: position, CreatedAt: now, UpdatedAt: now}
	if err := q.Insert(ctx, env); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, BadRequest("Environment with slug '%s' already exists", slug)
		}
		return nil, Internal("create environment", err)
	}
	root := &store.Folder{ID: uuid.NewString(), EnvID: env.ID, Name: "root", Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := q.Insert(ctx, root); err != nil {
		return nil, Internal("create root folder", err)
	}
	q.Invalidate(topicProject, projectID)
	return env, nil
}

// load returns a project with its environments, bypassing permissions.
func (s *ProjectService) load(ctx context.Context, id string) (*Project, error) {
	m, err := s.e.meta(ctx, id)
	if err != nil {
		return nil, err
	}
	return projectFromMeta(m), nil
}

func projectFromMeta(m *projectMeta) *Project {
	p := projectFromRow(&m.project)
	for i := range m.envs {
		p.Environments = append(p.Environments, envFromRow(&m.envs[i]))
	}
	return p
}

func projectFromRow(r *store.Project) *Project {
	return &Project{ID: r.ID, OrgID: r.OrgID, Name: r.Name, Slug: r.Slug, Description: r.Description, Type: r.Type,
		DefaultProduct: r.DefaultProduct, Version: r.Version, AutoCapitalization: r.AutoCapitalization,
		HasDeleteProtection: r.HasDeleteProtection, PitVersionLimit: r.PitVersionLimit,
		AuditLogsRetentionDays: r.AuditLogsRetentionDays, SecretSharing: r.SecretSharing,
		ShowSnapshotsLegacy: r.ShowSnapshotsLegacy, SecretDetectionIgnoreValues: r.SecretDetectionIgnoreValues,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func envFromRow(r *store.Environment) Environment {
	return Environment{ID: r.ID, ProjectID: r.ProjectID, Name: r.Name, Slug: r.Slug, Position: r.Position, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Get returns a project the actor may see, by id or slug.
func (s *ProjectService) Get(ctx context.Context, actor Actor, ref ProjectRef) (*Project, error) {
	m, set, err := s.e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if actor.Type != ActorService && !set.Can(permission.ActionRead, permission.SubjectWorkspace, nil) &&
		!set.Can(permission.ActionRead, permission.SubjectSecrets, nil) {
		return nil, &permission.DeniedError{Action: permission.ActionRead, Subject: permission.SubjectWorkspace}
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-project", ProjectID: m.project.ID, Metadata: map[string]any{"projectId": m.project.ID}})
	return projectFromMeta(m), nil
}

// UpdateProjectInput holds the optional fields of a project update.
type UpdateProjectInput struct {
	Name                        *string
	Description                 *string
	AutoCapitalization          *bool
	HasDeleteProtection         *bool
	Slug                        *string
	SecretSharing               *bool
	ShowSnapshotsLegacy         *bool
	DefaultProduct              *string
	SecretDetectionIgnoreValues *[]string
	AuditLogsRetentionDays      *int
}

// Update changes project settings.
func (s *ProjectService) Update(ctx context.Context, actor Actor, ref ProjectRef, in UpdateProjectInput) (*Project, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionEdit, permission.SubjectSettings, nil); err != nil {
		return nil, err
	}
	row := m.project // copy
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 64 {
			return nil, Invalid("name", "name must be 1 to 64 characters")
		}
		row.Name = n
	}
	if in.Description != nil {
		if len(*in.Description) > 1024 {
			return nil, Invalid("description", "description must be at most 1024 characters")
		}
		row.Description = in.Description
	}
	if in.Slug != nil {
		if !validSlug(*in.Slug, 1, 64) {
			return nil, Invalid("slug", "slug must be lowercase letters, digits and single hyphens or underscores, at most 64")
		}
		row.Slug = *in.Slug
	}
	if in.AutoCapitalization != nil {
		row.AutoCapitalization = in.AutoCapitalization
	}
	if in.HasDeleteProtection != nil {
		row.HasDeleteProtection = *in.HasDeleteProtection
	}
	if in.SecretSharing != nil {
		row.SecretSharing = *in.SecretSharing
	}
	if in.ShowSnapshotsLegacy != nil {
		row.ShowSnapshotsLegacy = *in.ShowSnapshotsLegacy
	}
	if in.DefaultProduct != nil {
		if !projectTypes[*in.DefaultProduct] {
			return nil, Invalid("defaultProduct", "Invalid project type '%s'", *in.DefaultProduct)
		}
		row.DefaultProduct = in.DefaultProduct
	}
	if in.SecretDetectionIgnoreValues != nil {
		row.SecretDetectionIgnoreValues = *in.SecretDetectionIgnoreValues
	}
	if in.AuditLogsRetentionDays != nil {
		if *in.AuditLogsRetentionDays < 0 {
			return nil, Invalid("auditLogsRetentionDays", "auditLogsRetentionDays must be ≥ 0")
		}
		row.AuditLogsRetentionDays = in.AuditLogsRetentionDays
	}
	row.UpdatedAt = e.now()
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Update(ctx, &row); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("A project with the slug '%s' already exists in this organization", row.Slug)
			}
			return Internal("update project", err)
		}
		q.Invalidate(topicProject, row.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-project", ProjectID: row.ID, ProjectName: row.Name, Metadata: projectUpdateMeta(&row, in)})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, row.ID)
}

// Delete removes a project and everything in it.
func (s *ProjectService) Delete(ctx context.Context, actor Actor, ref ProjectRef) (*Project, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionDelete, permission.SubjectWorkspace, nil); err != nil {
		return nil, err
	}
	if m.project.HasDeleteProtection {
		return nil, BadRequest("Project '%s' has delete protection enabled; disable it first", m.project.Name)
	}
	out := projectFromMeta(m)
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Delete(ctx, &store.Project{ID: m.project.ID}); err != nil {
			return Internal("delete project", err)
		}
		q.Invalidate(topicProject, m.project.ID)
		q.Invalidate(topicAccess, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-project", ProjectID: m.project.ID, ProjectName: m.project.Name,
			Metadata: map[string]any{"projectId": m.project.ID, "name": m.project.Name, "slug": m.project.Slug}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// List returns the projects of the actor's organization that it belongs to
// (all of them for organization admins), oldest first.
func (s *ProjectService) List(ctx context.Context, actor Actor, orgID string) ([]*Project, error) {
	e := s.e
	if orgID == "" {
		orgID = actor.OrgID
	}
	if actor.Type != ActorPlatform && orgID != actor.OrgID {
		return nil, Forbidden("You are not allowed to access this organization")
	}
	q := e.store.Read()
	var ids []string
	var err error
	role := "admin"
	if actor.Type != ActorPlatform {
		if role, err = e.orgRole(ctx, actor, orgID); err != nil {
			return nil, err
		}
	}
	if role == "admin" {
		ids, err = q.ProjectIDsOfOrg(ctx, orgID)
	} else {
		typ := store.ActorUser
		if actor.Type == ActorIdentity {
			typ = store.ActorIdentity
		}
		ids, err = q.ProjectIDsOfMember(ctx, orgID, typ, actor.ID)
	}
	if err != nil {
		return nil, Internal("list projects", err)
	}
	out := make([]*Project, 0, len(ids))
	for _, id := range ids {
		m, err := e.meta(ctx, id)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, projectFromMeta(m))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	e.auditRead(actor, AuditEvent{Type: "get-projects", OrgID: orgID, Metadata: map[string]any{"numberOfProjects": len(out)}})
	return out, nil
}
