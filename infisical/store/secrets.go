package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Secret queries. A shared secret has owner_id ''; a personal override has
// the owning user's id, so (folder_id, key, owner_id) is unique for both.

// SecretByKey returns the secret key of a folder owned by ownerID (the
// empty string for the shared one).
func (q Q) SecretByKey(ctx context.Context, folderID, key, ownerID string) (*Secret, error) {
	var s Secret
	err := q.db.NewSelect().Model(&s).Where("folder_id = ? AND key = ? AND owner_id = ?", folderID, key, ownerID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &s, nil
}

// SecretsByKeys returns the secrets of a folder among keys owned by ownerID.
func (q Q) SecretsByKeys(ctx context.Context, folderID string, keys []string, ownerID string) ([]Secret, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out []Secret
	err := q.db.NewSelect().Model(&out).
		Where("folder_id = ? AND owner_id = ? AND key IN (?)", folderID, ownerID, bun.In(keys)).
		Order("key ASC").Scan(ctx)
	return out, classify(err)
}

// SecretLocation is a secret with the environment and project it lives in.
type SecretLocation struct {
	Secret
	EnvID     string `bun:"env_id"`
	ProjectID string `bun:"project_id"`
}

// SecretWithLocation loads a secret by id together with its environment and
// project ids (routes addressed by secret id alone need the project).
func (q Q) SecretWithLocation(ctx context.Context, id string) (*SecretLocation, error) {
	var out SecretLocation
	err := q.db.NewSelect().
		ColumnExpr("secret.*").
		ColumnExpr("f.env_id AS env_id").
		ColumnExpr("e.project_id AS project_id").
		TableExpr("secrets AS secret").
		Join("JOIN secret_folders AS f ON f.id = secret.folder_id").
		Join("JOIN project_environments AS e ON e.id = f.env_id").
		Where("secret.id = ?", id).
		Limit(1).
		Scan(ctx, &out)
	if err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// SecretVersionOf returns one historical version of a secret.
func (q Q) SecretVersionOf(ctx context.Context, secretID string, version int) (*SecretVersion, error) {
	var v SecretVersion
	err := q.db.NewSelect().Model(&v).Where("secret_id = ? AND version = ?", secretID, version).
		Order("created_at DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &v, nil
}

// ListSecretVersions returns every stored version of a secret, oldest first.
func (q Q) ListSecretVersions(ctx context.Context, secretID string) ([]SecretVersion, error) {
	var out []SecretVersion
	err := q.db.NewSelect().Model(&out).Where("secret_id = ?", secretID).Order("version ASC", "created_at ASC").Scan(ctx)
	return out, classify(err)
}

// InsertSecrets inserts secret rows in one statement.
func (q Q) InsertSecrets(ctx context.Context, rows []Secret) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := q.db.NewInsert().Model(&rows).Exec(ctx)
	return classify(err)
}

// InsertSecretVersions inserts version rows in one statement.
func (q Q) InsertSecretVersions(ctx context.Context, rows []SecretVersion) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := q.db.NewInsert().Model(&rows).Exec(ctx)
	return classify(err)
}

// InsertSecretTagLinks links tags to secrets; existing links are kept.
func (q Q) InsertSecretTagLinks(ctx context.Context, links []SecretTagLink) error {
	if len(links) == 0 {
		return nil
	}
	_, err := q.db.NewInsert().Model(&links).On("CONFLICT (secret_id, tag_id) DO NOTHING").Exec(ctx)
	return classify(err)
}

// DeleteSecretTagLinks removes the given tags from a secret (all of its tags
// when tagIDs is nil).
func (q Q) DeleteSecretTagLinks(ctx context.Context, secretID string, tagIDs []string) error {
	dq := q.db.NewDelete().Model((*SecretTagLink)(nil)).Where("secret_id = ?", secretID)
	if tagIDs != nil {
		if len(tagIDs) == 0 {
			return nil
		}
		dq = dq.Where("tag_id IN (?)", bun.In(tagIDs))
	}
	_, err := dq.Exec(ctx)
	return classify(err)
}

// DeleteSecrets deletes secrets by id (their tag links cascade).
func (q Q) DeleteSecrets(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := q.db.NewDelete().Model((*Secret)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx)
	return classify(err)
}

// DeletePersonalOverrides deletes every user's personal secrets of the given
// keys in a folder: an override cannot outlive the shared secret it
// overrides.
func (q Q) DeletePersonalOverrides(ctx context.Context, folderID string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := q.db.NewDelete().Model((*Secret)(nil)).
		Where("folder_id = ? AND owner_id <> '' AND key IN (?)", folderID, bun.In(keys)).Exec(ctx)
	return classify(err)
}

// TouchFolders records that secrets of the given folders changed at t.
func (q Q) TouchFolders(ctx context.Context, folderIDs []string, t time.Time) error {
	if len(folderIDs) == 0 {
		return nil
	}
	_, err := q.db.NewUpdate().Model((*Folder)(nil)).Set("last_secret_modified = ?", t).
		Where("id IN (?)", bun.In(folderIDs)).Exec(ctx)
	// Every secret write touches its folders: that is where caches of a
	// folder's contents learn that it changed.
	for _, id := range folderIDs {
		q.Invalidate(TopicFolderSecrets, id)
	}
	return classify(err)
}

// UpdateSecretVersionMeta rewrites the non-versioned attributes (tags,
// metadata, multiline flag) recorded for a secret's current version, so
// that history agrees with the secret after a change that does not create a
// version.
func (q Q) UpdateSecretVersionMeta(ctx context.Context, secretID string, version int, tagIDs []string, md []MetadataEntry, skip *bool, at time.Time) error {
	// A model value lets bun encode the JSON columns as it does on insert.
	v := &SecretVersion{TagIDs: tagIDs, Metadata: md, SkipMultilineEncoding: skip, UpdatedAt: at}
	_, err := q.db.NewUpdate().Model(v).
		Column("tag_ids", "metadata", "skip_multiline_encoding", "updated_at").
		Where("secret_id = ? AND version = ?", secretID, version).Exec(ctx)
	return classify(err)
}

// SecretWithTags is a secret row with the ids of its tags, aggregated by
// the database so that a read costs one round trip for the secrets and one
// small one for the distinct tags they use.
type SecretWithTags struct {
	Secret
	TagIDList *string `bun:"tag_id_list"`
}

// TagIDs returns the ids of the row's tags (unordered).
func (s *SecretWithTags) TagIDs() []string {
	if s.TagIDList == nil || *s.TagIDList == "" {
		return nil
	}
	return strings.Split(*s.TagIDList, ",")
}

// tagIDsExpr aggregates a secret's tag ids into one comma-separated text
// (tag ids are UUIDs and never contain a comma).
func (q Q) tagIDsExpr() string {
	agg := "group_concat(l.tag_id, ',')"
	if q.s.pg {
		agg = "string_agg(l.tag_id, ',')"
	}
	return "(SELECT " + agg + " FROM secret_tag_links AS l WHERE l.secret_id = secret.id) AS tag_id_list"
}

// ListSecretsWithTags returns the secrets of the given folders with their
// tag ids, ordered by key then type. Shared secrets are always included;
// personal ones only when ownerID is non-empty, and then only that owner's.
func (q Q) ListSecretsWithTags(ctx context.Context, folderIDs []string, ownerID string) ([]SecretWithTags, error) {
	if len(folderIDs) == 0 {
		return nil, nil
	}
	var out []SecretWithTags
	sq := q.db.NewSelect().TableExpr("secrets AS secret").ColumnExpr("secret.*").ColumnExpr(q.tagIDsExpr())
	if len(folderIDs) == 1 {
		sq = sq.Where("secret.folder_id = ?", folderIDs[0])
	} else {
		sq = sq.Where("secret.folder_id IN (?)", bun.In(folderIDs))
	}
	if ownerID == "" {
		sq = sq.Where("secret.owner_id = ''")
	} else {
		sq = sq.Where("secret.owner_id IN ('', ?)", ownerID)
	}
	err := sq.OrderExpr("secret.key ASC, secret.type ASC, secret.folder_id ASC").Scan(ctx, &out)
	return out, classify(err)
}

// SecretByKeyWithTags is SecretByKey with the row's tag ids.
func (q Q) SecretByKeyWithTags(ctx context.Context, folderID, key, ownerID string) (*SecretWithTags, error) {
	var out SecretWithTags
	err := q.db.NewSelect().TableExpr("secrets AS secret").ColumnExpr("secret.*").ColumnExpr(q.tagIDsExpr()).
		Where("secret.folder_id = ? AND secret.key = ? AND secret.owner_id = ?", folderID, key, ownerID).
		Limit(1).Scan(ctx, &out)
	if err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// TopicFolderSecrets is the invalidation topic for a folder's secrets.
const TopicFolderSecrets = "folder"

// ListFolderSecretsAllOwners returns every secret of a folder (shared and
// all personal ones) with tag ids, ordered like ListSecretsWithTags.
func (q Q) ListFolderSecretsAllOwners(ctx context.Context, folderID string) ([]SecretWithTags, error) {
	var out []SecretWithTags
	err := q.db.NewSelect().TableExpr("secrets AS secret").ColumnExpr("secret.*").ColumnExpr(q.tagIDsExpr()).
		Where("secret.folder_id = ?", folderID).
		OrderExpr("secret.key ASC, secret.type ASC, secret.folder_id ASC").Scan(ctx, &out)
	return out, classify(err)
}
