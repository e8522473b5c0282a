package store

import "context"

// Tag queries (TagsByIDs, TagsBySlugs and TagsOfSecrets, used by the
// secrets service too, are in shared.go).

// ListTags returns a project's tags by slug.
func (q Q) ListTags(ctx context.Context, projectID string) ([]Tag, error) {
	var out []Tag
	err := q.db.NewSelect().Model(&out).Where("project_id = ?", projectID).Order("slug ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// GetTag loads a tag of a project by id.
func (q Q) GetTag(ctx context.Context, projectID, id string) (*Tag, error) {
	var t Tag
	err := q.db.NewSelect().Model(&t).Where("project_id = ? AND id = ?", projectID, id).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &t, nil
}

// GetTagBySlug loads a tag of a project by slug.
func (q Q) GetTagBySlug(ctx context.Context, projectID, slug string) (*Tag, error) {
	var t Tag
	err := q.db.NewSelect().Model(&t).Where("project_id = ? AND slug = ?", projectID, slug).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &t, nil
}
