package infisical

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/secretpath"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// NewSecret holds the attributes of a secret being created.
type NewSecret struct {
	Key                   string
	Value                 string
	Comment               string
	SkipMultilineEncoding *bool
	TagIDs                []string
	Metadata              []SecretMetadata
	ReminderNote          *string
	ReminderRepeatDays    *int
}

// CreateSecretInput creates one secret. A personal secret (Type
// "personal") is a user's override of an existing shared key.
type CreateSecretInput struct {
	SecretScope
	Type string
	NewSecret
}

// BatchCreateInput creates several shared secrets in one folder, all or
// nothing.
type BatchCreateInput struct {
	SecretScope
	Secrets []NewSecret
}

// SecretUpdate changes one secret; nil fields are left unchanged.
type SecretUpdate struct {
	Key  string
	Type string
	// SecretPath overrides the batch's path for this item (batch only).
	SecretPath            *string
	Value                 *string
	NewKey                *string
	Comment               *string
	SkipMultilineEncoding *bool
	// TagIDs replaces the secret's tag set.
	TagIDs             *[]string
	Metadata           *[]SecretMetadata
	ReminderNote       *string
	ReminderRepeatDays *int
}

// UpdateSecretInput updates one secret.
type UpdateSecretInput struct {
	SecretScope
	SecretUpdate
}

// Batch update modes: what to do with a key that does not exist.
const (
	UpdateModeFailOnNotFound = "failOnNotFound" // 404, nothing written
	UpdateModeUpsert         = "upsert"         // create it
	UpdateModeIgnore         = "ignore"         // skip it
)

// BatchUpdateInput updates several secrets in one transaction.
type BatchUpdateInput struct {
	SecretScope
	Mode    string // default failOnNotFound
	Secrets []SecretUpdate
}

// SecretRef names a secret of the request's folder.
type SecretRef struct {
	Key  string
	Type string // "" = shared
}

// DeleteSecretInput deletes one secret.
type DeleteSecretInput struct {
	SecretScope
	SecretRef
}

// BatchDeleteInput deletes several secrets of one folder, all or nothing.
type BatchDeleteInput struct {
	SecretScope
	Secrets []SecretRef
}

// SecretTagsInput attaches or detaches tags (by slug) on one secret.
type SecretTagsInput struct {
	SecretScope
	SecretRef
	TagSlugs []string
}

// maxReminderNote bounds secretReminderNote.
const maxReminderNote = 1024

// secretWriter is the state of one write request.
type secretWriter struct {
	e     *Engine
	actor Actor
	m     *projectMeta
	set   *permission.Set
	aead  *kms.AEAD
	base  *resolved
	now   time.Time
}

func (s *SecretService) writer(ctx context.Context, actor Actor, sc SecretScope) (*secretWriter, error) {
	e := s.e
	if actor.Type == ActorService && sc.Project.ID == "" && sc.Project.Slug == "" {
		sc.Project.ID = actor.ProjectID
	}
	m, set, err := e.project(ctx, actor, sc.Project)
	if err != nil {
		return nil, err
	}
	r, err := e.resolve(ctx, m, sc.Environment, sc.SecretPath)
	if err != nil {
		return nil, err
	}
	if err := r.mustFolder(); err != nil {
		return nil, err
	}
	aead, err := e.keys.projectKey(ctx, e.store.Read(), &m.project)
	if err != nil {
		return nil, Internal("load project key", err)
	}
	return &secretWriter{e: e, actor: actor, m: m, set: set, aead: aead, base: r, now: e.now()}, nil
}

// at resolves a per-item path override inside the request's environment.
func (w *secretWriter) at(ctx context.Context, field string, path *string) (*resolved, error) {
	if path == nil || strings.TrimSpace(*path) == "" {
		return w.base, nil
	}
	p, err := secretpath.Normalize(*path)
	if err != nil {
		return nil, Invalid(field, "%s", err.Error())
	}
	if p == w.base.path {
		return w.base, nil
	}
	r, err := w.e.resolve(ctx, w.m, w.base.env.Slug, p)
	if err != nil {
		return nil, err
	}
	return r, r.mustFolder()
}

// draft is a secret about to be inserted.
type draft struct {
	r      *resolved
	key    string
	typ    string
	owner  string
	value  string
	cmt    string
	skip   *bool
	tagIDs []string
	tags   []store.Tag
	md     []SecretMetadata
	sealed []store.MetadataEntry
	note   *string
	days   *int
	encVal []byte
	encCmt []byte
	row    store.Secret // filled by insert
}

