package infisical

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/secretpath"
	"github.com/infisical-go/engine/infisical/store"
)

// Folder is one folder of an environment's tree. The root folder of each
// environment (path "/") is never listed; its id is the ParentID of the
// top-level folders.
type Folder struct {
	ID                 string
	Name               string
	Version            int
	EnvID              string
	ParentID           *string
	IsReserved         bool
	Description        *string
	LastSecretModified *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// FolderDetail is a folder with its location, as returned by get-by-id.
type FolderDetail struct {
	Folder
	Path      string
	ProjectID string
	EnvName   string
	EnvSlug   string
}

func folderFromRow(r *store.Folder) Folder {
	return Folder{ID: r.ID, Name: r.Name, Version: r.Version, EnvID: r.EnvID, ParentID: r.ParentID, IsReserved: r.IsReserved,
		Description: r.Description, LastSecretModified: r.LastSecretModified, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// FolderScope names a parent folder: an environment slug and a path.
// Directory is the legacy spelling of Path that the CLI still sends; Path
// wins when both are given, and "/" is the default.
type FolderScope struct {
	Environment string
	Path        string
	Directory   string
}

// parent validates the scope and returns the canonical parent path.
func (sc FolderScope) parent() (string, error) {
	if strings.TrimSpace(sc.Environment) == "" {
		return "", Invalid("environment", "environment is required")
	}
	raw, field := sc.Path, "path"
	if strings.TrimSpace(raw) == "" {
		raw, field = sc.Directory, "directory"
	}
	p, err := secretpath.Normalize(raw)
	if err != nil {
		return "", Invalid(field, "%s", err.Error())
	}
	return p, nil
}

// CreateFolderInput is the body of a folder create.
type CreateFolderInput struct {
	FolderScope
	Name        string
	Description *string
}

// UpdateFolderInput is the body of a folder update: the new name and,
// optionally, a new description.
type UpdateFolderInput struct {
	FolderScope
	Name        string
	Description *string
}

// BatchFolderUpdate is one item of a batch update. The folder is addressed
// by id; Path is accepted for compatibility and not needed.
type BatchFolderUpdate struct {
	ID          string
	Environment string
	Name        string
	Path        string
	Description *string
}

const maxFolderDescription = 10000

func validFolderName(field, name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", Invalid(field, "%s is required", field)
	}
	if !secretpath.ValidFolderName(n) {
		return "", Invalid(field, "Folder name can only contain letters, numbers, dashes and underscores (at most %d characters)", secretpath.MaxFolderNameLen)
	}
	return n, nil
}

func validDescription(field string, d *string) error {
	if d != nil && len(*d) > maxFolderDescription {
		return Invalid(field, "%s must be at most %d characters", field, maxFolderDescription)
	}
	return nil
}

func folderPermAttrs(envSlug, path string) permission.Attributes {
	return permission.Attributes{"environment": envSlug, "secretPath": path}
}

func folderNotFoundAt(path, envSlug string) error {
	return NotFound("Folder with path '%s' in environment with slug '%s' not found", path, envSlug)
}

// Create makes folder Name under the scope's path. The parent must exist.
// Creating a name that already exists returns the existing folder.
func (s *FolderService) Create(ctx context.Context, actor Actor, ref ProjectRef, in CreateFolderInput) (*Folder, error) {
	e := s.e
	name, err := validFolderName("name", in.Name)
	if err != nil {
		return nil, err
	}
	parentPath, err := in.parent()
	if err != nil {
		return nil, err
	}
	if err := validDescription("description", in.Description); err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	env, err := e.envOf(ctx, m, in.Environment)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.SubjectSecretFolders, folderPermAttrs(env.Slug, parentPath)); err != nil {
		return nil, err
	}
	var out *store.Folder
	err = e.store.Tx(ctx, func(q store.Q) error {
		parent, err := q.FolderAtPath(ctx, env.ID, parentPath)
		if errors.Is(err, store.ErrNotFound) {
			return folderNotFoundAt(parentPath, env.Slug)
		}
		if err != nil {
			return Internal("resolve parent folder", err)
		}
		now := e.now()
		pid := parent.ID
		f := &store.Folder{ID: uuid.NewString(), EnvID: env.ID, ParentID: &pid, Name: name, Version: 1,
			Description: in.Description, CreatedAt: now, UpdatedAt: now}
		created, err := q.InsertFolderIfAbsent(ctx, f)
		if err != nil {
			return Internal("create folder", err)
		}
		if !created {
			if out, err = q.FolderChild(ctx, env.ID, parent.ID, name); err != nil {
				return Internal("load existing folder", err)
			}
			return nil
		}
		out = f
		q.Invalidate(topicProject, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-folder", ProjectID: m.project.ID,
			Metadata: map[string]any{"environment": env.Slug, "folderId": f.ID, "folderName": f.Name, "folderPath": parentPath}})
	})
	if err != nil {
		return nil, err
	}
	res := folderFromRow(out)
	return &res, nil
}

