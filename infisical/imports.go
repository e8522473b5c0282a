package infisical

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/secretpath"
	"github.com/infisical-go/engine/infisical/store"
)

// ImportEnv names an environment in an import row.
type ImportEnv struct {
	ID   string
	Name string
	Slug string
}

// SecretImport makes the secrets of another folder (ImportEnv, ImportPath)
// of the same project readable in the folder it belongs to. Imports of a
// folder are ordered by Position (1-based).
type SecretImport struct {
	ID            string
	Version       int
	ImportPath    string
	ImportEnv     ImportEnv
	Position      int
	FolderID      string
	IsReplication bool
	IsReserved    bool
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Location of the importing folder.
	ProjectID   string
	Environment ImportEnv
	SecretPath  string
}

// CreateImportInput is the body of an import create: the destination
// (Environment, Path) and the source (ImportEnvironment, ImportPath).
type CreateImportInput struct {
	Environment       string
	Path              string
	ImportEnvironment string
	ImportPath        string
	// IsReplication asks for replication, which this server does not do.
	IsReplication bool
}

// UpdateImportInput changes an import's source and/or position. nil leaves
// a field unchanged.
type UpdateImportInput struct {
	Environment       string
	Path              string
	ImportEnvironment *string
	ImportPath        *string
	Position          *int
}

// maxImportGraph bounds the walk of the import graph when checking for
// cycles; a project with more import edges than this is refused a new
// import rather than walked forever.
const maxImportGraph = 100000

func importPermAttrs(envSlug, path string) permission.Attributes {
	return permission.Attributes{"environment": envSlug, "secretPath": path}
}

func canonicalPathArg(field, p string) (string, error) {
	out, err := secretpath.Normalize(p)
	if err != nil {
		return "", Invalid(field, "%s", err.Error())
	}
	return out, nil
}

func (e *Engine) importFromRow(m *projectMeta, r *store.SecretImport, dest *store.Environment, destPath string) *SecretImport {
	out := &SecretImport{ID: r.ID, Version: r.Version, ImportPath: r.ImportPath, Position: r.Position, FolderID: r.FolderID,
		IsReplication: r.IsReplication, IsReserved: r.IsReserved, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ProjectID: m.project.ID, SecretPath: destPath}
	if src := m.envByID[r.ImportEnvID]; src != nil {
		out.ImportEnv = ImportEnv{ID: src.ID, Name: src.Name, Slug: src.Slug}
	} else {
		out.ImportEnv = ImportEnv{ID: r.ImportEnvID}
	}
	if dest != nil {
		out.Environment = ImportEnv{ID: dest.ID, Name: dest.Name, Slug: dest.Slug}
	}
	return out
}

// checkImportSource validates a source (env, path) for the destination
// folder dest inside q: the source folder must exist, must not be the
// destination itself, must not already be imported there, and importing it
// must not close a cycle. skipID is the import being updated.
func (e *Engine) checkImportSource(ctx context.Context, q store.Q, dest *store.Folder, destPath string, srcEnv *store.Environment, srcPath, skipID string) error {
	if srcEnv.ID == dest.EnvID && srcPath == destPath {
		return BadRequest("Cannot import a folder into itself")
	}
	if _, err := q.FolderAtPath(ctx, srcEnv.ID, srcPath); errors.Is(err, store.ErrNotFound) {
		return folderNotFoundAt(srcPath, srcEnv.Slug)
	} else if err != nil {
		return Internal("resolve import source", err)
	}
	existing, err := q.ListImportsOfFolder(ctx, dest.ID)
	if err != nil {
		return Internal("list imports", err)
	}
	for i := range existing {
		if existing[i].ID != skipID && existing[i].ImportEnvID == srcEnv.ID && existing[i].ImportPath == srcPath {
			return BadRequest("Secret import of '%s' from environment '%s' already exists", srcPath, srcEnv.Slug)
		}
	}
	cyclic, err := importReaches(ctx, q, srcEnv.ID, srcPath, dest.EnvID, destPath)
	if err != nil {
		return err
	}
	if cyclic {
		return BadRequest("Importing '%s' from environment '%s' would create a cyclic import", srcPath, srcEnv.Slug)
	}
	return nil
}