func validateReminder(noteField, daysField string, note *string, days *int) error {
	if note != nil && utf8.RuneCountInString(*note) > maxReminderNote {
		return Invalid(noteField, "%s must be at most %d characters", noteField, maxReminderNote)
	}
	if days != nil && *days < 0 {
		return Invalid(daysField, "%s must not be negative", daysField)
	}
	return nil
}

// newDraft validates and seals a secret to create.
func (w *secretWriter) newDraft(r *resolved, field func(string) string, keyField, typ, owner string, in NewSecret) (*draft, error) {
	key, err := validateKey(keyField, in.Key)
	if err != nil {
		return nil, err
	}
	if err := validateReminder(field("secretReminderNote"), field("secretReminderRepeatDays"), in.ReminderNote, in.ReminderRepeatDays); err != nil {
		return nil, err
	}
	d := &draft{r: r, key: key, typ: typ, owner: owner, value: secretpath.NormalizeValue(in.Value), cmt: strings.TrimSpace(in.Comment),
		skip: in.SkipMultilineEncoding, tagIDs: in.TagIDs, md: in.Metadata, note: in.ReminderNote, days: in.ReminderRepeatDays}
	if d.sealed, err = sealMetadata(w.aead, field("secretMetadata"), in.Metadata); err != nil {
		return nil, err
	}
	if d.encVal, err = sealString(w.aead, d.value, false); err != nil {
		return nil, err
	}
	if d.encCmt, err = sealString(w.aead, d.cmt, true); err != nil {
		return nil, err
	}
	return d, nil
}

// resolveTags loads the tags named by id lists (one query for the whole
// request); want[i] is the list of item i, nil when it names none.
func (w *secretWriter) resolveTags(ctx context.Context, want [][]string, field func(i int) string) ([][]store.Tag, error) {
	var all []string
	for _, ids := range want {
		for _, id := range ids {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(all, id) {
				all = append(all, id)
			}
		}
	}
	out := make([][]store.Tag, len(want))
	if len(all) == 0 {
		return out, nil
	}
	rows, err := w.e.store.Read().TagsByIDs(ctx, w.m.project.ID, all)
	if err != nil {
		return nil, Internal("load tags", err)
	}
	byID := make(map[string]store.Tag, len(rows))
	for _, t := range rows {
		byID[t.ID] = t
	}
	for i, ids := range want {
		for _, id := range ids {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			t, ok := byID[id]
			if !ok {
				return nil, NotFound("Tag with ID '%s' (%s) not found in this project", id, field(i))
			}
			if !slices.ContainsFunc(out[i], func(x store.Tag) bool { return x.ID == id }) {
				out[i] = append(out[i], t)
			}
		}
		slices.SortFunc(out[i], func(a, b store.Tag) int { return strings.Compare(a.Slug, b.Slug) })
	}
	return out, nil
}

func tagIDsOf(tags []store.Tag) []string {
	ids := make([]string, len(tags))
	for i := range tags {
		ids[i] = tags[i].ID
	}
	return ids
}

func (w *secretWriter) check(action string, r *resolved, key string, tags []store.Tag) error {
	return w.set.Check(action, permission.SubjectSecrets, secretAttrs(r.env.Slug, r.path, key, tagSlugs(tags)))
}

func (w *secretWriter) canReadValue(r *resolved, key string, tags []store.Tag) bool {
	return w.set.Can(permission.ActionReadValue, permission.SubjectSecrets, secretAttrs(r.env.Slug, r.path, key, tagSlugs(tags)))
}

func versionOf(row *store.Secret, tagIDs []string, at time.Time) store.SecretVersion {
	return store.SecretVersion{ID: uuid.NewString(), SecretID: row.ID, FolderID: row.FolderID, Version: row.Version,
		Key: row.Key, Type: row.Type, OwnerID: row.OwnerID, EncryptedValue: row.EncryptedValue, EncryptedComment: row.EncryptedComment,
		SkipMultilineEncoding: row.SkipMultilineEncoding, Metadata: row.Metadata, TagIDs: tagIDs,
		ActorType: row.ActorType, ActorID: row.ActorID, ActorName: row.ActorName, CreatedAt: at, UpdatedAt: at}
}