// envOf resolves an environment slug, re-reading the project once when the
// cached structure does not know it (another server may have just made it).
func (e *Engine) envOf(ctx context.Context, m *projectMeta, slug string) (*store.Environment, error) {
	r, err := e.resolve(ctx, m, slug, "/")
	if err != nil {
		return nil, err
	}
	return r.env, nil
}

// List returns the direct sub-folders of the scope's path, by name. A path
// that does not exist has no sub-folders.
func (s *FolderService) List(ctx context.Context, actor Actor, ref ProjectRef, scope FolderScope) ([]Folder, error) {
	e := s.e
	path, err := scope.parent()
	if err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	r, err := e.resolve(ctx, m, scope.Environment, path)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectSecretFolders, folderPermAttrs(r.env.Slug, path)); err != nil {
		return nil, err
	}
	out := []Folder{}
	if r.folder != nil {
		for _, c := range r.tree.children[r.folder.ID] {
			out = append(out, folderFromRow(c))
		}
	}
	e.auditRead(actor, AuditEvent{Type: "get-folders", ProjectID: m.project.ID,
		Metadata: map[string]any{"environment": r.env.Slug, "folderPath": path, "numberOfFolders": len(out)}})
	return out, nil
}

// Get returns a folder by id with its path and environment. The caller
// needs read access to folders at the folder's parent path (what listing
// the folder would need).
func (s *FolderService) Get(ctx context.Context, actor Actor, folderID string) (*FolderDetail, error) {
	e := s.e
	folderID = strings.TrimSpace(folderID)
	f, env, err := e.store.Read().GetFolderWithEnv(ctx, folderID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Folder with ID '%s' not found", folderID)
	}
	if err != nil {
		return nil, Internal("load folder", err)
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: env.ProjectID})
	if err != nil {
		if IsNotFound(err) {
			return nil, NotFound("Folder with ID '%s' not found", folderID)
		}
		return nil, err
	}
	path, err := e.folderPath(ctx, m, f)
	if err != nil {
		return nil, err
	}
	parentPath, _ := secretpath.Parent(path)
	if err := set.Check(permission.ActionRead, permission.SubjectSecretFolders, folderPermAttrs(env.Slug, parentPath)); err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-folder", ProjectID: env.ProjectID,
		Metadata: map[string]any{"environment": env.Slug, "folderId": f.ID, "folderName": f.Name, "folderPath": parentPath}})
	return &FolderDetail{Folder: folderFromRow(f), Path: path, ProjectID: env.ProjectID, EnvName: env.Name, EnvSlug: env.Slug}, nil
}

// folderPath finds the path of f from the cached tree, falling back to the
// database when the tree does not know the folder yet.
func (e *Engine) folderPath(ctx context.Context, m *projectMeta, f *store.Folder) (string, error) {
	t, err := e.tree(ctx, m, f.EnvID)
	if err != nil {
		return "", err
	}
	if p, ok := t.pathOf[f.ID]; ok {
		return p, nil
	}
	p, err := e.store.Read().FolderPath(ctx, f)
	if errors.Is(err, store.ErrNotFound) {
		return "", NotFound("Folder with ID '%s' not found", f.ID)
	}
	if err != nil {
		return "", Internal("resolve folder path", err)
	}
	return p, nil
}

