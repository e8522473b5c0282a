package infisical

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/reference"
	"github.com/infisical-go/engine/infisical/secretpath"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// maxImportDepth bounds how many levels of imports (an import's imports
// and so on) a read follows.
const maxImportDepth = 10

// secretReader turns stored rows into the secrets one request may see. It
// holds what the request resolved once: the project, the actor's compiled
// permissions and the project's data key, plus (when references are
// expanded) the rows already loaded per folder, so that a reference into a
// listed folder or an import costs no extra query.
type secretReader struct {
	e      *Engine
	m      *projectMeta
	set    *permission.Set
	aead   *kms.AEAD
	q      store.Q
	hide   bool
	exp    *reference.Expander
	noExp  bool // expansion suspended (building import blocks for a get)
	scopes map[reference.Scope]*scopeRows

	attrs      permission.Attributes
	tagScratch []string
}

// scopeRows are the shared secrets of one folder.
type scopeRows struct {
	env  *store.Environment
	path string
	rows []*store.Secret
	tags map[string][]store.Tag
}

func (e *Engine) newSecretReader(ctx context.Context, actor Actor, m *projectMeta, set *permission.Set, hide, expand bool) (*secretReader, error) {
	q := e.store.Read()
	aead, err := e.keys.projectKey(ctx, q, &m.project)
	if err != nil {
		return nil, Internal("load project key", err)
	}
	rd := &secretReader{e: e, m: m, set: set, aead: aead, q: q, hide: hide}
	if expand {
		rd.scopes = map[reference.Scope]*scopeRows{}
		rd.exp = reference.NewExpander(rd.fetch, reference.Options{MaxDepth: e.cfg.MaxReferenceDepth})
	}
	return rd, nil
}

// load reads the secrets of folders (shared, plus owner's personal ones when
// owner is set) with their tags: one query for the rows (tag ids
// aggregated) and, when any row has tags, one for the distinct tags.
func (rd *secretReader) load(ctx context.Context, folderIDs []string, owner string) ([]store.Secret, map[string][]store.Tag, error) {
	if rd.e.folders.enabled {
		return rd.loadCached(ctx, folderIDs, owner)
	}
	withTags, err := rd.q.ListSecretsWithTags(ctx, folderIDs, owner)
	if err != nil {
		return nil, nil, Internal("list secrets", err)
	}
	rows := make([]store.Secret, len(withTags))
	lists := make([][]string, len(withTags))
	for i := range withTags {
		rows[i] = withTags[i].Secret
		lists[i] = withTags[i].TagIDs()
	}
	resolved, err := rd.tagsByIDLists(ctx, lists)
	if err != nil {
		return nil, nil, err
	}
	tags := map[string][]store.Tag{}
	for i, ts := range resolved {
		if len(ts) > 0 {
			tags[rows[i].ID] = ts
		}
	}
	return rows, tags, nil
}