// insert writes drafts with their first version and tag links inside q.
func (w *secretWriter) insert(ctx context.Context, q store.Q, drafts []*draft) error {
	if len(drafts) == 0 {
		return nil
	}
	at, aid, aname := actorColumns(w.actor)
	rows := make([]store.Secret, len(drafts))
	versions := make([]store.SecretVersion, len(drafts))
	var links []store.SecretTagLink
	var folders []string
	for i, d := range drafts {
		rows[i] = store.Secret{ID: uuid.NewString(), FolderID: d.r.folder.ID, Key: d.key, Type: d.typ, OwnerID: d.owner, Version: 1,
			EncryptedValue: d.encVal, EncryptedComment: d.encCmt, SkipMultilineEncoding: d.skip,
			ReminderNote: d.note, ReminderRepeatDays: d.days, Metadata: d.sealed,
			ActorType: at, ActorID: aid, ActorName: aname, CreatedAt: w.now, UpdatedAt: w.now}
		versions[i] = versionOf(&rows[i], tagIDsOf(d.tags), w.now)
		for _, t := range d.tags {
			links = append(links, store.SecretTagLink{SecretID: rows[i].ID, TagID: t.ID})
		}
		if !slices.Contains(folders, d.r.folder.ID) {
			folders = append(folders, d.r.folder.ID)
		}
	}
	if err := q.InsertSecrets(ctx, rows); err != nil {
		if isDuplicate(err) {
			return BadRequest("Secret already exists")
		}
		return Internal("insert secrets", err)
	}
	if err := q.InsertSecretVersions(ctx, versions); err != nil {
		return Internal("insert secret versions", err)
	}
	if err := q.InsertSecretTagLinks(ctx, links); err != nil {
		return Internal("link secret tags", err)
	}
	if err := q.TouchFolders(ctx, folders, w.now); err != nil {
		return Internal("touch folders", err)
	}
	for i, d := range drafts {
		d.row = rows[i]
	}
	return nil
}

// created presents an inserted draft; the caller supplied the value, so it
// is returned as sent.
func (w *secretWriter) created(d *draft) Secret {
	sec := Secret{ID: d.row.ID, ProjectID: w.m.project.ID, Environment: d.r.env.Slug, SecretPath: d.r.path, FolderID: d.row.FolderID,
		Version: d.row.Version, Type: d.typ, Key: d.key, Value: d.value, Comment: d.cmt,
		ReminderNote: d.note, ReminderRepeatDays: d.days, SkipMultilineEncoding: d.skip, Actor: actorOfRow(&d.row),
		CreatedAt: d.row.CreatedAt, UpdatedAt: d.row.UpdatedAt, Tags: make([]SecretTag, len(d.tags)), Metadata: []SecretMetadata{}}
	for i, t := range d.tags {
		sec.Tags[i] = SecretTag{ID: t.ID, Slug: t.Slug, Color: t.Color}
	}
	for _, m := range d.sealed {
		v := m.Value
		if m.IsEncrypted {
			for _, in := range d.md {
				if strings.TrimSpace(in.Key) == m.Key {
					v = in.Value
				}
			}
		}
		sec.Metadata = append(sec.Metadata, SecretMetadata{Key: m.Key, Value: v, IsEncrypted: m.IsEncrypted})
	}
	return sec
}

func checkBatchSize(e *Engine, n int) error {
	if n == 0 {
		return Invalid("secrets", "secrets must contain at least one item")
	}
	if n > e.cfg.MaxBatchSize {
		return Invalid("secrets", "secrets must contain at most %d items", e.cfg.MaxBatchSize)
	}
	return nil
}

// Create creates one secret.
func (s *SecretService) Create(ctx context.Context, actor Actor, in CreateSecretInput) (*Secret, error) {
	typ, err := normalizeType(in.Type)
	if err != nil {
		return nil, err
	}
	owner, err := ownerFor(actor, typ)
	if err != nil {
		return nil, err
	}
	w, err := s.writer(ctx, actor, in.SecretScope)
	if err != nil {
		return nil, err
	}
	d, err := w.newDraft(w.base, func(f string) string { return f }, "secretName", typ, owner, in.NewSecret)
	if err != nil {
		return nil, err
	}
	tags, err := w.resolveTags(ctx, [][]string{in.TagIDs}, func(int) string { return "tagIds" })
	if err != nil {
		return nil, err
	}
	d.tags = tags[0]
	if err := w.check(permission.ActionCreate, w.base, d.key, d.tags); err != nil {
		return nil, err
	}
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		if typ == SecretTypePersonal {
			if _, err := q.SecretByKey(ctx, w.base.folder.ID, d.key, ""); errors.Is(err, store.ErrNotFound) {
				return BadRequest("Cannot create a personal override of '%s': no shared secret with that name exists", d.key)
			} else if err != nil {
				return Internal("load shared secret", err)
			}
		}
		if _, err := q.SecretByKey(ctx, w.base.folder.ID, d.key, owner); err == nil {
			return BadRequest("Secret with name '%s' already exists", d.key)
		} else if !errors.Is(err, store.ErrNotFound) {
			return Internal("load secret", err)
		}
		if err := w.insert(ctx, q, []*draft{d}); err != nil {
			return err
		}
		return w.auditCreated(ctx, q, true, []*draft{d})
	})
	if err != nil {
		return nil, err
	}
	sec := w.created(d)
	return &sec, nil
}