// importReaches reports whether the folder (toEnv, toPath) is reachable
// from (fromEnv, fromPath) by following imports transitively: adding an
// import to→from would then close a cycle.
func importReaches(ctx context.Context, q store.Q, fromEnv, fromPath, toEnv, toPath string) (bool, error) {
	type node struct{ env, path string }
	target := node{toEnv, toPath}
	seen := map[node]bool{}
	queue := []node{{fromEnv, fromPath}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == target {
			return true, nil
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		if len(seen) > maxImportGraph {
			return false, BadRequest("The import graph of this project is too large to check for cycles")
		}
		f, err := q.FolderAtPath(ctx, n.env, n.path)
		if errors.Is(err, store.ErrNotFound) {
			continue // a dangling import leads nowhere
		}
		if err != nil {
			return false, Internal("resolve imported folder", err)
		}
		imps, err := q.ListImportsOfFolder(ctx, f.ID)
		if err != nil {
			return false, Internal("list imports", err)
		}
		for i := range imps {
			queue = append(queue, node{imps[i].ImportEnvID, imps[i].ImportPath})
		}
	}
	return false, nil
}

// Create adds an import at the end of the destination folder's imports.
// The caller needs create on secret-imports at the destination and read on
// secrets at the source (one cannot import what one cannot read).
func (s *ImportService) Create(ctx context.Context, actor Actor, ref ProjectRef, in CreateImportInput) (*SecretImport, error) {
	e := s.e
	if strings.TrimSpace(in.Environment) == "" {
		return nil, Invalid("environment", "environment is required")
	}
	if strings.TrimSpace(in.ImportEnvironment) == "" {
		return nil, Invalid("import.environment", "import.environment is required")
	}
	destPath, err := canonicalPathArg("path", in.Path)
	if err != nil {
		return nil, err
	}
	srcPath, err := canonicalPathArg("import.path", in.ImportPath)
	if err != nil {
		return nil, err
	}
	if in.IsReplication {
		return nil, BadRequest("Secret replication is not supported on this server")
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	dest, err := e.envOf(ctx, m, strings.TrimSpace(in.Environment))
	if err != nil {
		return nil, err
	}
	src, err := e.envOf(ctx, m, strings.TrimSpace(in.ImportEnvironment))
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.SubjectSecretImports, importPermAttrs(dest.Slug, destPath)); err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectSecrets, importPermAttrs(src.Slug, srcPath)); err != nil {
		return nil, err
	}
	var row *store.SecretImport
	err = e.store.Tx(ctx, func(q store.Q) error {
		folder, err := q.FolderAtPath(ctx, dest.ID, destPath)
		if errors.Is(err, store.ErrNotFound) {
			return folderNotFoundAt(destPath, dest.Slug)
		}
		if err != nil {
			return Internal("resolve folder", err)
		}
		if err := e.checkImportSource(ctx, q, folder, destPath, src, srcPath, ""); err != nil {
			return err
		}
		existing, err := q.ListImportsOfFolder(ctx, folder.ID)
		if err != nil {
			return Internal("list imports", err)
		}
		now := e.now()
		row = &store.SecretImport{ID: uuid.NewString(), FolderID: folder.ID, ImportEnvID: src.ID, ImportPath: srcPath,
			Position: len(existing) + 1, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, row); err != nil {
			return Internal("create secret import", err)
		}
		// Readers that cache resolved secrets depend on the import graph.
		q.Invalidate(topicProject, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-secret-import", ProjectID: m.project.ID,
			Metadata: map[string]any{"secretImportId": row.ID, "folderId": folder.ID, "importFromEnvironment": src.Slug,
				"importFromSecretPath": srcPath, "importToEnvironment": dest.Slug, "importToSecretPath": destPath}})
	})
	if err != nil {
		return nil, err
	}
	return e.importFromRow(m, row, dest, destPath), nil
}

// List returns the imports of a folder by position.
func (s *ImportService) List(ctx context.Context, actor Actor, ref ProjectRef, environment, path string) ([]*SecretImport, error) {
	e := s.e
	if strings.TrimSpace(environment) == "" {
		return nil, Invalid("environment", "environment is required")
	}
	p, err := canonicalPathArg("path", path)
	if err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	r, err := e.resolve(ctx, m, strings.TrimSpace(environment), p)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectSecretImports, importPermAttrs(r.env.Slug, p)); err != nil {
		return nil, err
	}
	if err := r.mustFolder(); err != nil {
		return nil, err
	}
	rows, err := e.store.Read().ListImportsOfFolder(ctx, r.folder.ID)
	if err != nil {
		return nil, Internal("list imports", err)
	}
	out := make([]*SecretImport, 0, len(rows))
	for i := range rows {
		out = append(out, e.importFromRow(m, &rows[i], r.env, p))
	}
	e.auditRead(actor, AuditEvent{Type: "get-secret-imports", ProjectID: m.project.ID,
		Metadata: map[string]any{"environment": r.env.Slug, "folderId": r.folder.ID, "secretPath": p, "numberOfImports": len(out)}})
	return out, nil
}

