package infisical

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// GroupService manages user groups and their project memberships
// (groups.go). A user's access to a project is the union of its own
// membership's roles and the roles of every group it belongs to.
type GroupService struct{ e *Engine }

// Group is a user group of an organization. Role is its organization role
// slug, or "custom" (then RoleID and CustomRoleSlug name the custom role).
type Group struct {
	ID             string
	OrgID          string
	Name           string
	Slug           string
	Role           string
	RoleID         *string
	CustomRoleSlug *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// GroupUser is a user of the group's organization and whether it belongs to
// the group.
type GroupUser struct {
	ID            string
	Email         *string
	Username      string
	FirstName     *string
	LastName      *string
	IsPartOfGroup bool
	JoinedGroupAt *time.Time
}

// GroupMembership is a group's membership in a project.
type GroupMembership struct {
	ID        string
	GroupID   string
	ProjectID string
	CreatedAt time.Time
	UpdatedAt time.Time
	Roles     []MembershipRole
	GroupName string
	GroupSlug string
}

// CreateGroupInput is the body of POST /api/v1/groups.
type CreateGroupInput struct {
	OrgID string // default: the caller's organization
	Name  string
	Slug  string // default: derived from the name
	Role  string // organization role slug; default "no-access"
}

// UpdateGroupInput holds the optional fields of a group update.
type UpdateGroupInput struct {
	Name *string
	Slug *string
	Role *string
}

// ListGroupUsersInput filters and pages the users of a group's
// organization.
type ListGroupUsersInput struct {
	Offset   int
	Limit    int
	Username string
	Search   string
	// Filter is "", "existingMembers" or "nonMembers".
	Filter string
}

// Limits of group fields.
const (
	maxGroupNameLen = 50
	minGroupSlugLen = 5
	maxGroupSlugLen = 36
)

func validGroupName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" || len(n) > maxGroupNameLen {
		return "", Invalid("name", "name must be 1 to %d characters", maxGroupNameLen)
	}
	return n, nil
}

func validGroupSlug(slug string) (string, error) {
	s := strings.TrimSpace(slug)
	if !validSlug(s, minGroupSlugLen, maxGroupSlugLen) {
		return "", Invalid("slug", "slug must be %d to %d lowercase letters, digits and single hyphens or underscores", minGroupSlugLen, maxGroupSlugLen)
	}
	return s, nil
}

// groupsAccess checks action on the groups of orgID and returns the
// caller's organization permissions.
func (e *Engine) groupsAccess(ctx context.Context, actor Actor, orgID string, actions ...string) (*permission.Set, error) {
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot manage groups")
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	// Any of the actions suffices (e.g. add-members, or the older edit).
	for _, a := range actions {
		if set.Can(a, permission.OrgSubjectGroups, nil) {
			return set, nil
		}
	}
	return nil, set.Check(actions[0], permission.OrgSubjectGroups, nil)
}

// loadGroup loads a group of the caller's organization (other
// organizations' groups are not found).
func (e *Engine) loadGroup(ctx context.Context, q store.Q, actor Actor, id string) (*store.Group, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, Invalid("id", "id is required")
	}
	g, err := q.GetGroup(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && actor.Type != ActorPlatform && g.OrgID != actor.OrgID) {
		return nil, NotFound("Failed to find group with ID %s", id)
	}
	if err != nil {
		return nil, Internal("load group", err)
	}
	return g, nil
}

// groupsFromRows converts groups, naming custom organization roles.
func (e *Engine) groupsFromRows(ctx context.Context, q store.Q, orgID string, rows []store.Group) ([]Group, error) {
	slugs := make([]string, len(rows))
	for i := range rows {
		slugs[i] = rows[i].Role
	}
	custom, err := e.customOrgRoles(ctx, q, orgID, slugs)
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = Group{ID: r.ID, OrgID: r.OrgID, Name: r.Name, Slug: r.Slug, Role: r.Role, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if cr := custom[r.Role]; cr != nil {
			id, slug := cr.ID, cr.Slug
			out[i].Role, out[i].RoleID, out[i].CustomRoleSlug = permission.RoleCustom, &id, &slug
		}
	}
	return out, nil
}