// locateFolder finds the folder a mutation addresses inside q. idOrName is
// a folder id anywhere in the environment (ids are unambiguous, so the
// scope's path is not needed) or, for older clients, the name of a folder
// under the scope's path. It returns the folder and its parent path. The
// root folder cannot be addressed.
func (e *Engine) locateFolder(ctx context.Context, q store.Q, env *store.Environment, parentPath, idOrName string) (*store.Folder, string, error) {
	idOrName = strings.TrimSpace(idOrName)
	if idOrName == "" {
		return nil, "", Invalid("folderId", "folderId is required")
	}
	f, err := q.GetFolder(ctx, idOrName)
	switch {
	case err == nil && f.EnvID == env.ID && f.ParentID != nil:
		p, err := q.FolderPath(ctx, f)
		if err != nil {
			return nil, "", Internal("resolve folder path", err)
		}
		pp, _ := secretpath.Parent(p)
		return f, pp, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, "", Internal("load folder", err)
	}
	if secretpath.ValidFolderName(idOrName) {
		parent, err := q.FolderAtPath(ctx, env.ID, parentPath)
		if err == nil {
			f, err = q.FolderChild(ctx, env.ID, parent.ID, idOrName)
		}
		if err == nil {
			return f, parentPath, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, "", Internal("load folder", err)
		}
	}
	return nil, "", NotFound("Folder with ID or name '%s' in environment with slug '%s' not found", idOrName, env.Slug)
}

// renameFolder applies a new name and description to f inside q, refusing a
// name a sibling already has. The version goes up when anything changes.
func (e *Engine) renameFolder(ctx context.Context, q store.Q, f *store.Folder, name string, desc *string) error {
	changed := false
	if name != f.Name {
		other, err := q.FolderChild(ctx, f.EnvID, *f.ParentID, name)
		if err == nil && other.ID != f.ID {
			return BadRequest("Folder with name '%s' already exists", name)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Internal("check folder name", err)
		}
		f.Name = name
		changed = true
	}
	if desc != nil && (f.Description == nil || *f.Description != *desc) {
		d := *desc
		f.Description = &d
		changed = true
	}
	if !changed {
		return nil
	}
	f.Version++
	f.UpdatedAt = e.now()
	if err := q.Update(ctx, f); err != nil {
		if isDuplicate(err) {
			return BadRequest("Folder with name '%s' already exists", name)
		}
		return Internal("update folder", err)
	}
	return nil
}

// Update renames a folder (and optionally changes its description).
// idOrName is the folder id, or for older clients its name under the
// scope's path.
func (s *FolderService) Update(ctx context.Context, actor Actor, ref ProjectRef, idOrName string, in UpdateFolderInput) (*Folder, error) {
	e := s.e
	name, err := validFolderName("name", in.Name)
	if err != nil {
		return nil, err
	}
	parentPath, err := in.parent()
	if err != nil {
		return nil, err
	}
	if err := validDescription("description", in.Description); err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	env, err := e.envOf(ctx, m, in.Environment)
	if err != nil {
		return nil, err
	}
	var out *store.Folder
	err = e.store.Tx(ctx, func(q store.Q) error {
		f, pp, err := e.locateFolder(ctx, q, env, parentPath, idOrName)
		if err != nil {
			return err
		}
		if err := set.Check(permission.ActionEdit, permission.SubjectSecretFolders, folderPermAttrs(env.Slug, pp)); err != nil {
			return err
		}
		oldName := f.Name
		if err := e.renameFolder(ctx, q, f, name, in.Description); err != nil {
			return err
		}
		out = f
		q.Invalidate(topicProject, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-folder", ProjectID: m.project.ID,
			Metadata: map[string]any{"environment": env.Slug, "folderId": f.ID, "oldFolderName": oldName, "newFolderName": f.Name, "folderPath": pp}})
	})
	if err != nil {
		return nil, err
	}
	res := folderFromRow(out)
	return &res, nil
}

