package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Custom project and organization roles.

// ProjectRole is a custom project role. Permissions holds the V2 rules as
// JSON.
type ProjectRole struct {
	bun.BaseModel `bun:"table:project_roles"`
	ID            string    `bun:"id,pk"`
	ProjectID     string    `bun:"project_id"`
	Name          string    `bun:"name"`
	Slug          string    `bun:"slug"`
	Description   *string   `bun:"description"`
	Permissions   string    `bun:"permissions"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// OrgRole is a custom organization role. Permissions holds the V2 rules as
// JSON.
type OrgRole struct {
	bun.BaseModel `bun:"table:org_roles"`
	ID            string    `bun:"id,pk"`
	OrgID         string    `bun:"org_id"`
	Name          string    `bun:"name"`
	Slug          string    `bun:"slug"`
	Description   *string   `bun:"description"`
	Permissions   string    `bun:"permissions"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// GetProjectRole loads a custom project role by id.
func (q Q) GetProjectRole(ctx context.Context, id string) (*ProjectRole, error) {
	var r ProjectRole
	if err := q.GetByID(ctx, &r, id); err != nil {
		return nil, err
	}
	return &r, nil
}

// ProjectRoleBySlug loads a custom project role by (project, slug).
func (q Q) ProjectRoleBySlug(ctx context.Context, projectID, slug string) (*ProjectRole, error) {
	var r ProjectRole
	err := q.db.NewSelect().Model(&r).Where("project_id = ? AND slug = ?", projectID, slug).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &r, nil
}

// ListProjectRoles returns the custom roles of a project, oldest first.
func (q Q) ListProjectRoles(ctx context.Context, projectID string) ([]ProjectRole, error) {
	out := []ProjectRole{}
	err := q.db.NewSelect().Model(&out).Where("project_id = ?", projectID).Order("created_at ASC", "slug ASC").Scan(ctx)
	return out, classify(err)
}

// ProjectRolesByIDs loads custom project roles by id.
func (q Q) ProjectRolesByIDs(ctx context.Context, ids []string) ([]ProjectRole, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []ProjectRole
	err := q.db.NewSelect().Model(&out).Where("id IN (?)", bunIn(ids)).Scan(ctx)
	return out, classify(err)
}

// CountProjectRoleAssignments counts the membership role rows that use a
// custom project role.
func (q Q) CountProjectRoleAssignments(ctx context.Context, roleID string) (int, error) {
	n, err := q.db.NewSelect().Model((*MembershipRole)(nil)).Where("custom_role_id = ?", roleID).Count(ctx)
	return int(n), classify(err)
}

// GetOrgRole loads a custom organization role by id.
func (q Q) GetOrgRole(ctx context.Context, id string) (*OrgRole, error) {
	var r OrgRole
	if err := q.GetByID(ctx, &r, id); err != nil {
		return nil, err
	}
	return &r, nil
}

// OrgRoleBySlug loads a custom organization role by (org, slug).
func (q Q) OrgRoleBySlug(ctx context.Context, orgID, slug string) (*OrgRole, error) {
	var r OrgRole
	err := q.db.NewSelect().Model(&r).Where("org_id = ? AND slug = ?", orgID, slug).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &r, nil
}

// OrgRolesBySlugs loads the custom organization roles of orgID with the
// given slugs.
func (q Q) OrgRolesBySlugs(ctx context.Context, orgID string, slugs []string) ([]OrgRole, error) {
	if len(slugs) == 0 {
		return nil, nil
	}
	var out []OrgRole
	err := q.db.NewSelect().Model(&out).Where("org_id = ? AND slug IN (?)", orgID, bunIn(slugs)).Scan(ctx)
	return out, classify(err)
}

// ListOrgRoles returns the custom roles of an organization, oldest first.
func (q Q) ListOrgRoles(ctx context.Context, orgID string) ([]OrgRole, error) {
	out := []OrgRole{}
	err := q.db.NewSelect().Model(&out).Where("org_id = ?", orgID).Order("created_at ASC", "slug ASC").Scan(ctx)
	return out, classify(err)
}

// CountOrgRoleHolders counts the user memberships, identity memberships and
// groups of orgID whose organization role is slug.
func (q Q) CountOrgRoleHolders(ctx context.Context, orgID, slug string) (int, error) {
	total := 0
	for _, model := range []any{(*OrgMembership)(nil), (*IdentityOrgMembership)(nil), (*Group)(nil)} {
		n, err := q.db.NewSelect().Model(model).Where("org_id = ? AND role = ?", orgID, slug).Count(ctx)
		if err != nil {
			return 0, classify(err)
		}
		total += int(n)
	}
	return total, nil
}

// RenameOrgRoleHolders rewrites the organization role slug of every user
// membership, identity membership and group of orgID from oldSlug to
// newSlug (custom organization roles are referenced by slug).
func (q Q) RenameOrgRoleHolders(ctx context.Context, orgID, oldSlug, newSlug string) error {
	for _, model := range []any{(*OrgMembership)(nil), (*IdentityOrgMembership)(nil), (*Group)(nil)} {
		_, err := q.db.NewUpdate().Model(model).Set("role = ?", newSlug).Where("org_id = ? AND role = ?", orgID, oldSlug).Exec(ctx)
		if err != nil {
			return classify(err)
		}
	}
	return nil
}