func (e *Engine) groupFromRow(ctx context.Context, q store.Q, g *store.Group) (*Group, error) {
	out, err := e.groupsFromRows(ctx, q, g.OrgID, []store.Group{*g})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// groupOrgRole validates a group's organization role against the caller:
// nobody creates or changes a group that is more privileged than itself.
func (e *Engine) groupOrgRole(ctx context.Context, actor Actor, orgID string, set *permission.Set, role, what string) (string, error) {
	role = strings.TrimSpace(role)
	if role == "" {
		role = permission.RoleNoAccess
	}
	if role == permission.RoleCustom {
		return "", Invalid("role", "role must name an organization role")
	}
	if _, err := e.orgRoleRules(ctx, orgID, role); err != nil {
		return "", err
	}
	if err := e.orgRoleWithin(ctx, actor, orgID, set, role, what); err != nil {
		return "", err
	}
	return role, nil
}

// Create creates a group in the caller's organization.
func (s *GroupService) Create(ctx context.Context, actor Actor, in CreateGroupInput) (*Group, error) {
	e := s.e
	orgID := strings.TrimSpace(in.OrgID)
	if orgID == "" {
		orgID = actor.OrgID
	}
	if orgID == "" {
		return nil, Invalid("organizationId", "organizationId is required")
	}
	set, err := e.groupsAccess(ctx, actor, orgID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	name, err := validGroupName(in.Name)
	if err != nil {
		return nil, err
	}
	slug := strings.TrimSpace(in.Slug)
	if slug == "" {
		slug = generatedSlug(name, maxGroupSlugLen)
		if len(slug) < minGroupSlugLen {
			slug += "-" + randomSuffix(minGroupSlugLen)
		}
	} else if slug, err = validGroupSlug(slug); err != nil {
		return nil, err
	}
	role, err := e.groupOrgRole(ctx, actor, orgID, set, in.Role, "create a group with a more privileged role")
	if err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.Group{ID: uuid.NewString(), OrgID: orgID, Name: name, Slug: slug, Role: role, CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("A group with the slug '%s' already exists", slug)
			}
			return Internal("create group", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-group", OrgID: orgID, Metadata: map[string]any{
			"groupId": row.ID, "name": name, "slug": slug, "role": role}})
	})
	if err != nil {
		return nil, err
	}
	return e.groupFromRow(ctx, e.store.Read(), row)
}

// List returns the groups of an organization.
func (s *GroupService) List(ctx context.Context, actor Actor, orgID string) ([]Group, error) {
	e := s.e
	if strings.TrimSpace(orgID) == "" {
		orgID = actor.OrgID
	}
	if _, err := e.groupsAccess(ctx, actor, orgID, permission.ActionRead); err != nil {
		return nil, err
	}
	q := e.store.Read()
	rows, err := q.ListGroups(ctx, orgID)
	if err != nil {
		return nil, Internal("list groups", err)
	}
	e.auditRead(actor, AuditEvent{Type: "get-groups", OrgID: orgID, Metadata: map[string]any{"count": len(rows)}})
	return e.groupsFromRows(ctx, q, orgID, rows)
}

// Get returns a group.
func (s *GroupService) Get(ctx context.Context, actor Actor, id string) (*Group, error) {
	e := s.e
	q := e.store.Read()
	g, err := e.loadGroup(ctx, q, actor, id)
	if err != nil {
		return nil, err
	}
	if _, err := e.groupsAccess(ctx, actor, g.OrgID, permission.ActionRead); err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-group", OrgID: g.OrgID, Metadata: map[string]any{"groupId": g.ID}})
	return e.groupFromRow(ctx, q, g)
}