// BatchCreate creates shared secrets in one folder. If any key exists (or
// repeats in the batch) nothing is written.
func (s *SecretService) BatchCreate(ctx context.Context, actor Actor, in BatchCreateInput) ([]Secret, error) {
	if err := checkBatchSize(s.e, len(in.Secrets)); err != nil {
		return nil, err
	}
	w, err := s.writer(ctx, actor, in.SecretScope)
	if err != nil {
		return nil, err
	}
	drafts := make([]*draft, len(in.Secrets))
	want := make([][]string, len(in.Secrets))
	seen := map[string]int{}
	keys := make([]string, len(in.Secrets))
	for i, item := range in.Secrets {
		prefix := fmt.Sprintf("secrets[%d].", i)
		d, err := w.newDraft(w.base, func(f string) string { return prefix + f }, prefix+"secretKey", SecretTypeShared, "", item)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[d.key]; dup {
			return nil, BadRequest("Secret '%s' appears twice in the batch (secrets[%d] and secrets[%d])", d.key, j, i)
		}
		seen[d.key] = i
		drafts[i], want[i], keys[i] = d, item.TagIDs, d.key
	}
	tags, err := w.resolveTags(ctx, want, func(i int) string { return fmt.Sprintf("secrets[%d].tagIds", i) })
	if err != nil {
		return nil, err
	}
	for i, d := range drafts {
		d.tags = tags[i]
		if err := w.check(permission.ActionCreate, w.base, d.key, d.tags); err != nil {
			return nil, err
		}
	}
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		existing, err := q.SecretsByKeys(ctx, w.base.folder.ID, keys, "")
		if err != nil {
			return Internal("load secrets", err)
		}
		if len(existing) > 0 {
			names := make([]string, len(existing))
			for i := range existing {
				names[i] = existing[i].Key
			}
			return BadRequest("Secrets already exist: %s", strings.Join(names, ", "))
		}
		if err := w.insert(ctx, q, drafts); err != nil {
			return err
		}
		return w.auditCreated(ctx, q, false, drafts)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Secret, len(drafts))
	for i, d := range drafts {
		out[i] = w.created(d)
	}
	return out, nil
}