// tagsByIDLists resolves lists of tag ids with one query for the distinct
// ids; each result is ordered by slug.
func (rd *secretReader) tagsByIDLists(ctx context.Context, lists [][]string) ([][]store.Tag, error) {
	out := make([][]store.Tag, len(lists))
	var distinct []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, id := range l {
			if !seen[id] {
				seen[id] = true
				distinct = append(distinct, id)
			}
		}
	}
	if len(distinct) == 0 {
		return out, nil
	}
	tagRows, err := rd.q.TagsByIDs(ctx, rd.m.project.ID, distinct)
	if err != nil {
		return nil, Internal("load tags", err)
	}
	byID := make(map[string]*store.Tag, len(tagRows))
	for i := range tagRows {
		byID[tagRows[i].ID] = &tagRows[i]
	}
	for i, l := range lists {
		if len(l) == 0 {
			continue
		}
		ts := make([]store.Tag, 0, len(l))
		for _, id := range l {
			if t := byID[id]; t != nil {
				ts = append(ts, *t)
			}
		}
		slices.SortFunc(ts, func(a, b store.Tag) int {
			if c := strings.Compare(a.Slug, b.Slug); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		out[i] = ts
	}
	return out, nil
}

// remember records the shared rows of each folder in rows as the contents
// of its scope, for reference expansion.
func (rd *secretReader) remember(env *store.Environment, tree *folderTree, rows []store.Secret, tags map[string][]store.Tag) {
	if rd.exp == nil {
		return
	}
	byFolder := map[string]*scopeRows{}
	for i := range rows {
		row := &rows[i]
		if row.OwnerID != "" {
			continue
		}
		sr := byFolder[row.FolderID]
		if sr == nil {
			sr = &scopeRows{env: env, path: tree.pathOf[row.FolderID], tags: tags}
			byFolder[row.FolderID] = sr
		}
		sr.rows = append(sr.rows, row)
	}
	for _, sr := range byFolder {
		sc := reference.Scope{Env: env.Slug, Path: sr.path}
		if _, ok := rd.scopes[sc]; !ok {
			rd.scopes[sc] = sr
		}
	}
}

// rememberFolder records that a folder (possibly empty) has been loaded.
func (rd *secretReader) rememberFolder(env *store.Environment, path string, rows []store.Secret, tags map[string][]store.Tag) {
	if rd.exp == nil {
		return
	}
	sc := reference.Scope{Env: env.Slug, Path: path}
	if _, ok := rd.scopes[sc]; ok {
		return
	}
	sr := &scopeRows{env: env, path: path, tags: tags}
	for i := range rows {
		if rows[i].OwnerID == "" {
			sr.rows = append(sr.rows, &rows[i])
		}
	}
	rd.scopes[sc] = sr
}

// secret converts a row at (env, path). ok is false when the actor may not
// describe it. The value is masked when the request asked so or the actor
// lacks readValue, and otherwise decrypted and, when asked, expanded.
func (rd *secretReader) secret(ctx context.Context, row *store.Secret, env *store.Environment, path string, tags []store.Tag) (Secret, bool, error) {
	// One scratch map per reader: Can does not keep it, and a list of many
	// secrets would otherwise allocate a map per secret.
	if rd.attrs == nil {
		rd.attrs = permission.Attributes{}
	}
	attrs := rd.attrs
	rd.tagScratch = rd.tagScratch[:0]
	for i := range tags {
		rd.tagScratch = append(rd.tagScratch, tags[i].Slug)
	}
	if rd.tagScratch == nil {
		rd.tagScratch = []string{}
	}
	attrs["environment"], attrs["secretPath"], attrs["secretName"], attrs["secretTags"] = env.Slug, path, row.Key, rd.tagScratch
	if !rd.set.Can(permission.ActionDescribeSecret, permission.SubjectSecrets, attrs) {
		return Secret{}, false, nil
	}
	hidden := rd.hide || !rd.set.Can(permission.ActionReadValue, permission.SubjectSecrets, attrs)
	sec, err := rowToSecret(rd.aead, rd.m.project.ID, row, env, path, tags, hidden)
	if err != nil || hidden {
		return sec, err == nil, err
	}
	if rd.exp != nil && !rd.noExp {
		if sec.Value, err = rd.expandValue(ctx, reference.Scope{Env: env.Slug, Path: path}, row.Key, sec.Value); err != nil {
			return Secret{}, false, err
		}
	}
	return sec, true, nil
}

// rowToSecret decrypts a row into a Secret; hidden masks the value (and
// encrypted metadata).
func rowToSecret(aead *kms.AEAD, projectID string, row *store.Secret, env *store.Environment, path string, tags []store.Tag, hidden bool) (Secret, error) {
	sec := Secret{
		ID: row.ID, ProjectID: projectID, Environment: env.Slug, SecretPath: path, FolderID: row.FolderID,
		Version: row.Version, Type: row.Type, Key: row.Key, ValueHidden: hidden,
		ReminderNote: row.ReminderNote, ReminderRepeatDays: row.ReminderRepeatDays,
		SkipMultilineEncoding: row.SkipMultilineEncoding, Actor: actorOfRow(row),
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
		Tags: make([]SecretTag, len(tags)),
	}
	for i := range tags {
		sec.Tags[i] = SecretTag{ID: tags[i].ID, Slug: tags[i].Slug, Color: tags[i].Color}
	}
	var err error
	if sec.Comment, err = openString(aead, row.EncryptedComment); err != nil {
		return Secret{}, err
	}
	if sec.Metadata, err = openMetadata(aead, row.Metadata, hidden); err != nil {
		return Secret{}, err
	}
	if hidden {
		sec.Value = HiddenSecretValue
		return sec, nil
	}
	if sec.Value, err = openString(aead, row.EncryptedValue); err != nil {
		return Secret{}, err
	}
	return sec, nil
}

// ---- references -------------------------------------------------------------

// deniedMark starts the placeholder the fetcher returns for a referenced
// secret the actor may not read. The Fetcher contract has no per-key
// error, and treating such a key as missing would silently leave the
// reference unexpanded; a placeholder that survives expansion lets the
// reader report the exact secret instead. NUL bytes keep it from colliding
// with anything a client sends in practice.
const deniedMark = "\x00infisical-denied-reference\x00"

func deniedPlaceholder(sc reference.Scope, key string) string {
	return deniedMark + sc.Env + "\x00" + sc.Path + "\x00" + key + "\x00"
}

// fetch is the expander's Fetcher: the shared secrets of a scope, after
// checking that the actor may read values there.
func (rd *secretReader) fetch(ctx context.Context, sc reference.Scope) (map[string]string, error) {
	env := rd.m.envBySlug[sc.Env]
	if env == nil {
		return map[string]string{}, nil
	}
	if err := rd.set.Check(permission.ActionReadValue, permission.SubjectSecrets, folderAttrs(env.Slug, sc.Path)); err != nil {
		return nil, err
	}
	sr := rd.scopes[sc]
	if sr == nil {
		t, err := rd.e.tree(ctx, rd.m, env.ID)
		if err != nil {
			return nil, err
		}
		f := t.byPath[sc.Path]
		if f == nil {
			return map[string]string{}, nil
		}
		rows, tags, err := rd.load(ctx, []string{f.ID}, "")
		if err != nil {
			return nil, err
		}
		rd.rememberFolder(env, sc.Path, rows, tags)
		sr = rd.scopes[sc]
	}
	out := make(map[string]string, len(sr.rows))
	for _, row := range sr.rows {
		attrs := secretAttrs(env.Slug, sc.Path, row.Key, tagSlugs(sr.tags[row.ID]))
		if !rd.set.Can(permission.ActionReadValue, permission.SubjectSecrets, attrs) {
			out[row.Key] = deniedPlaceholder(sc, row.Key)
			continue
		}
		v, err := openString(rd.aead, row.EncryptedValue)
		if err != nil {
			return nil, err
		}
		out[row.Key] = v
	}
	return out, nil
}

// expandValue expands the references in value, a value of secret key at
// origin.
func (rd *secretReader) expandValue(ctx context.Context, origin reference.Scope, key, value string) (string, error) {
	if !strings.Contains(value, "${") {
		return value, nil
	}
	out, err := rd.exp.Expand(ctx, origin, key, value)
	if err != nil {
		return "", refError(key, err)
	}
	if i := strings.Index(out, deniedMark); i >= 0 {
		parts := strings.SplitN(out[i+len(deniedMark):], "\x00", 4)
		if len(parts) < 3 {
			return "", Internal("expand secret references", errors.New("malformed denial placeholder"))
		}
		env, path, ref := parts[0], parts[1], parts[2]
		rules := rd.set.Explain(permission.ActionReadValue, permission.SubjectSecrets)
		return "", deniedRefError(key, ref, env, path, rules)
	}
	return out, nil
}

func deniedRefError(key, ref, env, path string, rules []permission.Rule) error {
	details := make([]map[string]any, 0, len(rules))
	for _, r := range rules {
		details = append(details, map[string]any{"action": r.Action, "subject": r.Subject, "inverted": r.Inverted, "conditions": r.Conditions})
	}
	return &Error{Kind: KindPermissionDenied,
		Message: fmt.Sprintf("You are not allowed to read the secret '%s' in environment '%s' at path '%s', referenced by secret '%s'", ref, env, path, key),
		Details: details}
}

// refError maps an expansion failure to an engine error.
func refError(key string, err error) error {
	var fe *reference.FetchError
	if errors.As(err, &fe) {
		var d *permission.DeniedError
		if errors.As(fe.Err, &d) {
			return deniedRefError(key, fe.Key, fe.Scope.Env, fe.Scope.Path, d.Rules)
		}
		if KindOf(fe.Err) != KindInternal {
			return fe.Err
		}
		return Internal("resolve secret reference", fe.Err)
	}
	if errors.Is(err, reference.ErrTooLarge) || errors.Is(err, reference.ErrTooManyRefs) {
		return BadRequest("%s", err.Error())
	}
	return Internal("expand secret references", err)
}

// ---- imports ----------------------------------------------------------------

func importKey(envID, path string) string { return envID + "\x00" + path }

// imports returns the import blocks of folders (folder order, then import
// position). Each block holds the imported folder's secrets followed by
// those of its own imports, depth first, up to maxImportDepth levels; a
// folder already visited (the listed folders, every top-level import, and
// anything seen deeper) is not followed again, which also breaks cycles.
func (rd *secretReader) imports(ctx context.Context, env *store.Environment, tree *folderTree, folders []*store.Folder) ([]ImportedSecrets, error) {
	out := []ImportedSecrets{}
	var imps []store.SecretImport
	var err error
	if len(folders) == 1 {
		imps, err = rd.importsOf(ctx, folders[0].ID)
	} else if rd.e.folders.enabled {
		for _, f := range folders {
			more, ferr := rd.importsOf(ctx, f.ID)
			if ferr != nil {
				err = ferr
				break
			}
			imps = append(imps, more...)
		}
	} else {
		ids := make([]string, len(folders))
		order := make(map[string]int, len(folders))
		for i, f := range folders {
			ids[i] = f.ID
			order[f.ID] = i
		}
		imps, err = rd.q.ListImportsOfFolders(ctx, ids)
		slices.SortStableFunc(imps, func(a, b store.SecretImport) int { return order[a.FolderID] - order[b.FolderID] })
	}
	if err != nil {
		return nil, Internal("list secret imports", err)
	}
	if len(imps) == 0 {
		return out, nil
	}
	visited := map[string]bool{}
	for _, f := range folders {
		visited[importKey(env.ID, tree.pathOf[f.ID])] = true
	}
	type target struct {
		env  *store.Environment
		path string
		f    *store.Folder
	}
	targets := make([]*target, len(imps))
	for i := range imps {
		env, path, f, err := rd.importTarget(ctx, &imps[i])
		if err != nil {
			return nil, err
		}
		if f != nil {
			targets[i] = &target{env, path, f}
			visited[importKey(env.ID, path)] = true
		}
	}
	for _, t := range targets {
		if t == nil {
			continue
		}
		blk := ImportedSecrets{SecretPath: t.path, Environment: t.env.Slug, FolderID: t.f.ID, Secrets: []Secret{}}
		if err := rd.importSecrets(ctx, t.env, t.path, t.f, &blk, visited, 1); err != nil {
			return nil, err
		}
		out = append(out, blk)
	}
	return out, nil
}

// importTarget resolves the folder an import points to; f is nil when the
// import is a replication or its environment or folder is gone.
func (rd *secretReader) importTarget(ctx context.Context, imp *store.SecretImport) (*store.Environment, string, *store.Folder, error) {
	if imp.IsReplication {
		return nil, "", nil, nil
	}
	env := rd.m.envByID[imp.ImportEnvID]
	if env == nil {
		return nil, "", nil, nil
	}
	path, err := secretpath.Normalize(imp.ImportPath)
	if err != nil {
		return nil, "", nil, nil
	}
	t, err := rd.e.tree(ctx, rd.m, env.ID)
	if err != nil {
		return nil, "", nil, err
	}
	return env, path, t.byPath[path], nil
}

// importSecrets appends to blk the secrets of folder f (that the actor may
// describe) and then those of f's imports.
func (rd *secretReader) importSecrets(ctx context.Context, env *store.Environment, path string, f *store.Folder, blk *ImportedSecrets, visited map[string]bool, depth int) error {
	if rd.set.Can(permission.ActionDescribeSecret, permission.SubjectSecrets, folderAttrs(env.Slug, path)) {
		rows, tags, err := rd.load(ctx, []string{f.ID}, "")
		if err != nil {
			return err
		}
		rd.rememberFolder(env, path, rows, tags)
		for i := range rows {
			sec, ok, err := rd.secret(ctx, &rows[i], env, path, tags[rows[i].ID])
			if err != nil {
				return err
			}
			if ok {
				blk.Secrets = append(blk.Secrets, sec)
			}
		}
	}
	if depth >= maxImportDepth {
		return nil
	}
	nested, err := rd.importsOf(ctx, f.ID)
	if err != nil {
		return Internal("list secret imports", err)
	}
	for i := range nested {
		nenv, npath, nf, err := rd.importTarget(ctx, &nested[i])
		if err != nil {
			return err
		}
		if nf == nil || visited[importKey(nenv.ID, npath)] {
			continue
		}
		visited[importKey(nenv.ID, npath)] = true
		if err := rd.importSecrets(ctx, nenv, npath, nf, blk, visited, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// fromImports finds key among a folder's imports for a get: the last import
// that holds it wins. Blocks are built without expansion so that an
// unrelated imported secret cannot fail the request; only the winner is
// expanded.
func (rd *secretReader) fromImports(ctx context.Context, r *resolved, key string, notFound error) (*Secret, error) {
	rd.noExp = true
	blocks, err := rd.imports(ctx, r.env, r.tree, []*store.Folder{r.folder})
	rd.noExp = false
	if err != nil {
		return nil, err
	}
	for i := len(blocks) - 1; i >= 0; i-- {
		for j := range blocks[i].Secrets {
			sec := blocks[i].Secrets[j]
			if sec.Key != key {
				continue
			}
			if rd.exp != nil && !sec.ValueHidden {
				if sec.Value, err = rd.expandValue(ctx, reference.Scope{Env: sec.Environment, Path: sec.SecretPath}, sec.Key, sec.Value); err != nil {
					return nil, err
				}
			}
			return &sec, nil
		}
	}
	return nil, notFound
}

// importsOf returns a folder's imports by position. With SQLite they are
// cached in the project structure, which every import change invalidates.
func (rd *secretReader) importsOf(ctx context.Context, folderID string) ([]store.SecretImport, error) {
	if !rd.e.folders.enabled {
		return rd.q.ListImportsOfFolder(ctx, folderID)
	}
	m := rd.m
	m.mu.Lock()
	imps, ok := m.imports[folderID]
	m.mu.Unlock()
	if ok {
		return imps, nil
	}
	imps, err := rd.q.ListImportsOfFolder(ctx, folderID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.imports == nil {
		m.imports = map[string][]store.SecretImport{}
	}
	m.imports[folderID] = imps
	m.mu.Unlock()
	return imps, nil
}
