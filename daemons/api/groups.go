package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// Routes of user groups (spec §8.6; bare objects and arrays) and of their
// project memberships (spec §8.5).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerGroupRoutes) }

func (s *Server) registerGroupRoutes() {
	const tag = "Groups"
	base := "/api/v1/groups"
	s.handle(http.MethodPost, base, authUI, tag, "Create a group", s.createGroup)
	s.handle(http.MethodGet, base, authUI, tag, "List the groups of the caller's organization", s.listGroups)
	s.handle(http.MethodGet, base+"/{id}", authUI, tag, "Get a group", s.getGroup)
	s.handle(http.MethodPatch, base+"/{id}", authUI, tag, "Update a group", s.updateGroup)
	s.handle(http.MethodDelete, base+"/{id}", authUI, tag, "Delete a group", s.deleteGroup)
	s.handle(http.MethodGet, base+"/{id}/users", authUI, tag, "List the users of a group's organization and their group membership", s.listGroupUsers)
	s.handle(http.MethodPost, base+"/{id}/users/{username}", authUI, tag, "Add a user to a group", s.addGroupUser)
	s.handle(http.MethodDelete, base+"/{id}/users/{username}", authUI, tag, "Remove a user from a group", s.removeGroupUser)

	const ptag = "Project groups"
	pb := "/api/v2/workspace/{projectId}/groups"
	s.handle(http.MethodPost, pb+"/{groupId}", authUI, ptag, "Add a group to a project (by id or name)", s.addProjectGroup)
	s.handle(http.MethodPatch, pb+"/{groupId}", authUI, ptag, "Replace the roles of a group in a project", s.updateProjectGroup)
	s.handle(http.MethodDelete, pb+"/{groupId}", authUI, ptag, "Remove a group from a project", s.deleteProjectGroup)
	s.handle(http.MethodGet, pb, authUI, ptag, "List the groups of a project", s.listProjectGroups)
	s.handle(http.MethodGet, pb+"/{groupId}", authUI, ptag, "Get a group's membership in a project", s.getProjectGroup)
	s.handle(http.MethodGet, pb+"/{groupId}/users", authUI, ptag, "List the users of a project group", s.listProjectGroupUsers)
}

// ---- shapes ------------------------------------------------------------------

// groupJSON is Infisical's group row.
type groupJSON struct {
	ID        string  `json:"id"`
	OrgID     string  `json:"orgId"`
	Name      string  `json:"name"`
	Slug      string  `json:"slug"`
	Role      string  `json:"role"`
	RoleID    *string `json:"roleId"`
	CreatedAt isoTime `json:"createdAt"`
	UpdatedAt isoTime `json:"updatedAt"`
}

func toGroup(g *infisical.Group) groupJSON {
	return groupJSON{ID: g.ID, OrgID: g.OrgID, Name: g.Name, Slug: g.Slug, Role: g.Role, RoleID: g.RoleID,
		CreatedAt: ts(g.CreatedAt), UpdatedAt: ts(g.UpdatedAt)}
}

// groupDetailJSON is GET /groups/{id}: the row plus customRoleSlug.
type groupDetailJSON struct {
	groupJSON
	CustomRoleSlug *string `json:"customRoleSlug"`
}

// groupUserJSON is a user in group user lists.
type groupUserJSON struct {
	ID            string   `json:"id"`
	Email         *string  `json:"email"`
	Username      string   `json:"username"`
	FirstName     *string  `json:"firstName"`
	LastName      *string  `json:"lastName"`
	IsPartOfGroup bool     `json:"isPartOfGroup"`
	JoinedGroupAt *isoTime `json:"joinedGroupAt"`
}

// groupUserBrief is the added or removed user.
type groupUserBrief struct {
	ID        string  `json:"id"`
	Email     *string `json:"email"`
	Username  string  `json:"username"`
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
}