// importLocation loads an import by id inside q with its folder, checks it
// belongs to project m (and, when envSlug is given, to that environment)
// and returns the destination environment and path.
func (e *Engine) importLocation(ctx context.Context, q store.Q, m *projectMeta, id, envSlug string) (*store.SecretImport, *store.Folder, *store.Environment, string, error) {
	notFound := NotFound("Secret import with ID '%s' not found", id)
	imp, err := q.GetImport(ctx, strings.TrimSpace(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, "", notFound
	}
	if err != nil {
		return nil, nil, nil, "", Internal("load secret import", err)
	}
	f, err := q.GetFolder(ctx, imp.FolderID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, "", notFound
	}
	if err != nil {
		return nil, nil, nil, "", Internal("load folder", err)
	}
	env := m.envByID[f.EnvID]
	if env == nil {
		// Unknown to the cached project: either another project's import
		// or an environment made a moment ago elsewhere.
		var row store.Environment
		if err := q.GetByID(ctx, &row, f.EnvID); err != nil || row.ProjectID != m.project.ID {
			return nil, nil, nil, "", notFound
		}
		env = &row
	}
	if envSlug != "" && env.Slug != envSlug {
		return nil, nil, nil, "", notFound
	}
	p, err := q.FolderPath(ctx, f)
	if err != nil {
		return nil, nil, nil, "", Internal("resolve folder path", err)
	}
	return imp, f, env, p, nil
}

// Get returns one import by id.
func (s *ImportService) Get(ctx context.Context, actor Actor, id string) (*SecretImport, error) {
	e := s.e
	q := e.store.Read()
	imp, err := q.GetImport(ctx, strings.TrimSpace(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Secret import with ID '%s' not found", id)
	}
	if err != nil {
		return nil, Internal("load secret import", err)
	}
	_, env, err := q.GetFolderWithEnv(ctx, imp.FolderID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Secret import with ID '%s' not found", id)
	}
	if err != nil {
		return nil, Internal("load folder", err)
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: env.ProjectID})
	if err != nil {
		if IsNotFound(err) {
			return nil, NotFound("Secret import with ID '%s' not found", id)
		}
		return nil, err
	}
	imp, _, dest, path, err := e.importLocation(ctx, q, m, id, "")
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectSecretImports, importPermAttrs(dest.Slug, path)); err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-secret-import", ProjectID: m.project.ID,
		Metadata: map[string]any{"secretImportId": imp.ID, "folderId": imp.FolderID, "environment": dest.Slug, "secretPath": path}})
	return e.importFromRow(m, imp, dest, path), nil
}

// Update changes an import's source and/or moves it to Position (1-based;
// the other imports of the folder are renumbered). The import is addressed
// by id within Environment; the path is not needed to find it.
func (s *ImportService) Update(ctx context.Context, actor Actor, ref ProjectRef, id string, in UpdateImportInput) (*SecretImport, error) {
	e := s.e
	envSlug := strings.TrimSpace(in.Environment)
	if envSlug == "" {
		return nil, Invalid("environment", "environment is required")
	}
	if _, err := canonicalPathArg("path", in.Path); err != nil {
		return nil, err
	}
	var srcPath string
	if in.ImportPath != nil {
		p, err := canonicalPathArg("import.path", *in.ImportPath)
		if err != nil {
			return nil, err
		}
		srcPath = p
	}
	if in.ImportEnvironment != nil && strings.TrimSpace(*in.ImportEnvironment) == "" {
		return nil, Invalid("import.environment", "import.environment must not be empty")
	}
	if in.Position != nil && *in.Position < 1 {
		return nil, Invalid("import.position", "import.position must be at least 1")
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if _, err := e.envOf(ctx, m, envSlug); err != nil {
		return nil, err
	}
	var newSrc *store.Environment
	if in.ImportEnvironment != nil {
		if newSrc, err = e.envOf(ctx, m, strings.TrimSpace(*in.ImportEnvironment)); err != nil {
			return nil, err
		}
	}
	var (
		row      *store.SecretImport
		dest     *store.Environment
		destPath string
	)
	err = e.store.Tx(ctx, func(q store.Q) error {
		imp, folder, env, path, err := e.importLocation(ctx, q, m, id, envSlug)
		if err != nil {
			return err
		}
		dest, destPath = env, path
		if err := set.Check(permission.ActionEdit, permission.SubjectSecretImports, importPermAttrs(env.Slug, path)); err != nil {
			return err
		}
		changed := false
		if in.ImportEnvironment != nil || in.ImportPath != nil {
			src := m.envByID[imp.ImportEnvID]
			if newSrc != nil {
				src = newSrc
			}
			if src == nil {
				return NotFound("Environment with ID '%s' not found", imp.ImportEnvID)
			}
			p := imp.ImportPath
			if in.ImportPath != nil {
				p = srcPath
			}
			if src.ID != imp.ImportEnvID || p != imp.ImportPath {
				if err := set.Check(permission.ActionRead, permission.SubjectSecrets, importPermAttrs(src.Slug, p)); err != nil {
					return err
				}
				if err := e.checkImportSource(ctx, q, folder, path, src, p, imp.ID); err != nil {
					return err
				}
				imp.ImportEnvID, imp.ImportPath = src.ID, p
				changed = true
			}
		}
		if in.Position != nil && *in.Position != imp.Position {
			pos, err := e.moveImport(ctx, q, folder.ID, imp.ID, *in.Position)
			if err != nil {
				return err
			}
			imp.Position = pos
			changed = true
		}
		if changed {
			imp.Version++
			imp.UpdatedAt = e.now()
			if err := q.Update(ctx, imp); err != nil {
				return Internal("update secret import", err)
			}
			q.Invalidate(topicProject, m.project.ID)
		}
		row = imp
		if !changed {
			return nil
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-secret-import", ProjectID: m.project.ID,
			Metadata: map[string]any{"secretImportId": imp.ID, "folderId": folder.ID, "importToEnvironment": env.Slug, "importToSecretPath": path,
				"position": imp.Position, "importFromEnvironment": envSlugOf(m, imp.ImportEnvID, newSrc), "importFromSecretPath": imp.ImportPath}})
	})
	if err != nil {
		return nil, err
	}
	return e.importFromRow(m, row, dest, destPath), nil
}

