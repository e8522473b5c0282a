package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// User groups of an organization and their members.

// Group is an organization's user group. Role is its organization role slug
// (built-in or custom).
type Group struct {
	bun.BaseModel `bun:"table:org_groups"`
	ID            string    `bun:"id,pk"`
	OrgID         string    `bun:"org_id"`
	Name          string    `bun:"name"`
	Slug          string    `bun:"slug"`
	Role          string    `bun:"role"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// GroupMember links a user to a group.
type GroupMember struct {
	bun.BaseModel `bun:"table:group_members"`
	GroupID       string    `bun:"group_id,pk"`
	UserID        string    `bun:"user_id,pk"`
	CreatedAt     time.Time `bun:"created_at"`
}

// GetGroup loads a group by id.
func (q Q) GetGroup(ctx context.Context, id string) (*Group, error) {
	var g Group
	if err := q.GetByID(ctx, &g, id); err != nil {
		return nil, err
	}
	return &g, nil
}

// GroupByNameOrSlug loads a group of orgID whose name (preferred) or slug is
// ref.
func (q Q) GroupByNameOrSlug(ctx context.Context, orgID, ref string) (*Group, error) {
	var g Group
	err := q.db.NewSelect().Model(&g).Where("org_id = ? AND (name = ? OR slug = ?)", orgID, ref, ref).
		OrderExpr("CASE WHEN name = ? THEN 0 ELSE 1 END", ref).Order("created_at ASC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &g, nil
}

// GroupsBySlugs loads the groups of orgID with the given slugs.
func (q Q) GroupsBySlugs(ctx context.Context, orgID string, slugs []string) ([]Group, error) {
	if len(slugs) == 0 {
		return nil, nil
	}
	var out []Group
	err := q.db.NewSelect().Model(&out).Where("org_id = ? AND slug IN (?)", orgID, bunIn(slugs)).Scan(ctx)
	return out, classify(err)
}

// GroupsByIDs loads groups by id.
func (q Q) GroupsByIDs(ctx context.Context, ids []string) ([]Group, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Group
	err := q.db.NewSelect().Model(&out).Where("id IN (?)", bunIn(ids)).Scan(ctx)
	return out, classify(err)
}

// ListGroups returns the groups of an organization by name.
func (q Q) ListGroups(ctx context.Context, orgID string) ([]Group, error) {
	out := []Group{}
	err := q.db.NewSelect().Model(&out).Where("org_id = ?", orgID).OrderExpr("LOWER(name) ASC").Order("id ASC").Scan(ctx)
	return out, classify(err)
}

// GroupIDsOfUser lists the groups of orgID the user belongs to.
func (q Q) GroupIDsOfUser(ctx context.Context, orgID, userID string) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().TableExpr("group_members AS gm").ColumnExpr("gm.group_id").
		Join("JOIN org_groups AS g ON g.id = gm.group_id").
		Where("g.org_id = ? AND gm.user_id = ?", orgID, userID).OrderExpr("gm.group_id ASC").Scan(ctx, &ids)
	return ids, classify(err)
}

// ProjectIDsOfGroup lists the projects the group is a member of.
func (q Q) ProjectIDsOfGroup(ctx context.Context, groupID string) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*ProjectMembership)(nil)).Column("project_id").
		Where("actor_type = ? AND actor_id = ?", ActorGroup, groupID).Scan(ctx, &ids)
	return ids, classify(err)
}

// OrgUser is a user who belongs to an organization, with the time it joined
// a group (nil when it is not a member of the group asked about).
type OrgUser struct {
	ID            string     `bun:"id"`
	Email         *string    `bun:"email"`
	Username      string     `bun:"username"`
	FirstName     *string    `bun:"first_name"`
	LastName      *string    `bun:"last_name"`
	JoinedGroupAt *time.Time `bun:"joined_group_at"`
}

// OrgUserByUsername finds a user of orgID by username (case-insensitive).
func (q Q) OrgUserByUsername(ctx context.Context, orgID, username string) (*OrgUser, error) {
	var u OrgUser
	err := q.db.NewSelect().TableExpr("users AS u").
		ColumnExpr("u.id, u.email, u.username, u.first_name, u.last_name").
		Join("JOIN org_memberships AS om ON om.user_id = u.id").
		Where("om.org_id = ? AND LOWER(u.username) = ?", orgID, strings.ToLower(username)).
		Limit(1).Scan(ctx, &u)
	if err != nil {
		return nil, classify(err)
	}
	return &u, nil
}

// GroupUserFilter selects and pages the users of a group's organization.
type GroupUserFilter struct {
	GroupID string
	OrgID   string
	// Username is a case-insensitive substring of the username; Search one
	// of username, email, first or last name.
	Username string
	Search   string
	// Members: "" all users of the organization, "existingMembers" only
	// members of the group, "nonMembers" only the others.
	Members string
	Offset  int
	Limit   int // 0 = no limit
}

// ListGroupUsers returns the users of the group's organization matching f
// (with the time each joined the group, if it did), ordered by username,
// and the total count before paging.
func (q Q) ListGroupUsers(ctx context.Context, f GroupUserFilter) ([]OrgUser, int, error) {
	where := func(sq *selectQuery) *selectQuery {
		sq = sq.TableExpr("users AS u").
			Join("JOIN org_memberships AS om ON om.user_id = u.id AND om.org_id = ?", f.OrgID).
			Join("LEFT JOIN group_members AS gm ON gm.user_id = u.id AND gm.group_id = ?", f.GroupID)
		if f.Username != "" {
			sq = sq.Where("LOWER(u.username) LIKE ? ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.Username))+"%")
		}
		if f.Search != "" {
			p := "%" + likeEscape(strings.ToLower(f.Search)) + "%"
			sq = sq.Where("(LOWER(u.username) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(u.email, '')) LIKE ? ESCAPE '\\' OR "+
				"LOWER(COALESCE(u.first_name, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(u.last_name, '')) LIKE ? ESCAPE '\\')", p, p, p, p)
		}
		switch f.Members {
		case "existingMembers":
			sq = sq.Where("gm.user_id IS NOT NULL")
		case "nonMembers":
			sq = sq.Where("gm.user_id IS NULL")
		}
		return sq
	}
	total, err := where(q.db.NewSelect()).Count(ctx)
	if err != nil {
		return nil, 0, classify(err)
	}
	sq := where(q.db.NewSelect()).
		ColumnExpr("u.id, u.email, u.username, u.first_name, u.last_name, gm.created_at AS joined_group_at").
		OrderExpr("LOWER(u.username) ASC").OrderExpr("u.id ASC")
	if f.Offset > 0 {
		sq = sq.Offset(int64(f.Offset))
	}
	if f.Limit > 0 {
		sq = sq.Limit(int64(f.Limit))
	}
	out := []OrgUser{}
	if err := sq.Scan(ctx, &out); err != nil {
		return nil, 0, classify(err)
	}
	return out, int(total), nil
}

// RemoveGroupMember deletes a user's membership of a group and reports
// whether there was one.
func (q Q) RemoveGroupMember(ctx context.Context, groupID, userID string) (bool, error) {
	res, err := q.db.NewDelete().Model((*GroupMember)(nil)).Where("group_id = ? AND user_id = ?", groupID, userID).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// GroupMembershipRow is a group's membership in a project joined with the
// group.
type GroupMembershipRow struct {
	ProjectMembership `bun:",extend"`
	GroupName         string `bun:"group_name"`
	GroupSlug         string `bun:"group_slug"`
}

func (q Q) groupMembershipSelect() *selectQuery {
	return q.db.NewSelect().TableExpr("project_memberships AS pm").
		Join("JOIN org_groups AS g ON g.id = pm.actor_id").
		ColumnExpr("pm.*, g.name AS group_name, g.slug AS group_slug").
		Where("pm.actor_type = ?", ActorGroup)
}

// ListProjectGroupMemberships returns the group memberships of a project by
// group name.
func (q Q) ListProjectGroupMemberships(ctx context.Context, projectID string) ([]GroupMembershipRow, error) {
	out := []GroupMembershipRow{}
	err := q.groupMembershipSelect().Where("pm.project_id = ?", projectID).
		OrderExpr("LOWER(g.name) ASC").OrderExpr("pm.id ASC").Scan(ctx, &out)
	return out, classify(err)
}

// ProjectGroupMembership returns one group's membership in a project.
func (q Q) ProjectGroupMembership(ctx context.Context, projectID, groupID string) (*GroupMembershipRow, error) {
	var out GroupMembershipRow
	err := q.groupMembershipSelect().Where("pm.project_id = ? AND pm.actor_id = ?", projectID, groupID).Limit(1).Scan(ctx, &out)
	if err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// GroupOrgRolesOfUser lists the organization roles of the groups of orgID
// the user belongs to (distinct slugs).
func (q Q) GroupOrgRolesOfUser(ctx context.Context, orgID, userID string) ([]string, error) {
	var roles []string
	err := q.db.NewSelect().TableExpr("org_groups AS g").ColumnExpr("DISTINCT g.role").
		Join("JOIN group_members AS gm ON gm.group_id = g.id").
		Where("g.org_id = ? AND gm.user_id = ?", orgID, userID).OrderExpr("g.role ASC").Scan(ctx, &roles)
	return roles, classify(err)
}