// Update renames a group or changes its organization role. Neither its
// current nor its new role may exceed the caller's.
func (s *GroupService) Update(ctx context.Context, actor Actor, id string, in UpdateGroupInput) (*Group, error) {
	e := s.e
	g, err := e.loadGroup(ctx, e.store.Read(), actor, id)
	if err != nil {
		return nil, err
	}
	set, err := e.groupsAccess(ctx, actor, g.OrgID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, g.OrgID, set, g.Role, "update a more privileged group"); err != nil {
		return nil, err
	}
	upd := *g
	if in.Name != nil {
		if upd.Name, err = validGroupName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Slug != nil {
		if upd.Slug, err = validGroupSlug(*in.Slug); err != nil {
			return nil, err
		}
	}
	if in.Role != nil {
		if upd.Role, err = e.groupOrgRole(ctx, actor, g.OrgID, set, *in.Role, "give a group a more privileged role"); err != nil {
			return nil, err
		}
	}
	upd.UpdatedAt = e.now()
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Update(ctx, &upd); err != nil {
			if isDuplicate(err) {
				return BadRequest("A group with the slug '%s' already exists", upd.Slug)
			}
			if errors.Is(err, store.ErrNotFound) {
				return NotFound("Failed to find group with ID %s", g.ID)
			}
			return Internal("update group", err)
		}
		if upd.Role != g.Role {
			// A group's organization role is its members' too, and the
			// admin role reaches every project.
			q.Invalidate(topicAccess, "")
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-group", OrgID: g.OrgID, Metadata: map[string]any{
			"groupId": g.ID, "name": upd.Name, "slug": upd.Slug, "role": upd.Role}})
	})
	if err != nil {
		return nil, err
	}
	return e.groupFromRow(ctx, e.store.Read(), &upd)
}

