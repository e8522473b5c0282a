package infisical

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/infisical-go/engine/infisical/secretpath"
	"github.com/infisical-go/engine/infisical/store"
)

// projectMeta is the cached, read-mostly structure of a project: its row,
// environments and folder trees. Any change to them publishes a project
// invalidation, here and (PostgreSQL) in other processes.
type projectMeta struct {
	project   store.Project
	envs      []store.Environment
	envBySlug map[string]*store.Environment
	envByID   map[string]*store.Environment

	mu      sync.Mutex
	trees   map[string]*folderTree
	imports map[string][]store.SecretImport // by folder id (SQLite only)
}

// folderTree indexes one environment's folders by path and id.
type folderTree struct {
	root     *store.Folder
	byPath   map[string]*store.Folder
	byID     map[string]*store.Folder
	pathOf   map[string]string
	children map[string][]*store.Folder
}

func (t *folderTree) descendants(path string) []*store.Folder {
	start := t.byPath[path]
	if start == nil {
		return nil
	}
	var out []*store.Folder
	stack := []*store.Folder{start}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, f)
		kids := t.children[f.ID]
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return out
}

func buildTree(rows []store.Folder) *folderTree {
	t := &folderTree{byPath: map[string]*store.Folder{}, byID: map[string]*store.Folder{}, pathOf: map[string]string{}, children: map[string][]*store.Folder{}}
	for i := range rows {
		f := &rows[i]
		t.byID[f.ID] = f
		if f.ParentID == nil {
			t.root = f
		} else {
			t.children[*f.ParentID] = append(t.children[*f.ParentID], f)
		}
	}
	for _, kids := range t.children {
		sort.Slice(kids, func(i, j int) bool { return kids[i].Name < kids[j].Name })
	}
	if t.root == nil {
		return t
	}
	var walk func(f *store.Folder, p string)
	walk = func(f *store.Folder, p string) {
		t.byPath[p] = f
		t.pathOf[f.ID] = p
		for _, c := range t.children[f.ID] {
			walk(c, secretpath.Join(p, c.Name))
		}
	}
	walk(t.root, "/")
	return t
}

type metaCache struct{ c *genCache[*projectMeta] }

func (e *Engine) meta(ctx context.Context, projectID string) (*projectMeta, error) {
	if m, ok := e.metas.c.get(projectID, projectID); ok {
		return m, nil
	}
	gen, global := e.metas.c.stamp(projectID)
	q := e.store.Read()
	p, err := q.GetProject(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Project with ID '%s' not found", projectID)
	}
	if err != nil {
		return nil, Internal("load project", err)
	}
	envs, err := q.ListEnvironments(ctx, projectID)
	if err != nil {
		return nil, Internal("load environments", err)
	}
	m := &projectMeta{project: *p, envs: envs, envBySlug: map[string]*store.Environment{}, envByID: map[string]*store.Environment{}, trees: map[string]*folderTree{}}
	for i := range m.envs {
		m.envBySlug[m.envs[i].Slug] = &m.envs[i]
		m.envByID[m.envs[i].ID] = &m.envs[i]
	}
	e.metas.c.put(projectID, projectID, gen, global, m)
	return m, nil
}

// tree returns the folder tree of an environment, loading it once per
// cached projectMeta.
func (e *Engine) tree(ctx context.Context, m *projectMeta, envID string) (*folderTree, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.trees[envID]; ok {
		return t, nil
	}
	rows, err := e.store.Read().ListFolders(ctx, envID)
	if err != nil {
		return nil, Internal("load folders", err)
	}
	t := buildTree(rows)
	m.trees[envID] = t
	return t, nil
}

// env resolves an environment slug.
func (m *projectMeta) env(slug string) (*store.Environment, error) {
	if slug == "" {
		return nil, BadRequest("Missing environment")
	}
	env := m.envBySlug[slug]
	if env == nil {
		return nil, NotFound("Environment with slug '%s' in project with ID '%s' not found", slug, m.project.ID)
	}
	return env, nil
}

// resolved is a (project, environment, folder) location.
type resolved struct {
	meta   *projectMeta
	env    *store.Environment
	tree   *folderTree
	path   string
	folder *store.Folder // nil when the path does not exist
}

// resolve finds the folder at path in env. A missing folder is not an
// error here; callers decide (lists return empty, writes 404).
//
// With PostgreSQL another server may have just created the environment or
// folder, and its invalidation may still be in flight; a miss therefore
// re-reads the database once before it is believed.
func (e *Engine) resolve(ctx context.Context, m *projectMeta, envSlug, path string) (*resolved, error) {
	p, err := secretpath.Normalize(path)
	if err != nil {
		return nil, Invalid("secretPath", "%s", err.Error())
	}
	env, err := m.env(envSlug)
	if err != nil && KindOf(err) == KindNotFound && e.store.IsPostgres() {
		e.metas.c.bump(m.project.ID)
		fresh, ferr := e.meta(ctx, m.project.ID)
		if ferr != nil {
			return nil, ferr
		}
		m = fresh
		env, err = m.env(envSlug)
	}
	if err != nil {
		return nil, err
	}
	t, err := e.tree(ctx, m, env.ID)
	if err != nil {
		return nil, err
	}
	if t.byPath[p] == nil && e.store.IsPostgres() {
		if t, err = e.reloadTree(ctx, m, env.ID); err != nil {
			return nil, err
		}
	}
	return &resolved{meta: m, env: env, tree: t, path: p, folder: t.byPath[p]}, nil
}

// reloadTree re-reads an environment's folders into m.
func (e *Engine) reloadTree(ctx context.Context, m *projectMeta, envID string) (*folderTree, error) {
	rows, err := e.store.Read().ListFolders(ctx, envID)
	if err != nil {
		return nil, Internal("load folders", err)
	}
	t := buildTree(rows)
	m.mu.Lock()
	m.trees[envID] = t
	m.mu.Unlock()
	return t, nil
}

func (r *resolved) mustFolder() error {
	if r.folder == nil {
		return NotFound("Folder with path '%s' in environment with slug '%s' not found", r.path, r.env.Slug)
	}
	return nil
}