// UpdateBatch renames several folders, all or nothing.
func (s *FolderService) UpdateBatch(ctx context.Context, actor Actor, ref ProjectRef, items []BatchFolderUpdate) ([]Folder, error) {
	e := s.e
	if len(items) == 0 {
		return nil, Invalid("folders", "folders must contain at least one folder")
	}
	if len(items) > e.cfg.MaxBatchSize {
		return nil, Invalid("folders", "folders must contain at most %d folders", e.cfg.MaxBatchSize)
	}
	names := make([]string, len(items))
	for i, it := range items {
		field := fmt.Sprintf("folders.%d.", i)
		if strings.TrimSpace(it.ID) == "" {
			return nil, Invalid(field+"id", "%sid is required", field)
		}
		if strings.TrimSpace(it.Environment) == "" {
			return nil, Invalid(field+"environment", "%senvironment is required", field)
		}
		n, err := validFolderName(field+"name", it.Name)
		if err != nil {
			return nil, err
		}
		names[i] = n
		if _, err := secretpath.Normalize(it.Path); err != nil {
			return nil, Invalid(field+"path", "%s", err.Error())
		}
		if err := validDescription(field+"description", it.Description); err != nil {
			return nil, err
		}
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	envs := make([]*store.Environment, len(items))
	for i, it := range items {
		if envs[i], err = e.envOf(ctx, m, strings.TrimSpace(it.Environment)); err != nil {
			return nil, err
		}
	}
	out := make([]Folder, 0, len(items))
	err = e.store.Tx(ctx, func(q store.Q) error {
		for i, it := range items {
			f, err := q.GetFolder(ctx, strings.TrimSpace(it.ID))
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return Internal("load folder", err)
			}
			if err != nil || f.EnvID != envs[i].ID || f.ParentID == nil {
				return NotFound("Folder with ID '%s' in environment with slug '%s' not found", it.ID, envs[i].Slug)
			}
			p, err := q.FolderPath(ctx, f)
			if err != nil {
				return Internal("resolve folder path", err)
			}
			pp, _ := secretpath.Parent(p)
			if err := set.Check(permission.ActionEdit, permission.SubjectSecretFolders, folderPermAttrs(envs[i].Slug, pp)); err != nil {
				return err
			}
			oldName := f.Name
			if err := e.renameFolder(ctx, q, f, names[i], it.Description); err != nil {
				return err
			}
			out = append(out, folderFromRow(f))
			if err := e.audit(ctx, q, actor, AuditEvent{Type: "update-folder", ProjectID: m.project.ID,
				Metadata: map[string]any{"environment": envs[i].Slug, "folderId": f.ID, "oldFolderName": oldName, "newFolderName": f.Name, "folderPath": pp}}); err != nil {
				return err
			}
		}
		q.Invalidate(topicProject, m.project.ID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a folder with everything below it (sub-folders, secrets,
// their versions and the folders' imports), in one transaction. idOrName is
// the folder id, or its name under the scope's path.
func (s *FolderService) Delete(ctx context.Context, actor Actor, ref ProjectRef, idOrName string, scope FolderScope) (*Folder, error) {
	e := s.e
	parentPath, err := scope.parent()
	if err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	env, err := e.envOf(ctx, m, scope.Environment)
	if err != nil {
		return nil, err
	}
	var out *store.Folder
	err = e.store.Tx(ctx, func(q store.Q) error {
		f, pp, err := e.locateFolder(ctx, q, env, parentPath, idOrName)
		if err != nil {
			return err
		}
		if err := set.Check(permission.ActionDelete, permission.SubjectSecretFolders, folderPermAttrs(env.Slug, pp)); err != nil {
			return err
		}
		if err := q.DeleteFolder(ctx, f.ID); err != nil {
			return Internal("delete folder", err)
		}
		out = f
		q.Invalidate(topicProject, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-folder", ProjectID: m.project.ID,
			Metadata: map[string]any{"environment": env.Slug, "folderId": f.ID, "folderName": f.Name, "folderPath": pp}})
	})
	if err != nil {
		return nil, err
	}
	res := folderFromRow(out)
	return &res, nil
}