// Update changes one secret; see SecretUpdate.
func (s *SecretService) Update(ctx context.Context, actor Actor, in UpdateSecretInput) (*Secret, error) {
	in.SecretUpdate.SecretPath = nil
	out, err := s.update(ctx, actor, in.SecretScope, UpdateModeFailOnNotFound, []SecretUpdate{in.SecretUpdate}, true)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// BatchUpdate changes several secrets in one transaction. Mode decides what
// happens to keys that do not exist: failOnNotFound (404, nothing written),
// upsert (created with version 1) or ignore (skipped, not returned).
func (s *SecretService) BatchUpdate(ctx context.Context, actor Actor, in BatchUpdateInput) ([]Secret, error) {
	if err := checkBatchSize(s.e, len(in.Secrets)); err != nil {
		return nil, err
	}
	return s.update(ctx, actor, in.SecretScope, in.Mode, in.Secrets, false)
}

// pending is one item of an update request.
type pending struct {
	in     SecretUpdate
	r      *resolved
	key    string
	owner  string
	typ    string
	newKey string // "" = no rename
	value  *string
	cmt    *string
	sealed *[]store.MetadataEntry
	tags   []store.Tag // new tag set when in.TagIDs != nil
	encVal []byte
	encCmt []byte

	row     *store.Secret // existing row (updated in place)
	final   []store.Tag   // tag set after the change
	create  *draft        // upsert of a missing key
	skipped bool
}

type ownedKey struct{ folder, owner, key string }

func (s *SecretService) update(ctx context.Context, actor Actor, sc SecretScope, mode string, items []SecretUpdate, single bool) ([]Secret, error) {
	switch mode {
	case "":
		mode = UpdateModeFailOnNotFound
	case UpdateModeFailOnNotFound, UpdateModeUpsert, UpdateModeIgnore:
	default:
		return nil, Invalid("mode", "mode must be one of failOnNotFound, upsert, ignore")
	}
	field := func(i int, name string) string {
		if single {
			return name
		}
		return fmt.Sprintf("secrets[%d].%s", i, name)
	}
	keyField := func(i int) string {
		if single {
			return "secretName"
		}
		return field(i, "secretKey")
	}
	w, err := s.writer(ctx, actor, sc)
	if err != nil {
		return nil, err
	}
	ps := make([]*pending, len(items))
	want := make([][]string, len(items))
	seen := map[ownedKey]int{}
	for i, it := range items {
		p := &pending{in: it}
		if p.key, err = validateKey(keyField(i), it.Key); err != nil {
			// Existing secrets may carry legacy names; only emptiness is fatal.
			if p.key = strings.TrimSpace(it.Key); p.key == "" {
				return nil, err
			}
		}
		if p.typ, err = normalizeType(it.Type); err != nil {
			return nil, Invalid(field(i, "type"), "type must be 'shared' or 'personal'")
		}
		if p.owner, err = ownerFor(actor, p.typ); err != nil {
			return nil, err
		}
		if p.r, err = w.at(ctx, field(i, "secretPath"), it.SecretPath); err != nil {
			return nil, err
		}
		if it.NewKey != nil && strings.TrimSpace(*it.NewKey) != "" {
			nk, err := validateKey(field(i, "newSecretName"), *it.NewKey)
			if err != nil {
				return nil, err
			}
			if nk != p.key {
				p.newKey = nk
			}
		}
		if it.Value != nil {
			v := secretpath.NormalizeValue(*it.Value)
			p.value = &v
			if p.encVal, err = sealString(w.aead, v, false); err != nil {
				return nil, err
			}
		}
		if it.Comment != nil {
			c := strings.TrimSpace(*it.Comment)
			p.cmt = &c
			if p.encCmt, err = sealString(w.aead, c, true); err != nil {
				return nil, err
			}
		}
		if it.Metadata != nil {
			md, err := sealMetadata(w.aead, field(i, "secretMetadata"), *it.Metadata)
			if err != nil {
				return nil, err
			}
			p.sealed = &md
		}
		if err := validateReminder(field(i, "secretReminderNote"), field(i, "secretReminderRepeatDays"), it.ReminderNote, it.ReminderRepeatDays); err != nil {
			return nil, err
		}
		k := ownedKey{p.r.folder.ID, p.owner, p.key}
		if j, dup := seen[k]; dup {
			return nil, BadRequest("Secret '%s' appears twice in the batch (secrets[%d] and secrets[%d])", p.key, j, i)
		}
		seen[k] = i
		if it.TagIDs != nil {
			want[i] = *it.TagIDs
		}
		ps[i] = p
	}
	tags, err := w.resolveTags(ctx, want, func(i int) string { return field(i, "tagIds") })
	if err != nil {
		return nil, err
	}
	for i, p := range ps {
		p.tags = tags[i]
	}
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		if err := w.loadExisting(ctx, q, ps); err != nil {
			return err
		}
		for i, p := range ps {
			if err := w.plan(ctx, q, p, i, mode, field, keyField); err != nil {
				return err
			}
		}
		if err := w.apply(ctx, q, ps); err != nil {
			return err
		}
		return w.auditUpdated(ctx, q, single, ps)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Secret, 0, len(ps))
	for _, p := range ps {
		switch {
		case p.skipped:
		case p.create != nil:
			out = append(out, w.created(p.create))
		default:
			hidden := !w.canReadValue(p.r, p.row.Key, p.final)
			sec, err := rowToSecret(w.aead, w.m.project.ID, p.row, p.r.env, p.r.path, p.final, hidden)
			if err != nil {
				return nil, err
			}
			out = append(out, sec)
		}
	}
	return out, nil
}

// loadExisting reads the addressed secrets and their tags inside q.
func (w *secretWriter) loadExisting(ctx context.Context, q store.Q, ps []*pending) error {
	type group struct{ folder, owner string }
	keys := map[group][]string{}
	var order []group
	for _, p := range ps {
		g := group{p.r.folder.ID, p.owner}
		if _, ok := keys[g]; !ok {
			order = append(order, g)
		}
		keys[g] = append(keys[g], p.key)
	}
	found := map[ownedKey]*store.Secret{}
	var ids []string
	for _, g := range order {
		rows, err := q.SecretsByKeys(ctx, g.folder, keys[g], g.owner)
		if err != nil {
			return Internal("load secrets", err)
		}
		for i := range rows {
			found[ownedKey{g.folder, g.owner, rows[i].Key}] = &rows[i]
			ids = append(ids, rows[i].ID)
		}
	}
	links, err := q.TagsOfSecrets(ctx, ids)
	if err != nil {
		return Internal("load secret tags", err)
	}
	cur := map[string][]store.Tag{}
	for i := range links {
		cur[links[i].SecretID] = append(cur[links[i].SecretID], links[i].Tag)
	}
	for _, p := range ps {
		if row := found[ownedKey{p.r.folder.ID, p.owner, p.key}]; row != nil {
			p.row = row
			p.final = cur[row.ID]
		}
	}
	return nil
}

