package infisical

import (
	"context"
	"errors"
	"strings"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// EnvironmentService manages a project's environments.
type EnvironmentService struct{ e *Engine }

// CreateEnvironmentInput is the body of an environment create.
type CreateEnvironmentInput struct {
	Name     string
	Slug     string
	Position *int
}

func validEnvSlug(s string) bool { return validSlug(s, 1, 64) }

// Create adds an environment at position (default: last).
func (s *EnvironmentService) Create(ctx context.Context, actor Actor, ref ProjectRef, in CreateEnvironmentInput) (*Environment, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.SubjectEnvironments, nil); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 64 {
		return nil, Invalid("name", "name must be 1 to 64 characters")
	}
	if !validEnvSlug(in.Slug) {
		return nil, Invalid("slug", "slug must be lowercase letters, digits and hyphens, at most 64")
	}
	if in.Position != nil && *in.Position < 1 {
		return nil, Invalid("position", "position must be ≥ 1")
	}
	var env *store.Environment
	err = e.store.Tx(ctx, func(q store.Q) error {
		envs, err := q.ListEnvironments(ctx, m.project.ID)
		if err != nil {
			return Internal("list environments", err)
		}
		pos := len(envs) + 1
		if in.Position != nil && *in.Position < pos {
			pos = *in.Position
		}
		for i := range envs {
			if envs[i].Slug == in.Slug {
				return BadRequest("Environment with slug '%s' already exists", in.Slug)
			}
		}
		if env, err = e.insertEnvironment(ctx, q, m.project.ID, name, in.Slug, len(envs)+1); err != nil {
			return err
		}
		if pos != env.Position {
			if err := e.reposition(ctx, q, append(envs, *env), env.ID, pos); err != nil {
				return err
			}
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-environment", ProjectID: m.project.ID,
			Metadata: map[string]any{"environmentId": env.ID, "name": name, "slug": in.Slug, "position": pos}})
	})
	if err != nil {
		return nil, err
	}
	return s.byID(ctx, m.project.ID, env.ID)
}

// reposition moves environment id to pos (1-based) and renumbers the rest.
func (e *Engine) reposition(ctx context.Context, q store.Q, envs []store.Environment, id string, pos int) error {
	var moving *store.Environment
	rest := make([]store.Environment, 0, len(envs))
	for i := range envs {
		if envs[i].ID == id {
			moving = &envs[i]
			continue
		}
		rest = append(rest, envs[i])
	}
	if moving == nil {
		return NotFound("Environment with ID '%s' not found", id)
	}
	if pos > len(envs) {
		pos = len(envs)
	}
	ordered := make([]store.Environment, 0, len(envs))
	ordered = append(ordered, rest[:pos-1]...)
	ordered = append(ordered, *moving)
	ordered = append(ordered, rest[pos-1:]...)
	now := e.now()
	for i := range ordered {
		if ordered[i].Position == i+1 && ordered[i].ID != id {
			continue
		}
		ordered[i].Position = i + 1
		ordered[i].UpdatedAt = now
		if err := q.Update(ctx, &ordered[i]); err != nil {
			return Internal("reorder environments", err)
		}
	}
	if len(ordered) > 0 {
		q.Invalidate(topicProject, ordered[0].ProjectID)
	}
	return nil
}

func (s *EnvironmentService) byID(ctx context.Context, projectID, envID string) (*Environment, error) {
	m, err := s.e.meta(ctx, projectID)
	if err != nil {
		return nil, err
	}
	env := m.envByID[envID]
	if env == nil {
		return nil, NotFound("Environment with ID '%s' not found", envID)
	}
	out := envFromRow(env)
	return &out, nil
}

// UpdateEnvironmentInput holds the optional fields of an update.
type UpdateEnvironmentInput struct {
	Name     *string
	Slug     *string
	Position *int
}