func toGroupUsers(list []infisical.GroupUser) []groupUserJSON {
	out := make([]groupUserJSON, 0, len(list))
	for _, u := range list {
		out = append(out, groupUserJSON{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
			IsPartOfGroup: u.IsPartOfGroup, JoinedGroupAt: tsp(u.JoinedGroupAt)})
	}
	return out
}

type groupBriefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// groupMembershipJSON is a group's membership in a project with its roles.
type groupMembershipJSON struct {
	ID        string         `json:"id"`
	GroupID   string         `json:"groupId"`
	CreatedAt isoTime        `json:"createdAt"`
	UpdatedAt isoTime        `json:"updatedAt"`
	Roles     []imRoleJSON   `json:"roles"`
	Group     groupBriefJSON `json:"group"`
}

func toGroupMembership(m *infisical.GroupMembership) groupMembershipJSON {
	return groupMembershipJSON{ID: m.ID, GroupID: m.GroupID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt),
		Roles: toIMRoles(m.Roles), Group: groupBriefJSON{ID: m.GroupID, Name: m.GroupName, Slug: m.GroupSlug}}
}

// groupMembershipBrief is the bare membership row of POST and DELETE.
type groupMembershipBrief struct {
	ID        string  `json:"id"`
	GroupID   string  `json:"groupId"`
	ProjectID string  `json:"projectId"`
	CreatedAt isoTime `json:"createdAt"`
	UpdatedAt isoTime `json:"updatedAt"`
}

func toGroupMembershipBrief(m *infisical.GroupMembership) groupMembershipBrief {
	return groupMembershipBrief{ID: m.ID, GroupID: m.GroupID, ProjectID: m.ProjectID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt)}
}

// ---- groups -------------------------------------------------------------------

type createGroupBody struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Role string `json:"role"`
}

func (s *Server) createGroup(rq *request) (any, error) {
	var b createGroupBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.Name == "" {
		return nil, infisical.Invalid("name", "name is required")
	}
	g, err := s.eng.Groups.Create(rq.ctx(), rq.actor, infisical.CreateGroupInput{Name: b.Name, Slug: b.Slug, Role: b.Role})
	if err != nil {
		return nil, err
	}
	return toGroup(g), nil
}

func (s *Server) listGroups(rq *request) (any, error) {
	list, err := s.eng.Groups.List(rq.ctx(), rq.actor, rq.actor.OrgID)
	if err != nil {
		return nil, err
	}
	out := make([]groupJSON, 0, len(list))
	for i := range list {
		out = append(out, toGroup(&list[i]))
	}
	return out, nil
}

func (s *Server) getGroup(rq *request) (any, error) {
	g, err := s.eng.Groups.Get(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return groupDetailJSON{groupJSON: toGroup(g), CustomRoleSlug: g.CustomRoleSlug}, nil
}

type updateGroupBody struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
	Role *string `json:"role"`
}

func (s *Server) updateGroup(rq *request) (any, error) {
	var b updateGroupBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	g, err := s.eng.Groups.Update(rq.ctx(), rq.actor, rq.path("id"), infisical.UpdateGroupInput{Name: b.Name, Slug: b.Slug, Role: b.Role})
	if err != nil {
		return nil, err
	}
	return toGroup(g), nil
}