// plan decides what happens to one item and checks permissions; it writes
// nothing, so that a failure leaves the batch untouched.
func (w *secretWriter) plan(ctx context.Context, q store.Q, p *pending, i int, mode string, field func(int, string) string, keyField func(int) string) error {
	if p.row == nil {
		switch mode {
		case UpdateModeIgnore:
			p.skipped = true
			return nil
		case UpdateModeFailOnNotFound:
			return NotFound("Secret with name '%s' not found in environment '%s' at path '%s'", p.key, p.r.env.Slug, p.r.path)
		}
		// Upsert: create it.
		in := NewSecret{Key: p.key, SkipMultilineEncoding: p.in.SkipMultilineEncoding, ReminderNote: p.in.ReminderNote, ReminderRepeatDays: p.in.ReminderRepeatDays}
		if p.value != nil {
			in.Value = *p.value
		}
		if p.cmt != nil {
			in.Comment = *p.cmt
		}
		if p.in.Metadata != nil {
			in.Metadata = *p.in.Metadata
		}
		d, err := w.newDraft(p.r, func(f string) string { return field(i, f) }, keyField(i), p.typ, p.owner, in)
		if err != nil {
			return err
		}
		d.tags = p.tags
		if p.typ == SecretTypePersonal {
			if _, err := q.SecretByKey(ctx, p.r.folder.ID, p.key, ""); errors.Is(err, store.ErrNotFound) {
				return BadRequest("Cannot create a personal override of '%s': no shared secret with that name exists", p.key)
			} else if err != nil {
				return Internal("load shared secret", err)
			}
		}
		p.create = d
		return w.check(permission.ActionCreate, p.r, d.key, d.tags)
	}
	if err := w.check(permission.ActionEdit, p.r, p.row.Key, p.final); err != nil {
		return err
	}
	if p.in.TagIDs != nil {
		if err := w.check(permission.ActionEdit, p.r, p.row.Key, p.tags); err != nil {
			return err
		}
	}
	if p.newKey != "" {
		if err := w.check(permission.ActionEdit, p.r, p.newKey, p.tags); err != nil {
			return err
		}
		if _, err := q.SecretByKey(ctx, p.r.folder.ID, p.newKey, p.owner); err == nil {
			return BadRequest("Secret with name '%s' already exists", p.newKey)
		} else if !errors.Is(err, store.ErrNotFound) {
			return Internal("load secret", err)
		}
	}
	return nil
}