// Update renames or moves an environment.
func (s *EnvironmentService) Update(ctx context.Context, actor Actor, ref ProjectRef, envID string, in UpdateEnvironmentInput) (*Environment, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionEdit, permission.SubjectEnvironments, nil); err != nil {
		return nil, err
	}
	cur := m.envByID[envID]
	if cur == nil {
		return nil, NotFound("Environment with ID '%s' not found", envID)
	}
	row := *cur
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 64 {
			return nil, Invalid("name", "name must be 1 to 64 characters")
		}
		row.Name = n
	}
	if in.Slug != nil {
		if !validEnvSlug(*in.Slug) {
			return nil, Invalid("slug", "slug must be lowercase letters, digits and hyphens, at most 64")
		}
		if other := m.envBySlug[*in.Slug]; other != nil && other.ID != envID {
			return nil, BadRequest("Environment with slug '%s' already exists", *in.Slug)
		}
		row.Slug = *in.Slug
	}
	if in.Position != nil && *in.Position < 1 {
		return nil, Invalid("position", "position must be ≥ 1")
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		row.UpdatedAt = e.now()
		if err := q.Update(ctx, &row); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("Environment with slug '%s' already exists", row.Slug)
			}
			return Internal("update environment", err)
		}
		q.Invalidate(topicProject, m.project.ID)
		q.Invalidate(topicAccess, m.project.ID)
		if in.Position != nil && *in.Position != row.Position {
			envs, err := q.ListEnvironments(ctx, m.project.ID)
			if err != nil {
				return Internal("list environments", err)
			}
			if err := e.reposition(ctx, q, envs, envID, *in.Position); err != nil {
				return err
			}
		}
		newPos := row.Position
		if in.Position != nil {
			newPos = *in.Position
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-environment", ProjectID: m.project.ID,
			Metadata: map[string]any{"environmentId": envID, "oldName": cur.Name, "newName": row.Name, "oldSlug": cur.Slug, "newSlug": row.Slug,
				"oldPos": cur.Position, "newPos": newPos}})
	})
	if err != nil {
		return nil, err
	}
	return s.byID(ctx, m.project.ID, envID)
}

// Delete removes an environment with its folders and secrets.
func (s *EnvironmentService) Delete(ctx context.Context, actor Actor, ref ProjectRef, envID string) (*Environment, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionDelete, permission.SubjectEnvironments, nil); err != nil {
		return nil, err
	}
	cur := m.envByID[envID]
	if cur == nil {
		return nil, NotFound("Environment with ID '%s' not found", envID)
	}
	out := envFromRow(cur)
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Delete(ctx, &store.Environment{ID: envID}); err != nil {
			return Internal("delete environment", err)
		}
		envs, err := q.ListEnvironments(ctx, m.project.ID)
		if err != nil {
			return Internal("list environments", err)
		}
		now := e.now()
		for i := range envs {
			if envs[i].Position != i+1 {
				envs[i].Position = i + 1
				envs[i].UpdatedAt = now
				if err := q.Update(ctx, &envs[i]); err != nil {
					return Internal("renumber environments", err)
				}
			}
		}
		q.Invalidate(topicProject, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-environment", ProjectID: m.project.ID,
			Metadata: map[string]any{"environmentId": envID, "name": cur.Name, "slug": cur.Slug}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns one environment by id.
func (s *EnvironmentService) Get(ctx context.Context, actor Actor, ref ProjectRef, envID string) (*Environment, error) {
	m, set, err := s.e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectEnvironments, nil); err != nil {
		return nil, err
	}
	env := m.envByID[envID]
	if env == nil {
		return nil, NotFound("Environment with ID '%s' not found", envID)
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-environment", ProjectID: m.project.ID, Metadata: map[string]any{"environmentId": env.ID, "slug": env.Slug}})
	out := envFromRow(env)
	return &out, nil
}

// GetBySlug returns one environment by slug.
func (s *EnvironmentService) GetBySlug(ctx context.Context, actor Actor, ref ProjectRef, slug string) (*Environment, error) {
	m, set, err := s.e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectEnvironments, nil); err != nil {
		return nil, err
	}
	env, err := m.env(slug)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-environment", ProjectID: m.project.ID, Metadata: map[string]any{"environmentId": env.ID, "slug": env.Slug}})
	out := envFromRow(env)
	return &out, nil
}

// ProjectOfEnvironment returns the project id of an environment id (for
// routes addressed by environment id only).
func (s *EnvironmentService) ProjectOfEnvironment(ctx context.Context, envID string) (string, error) {
	var env store.Environment
	err := s.e.store.Read().GetByID(ctx, &env, envID)
	if errors.Is(err, store.ErrNotFound) {
		return "", NotFound("Environment with ID '%s' not found", envID)
	}
	if err != nil {
		return "", Internal("load environment", err)
	}
	return env.ProjectID, nil
}
