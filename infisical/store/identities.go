package store

import (
	"context"
	"strings"
	"time"
)

// Queries of machine identities, their organization memberships, metadata
// and project memberships.

// GetIdentity loads an identity by id.
func (q Q) GetIdentity(ctx context.Context, id string) (*Identity, error) {
	var i Identity
	if err := q.GetByID(ctx, &i, id); err != nil {
		return nil, err
	}
	return &i, nil
}

// IdentityOrgMembershipOf returns the membership of an identity in orgID.
func (q Q) IdentityOrgMembershipOf(ctx context.Context, orgID, identityID string) (*IdentityOrgMembership, error) {
	var m IdentityOrgMembership
	err := q.db.NewSelect().Model(&m).Where("org_id = ? AND identity_id = ?", orgID, identityID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &m, nil
}

// IdentityOrgMembershipsOf returns every organization membership of an
// identity, oldest first (the first is its home organization).
func (q Q) IdentityOrgMembershipsOf(ctx context.Context, identityID string) ([]IdentityOrgMembership, error) {
	var out []IdentityOrgMembership
	err := q.db.NewSelect().Model(&out).Where("identity_id = ?", identityID).Order("created_at ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// OrgIdentityRow is an organization identity membership joined with its
// identity.
type OrgIdentityRow struct {
	IdentityOrgMembership `bun:",extend"`
	IdentityName          string    `bun:"identity_name"`
	HasDeleteProtection   bool      `bun:"identity_has_delete_protection"`
	IdentityCreatedAt     time.Time `bun:"identity_created_at"`
	IdentityUpdatedAt     time.Time `bun:"identity_updated_at"`
}

// OrgIdentityFilter selects and pages the identities of an organization.
type OrgIdentityFilter struct {
	OrgID       string
	IdentityID  string   // one identity only
	NameEq      string   // exact name
	NameContain string   // case-insensitive substring
	NameIn      []string // any of these names
	RoleIn      []string // org role slugs
	OrderBy     string   // "name" (default), "role", "createdAt"
	Desc        bool
	Offset      int
	Limit       int // 0 = no limit
}

// ListOrgIdentities returns the identity memberships of an organization that
// match f, with the total count before paging.
func (q Q) ListOrgIdentities(ctx context.Context, f OrgIdentityFilter) ([]OrgIdentityRow, int, error) {
	where := func(sq *selectQuery) *selectQuery {
		sq = sq.TableExpr("identity_org_memberships AS m").
			Join("JOIN identities AS i ON i.id = m.identity_id").
			Where("m.org_id = ?", f.OrgID)
		if f.IdentityID != "" {
			sq = sq.Where("m.identity_id = ?", f.IdentityID)
		}
		if f.NameEq != "" {
			sq = sq.Where("i.name = ?", f.NameEq)
		}
		if f.NameContain != "" {
			sq = sq.Where("LOWER(i.name) LIKE ? ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.NameContain))+"%")
		}
		if len(f.NameIn) > 0 {
			sq = sq.Where("i.name IN (?)", bunIn(f.NameIn))
		}
		if len(f.RoleIn) > 0 {
			sq = sq.Where("m.role IN (?)", bunIn(f.RoleIn))
		}
		return sq
	}
	total, err := where(q.db.NewSelect()).Count(ctx)
	if err != nil {
		return nil, 0, classify(err)
	}
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	sq := where(q.db.NewSelect()).
		ColumnExpr("m.*").
		ColumnExpr("i.name AS identity_name, i.has_delete_protection AS identity_has_delete_protection").
		ColumnExpr("i.created_at AS identity_created_at, i.updated_at AS identity_updated_at")
	switch f.OrderBy {
	case "role":
		sq = sq.OrderExpr("m.role " + dir)
	case "createdAt":
		sq = sq.OrderExpr("m.created_at " + dir)
	default:
		sq = sq.OrderExpr("LOWER(i.name) " + dir)
	}
	sq = sq.OrderExpr("m.id ASC")
	if f.Offset > 0 {
		sq = sq.Offset(int64(f.Offset))
	}
	if f.Limit > 0 {
		sq = sq.Limit(int64(f.Limit))
	}
	out := []OrgIdentityRow{}
	if err := sq.Scan(ctx, &out); err != nil {
		return nil, 0, classify(err)
	}
	return out, int(total), nil
}

// likeEscape escapes LIKE wildcards in user input.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// IdentityMetadataOf returns the metadata of the given identities in orgID.
func (q Q) IdentityMetadataOf(ctx context.Context, orgID string, identityIDs []string) ([]IdentityMetadata, error) {
	if len(identityIDs) == 0 {
		return nil, nil
	}
	var out []IdentityMetadata
	err := q.db.NewSelect().Model(&out).Where("org_id = ? AND identity_id IN (?)", orgID, bunIn(identityIDs)).
		Order("created_at ASC", "key ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// DeleteIdentityMetadata removes every metadata entry of an identity in an
// organization.
func (q Q) DeleteIdentityMetadata(ctx context.Context, orgID, identityID string) error {
	_, err := q.db.NewDelete().Model((*IdentityMetadata)(nil)).Where("org_id = ? AND identity_id = ?", orgID, identityID).Exec(ctx)
	return classify(err)
}

// IdentityAuthMethod pairs an identity with one configured auth method.
type IdentityAuthMethod struct {
	IdentityID string `bun:"identity_id"`
	Method     string `bun:"method"`
}

// AuthMethodNamesOf returns the configured auth methods of the given
// identities, ordered by method name.
func (q Q) AuthMethodNamesOf(ctx context.Context, identityIDs []string) ([]IdentityAuthMethod, error) {
	if len(identityIDs) == 0 {
		return nil, nil
	}
	var out []IdentityAuthMethod
	err := q.db.NewSelect().Model((*AuthMethod)(nil)).Column("identity_id", "method").
		Where("identity_id IN (?)", bunIn(identityIDs)).Order("method ASC").Scan(ctx, &out)
	return out, classify(err)
}

// ProjectMembershipOf returns the direct membership of an actor in a project.
func (q Q) ProjectMembershipOf(ctx context.Context, projectID, actorType, actorID string) (*ProjectMembership, error) {
	var m ProjectMembership
	err := q.db.NewSelect().Model(&m).Where("project_id = ? AND actor_type = ? AND actor_id = ?", projectID, actorType, actorID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &m, nil
}

// GetProjectMembership loads a project membership by id.
func (q Q) GetProjectMembership(ctx context.Context, id string) (*ProjectMembership, error) {
	var m ProjectMembership
	if err := q.GetByID(ctx, &m, id); err != nil {
		return nil, err
	}
	return &m, nil
}

// RolesOfMemberships returns the role rows of the given memberships, oldest
// first.
func (q Q) RolesOfMemberships(ctx context.Context, membershipIDs []string) ([]MembershipRole, error) {
	if len(membershipIDs) == 0 {
		return nil, nil
	}
	var out []MembershipRole
	err := q.db.NewSelect().Model(&out).Where("membership_id IN (?)", bunIn(membershipIDs)).Order("created_at ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// DeleteMembershipRoles removes every role row of a membership.
func (q Q) DeleteMembershipRoles(ctx context.Context, membershipID string) error {
	_, err := q.db.NewDelete().Model((*MembershipRole)(nil)).Where("membership_id = ?", membershipID).Exec(ctx)
	return classify(err)
}

// ProjectActorRow is a project membership joined with its project's name and
// type and (for identities) the identity's name.
type ProjectActorRow struct {
	ProjectMembership `bun:",extend"`
	ProjectName       string `bun:"project_name"`
	ProjectType       string `bun:"project_type"`
	ActorName         string `bun:"actor_name"`
}

// ProjectIdentityFilter selects and pages identity memberships of a project.
type ProjectIdentityFilter struct {
	ProjectID string
	Search    string // case-insensitive substring of the identity name
	Desc      bool
	Offset    int
	Limit     int // 0 = no limit
}

// projectActorSelect selects identity memberships joined with their project
// and identity, aliased pm / p / i.
func (q Q) projectActorSelect() *selectQuery {
	return q.db.NewSelect().TableExpr("project_memberships AS pm").
		Join("JOIN projects AS p ON p.id = pm.project_id").
		Join("JOIN identities AS i ON i.id = pm.actor_id").
		Where("pm.actor_type = ?", ActorIdentity)
}

const projectActorColumns = "pm.*, p.name AS project_name, p.type AS project_type, i.name AS actor_name"

// ListProjectIdentityMemberships returns the identity memberships of a
// project ordered by identity name, with the total count before paging.
func (q Q) ListProjectIdentityMemberships(ctx context.Context, f ProjectIdentityFilter) ([]ProjectActorRow, int, error) {
	where := func(sq *selectQuery) *selectQuery {
		sq = sq.Where("pm.project_id = ?", f.ProjectID)
		if f.Search != "" {
			sq = sq.Where("LOWER(i.name) LIKE ? ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.Search))+"%")
		}
		return sq
	}
	total, err := where(q.projectActorSelect()).Count(ctx)
	if err != nil {
		return nil, 0, classify(err)
	}
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	sq := where(q.projectActorSelect()).ColumnExpr(projectActorColumns).
		OrderExpr("LOWER(i.name) " + dir).OrderExpr("pm.id ASC")
	if f.Offset > 0 {
		sq = sq.Offset(int64(f.Offset))
	}
	if f.Limit > 0 {
		sq = sq.Limit(int64(f.Limit))
	}
	out := []ProjectActorRow{}
	if err := sq.Scan(ctx, &out); err != nil {
		return nil, 0, classify(err)
	}
	return out, int(total), nil
}

// ProjectIdentityMembershipRow loads one identity membership joined like
// ListProjectIdentityMemberships, by membership id.
func (q Q) ProjectIdentityMembershipRow(ctx context.Context, membershipID string) (*ProjectActorRow, error) {
	var out ProjectActorRow
	err := q.projectActorSelect().ColumnExpr(projectActorColumns).Where("pm.id = ?", membershipID).Limit(1).Scan(ctx, &out)
	if err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// ProjectMembershipsOfIdentity returns the project memberships of an
// identity within orgID, joined with the projects, by project name.
func (q Q) ProjectMembershipsOfIdentity(ctx context.Context, orgID, identityID string) ([]ProjectActorRow, error) {
	out := []ProjectActorRow{}
	err := q.projectActorSelect().ColumnExpr(projectActorColumns).
		Where("p.org_id = ? AND pm.actor_id = ?", orgID, identityID).
		OrderExpr("LOWER(p.name) ASC").OrderExpr("pm.id ASC").
		Scan(ctx, &out)
	return out, classify(err)
}

// DeleteProjectMembershipsOfActor removes every project membership of an
// actor (roles cascade) and returns the affected project ids.
func (q Q) DeleteProjectMembershipsOfActor(ctx context.Context, actorType, actorID string) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*ProjectMembership)(nil)).Column("project_id").
		Where("actor_type = ? AND actor_id = ?", actorType, actorID).Scan(ctx, &ids)
	if err != nil {
		return nil, classify(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	_, err = q.db.NewDelete().Model((*ProjectMembership)(nil)).Where("actor_type = ? AND actor_id = ?", actorType, actorID).Exec(ctx)
	return ids, classify(err)
}