// moveImport renumbers the imports of a folder so that id sits at pos
// (clamped to the last position) and returns the final position. The moved
// import's own row is written by the caller.
func (e *Engine) moveImport(ctx context.Context, q store.Q, folderID, id string, pos int) (int, error) {
	list, err := q.ListImportsOfFolder(ctx, folderID)
	if err != nil {
		return 0, Internal("list imports", err)
	}
	var moving *store.SecretImport
	rest := make([]store.SecretImport, 0, len(list))
	for i := range list {
		if list[i].ID == id {
			moving = &list[i]
			continue
		}
		rest = append(rest, list[i])
	}
	if moving == nil {
		return 0, NotFound("Secret import with ID '%s' not found", id)
	}
	if pos > len(list) {
		pos = len(list)
	}
	ordered := make([]store.SecretImport, 0, len(list))
	ordered = append(ordered, rest[:pos-1]...)
	ordered = append(ordered, *moving)
	ordered = append(ordered, rest[pos-1:]...)
	if err := renumberImports(ctx, q, ordered, id); err != nil {
		return 0, err
	}
	return pos, nil
}

// renumberImports writes positions 1..n to list in order, skipping rows
// already in place and the row skipID (written by the caller).
func renumberImports(ctx context.Context, q store.Q, list []store.SecretImport, skipID string) error {
	for i := range list {
		if list[i].ID == skipID || list[i].Position == i+1 {
			continue
		}
		if err := q.SetImportPosition(ctx, list[i].ID, i+1); err != nil {
			return Internal("renumber secret imports", err)
		}
	}
	return nil
}

// Delete removes an import and renumbers the folder's remaining imports.
func (s *ImportService) Delete(ctx context.Context, actor Actor, ref ProjectRef, id, environment, path string) (*SecretImport, error) {
	e := s.e
	envSlug := strings.TrimSpace(environment)
	if envSlug == "" {
		return nil, Invalid("environment", "environment is required")
	}
	if _, err := canonicalPathArg("path", path); err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if _, err := e.envOf(ctx, m, envSlug); err != nil {
		return nil, err
	}
	var out *SecretImport
	err = e.store.Tx(ctx, func(q store.Q) error {
		imp, folder, env, p, err := e.importLocation(ctx, q, m, id, envSlug)
		if err != nil {
			return err
		}
		if err := set.Check(permission.ActionDelete, permission.SubjectSecretImports, importPermAttrs(env.Slug, p)); err != nil {
			return err
		}
		if err := q.DeleteImport(ctx, imp.ID); err != nil {
			return Internal("delete secret import", err)
		}
		rest, err := q.ListImportsOfFolder(ctx, folder.ID)
		if err != nil {
			return Internal("list imports", err)
		}
		if err := renumberImports(ctx, q, rest, ""); err != nil {
			return err
		}
		q.Invalidate(topicProject, m.project.ID)
		out = e.importFromRow(m, imp, env, p)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-secret-import", ProjectID: m.project.ID,
			Metadata: map[string]any{"secretImportId": imp.ID, "folderId": folder.ID, "importFromEnvironment": envSlugOf(m, imp.ImportEnvID),
				"importFromSecretPath": imp.ImportPath, "importToEnvironment": env.Slug, "importToSecretPath": p}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
