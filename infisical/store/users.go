package store

import (
	"context"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// Models and queries of user accounts: sessions, organization invitations
// and memberships, per-organization user metadata, project memberships of
// users, and the login rate limiter's state.

// UserSession is one issued user session: the tokenVersionId claim of user
// JWTs names it, so deleting the row revokes every token of the session.
type UserSession struct {
	bun.BaseModel `bun:"table:user_sessions"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id"`
	OrgID         *string   `bun:"org_id"`
	AuthMethod    string    `bun:"auth_method"`
	AccessVersion int       `bun:"access_version"`
	IP            string    `bun:"ip"`
	UserAgent     string    `bun:"user_agent"`
	ExpiresAt     time.Time `bun:"expires_at"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// OrgInvite is a pending invitation of a user to an organization. Only a
// hash of the code sent to the invitee is stored.
type OrgInvite struct {
	bun.BaseModel `bun:"table:org_invites"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id"`
	OrgID         string    `bun:"org_id"`
	CodeHash      []byte    `bun:"code_hash"`
	ExpiresAt     time.Time `bun:"expires_at"`
	CreatedAt     time.Time `bun:"created_at"`
}

// UserMetadata is one key/value attribute of a user in an organization.
type UserMetadata struct {
	bun.BaseModel `bun:"table:user_metadata"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id"`
	OrgID         string    `bun:"org_id"`
	Key           string    `bun:"key"`
	Value         string    `bun:"value"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// RateLimit is the state of one rate-limited key: its theoretical arrival
// time (GCRA), the instant at which the key's allowance is full again.
type RateLimit struct {
	bun.BaseModel `bun:"table:auth_rate_limits"`
	Key           string    `bun:"key,pk"`
	TAT           time.Time `bun:"tat"`
}

// Membership statuses of users in organizations.
const (
	OrgStatusInvited  = "invited"
	OrgStatusAccepted = "accepted"
)

// GetUser loads a user by id.
func (q Q) GetUser(ctx context.Context, id string) (*User, error) {
	var u User
	if err := q.GetByID(ctx, &u, id); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUserByUsername loads a user by username (the lower-cased email for
// email accounts).
func (q Q) GetUserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	err := q.db.NewSelect().Model(&u).Where("username = ?", username).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &u, nil
}

// UsersByUsernames loads the users with the given usernames.
func (q Q) UsersByUsernames(ctx context.Context, usernames []string) ([]User, error) {
	if len(usernames) == 0 {
		return nil, nil
	}
	var out []User
	err := q.db.NewSelect().Model(&out).Where("username IN (?)", bunIn(usernames)).Scan(ctx)
	return out, classify(err)
}

// OrgMembershipOfUser returns the membership of a user in an organization.
func (q Q) OrgMembershipOfUser(ctx context.Context, orgID, userID string) (*OrgMembership, error) {
	var m OrgMembership
	err := q.db.NewSelect().Model(&m).Where("org_id = ? AND user_id = ?", orgID, userID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &m, nil
}

// GetOrgMembership loads an organization membership of a user by id.
func (q Q) GetOrgMembership(ctx context.Context, id string) (*OrgMembership, error) {
	var m OrgMembership
	if err := q.GetByID(ctx, &m, id); err != nil {
		return nil, err
	}
	return &m, nil
}

// OrgUserRow is an organization membership joined with its user.
type OrgUserRow struct {
	OrgMembership   `bun:",extend"`
	UserEmail       *string `bun:"user_email"`
	Username        string  `bun:"user_username"`
	IsEmailVerified bool    `bun:"user_is_email_verified"`
	FirstName       *string `bun:"user_first_name"`
	LastName        *string `bun:"user_last_name"`
}

// ListOrgUserMemberships returns the user memberships of an organization
// ordered by username (one membership only when membershipID is set).
func (q Q) ListOrgUserMemberships(ctx context.Context, orgID, membershipID string) ([]OrgUserRow, error) {
	sq := q.db.NewSelect().TableExpr("org_memberships AS m").
		Join("JOIN users AS u ON u.id = m.user_id").
		ColumnExpr("m.*").
		ColumnExpr("u.email AS user_email, u.username AS user_username, u.is_email_verified AS user_is_email_verified").
		ColumnExpr("u.first_name AS user_first_name, u.last_name AS user_last_name").
		Where("m.org_id = ?", orgID)
	if membershipID != "" {
		sq = sq.Where("m.id = ?", membershipID)
	}
	out := []OrgUserRow{}
	err := sq.OrderExpr("u.username ASC").OrderExpr("m.id ASC").Scan(ctx, &out)
	return out, classify(err)
}

// UserOrgRow is an organization a user belongs to, with the user's role.
type UserOrgRow struct {
	Organization `bun:",extend"`
	MemberRole   string `bun:"member_role"`
}

// OrgsOfUser returns the organizations where a user's membership is
// accepted and active, oldest first.
func (q Q) OrgsOfUser(ctx context.Context, userID string) ([]UserOrgRow, error) {
	out := []UserOrgRow{}
	err := q.db.NewSelect().TableExpr("organizations AS o").
		Join("JOIN org_memberships AS m ON m.org_id = o.id").
		ColumnExpr("o.*").ColumnExpr("m.role AS member_role").
		Where("m.user_id = ? AND m.status = ? AND m.is_active = ?", userID, OrgStatusAccepted, true).
		OrderExpr("o.created_at ASC").OrderExpr("o.id ASC").Scan(ctx, &out)
	return out, classify(err)
}

// CountActiveAdmins counts the active, accepted admin users of an
// organization.
func (q Q) CountActiveAdmins(ctx context.Context, orgID string) (int, error) {
	n, err := q.db.NewSelect().Model((*OrgMembership)(nil)).
		Where("org_id = ? AND role = ? AND is_active = ? AND status = ? AND user_id IS NOT NULL", orgID, "admin", true, OrgStatusAccepted).
		Count(ctx)
	return int(n), classify(err)
}

// AcceptInvitedMemberships marks every pending invitation membership of a
// user accepted and returns the organizations concerned.
func (q Q) AcceptInvitedMemberships(ctx context.Context, userID string, at time.Time) ([]string, error) {
	var orgs []string
	err := q.db.NewSelect().Model((*OrgMembership)(nil)).Column("org_id").
		Where("user_id = ? AND status = ?", userID, OrgStatusInvited).Scan(ctx, &orgs)
	if err != nil {
		return nil, classify(err)
	}
	if len(orgs) == 0 {
		return nil, nil
	}
	_, err = q.db.NewUpdate().Model((*OrgMembership)(nil)).
		Set("status = ?", OrgStatusAccepted).Set("updated_at = ?", at).
		Where("user_id = ? AND status = ?", userID, OrgStatusInvited).Exec(ctx)
	return orgs, classify(err)
}

// UserMetadataOf returns the metadata of users in an organization.
func (q Q) UserMetadataOf(ctx context.Context, orgID string, userIDs []string) ([]UserMetadata, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	var out []UserMetadata
	err := q.db.NewSelect().Model(&out).Where("org_id = ? AND user_id IN (?)", orgID, bunIn(userIDs)).
		Order("created_at ASC", "key ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// DeleteUserMetadata removes every metadata entry of a user in an
// organization.
func (q Q) DeleteUserMetadata(ctx context.Context, orgID, userID string) error {
	_, err := q.db.NewDelete().Model((*UserMetadata)(nil)).Where("org_id = ? AND user_id = ?", orgID, userID).Exec(ctx)
	return classify(err)
}

// GetOrgInvite returns the pending invitation of a user to an organization.
func (q Q) GetOrgInvite(ctx context.Context, userID, orgID string) (*OrgInvite, error) {
	var inv OrgInvite
	err := q.db.NewSelect().Model(&inv).Where("user_id = ? AND org_id = ?", userID, orgID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &inv, nil
}

// DeleteOrgInvite removes the invitation of a user to an organization and
// reports whether one existed.
func (q Q) DeleteOrgInvite(ctx context.Context, userID, orgID string) (bool, error) {
	res, err := q.db.NewDelete().Model((*OrgInvite)(nil)).Where("user_id = ? AND org_id = ?", userID, orgID).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SessionAuthRow is what the per-request check of a user token needs: the
// session, its user and (for organization-scoped sessions) the user's
// membership in that organization.
type SessionAuthRow struct {
	UserSession  `bun:",extend"`
	Email        *string `bun:"user_email"`
	Username     string  `bun:"user_username"`
	MemberActive *bool   `bun:"member_active"`
	MemberStatus *string `bun:"member_status"`
}

// GetSessionForAuth loads a session with its user and organization
// membership in one query.
func (q Q) GetSessionForAuth(ctx context.Context, id string) (*SessionAuthRow, error) {
	var out SessionAuthRow
	err := q.db.NewSelect().TableExpr("user_sessions AS s").
		Join("JOIN users AS u ON u.id = s.user_id").
		Join("LEFT JOIN org_memberships AS m ON m.org_id = s.org_id AND m.user_id = s.user_id").
		ColumnExpr("s.*").
		ColumnExpr("u.email AS user_email, u.username AS user_username").
		ColumnExpr("m.is_active AS member_active, m.status AS member_status").
		Where("s.id = ?", id).Limit(1).Scan(ctx, &out)
	if err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// DeleteSession removes a session and reports whether it existed.
func (q Q) DeleteSession(ctx context.Context, id string) (bool, error) {
	res, err := q.db.NewDelete().Model((*UserSession)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteSessionsOfUser removes the sessions of a user: all of them when
// orgID is "", else those scoped to orgID.
func (q Q) DeleteSessionsOfUser(ctx context.Context, userID, orgID string) (int64, error) {
	dq := q.db.NewDelete().Model((*UserSession)(nil)).Where("user_id = ?", userID)
	if orgID != "" {
		dq = dq.Where("org_id = ?", orgID)
	}
	res, err := dq.Exec(ctx)
	if err != nil {
		return 0, classify(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteExpiredSessions removes the sessions of a user that ended before t.
func (q Q) DeleteExpiredSessions(ctx context.Context, userID string, t time.Time) error {
	_, err := q.db.NewDelete().Model((*UserSession)(nil)).Where("user_id = ? AND expires_at < ?", userID, t).Exec(ctx)
	return classify(err)
}

// ProjectUserRow is a project membership of a user joined with the user and
// the project.
type ProjectUserRow struct {
	ProjectMembership `bun:",extend"`
	UserEmail         *string `bun:"user_email"`
	Username          string  `bun:"user_username"`
	FirstName         *string `bun:"user_first_name"`
	LastName          *string `bun:"user_last_name"`
	IsEmailVerified   bool    `bun:"user_is_email_verified"`
	ProjectName       string  `bun:"project_name"`
	ProjectType       string  `bun:"project_type"`
}

func (q Q) projectUserSelect() *selectQuery {
	return q.db.NewSelect().TableExpr("project_memberships AS pm").
		Join("JOIN users AS u ON u.id = pm.actor_id").
		Join("JOIN projects AS p ON p.id = pm.project_id").
		ColumnExpr("pm.*").
		ColumnExpr("u.email AS user_email, u.username AS user_username, u.first_name AS user_first_name").
		ColumnExpr("u.last_name AS user_last_name, u.is_email_verified AS user_is_email_verified").
		ColumnExpr("p.name AS project_name, p.type AS project_type").
		Where("pm.actor_type = ?", ActorUser)
}

// ProjectUserFilter selects user memberships of a project.
type ProjectUserFilter struct {
	ProjectID    string
	MembershipID string   // one membership
	Usernames    []string // these users only
}

// ListProjectUserMemberships returns user memberships of a project ordered
// by username.
func (q Q) ListProjectUserMemberships(ctx context.Context, f ProjectUserFilter) ([]ProjectUserRow, error) {
	sq := q.projectUserSelect().Where("pm.project_id = ?", f.ProjectID)
	if f.MembershipID != "" {
		sq = sq.Where("pm.id = ?", f.MembershipID)
	}
	if len(f.Usernames) > 0 {
		sq = sq.Where("u.username IN (?)", bunIn(f.Usernames))
	}
	out := []ProjectUserRow{}
	err := sq.OrderExpr("u.username ASC").OrderExpr("pm.id ASC").Scan(ctx, &out)
	return out, classify(err)
}

// ProjectMembershipsOfUserInOrg returns the project memberships of a user
// in the projects of an organization, by project name.
func (q Q) ProjectMembershipsOfUserInOrg(ctx context.Context, orgID, userID string) ([]ProjectUserRow, error) {
	out := []ProjectUserRow{}
	err := q.projectUserSelect().Where("p.org_id = ? AND pm.actor_id = ?", orgID, userID).
		OrderExpr("LOWER(p.name) ASC").OrderExpr("pm.id ASC").Scan(ctx, &out)
	return out, classify(err)
}

// DeleteProjectMembershipsOfUserInOrg removes every project membership of a
// user in the projects of an organization (roles cascade) and returns the
// affected project ids.
func (q Q) DeleteProjectMembershipsOfUserInOrg(ctx context.Context, orgID, userID string) ([]string, error) {
	var rows []struct {
		ID        string `bun:"id"`
		ProjectID string `bun:"project_id"`
	}
	err := q.db.NewSelect().TableExpr("project_memberships AS pm").
		Join("JOIN projects AS p ON p.id = pm.project_id").
		ColumnExpr("pm.id, pm.project_id").
		Where("p.org_id = ? AND pm.actor_type = ? AND pm.actor_id = ?", orgID, ActorUser, userID).Scan(ctx, &rows)
	if err != nil {
		return nil, classify(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	projects := make([]string, len(rows))
	for i, r := range rows {
		ids[i], projects[i] = r.ID, r.ProjectID
	}
	if _, err := q.db.NewDelete().Model((*ProjectMembership)(nil)).Where("id IN (?)", bunIn(ids)).Exec(ctx); err != nil {
		return nil, classify(err)
	}
	return projects, nil
}

// LockRateLimits returns the theoretical arrival times of keys, creating
// missing keys with t (a full allowance). On PostgreSQL the rows stay locked
// until the transaction ends, so that servers sharing the database count
// every attempt; keys are locked in a fixed order to avoid deadlocks.
func (q Q) LockRateLimits(ctx context.Context, keys []string, t time.Time) (map[string]time.Time, error) {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for _, k := range sorted {
		row := &RateLimit{Key: k, TAT: t}
		if _, err := q.db.NewInsert().Model(row).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
			return nil, classify(err)
		}
	}
	var rows []RateLimit
	sq := q.db.NewSelect().Model(&rows).Where("key IN (?)", bunIn(sorted)).Order("key ASC")
	if q.s.pg {
		sq = sq.For("UPDATE")
	}
	if err := sq.Scan(ctx); err != nil {
		return nil, classify(err)
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Key] = r.TAT
	}
	return out, nil
}

// SetRateLimit stores the theoretical arrival time of a key.
func (q Q) SetRateLimit(ctx context.Context, key string, tat time.Time) error {
	_, err := q.db.NewUpdate().Model((*RateLimit)(nil)).Set("tat = ?", tat).Where("key = ?", key).Exec(ctx)
	return classify(err)
}

// DeleteStaleRateLimits removes keys whose allowance has been full since
// before t (they behave exactly like absent keys).
func (q Q) DeleteStaleRateLimits(ctx context.Context, t time.Time) error {
	_, err := q.db.NewDelete().Model((*RateLimit)(nil)).Where("tat < ?", t).Exec(ctx)
	return classify(err)
}

// DeleteGroupMembershipsOfUserInOrg removes a user from every group of an
// organization (the groups tables belong to the access-control migration).
func (q Q) DeleteGroupMembershipsOfUserInOrg(ctx context.Context, orgID, userID string) error {
	_, err := q.db.ExecContext(ctx,
		"DELETE FROM group_members WHERE user_id = ? AND group_id IN (SELECT id FROM org_groups WHERE org_id = ?)", userID, orgID)
	return classify(err)
}