// apply writes the planned changes.
func (w *secretWriter) apply(ctx context.Context, q store.Q, ps []*pending) error {
	var creates []*draft
	var versions []store.SecretVersion
	var folders []string
	at, aid, aname := actorColumns(w.actor)
	for _, p := range ps {
		if p.skipped {
			continue
		}
		if !slices.Contains(folders, p.r.folder.ID) {
			folders = append(folders, p.r.folder.ID)
		}
		if p.create != nil {
			creates = append(creates, p.create)
			continue
		}
		row := p.row
		bump := false
		if p.value != nil {
			old, err := openString(w.aead, row.EncryptedValue)
			if err != nil {
				return err
			}
			if old != *p.value {
				row.EncryptedValue, bump = p.encVal, true
			}
		}
		if p.cmt != nil {
			old, err := openString(w.aead, row.EncryptedComment)
			if err != nil {
				return err
			}
			if old != *p.cmt {
				row.EncryptedComment, bump = p.encCmt, true
			}
		}
		if p.newKey != "" {
			row.Key, bump = p.newKey, true
		}
		if p.in.SkipMultilineEncoding != nil {
			row.SkipMultilineEncoding = p.in.SkipMultilineEncoding
		}
		if p.sealed != nil {
			row.Metadata = *p.sealed
		}
		if p.in.ReminderNote != nil {
			row.ReminderNote = p.in.ReminderNote
		}
		if p.in.ReminderRepeatDays != nil {
			row.ReminderRepeatDays = p.in.ReminderRepeatDays
		}
		if p.in.TagIDs != nil {
			p.final = p.tags
			if err := q.DeleteSecretTagLinks(ctx, row.ID, nil); err != nil {
				return Internal("unlink secret tags", err)
			}
			links := make([]store.SecretTagLink, len(p.tags))
			for i, t := range p.tags {
				links[i] = store.SecretTagLink{SecretID: row.ID, TagID: t.ID}
			}
			if err := q.InsertSecretTagLinks(ctx, links); err != nil {
				return Internal("link secret tags", err)
			}
		}
		row.ActorType, row.ActorID, row.ActorName = at, aid, aname
		row.UpdatedAt = w.now
		if bump {
			row.Version++
		}
		if err := q.Update(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("Secret with name '%s' already exists", row.Key)
			}
			return Internal("update secret", err)
		}
		if bump {
			versions = append(versions, versionOf(row, tagIDsOf(p.final), w.now))
		} else if err := q.UpdateSecretVersionMeta(ctx, row.ID, row.Version, tagIDsOf(p.final), row.Metadata, row.SkipMultilineEncoding, w.now); err != nil {
			return Internal("update secret version", err)
		}
	}
	if err := q.InsertSecretVersions(ctx, versions); err != nil {
		return Internal("insert secret versions", err)
	}
	if err := w.insert(ctx, q, creates); err != nil {
		return err
	}
	if err := q.TouchFolders(ctx, folders, w.now); err != nil {
		return Internal("touch folders", err)
	}
	return nil
}

