package infisical

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/secretpath"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// Secret types.
const (
	SecretTypeShared   = "shared"
	SecretTypePersonal = "personal"
)

// HiddenSecretValue replaces a value the caller may not (or asked not to)
// see.
const HiddenSecretValue = "<hidden-by-infisical>"

// Secret is one secret as the caller may see it: value and comment in clear
// (or the value masked, ValueHidden), with its location and tags.
type Secret struct {
	ID          string
	ProjectID   string
	Environment string // environment slug
	SecretPath  string // folder path
	FolderID    string
	Version     int
	Type        string // SecretTypeShared or SecretTypePersonal
	Key         string
	Value       string
	ValueHidden bool
	Comment     string

	ReminderNote          *string
	ReminderRepeatDays    *int
	SkipMultilineEncoding *bool
	Metadata              []SecretMetadata
	Tags                  []SecretTag
	// Actor is the last modifier (nil when unknown).
	Actor     *SecretActor
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SecretMetadata is one key/value annotation of a secret. Encrypted entries
// are sealed with the project key like values.
type SecretMetadata struct {
	Key         string
	Value       string
	IsEncrypted bool
}

// SecretTag is a tag attached to a secret.
type SecretTag struct {
	ID    string
	Slug  string
	Color *string
}

// SecretActor says who last changed a secret.
type SecretActor struct {
	ActorID      string
	ActorType    string
	Name         string
	MembershipID *string
	GroupID      *string
}

// ImportedSecrets is one import of a folder with the secrets it brings, in
// import position order. Secrets of imports nested inside the imported
// folder follow its own secrets.
type ImportedSecrets struct {
	SecretPath  string
	Environment string
	FolderID    string
	Secrets     []Secret
}

// SecretList is the answer of a list: direct secrets ordered by key and
// type, and (when requested) the folder's imports in position order.
type SecretList struct {
	Secrets []Secret
	// Imports is nil unless imports were requested.
	Imports []ImportedSecrets
}

// SecretScope names a folder of an environment of a project.
type SecretScope struct {
	Project     ProjectRef
	Environment string // slug
	SecretPath  string // "" means "/"
}

// PersonalMode says how a list treats personal overrides of a user.
type PersonalMode int

const (
	// PersonalInclude returns the user's personal secrets beside the shared
	// ones (v3 list: the client merges).
	PersonalInclude PersonalMode = iota
	// PersonalOverride replaces each shared secret by the user's personal
	// secret of the same key (v4 includePersonalOverrides=true).
	PersonalOverride
	// PersonalExclude returns shared secrets only.
	PersonalExclude
)

// MetadataFilter selects secrets carrying a metadata entry Key=Value.
type MetadataFilter struct {
	Key   string
	Value string
}

// MaxMetadataFilters bounds the pairs of a metadata filter.
const MaxMetadataFilters = 10

// ListSecretsInput are the options of a list.
type ListSecretsInput struct {
	SecretScope
	// HideValues masks every value (viewSecretValue=false).
	HideValues       bool
	ExpandReferences bool
	IncludeImports   bool
	Recursive        bool
	Personal         PersonalMode
	// TagSlugs keeps secrets carrying any of these tags.
	TagSlugs []string
	// MetadataFilter keeps secrets matching every pair.
	MetadataFilter []MetadataFilter
}

// GetSecretInput are the options of a get by key.
type GetSecretInput struct {
	SecretScope
	Key  string
	Type string // "" = shared
	// Version returns that historical version (0 = current).
	Version          int
	HideValues       bool
	ExpandReferences bool
	// IncludeImports searches the folder's imports (the last import wins)
	// when the key is not defined in the folder itself.
	IncludeImports bool
}

// serviceScope applies the legacy service-token rule: a token with exactly
// one scope whose path is not a glob reads that scope whatever the request
// names, and a token's project is the default project.
func serviceScope(actor Actor, sc SecretScope) SecretScope {
	if actor.Type != ActorService {
		return sc
	}
	if sc.Project.ID == "" && sc.Project.Slug == "" {
		sc.Project.ID = actor.ProjectID
	}
	if len(actor.ServiceScopes) == 1 && !strings.ContainsAny(actor.ServiceScopes[0].SecretPath, "*?[]{}!") {
		sc.Project = ProjectRef{ID: actor.ProjectID}
		sc.Environment = actor.ServiceScopes[0].Environment
		sc.SecretPath = actor.ServiceScopes[0].SecretPath
	}
	return sc
}

// personalOwner is the owner id whose personal secrets an actor may see:
// only users have personal secrets.
func personalOwner(actor Actor) string {
	if actor.Type == ActorUser {
		return actor.ID
	}
	return ""
}

func secretAttrs(env, path, key string, tags []string) permission.Attributes {
	if tags == nil {
		tags = []string{}
	}
	return permission.Attributes{"environment": env, "secretPath": path, "secretName": key, "secretTags": tags}
}

func folderAttrs(env, path string) permission.Attributes {
	return permission.Attributes{"environment": env, "secretPath": path}
}

func tagSlugs(tags []store.Tag) []string {
	out := make([]string, len(tags))
	for i := range tags {
		out[i] = tags[i].Slug
	}
	return out
}

// List returns the secrets of a folder (and its descendants when
// Recursive) that the actor may see. A folder that does not exist yields an
// empty list.
func (s *SecretService) List(ctx context.Context, actor Actor, in ListSecretsInput) (*SecretList, error) {
	e := s.e
	in.SecretScope = serviceScope(actor, in.SecretScope)
	if len(in.MetadataFilter) > MaxMetadataFilters {
		return nil, Invalid("metadataFilter", "metadataFilter accepts at most %d pairs", MaxMetadataFilters)
	}
	m, set, err := e.project(ctx, actor, in.Project)
	if err != nil {
		return nil, err
	}
	r, err := e.resolve(ctx, m, in.Environment, in.SecretPath)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionDescribeSecret, permission.SubjectSecrets, folderAttrs(r.env.Slug, r.path)); err != nil {
		return nil, err
	}
	out := &SecretList{Secrets: []Secret{}}
	if in.IncludeImports {
		out.Imports = []ImportedSecrets{}
	}
	if r.folder == nil {
		e.auditSecretList(actor, m.project.ID, r.env.Slug, r.path, 0)
		return out, nil
	}
	folders := []*store.Folder{r.folder}
	if in.Recursive {
		folders = folders[:0]
		for _, f := range r.tree.descendants(r.path) {
			if f == r.folder || set.Can(permission.ActionDescribeSecret, permission.SubjectSecrets, folderAttrs(r.env.Slug, r.tree.pathOf[f.ID])) {
				folders = append(folders, f)
			}
		}
	}
	rd, err := e.newSecretReader(ctx, actor, m, set, in.HideValues, in.ExpandReferences)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(folders))
	for i, f := range folders {
		ids[i] = f.ID
	}
	owner := ""
	if in.Personal != PersonalExclude {
		owner = personalOwner(actor)
	}
	rows, tags, err := rd.load(ctx, ids, owner)
	if err != nil {
		return nil, err
	}
	rd.remember(r.env, r.tree, rows, tags)
	out.Secrets = make([]Secret, 0, len(rows))
	if in.Personal == PersonalOverride && owner != "" {
		rows = overridePersonal(rows)
	}
	for i := range rows {
		row := &rows[i]
		sec, ok, err := rd.secret(ctx, row, r.env, r.tree.pathOf[row.FolderID], tags[row.ID])
		if err != nil {
			return nil, err
		}
		if !ok || !matchesTags(sec.Tags, in.TagSlugs) || !matchesMetadata(sec.Metadata, in.MetadataFilter) {
			continue
		}
		out.Secrets = append(out.Secrets, sec)
	}
	sortSecrets(out.Secrets)
	if in.IncludeImports {
		if out.Imports, err = rd.imports(ctx, r.env, r.tree, folders); err != nil {
			return nil, err
		}
	}
	e.auditSecretList(actor, m.project.ID, r.env.Slug, r.path, len(out.Secrets))
	return out, nil
}