// Delete removes a group, its members and its project memberships.
func (s *GroupService) Delete(ctx context.Context, actor Actor, id string) (*Group, error) {
	e := s.e
	q := e.store.Read()
	g, err := e.loadGroup(ctx, q, actor, id)
	if err != nil {
		return nil, err
	}
	set, err := e.groupsAccess(ctx, actor, g.OrgID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, g.OrgID, set, g.Role, "delete a more privileged group"); err != nil {
		return nil, err
	}
	out, err := e.groupFromRow(ctx, q, g)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		projects, err := q.DeleteProjectMembershipsOfActor(ctx, store.ActorGroup, g.ID)
		if err != nil {
			return Internal("delete group project memberships", err)
		}
		for _, pid := range projects {
			q.Invalidate(topicAccess, pid)
		}
		if g.Role == permission.RoleAdmin {
			q.Invalidate(topicAccess, "")
		}
		// Members cascade from the group row.
		if err := q.Delete(ctx, g); err != nil {
			return Internal("delete group", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-group", OrgID: g.OrgID, Metadata: map[string]any{
			"groupId": g.ID, "name": g.Name, "slug": g.Slug}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func groupUserFromRow(u *store.OrgUser) GroupUser {
	return GroupUser{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		IsPartOfGroup: u.JoinedGroupAt != nil, JoinedGroupAt: u.JoinedGroupAt}
}

// groupUsers lists the users of a group's organization with their group
// membership, paged.
func (e *Engine) groupUsers(ctx context.Context, q store.Q, g *store.Group, in ListGroupUsersInput) ([]GroupUser, int, error) {
	switch in.Filter {
	case "", "existingMembers", "nonMembers":
	default:
		return nil, 0, Invalid("filter", "filter must be 'existingMembers' or 'nonMembers'")
	}
	if in.Offset < 0 {
		return nil, 0, Invalid("offset", "offset must be ≥ 0")
	}
	if in.Limit < 0 {
		return nil, 0, Invalid("limit", "limit must be ≥ 0")
	}
	rows, total, err := q.ListGroupUsers(ctx, store.GroupUserFilter{GroupID: g.ID, OrgID: g.OrgID, Username: strings.TrimSpace(in.Username),
		Search: strings.TrimSpace(in.Search), Members: in.Filter, Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, 0, Internal("list group users", err)
	}
	out := make([]GroupUser, len(rows))
	for i := range rows {
		out[i] = groupUserFromRow(&rows[i])
	}
	return out, total, nil
}

// ListUsers returns the users of the group's organization, each with
// whether it belongs to the group, and the total count.
func (s *GroupService) ListUsers(ctx context.Context, actor Actor, id string, in ListGroupUsersInput) ([]GroupUser, int, error) {
	e := s.e
	q := e.store.Read()
	g, err := e.loadGroup(ctx, q, actor, id)
	if err != nil {
		return nil, 0, err
	}
	if _, err := e.groupsAccess(ctx, actor, g.OrgID, permission.ActionRead); err != nil {
		return nil, 0, err
	}
	out, total, err := e.groupUsers(ctx, q, g, in)
	if err != nil {
		return nil, 0, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-group-users", OrgID: g.OrgID, Metadata: map[string]any{"groupId": g.ID, "count": len(out)}})
	return out, total, nil
}

// membershipChange adds (add) or removes a user of the group's organization
// to or from the group. The caller may not change the members of a group
// more privileged than itself. Every project of the group is invalidated.
func (s *GroupService) membershipChange(ctx context.Context, actor Actor, id, username string, add bool) (*GroupUser, error) {
	e := s.e
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, Invalid("username", "username is required")
	}
	q := e.store.Read()
	g, err := e.loadGroup(ctx, q, actor, id)
	if err != nil {
		return nil, err
	}
	action, verb := permission.ActionAddMembers, "add users to"
	if !add {
		action, verb = permission.ActionRemoveMembers, "remove users from"
	}
	set, err := e.groupsAccess(ctx, actor, g.OrgID, action, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, g.OrgID, set, g.Role, verb+" a more privileged group"); err != nil {
		return nil, err
	}
	u, err := q.OrgUserByUsername(ctx, g.OrgID, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Failed to find user with username %s", username)
	}
	if err != nil {
		return nil, Internal("load user", err)
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if add {
			if err := q.Insert(ctx, &store.GroupMember{GroupID: g.ID, UserID: u.ID, CreatedAt: e.now()}); err != nil {
				if isDuplicate(err) {
					return BadRequest("User %s is already part of the group", username)
				}
				return Internal("add user to group", err)
			}
		} else {
			ok, err := q.RemoveGroupMember(ctx, g.ID, u.ID)
			if err != nil {
				return Internal("remove user from group", err)
			}
			if !ok {
				return NotFound("User %s is not part of the group", username)
			}
		}
		projects, err := q.ProjectIDsOfGroup(ctx, g.ID)
		if err != nil {
			return Internal("list group projects", err)
		}
		for _, pid := range projects {
			q.Invalidate(topicAccess, pid)
		}
		if g.Role == permission.RoleAdmin {
			q.Invalidate(topicAccess, "")
		}
		typ := "add-user-to-group"
		if !add {
			typ = "remove-user-from-group"
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: typ, OrgID: g.OrgID, Metadata: map[string]any{
			"groupId": g.ID, "groupSlug": g.Slug, "userId": u.ID, "username": u.Username}})
	})
	if err != nil {
		return nil, err
	}
	out := groupUserFromRow(u)
	return &out, nil
}

// AddUser adds a user of the organization (by username) to a group.
func (s *GroupService) AddUser(ctx context.Context, actor Actor, id, username string) (*GroupUser, error) {
	return s.membershipChange(ctx, actor, id, username, true)
}

// RemoveUser removes a user (by username) from a group.
func (s *GroupService) RemoveUser(ctx context.Context, actor Actor, id, username string) (*GroupUser, error) {
	return s.membershipChange(ctx, actor, id, username, false)
}

// ---- project group memberships --------------------------------------------

// projectGroupsAccess resolves a project and checks action on its groups.
func (e *Engine) projectGroupsAccess(ctx context.Context, actor Actor, projectID, action string) (*projectMeta, *permission.Set, error) {
	if actor.Type == ActorService {
		return nil, nil, Forbidden("Service tokens cannot manage project memberships")
	}
	projectID = strings.TrimSpace(projectID)
	if projectID == "" {
		return nil, nil, Invalid("projectId", "projectId is required")
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: projectID})
	if err != nil {
		return nil, nil, err
	}
	if err := set.Check(action, permission.SubjectGroups, nil); err != nil {
		return nil, nil, err
	}
	return m, set, nil
}