// Delete deletes one secret and returns it. Deleting a shared secret also
// deletes the personal overrides of its key.
func (s *SecretService) Delete(ctx context.Context, actor Actor, in DeleteSecretInput) (*Secret, error) {
	out, err := s.del(ctx, actor, in.SecretScope, []SecretRef{in.SecretRef}, true)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// BatchDelete deletes several secrets of one folder; if any is missing,
// nothing is deleted.
func (s *SecretService) BatchDelete(ctx context.Context, actor Actor, in BatchDeleteInput) ([]Secret, error) {
	if err := checkBatchSize(s.e, len(in.Secrets)); err != nil {
		return nil, err
	}
	return s.del(ctx, actor, in.SecretScope, in.Secrets, false)
}

func (s *SecretService) del(ctx context.Context, actor Actor, sc SecretScope, refs []SecretRef, single bool) ([]Secret, error) {
	w, err := s.writer(ctx, actor, sc)
	if err != nil {
		return nil, err
	}
	ps := make([]*pending, len(refs))
	seen := map[ownedKey]bool{}
	for i, ref := range refs {
		p := &pending{r: w.base, key: strings.TrimSpace(ref.Key)}
		if p.key == "" {
			if single {
				return nil, Invalid("secretName", "secretName is required")
			}
			return nil, Invalid(fmt.Sprintf("secrets[%d].secretKey", i), "secretKey is required")
		}
		if p.typ, err = normalizeType(ref.Type); err != nil {
			return nil, err
		}
		if p.owner, err = ownerFor(actor, p.typ); err != nil {
			return nil, err
		}
		k := ownedKey{w.base.folder.ID, p.owner, p.key}
		if seen[k] {
			return nil, BadRequest("Secret '%s' appears twice in the batch", p.key)
		}
		seen[k] = true
		ps[i] = p
	}
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		if err := w.loadExisting(ctx, q, ps); err != nil {
			return err
		}
		var ids, sharedKeys []string
		for _, p := range ps {
			if p.row == nil {
				return NotFound("Secret with name '%s' not found in environment '%s' at path '%s'", p.key, w.base.env.Slug, w.base.path)
			}
			if err := w.check(permission.ActionDelete, p.r, p.row.Key, p.final); err != nil {
				return err
			}
			ids = append(ids, p.row.ID)
			if p.owner == "" {
				sharedKeys = append(sharedKeys, p.key)
			}
		}
		if err := q.DeleteSecrets(ctx, ids); err != nil {
			return Internal("delete secrets", err)
		}
		if err := q.DeletePersonalOverrides(ctx, w.base.folder.ID, sharedKeys); err != nil {
			return Internal("delete personal overrides", err)
		}
		if err := q.TouchFolders(ctx, []string{w.base.folder.ID}, w.now); err != nil {
			return Internal("touch folders", err)
		}
		return w.auditDeleted(ctx, q, single, ps)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Secret, len(ps))
	for i, p := range ps {
		hidden := !w.canReadValue(p.r, p.row.Key, p.final)
		if out[i], err = rowToSecret(w.aead, w.m.project.ID, p.row, p.r.env, p.r.path, p.final, hidden); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AttachTags adds tags (by slug) to a secret's tag set.
func (s *SecretService) AttachTags(ctx context.Context, actor Actor, in SecretTagsInput) (*Secret, error) {
	return s.retag(ctx, actor, in, true)
}

// DetachTags removes tags (by slug) from a secret's tag set.
func (s *SecretService) DetachTags(ctx context.Context, actor Actor, in SecretTagsInput) (*Secret, error) {
	return s.retag(ctx, actor, in, false)
}

func (s *SecretService) retag(ctx context.Context, actor Actor, in SecretTagsInput, attach bool) (*Secret, error) {
	var slugs []string
	for _, sl := range in.TagSlugs {
		if sl = strings.TrimSpace(sl); sl != "" && !slices.Contains(slugs, sl) {
			slugs = append(slugs, sl)
		}
	}
	if len(slugs) == 0 {
		return nil, Invalid("tagSlugs", "tagSlugs must name at least one tag")
	}
	key := strings.TrimSpace(in.Key)
	if key == "" {
		return nil, Invalid("secretName", "secretName is required")
	}
	typ, err := normalizeType(in.Type)
	if err != nil {
		return nil, err
	}
	owner, err := ownerFor(actor, typ)
	if err != nil {
		return nil, err
	}
	w, err := s.writer(ctx, actor, in.SecretScope)
	if err != nil {
		return nil, err
	}
	named, err := s.e.store.Read().TagsBySlugs(ctx, w.m.project.ID, slugs)
	if err != nil {
		return nil, Internal("load tags", err)
	}
	for _, sl := range slugs {
		if !slices.ContainsFunc(named, func(t store.Tag) bool { return t.Slug == sl }) {
			return nil, NotFound("Tag with slug '%s' (tagSlugs) not found in this project", sl)
		}
	}
	p := &pending{r: w.base, key: key, owner: owner, typ: typ}
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		if err := w.loadExisting(ctx, q, []*pending{p}); err != nil {
			return err
		}
		if p.row == nil {
			return NotFound("Secret with name '%s' not found in environment '%s' at path '%s'", key, w.base.env.Slug, w.base.path)
		}
		next := slices.Clone(p.final)
		for _, t := range named {
			has := slices.ContainsFunc(next, func(x store.Tag) bool { return x.ID == t.ID })
			if attach && !has {
				next = append(next, t)
			} else if !attach && has {
				next = slices.DeleteFunc(next, func(x store.Tag) bool { return x.ID == t.ID })
			}
		}
		slices.SortFunc(next, func(a, b store.Tag) int { return strings.Compare(a.Slug, b.Slug) })
		if err := w.check(permission.ActionEdit, p.r, p.row.Key, p.final); err != nil {
			return err
		}
		if err := w.check(permission.ActionEdit, p.r, p.row.Key, next); err != nil {
			return err
		}
		ids := tagIDsOf(named)
		if attach {
			links := make([]store.SecretTagLink, len(ids))
			for i, id := range ids {
				links[i] = store.SecretTagLink{SecretID: p.row.ID, TagID: id}
			}
			err = q.InsertSecretTagLinks(ctx, links)
		} else {
			err = q.DeleteSecretTagLinks(ctx, p.row.ID, ids)
		}
		if err != nil {
			return Internal("change secret tags", err)
		}
		p.final = next
		p.row.UpdatedAt = w.now
		p.row.ActorType, p.row.ActorID, p.row.ActorName = actorColumns(w.actor)
		if err := q.Update(ctx, p.row); err != nil {
			return Internal("update secret", err)
		}
		if err := q.UpdateSecretVersionMeta(ctx, p.row.ID, p.row.Version, tagIDsOf(next), p.row.Metadata, p.row.SkipMultilineEncoding, w.now); err != nil {
			return Internal("update secret version", err)
		}
		if err := q.TouchFolders(ctx, []string{w.base.folder.ID}, w.now); err != nil {
			return Internal("touch folders", err)
		}
		return w.auditUpdated(ctx, q, true, []*pending{p})
	})
	if err != nil {
		return nil, err
	}
	hidden := !w.canReadValue(p.r, p.row.Key, p.final)
	sec, err := rowToSecret(w.aead, w.m.project.ID, p.row, p.r.env, p.r.path, p.final, hidden)
	if err != nil {
		return nil, err
	}
	return &sec, nil
}
