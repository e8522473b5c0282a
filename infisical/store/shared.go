package store

import "context"

// Queries shared by several engine areas (secrets read imports and tags;
// the folder, import and tag services manage them).

// ListImportsOfFolder returns a folder's secret imports by position.
func (q Q) ListImportsOfFolder(ctx context.Context, folderID string) ([]SecretImport, error) {
	var out []SecretImport
	err := q.db.NewSelect().Model(&out).Where("folder_id = ?", folderID).Order("position ASC", "created_at ASC").Scan(ctx)
	return out, classify(err)
}

// ListImportsOfFolders returns the imports of several folders by position.
func (q Q) ListImportsOfFolders(ctx context.Context, folderIDs []string) ([]SecretImport, error) {
	var out []SecretImport
	if len(folderIDs) == 0 {
		return nil, nil
	}
	err := q.db.NewSelect().Model(&out).Where("folder_id IN (?)", bunIn(folderIDs)).Order("position ASC", "created_at ASC").Scan(ctx)
	return out, classify(err)
}

// TagsByIDs loads tags of a project by id.
func (q Q) TagsByIDs(ctx context.Context, projectID string, ids []string) ([]Tag, error) {
	var out []Tag
	if len(ids) == 0 {
		return nil, nil
	}
	err := q.db.NewSelect().Model(&out).Where("project_id = ? AND id IN (?)", projectID, bunIn(ids)).Scan(ctx)
	return out, classify(err)
}

// TagsBySlugs loads tags of a project by slug.
func (q Q) TagsBySlugs(ctx context.Context, projectID string, slugs []string) ([]Tag, error) {
	var out []Tag
	if len(slugs) == 0 {
		return nil, nil
	}
	err := q.db.NewSelect().Model(&out).Where("project_id = ? AND slug IN (?)", projectID, bunIn(slugs)).Scan(ctx)
	return out, classify(err)
}

// SecretTag pairs a secret id with one of its tags.
type SecretTag struct {
	SecretID string `bun:"secret_id"`
	Tag
}

// TagsOfSecrets returns the tags of the given secrets.
func (q Q) TagsOfSecrets(ctx context.Context, secretIDs []string) ([]SecretTag, error) {
	if len(secretIDs) == 0 {
		return nil, nil
	}
	var out []SecretTag
	err := q.db.NewSelect().
		ColumnExpr("l.secret_id AS secret_id").
		ColumnExpr("t.id, t.project_id, t.slug, t.color, t.created_by, t.created_by_actor_type, t.created_at, t.updated_at").
		TableExpr("secret_tag_links AS l").
		Join("JOIN secret_tags AS t ON t.id = l.tag_id").
		Where("l.secret_id IN (?)", bunIn(secretIDs)).
		OrderExpr("t.slug ASC").
		Scan(ctx, &out)
	return out, classify(err)
}