// projectGroupMembership loads a group's membership in a project (404 when
// the group is not a member).
func (e *Engine) projectGroupMembership(ctx context.Context, q store.Q, projectID, groupID string) (*store.GroupMembershipRow, error) {
	groupID = strings.TrimSpace(groupID)
	if groupID == "" {
		return nil, Invalid("groupId", "groupId is required")
	}
	row, err := q.ProjectGroupMembership(ctx, projectID, groupID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Failed to find group membership for group with ID %s", groupID)
	}
	if err != nil {
		return nil, Internal("load group membership", err)
	}
	return row, nil
}

func (e *Engine) groupMemberships(ctx context.Context, q store.Q, rows []store.GroupMembershipRow) ([]GroupMembership, error) {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	roleRows, err := q.RolesOfMemberships(ctx, ids)
	if err != nil {
		return nil, Internal("load membership roles", err)
	}
	roles, err := e.membershipRoles(ctx, q, roleRows)
	if err != nil {
		return nil, err
	}
	byMembership := map[string][]MembershipRole{}
	for _, r := range roles {
		byMembership[r.MembershipID] = append(byMembership[r.MembershipID], r)
	}
	out := make([]GroupMembership, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = GroupMembership{ID: r.ID, GroupID: r.ActorID, ProjectID: r.ProjectID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			Roles: nonNil(byMembership[r.ID]), GroupName: r.GroupName, GroupSlug: r.GroupSlug}
	}
	return out, nil
}

// AddToProject makes a group (by id, or by name or slug within the
// project's organization) a member of a project with roles (default
// no-access). The roles may not exceed the caller's.
func (s *GroupService) AddToProject(ctx context.Context, actor Actor, projectID, groupIDOrName string, roles []RoleAssignment) (*GroupMembership, error) {
	e := s.e
	meta, set, err := e.projectGroupsAccess(ctx, actor, projectID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	ref := strings.TrimSpace(groupIDOrName)
	if ref == "" {
		return nil, Invalid("groupId", "groupId is required")
	}
	q := e.store.Read()
	var g *store.Group
	if _, perr := uuid.Parse(ref); perr == nil {
		g, err = q.GetGroup(ctx, ref)
	} else {
		g, err = q.GroupByNameOrSlug(ctx, meta.project.OrgID, ref)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.OrgID != meta.project.OrgID) {
		return nil, NotFound("Failed to find group with ID or name %s", ref)
	}
	if err != nil {
		return nil, Internal("load group", err)
	}
	if len(roles) == 0 {
		roles = []RoleAssignment{{Role: permission.RoleNoAccess}}
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		rows, err := e.roleRows(ctx, q, pid, "", roles)
		if err != nil {
			return err
		}
		if err := e.projectRolesWithin(ctx, actor, pid, set, rows, "add a group to the project with a more privileged role"); err != nil {
			return err
		}
		m, err := e.insertMembership(ctx, q, pid, store.ActorGroup, g.ID, roles)
		if err != nil {
			return err
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-group-project-membership", ProjectID: pid, Metadata: map[string]any{
			"groupId": g.ID, "groupSlug": g.Slug, "membershipId": m.ID, "roles": roleSlugs(roles)}})
	})
	if err != nil {
		return nil, err
	}
	row, err := q.ProjectGroupMembership(ctx, pid, g.ID)
	if err != nil {
		return nil, Internal("load group membership", err)
	}
	out, err := e.groupMemberships(ctx, q, []store.GroupMembershipRow{*row})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

func roleSlugs(roles []RoleAssignment) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Role
	}
	return out
}

