package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// ProjectTemplate is an organization's preset of environments, roles and
// memberships applied to a project when it is created. The list columns
// hold JSON; a nil pointer is SQL NULL (Infisical's "null" list).
type ProjectTemplate struct {
	bun.BaseModel            `bun:"table:project_templates"`
	ID                       string    `bun:"id,pk"`
	OrgID                    string    `bun:"org_id"`
	Name                     string    `bun:"name"`
	Description              *string   `bun:"description"`
	Type                     string    `bun:"type"`
	Roles                    string    `bun:"roles"`
	Environments             *string   `bun:"environments"`
	Users                    *string   `bun:"users"`
	Groups                   *string   `bun:"groups_json"`
	Identities               *string   `bun:"identities"`
	ProjectManagedIdentities *string   `bun:"project_managed_identities"`
	CreatedAt                time.Time `bun:"created_at"`
	UpdatedAt                time.Time `bun:"updated_at"`
}

// GetProjectTemplate loads a template by id.
func (q Q) GetProjectTemplate(ctx context.Context, id string) (*ProjectTemplate, error) {
	var t ProjectTemplate
	if err := q.GetByID(ctx, &t, id); err != nil {
		return nil, err
	}
	return &t, nil
}

// ProjectTemplateByName loads a template of orgID by name.
func (q Q) ProjectTemplateByName(ctx context.Context, orgID, name string) (*ProjectTemplate, error) {
	var t ProjectTemplate
	err := q.db.NewSelect().Model(&t).Where("org_id = ? AND name = ?", orgID, name).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &t, nil
}

// ListProjectTemplates returns the templates of an organization by name,
// only those of type typ when it is not empty.
func (q Q) ListProjectTemplates(ctx context.Context, orgID, typ string) ([]ProjectTemplate, error) {
	out := []ProjectTemplate{}
	sq := q.db.NewSelect().Model(&out).Where("org_id = ?", orgID)
	if typ != "" {
		sq = sq.Where("type = ?", typ)
	}
	err := sq.Order("name ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}