func (s *Server) deleteGroup(rq *request) (any, error) {
	g, err := s.eng.Groups.Delete(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return toGroup(g), nil
}

// groupUsersQuery reads offset, limit, username, search and filter.
func groupUsersQuery(rq *request) (infisical.ListGroupUsersInput, error) {
	offset, err := rq.qint("offset", 0, 0, 1<<30)
	if err != nil {
		return infisical.ListGroupUsersInput{}, err
	}
	limit, err := rq.qint("limit", 10, 1, 100)
	if err != nil {
		return infisical.ListGroupUsersInput{}, err
	}
	return infisical.ListGroupUsersInput{Offset: offset, Limit: limit, Username: rq.query("username"), Search: rq.query("search"),
		Filter: rq.query("filter")}, nil
}

func (s *Server) listGroupUsers(rq *request) (any, error) {
	in, err := groupUsersQuery(rq)
	if err != nil {
		return nil, err
	}
	list, total, err := s.eng.Groups.ListUsers(rq.ctx(), rq.actor, rq.path("id"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": toGroupUsers(list), "totalCount": total}, nil
}

func (s *Server) addGroupUser(rq *request) (any, error) {
	u, err := s.eng.Groups.AddUser(rq.ctx(), rq.actor, rq.path("id"), rq.path("username"))
	if err != nil {
		return nil, err
	}
	return groupUserBrief{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName}, nil
}

func (s *Server) removeGroupUser(rq *request) (any, error) {
	u, err := s.eng.Groups.RemoveUser(rq.ctx(), rq.actor, rq.path("id"), rq.path("username"))
	if err != nil {
		return nil, err
	}
	return groupUserBrief{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName}, nil
}

// ---- project groups --------------------------------------------------------------

type addProjectGroupBody struct {
	Role  string          `json:"role"`
	Roles []roleInputBody `json:"roles"`
}

func (s *Server) addProjectGroup(rq *request) (any, error) {
	var b addProjectGroupBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	roles, err := toRoleAssignments(b.Roles)
	if err != nil {
		return nil, err
	}
	if len(b.Roles) == 0 {
		role := b.Role
		if role == "" {
			role = "no-access"
		}
		roles = []infisical.RoleAssignment{{Role: role}}
	}
	m, err := s.eng.Groups.AddToProject(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("groupId"), roles)
	if err != nil {
		return nil, err
	}
	return map[string]any{"groupMembership": toGroupMembershipBrief(m)}, nil
}

func (s *Server) updateProjectGroup(rq *request) (any, error) {
	var b updateIdentityMembershipBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if len(b.Roles) == 0 {
		return nil, infisical.Invalid("roles", "roles must contain at least one role")
	}
	roles, err := toRoleAssignments(b.Roles)
	if err != nil {
		return nil, err
	}
	rows, err := s.eng.Groups.SetProjectRoles(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("groupId"), roles)
	if err != nil {
		return nil, err
	}
	return map[string]any{"roles": toRoleRows(rows)}, nil
}

// toRoleRows shapes stored role rows (PATCH responses, §3.9).
func toRoleRows(rows []infisical.MembershipRole) []imRoleRowJSON {
	out := make([]imRoleRowJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, imRoleRowJSON{ID: r.ID, Role: r.Role, ProjectMembershipID: r.MembershipID, CustomRoleID: r.CustomRoleID,
			IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
			TemporaryAccessStartTime: tsp(r.TemporaryAccessStartTime), TemporaryAccessEndTime: tsp(r.TemporaryAccessEndTime),
			CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt)})
	}
	return out
}

func (s *Server) deleteProjectGroup(rq *request) (any, error) {
	m, err := s.eng.Groups.RemoveFromProject(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("groupId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"groupMembership": toGroupMembershipBrief(m)}, nil
}

func (s *Server) listProjectGroups(rq *request) (any, error) {
	list, err := s.eng.Groups.ListProjectGroups(rq.ctx(), rq.actor, rq.path("projectId"))
	if err != nil {
		return nil, err
	}
	out := make([]groupMembershipJSON, 0, len(list))
	for i := range list {
		out = append(out, toGroupMembership(&list[i]))
	}
	return map[string]any{"groupMemberships": out}, nil
}

func (s *Server) getProjectGroup(rq *request) (any, error) {
	m, err := s.eng.Groups.GetProjectGroup(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("groupId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"groupMembership": toGroupMembership(m)}, nil
}

func (s *Server) listProjectGroupUsers(rq *request) (any, error) {
	in, err := groupUsersQuery(rq)
	if err != nil {
		return nil, err
	}
	list, total, err := s.eng.Groups.ListProjectGroupUsers(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("groupId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": toGroupUsers(list), "totalCount": total}, nil
}