// SetProjectRoles replaces a group's roles in a project. Neither its
// current nor its new roles may exceed the caller's.
func (s *GroupService) SetProjectRoles(ctx context.Context, actor Actor, projectID, groupID string, roles []RoleAssignment) ([]MembershipRole, error) {
	e := s.e
	meta, set, err := e.projectGroupsAccess(ctx, actor, projectID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out []MembershipRole
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, err := e.projectGroupMembership(ctx, q, pid, groupID)
		if err != nil {
			return err
		}
		current, err := q.RolesOfMemberships(ctx, []string{m.ID})
		if err != nil {
			return Internal("load membership roles", err)
		}
		pm := m.ProjectMembership
		rows, err := e.replaceProjectRoles(ctx, q, actor, set, pid, &pm, current, roles, "group")
		if err != nil {
			return err
		}
		out = membershipRolesFromRows(rows)
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-group-project-membership", ProjectID: pid, Metadata: map[string]any{
			"groupId": m.ActorID, "groupSlug": m.GroupSlug, "membershipId": m.ID, "roles": roleSlugs(roles)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveFromProject removes a group from a project; its members keep their
// own memberships.
func (s *GroupService) RemoveFromProject(ctx context.Context, actor Actor, projectID, groupID string) (*GroupMembership, error) {
	e := s.e
	meta, set, err := e.projectGroupsAccess(ctx, actor, projectID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out *GroupMembership
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, err := e.projectGroupMembership(ctx, q, pid, groupID)
		if err != nil {
			return err
		}
		list, err := e.groupMemberships(ctx, q, []store.GroupMembershipRow{*m})
		if err != nil {
			return err
		}
		out = &list[0]
		current, err := q.RolesOfMemberships(ctx, []string{m.ID})
		if err != nil {
			return Internal("load membership roles", err)
		}
		if err := e.projectRolesWithin(ctx, actor, pid, set, current, "remove a more privileged group"); err != nil {
			return err
		}
		if err := q.Delete(ctx, &store.ProjectMembership{ID: m.ID}); err != nil {
			return Internal("delete group membership", err)
		}
		q.Invalidate(topicAccess, pid)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-group-project-membership", ProjectID: pid, Metadata: map[string]any{
			"groupId": m.ActorID, "groupSlug": m.GroupSlug, "membershipId": m.ID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListProjectGroups returns the group memberships of a project.
func (s *GroupService) ListProjectGroups(ctx context.Context, actor Actor, projectID string) ([]GroupMembership, error) {
	e := s.e
	meta, _, err := e.projectGroupsAccess(ctx, actor, projectID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	q := e.store.Read()
	rows, err := q.ListProjectGroupMemberships(ctx, meta.project.ID)
	if err != nil {
		return nil, Internal("list group memberships", err)
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-groups", ProjectID: meta.project.ID, Metadata: map[string]any{"count": len(rows)}})
	return e.groupMemberships(ctx, q, rows)
}

// GetProjectGroup returns one group's membership in a project.
func (s *GroupService) GetProjectGroup(ctx context.Context, actor Actor, projectID, groupID string) (*GroupMembership, error) {
	e := s.e
	meta, _, err := e.projectGroupsAccess(ctx, actor, projectID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	q := e.store.Read()
	m, err := e.projectGroupMembership(ctx, q, meta.project.ID, groupID)
	if err != nil {
		return nil, err
	}
	list, err := e.groupMemberships(ctx, q, []store.GroupMembershipRow{*m})
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-group", ProjectID: meta.project.ID, Metadata: map[string]any{"groupId": m.ActorID}})
	return &list[0], nil
}

// ListProjectGroupUsers lists the users of a group that is a member of the
// project (same shape and filters as ListUsers).
func (s *GroupService) ListProjectGroupUsers(ctx context.Context, actor Actor, projectID, groupID string, in ListGroupUsersInput) ([]GroupUser, int, error) {
	e := s.e
	meta, _, err := e.projectGroupsAccess(ctx, actor, projectID, permission.ActionRead)
	if err != nil {
		return nil, 0, err
	}
	q := e.store.Read()
	m, err := e.projectGroupMembership(ctx, q, meta.project.ID, groupID)
	if err != nil {
		return nil, 0, err
	}
	g, err := q.GetGroup(ctx, m.ActorID)
	if err != nil {
		return nil, 0, Internal("load group", err)
	}
	out, total, err := e.groupUsers(ctx, q, g, in)
	if err != nil {
		return nil, 0, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-group-users", ProjectID: meta.project.ID, Metadata: map[string]any{"groupId": g.ID, "count": len(out)}})
	return out, total, nil
}