// overridePersonal drops each shared secret for which the rows hold a
// personal override of the same folder and key. rows are ordered by key,
// so the two are neighbours up to folder order; a map keeps it simple.
func overridePersonal(rows []store.Secret) []store.Secret {
	type fk struct{ folder, key string }
	personal := map[fk]bool{}
	for i := range rows {
		if rows[i].OwnerID != "" {
			personal[fk{rows[i].FolderID, rows[i].Key}] = true
		}
	}
	if len(personal) == 0 {
		return rows
	}
	// A new slice: the reader keeps pointers into rows.
	out := make([]store.Secret, 0, len(rows)-len(personal))
	for _, r := range rows {
		if r.OwnerID == "" && personal[fk{r.FolderID, r.Key}] {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sortSecrets orders secrets deterministically: key, type, path, id.
func sortSecrets(list []Secret) {
	slices.SortStableFunc(list, func(a, b Secret) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		if c := strings.Compare(a.SecretPath, b.SecretPath); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func matchesTags(tags []SecretTag, slugs []string) bool {
	if len(slugs) == 0 {
		return true
	}
	for _, t := range tags {
		if slices.Contains(slugs, t.Slug) {
			return true
		}
	}
	return false
}

func matchesMetadata(md []SecretMetadata, filter []MetadataFilter) bool {
	for _, f := range filter {
		found := false
		for _, m := range md {
			if m.Key == f.Key && m.Value == f.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func normalizeType(typ string) (string, error) {
	switch strings.TrimSpace(typ) {
	case "", SecretTypeShared:
		return SecretTypeShared, nil
	case SecretTypePersonal:
		return SecretTypePersonal, nil
	}
	return "", Invalid("type", "type must be 'shared' or 'personal'")
}

// ownerFor returns the owner id addressed by a (type, actor) pair.
func ownerFor(actor Actor, typ string) (string, error) {
	if typ != SecretTypePersonal {
		return "", nil
	}
	if actor.Type != ActorUser {
		return "", BadRequest("Only users can have personal secrets")
	}
	return actor.ID, nil
}

// Get returns one secret by key, optionally a historical version, falling
// back to the folder's imports when asked.
func (s *SecretService) Get(ctx context.Context, actor Actor, in GetSecretInput) (*Secret, error) {
	e := s.e
	in.SecretScope = serviceScope(actor, in.SecretScope)
	key := strings.TrimSpace(in.Key)
	if key == "" {
		return nil, Invalid("secretName", "secretName is required")
	}
	typ, err := normalizeType(in.Type)
	if err != nil {
		return nil, err
	}
	if in.Version < 0 {
		return nil, Invalid("version", "version must be a positive integer")
	}
	m, set, err := e.project(ctx, actor, in.Project)
	if err != nil {
		return nil, err
	}
	r, err := e.resolve(ctx, m, in.Environment, in.SecretPath)
	if err != nil {
		return nil, err
	}
	notFound := NotFound("Secret with name '%s' not found", key)
	if typ == SecretTypePersonal && actor.Type != ActorUser {
		return nil, notFound
	}
	if err := set.Check(permission.ActionDescribeSecret, permission.SubjectSecrets, folderAttrs(r.env.Slug, r.path)); err != nil {
		return nil, err
	}
	if r.folder == nil {
		return nil, notFound
	}
	rd, err := e.newSecretReader(ctx, actor, m, set, in.HideValues, in.ExpandReferences)
	if err != nil {
		return nil, err
	}
	owner := ""
	if typ == SecretTypePersonal {
		owner = actor.ID
	}
	var (
		withTags *store.SecretWithTags
		tags     []store.Tag
	)
	if e.folders.enabled {
		var found bool
		withTags, tags, found, err = rd.byKeyCached(ctx, r.folder.ID, key, owner)
		if err == nil && !found {
			err = store.ErrNotFound
		}
	} else {
		withTags, err = rd.q.SecretByKeyWithTags(ctx, r.folder.ID, key, owner)
	}
	if errors.Is(err, store.ErrNotFound) {
		if !in.IncludeImports || typ != SecretTypeShared || in.Version > 0 {
			return nil, notFound
		}
		sec, err := rd.fromImports(ctx, r, key, notFound)
		if err == nil {
			e.auditSecretRead(actor, sec)
		}
		return sec, err
	}
	if err != nil {
		return nil, Internal("load secret", err)
	}
	row := &withTags.Secret
	if !e.folders.enabled {
		resolvedTags, err := rd.tagsByIDLists(ctx, [][]string{withTags.TagIDs()})
		if err != nil {
			return nil, err
		}
		tags = resolvedTags[0]
	}
	attrs := secretAttrs(r.env.Slug, r.path, row.Key, tagSlugs(tags))
	if err := set.Check(permission.ActionDescribeSecret, permission.SubjectSecrets, attrs); err != nil {
		return nil, err
	}
	if in.Version > 0 && in.Version != row.Version {
		v, err := rd.q.SecretVersionOf(ctx, row.ID, in.Version)
		if errors.Is(err, store.ErrNotFound) {
			return nil, NotFound("Secret '%s' has no version %d", key, in.Version)
		}
		if err != nil {
			return nil, Internal("load secret version", err)
		}
		vtags, err := rd.tagsByIDLists(ctx, [][]string{v.TagIDs})
		if err != nil {
			return nil, err
		}
		tags = vtags[0]
		row = versionAsSecret(row, v)
	}
	sec, _, err := rd.secret(ctx, row, r.env, r.path, tags)
	if err != nil {
		return nil, err
	}
	e.auditSecretRead(actor, &sec)
	return &sec, nil
}

// versionAsSecret presents a historical version as a secret row.
func versionAsSecret(cur *store.Secret, v *store.SecretVersion) *store.Secret {
	row := *cur
	row.Version = v.Version
	row.Key = v.Key
	row.EncryptedValue = v.EncryptedValue
	row.EncryptedComment = v.EncryptedComment
	row.SkipMultilineEncoding = v.SkipMultilineEncoding
	row.Metadata = v.Metadata
	row.ActorType, row.ActorID, row.ActorName = v.ActorType, v.ActorID, v.ActorName
	row.UpdatedAt = v.CreatedAt
	return &row
}

// GetByID returns a secret by id, wherever it lives in the actor's
// projects.
func (s *SecretService) GetByID(ctx context.Context, actor Actor, id string) (*Secret, error) {
	e := s.e
	id = strings.TrimSpace(id)
	notFound := NotFound("Secret with ID '%s' not found", id)
	if id == "" {
		return nil, Invalid("secretId", "secretId is required")
	}
	loc, err := e.store.Read().SecretWithLocation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, Internal("load secret", err)
	}
	if loc.OwnerID != "" && (actor.Type != ActorUser || actor.ID != loc.OwnerID) {
		return nil, notFound
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: loc.ProjectID})
	if err != nil {
		if IsNotFound(err) {
			return nil, notFound
		}
		return nil, err
	}
	env := m.envByID[loc.EnvID]
	if env == nil {
		return nil, notFound
	}
	t, err := e.tree(ctx, m, env.ID)
	if err != nil {
		return nil, err
	}
	path, ok := t.pathOf[loc.FolderID]
	if !ok {
		if t, err = e.reloadTree(ctx, m, env.ID); err != nil {
			return nil, err
		}
		if path, ok = t.pathOf[loc.FolderID]; !ok {
			return nil, notFound
		}
	}
	rd, err := e.newSecretReader(ctx, actor, m, set, false, false)
	if err != nil {
		return nil, err
	}
	tagRows, err := rd.q.TagsOfSecrets(ctx, []string{id})
	if err != nil {
		return nil, Internal("load secret tags", err)
	}
	tags := make([]store.Tag, len(tagRows))
	for i := range tagRows {
		tags[i] = tagRows[i].Tag
	}
	if err := set.Check(permission.ActionDescribeSecret, permission.SubjectSecrets, secretAttrs(env.Slug, path, loc.Key, tagSlugs(tags))); err != nil {
		return nil, err
	}
	sec, _, err := rd.secret(ctx, &loc.Secret, env, path, tags)
	if err != nil {
		return nil, err
	}
	e.auditSecretRead(actor, &sec)
	return &sec, nil
}

// ---- sealing ----------------------------------------------------------------

// sealString encrypts a value or comment with the project key. An empty
// comment is stored as NULL (nothing to protect); values are always sealed
// so that even "" is indistinguishable from other short values.
func sealString(aead *kms.AEAD, s string, emptyAsNil bool) ([]byte, error) {
	if s == "" && emptyAsNil {
		return nil, nil
	}
	b, err := aead.SealVersioned([]byte(s))
	if err != nil {
		return nil, Internal("seal secret", err)
	}
	return b, nil
}

func openString(aead *kms.AEAD, b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	p, err := aead.OpenVersioned(b)
	if err != nil {
		return "", Internal("open secret", err)
	}
	return string(p), nil
}

// sealMetadata validates metadata and seals encrypted entries' values
// (stored base64 in the JSON column).
func sealMetadata(aead *kms.AEAD, field string, md []SecretMetadata) ([]store.MetadataEntry, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make([]store.MetadataEntry, len(md))
	seen := map[string]bool{}
	for i, m := range md {
		k := strings.TrimSpace(m.Key)
		if k == "" {
			return nil, Invalid(field, "%s[%d].key must not be empty", field, i)
		}
		if seen[k] {
			return nil, Invalid(field, "%s has the key '%s' twice", field, k)
		}
		seen[k] = true
		out[i] = store.MetadataEntry{Key: k, Value: m.Value, IsEncrypted: m.IsEncrypted}
		if m.IsEncrypted {
			b, err := aead.SealVersioned([]byte(m.Value))
			if err != nil {
				return nil, Internal("seal metadata", err)
			}
			out[i].Value = base64.StdEncoding.EncodeToString(b)
		}
	}
	return out, nil
}

func openMetadata(aead *kms.AEAD, md []store.MetadataEntry, hide bool) ([]SecretMetadata, error) {
	out := make([]SecretMetadata, len(md))
	for i, m := range md {
		out[i] = SecretMetadata{Key: m.Key, Value: m.Value, IsEncrypted: m.IsEncrypted}
		if !m.IsEncrypted {
			continue
		}
		if hide {
			out[i].Value = HiddenSecretValue
			continue
		}
		b, err := base64.StdEncoding.DecodeString(m.Value)
		if err != nil {
			return nil, Internal("decode metadata", err)
		}
		p, err := aead.OpenVersioned(b)
		if err != nil {
			return nil, Internal("open metadata", err)
		}
		out[i].Value = string(p)
	}
	return out, nil
}

// validateKey checks a secret key and names field on error.
func validateKey(field, key string) (string, error) {
	k, err := secretpath.ValidateSecretKey(key)
	if err != nil {
		var ke *secretpath.KeyError
		if errors.As(err, &ke) {
			return "", Invalid(field, "%s", ke.Reason)
		}
		return "", Invalid(field, "%s", err.Error())
	}
	return k, nil
}

func actorOfRow(row *store.Secret) *SecretActor {
	if row.ActorType == nil || row.ActorID == nil {
		return nil
	}
	a := &SecretActor{ActorType: *row.ActorType, ActorID: *row.ActorID}
	if row.ActorName != nil {
		a.Name = *row.ActorName
	}
	return a
}

// actorColumns returns what a write records about its author.
func actorColumns(actor Actor) (typ, id, name *string) {
	t := string(actor.Type)
	i := actor.ID
	n := actor.Name
	if n == "" {
		n = firstNonBlank(actor.Username, actor.Email)
	}
	return &t, &i, &n
}

func firstNonBlank(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
