package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// Project memberships of users (spec §8.3).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerProjectUserRoutes) }

func (s *Server) registerProjectUserRoutes() {
	const tag = "Project user memberships"
	for _, base := range []string{"/api/v1/workspace/{workspaceId}/memberships", "/api/v1/projects/{workspaceId}/memberships"} {
		s.handle(http.MethodGet, base, authUI, tag, "List the user memberships of a project", s.listProjectUsers)
		s.handle(http.MethodPost, base+"/details", authUI, tag, "Get the membership of a user by username", s.projectUserByUsername)
		s.handle(http.MethodGet, base+"/{membershipId}", authUI, tag, "Get a user membership of a project", s.getProjectUser)
		s.handle(http.MethodPatch, base+"/{membershipId}", authUI, tag, "Replace the roles of a user in a project", s.updateProjectUser)
		s.handle(http.MethodDelete, base+"/{membershipId}", authUI, tag, "Remove a user from a project", s.deleteProjectUser)
	}
	v2 := "/api/v2/workspace/{projectId}/memberships"
	s.handle(http.MethodPost, v2, authUI, tag, "Add users to a project by email or username (inviting them to the organization)", s.addProjectUsers)
	s.handle(http.MethodDelete, v2, authUI, tag, "Remove users from a project by email or username (JSON body)", s.removeProjectUsers)
}

// projectUserJSON is the user inside project memberships.
type projectUserJSON struct {
	ID        string  `json:"id"`
	Email     *string `json:"email"`
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
	Username  string  `json:"username"`
	PublicKey *string `json:"publicKey"`
}

// projectMembershipJSON is a user membership with its roles. CreatedAt and
// UpdatedAt are absent from POST /details.
type projectMembershipJSON struct {
	ID        string          `json:"id"`
	UserID    string          `json:"userId"`
	ProjectID string          `json:"projectId"`
	CreatedAt *isoTime        `json:"createdAt,omitempty"`
	UpdatedAt *isoTime        `json:"updatedAt,omitempty"`
	User      projectUserJSON `json:"user"`
	Roles     []imRoleJSON    `json:"roles"`
}

func toProjectMembership(m *infisical.UserMembership, times bool) projectMembershipJSON {
	out := projectMembershipJSON{ID: m.ID, UserID: m.UserID, ProjectID: m.ProjectID,
		User:  projectUserJSON{ID: m.User.ID, Email: m.User.Email, FirstName: m.User.FirstName, LastName: m.User.LastName, Username: m.User.Username},
		Roles: toIMRoles(m.Roles)}
	if times {
		out.CreatedAt, out.UpdatedAt = tsp(&m.CreatedAt), tsp(&m.UpdatedAt)
	}
	return out
}

// projectMembershipBrief is the bare membership row.
type projectMembershipBrief struct {
	ID        string  `json:"id"`
	UserID    string  `json:"userId"`
	ProjectID string  `json:"projectId"`
	CreatedAt isoTime `json:"createdAt"`
	UpdatedAt isoTime `json:"updatedAt"`
}

func toProjectMembershipBriefs(list []infisical.UserMembership) []projectMembershipBrief {
	out := make([]projectMembershipBrief, 0, len(list))
	for _, m := range list {
		out = append(out, projectMembershipBrief{ID: m.ID, UserID: m.UserID, ProjectID: m.ProjectID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt)})
	}
	return out
}

func (s *Server) listProjectUsers(rq *request) (any, error) {
	list, err := s.eng.Memberships.ListUsers(rq.ctx(), rq.actor, rq.path("workspaceId"))
	if err != nil {
		return nil, err
	}
	out := make([]projectMembershipJSON, 0, len(list))
	for i := range list {
		out = append(out, toProjectMembership(&list[i], true))
	}
	return map[string]any{"memberships": out}, nil
}

func (s *Server) getProjectUser(rq *request) (any, error) {
	m, err := s.eng.Memberships.GetUserMembership(rq.ctx(), rq.actor, rq.path("workspaceId"), rq.path("membershipId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"membership": toProjectMembership(m, true)}, nil
}

func (s *Server) projectUserByUsername(rq *request) (any, error) {
	var b struct {
		Username string `json:"username"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	m, err := s.eng.Memberships.GetUserMembershipByUsername(rq.ctx(), rq.actor, rq.path("workspaceId"), b.Username)
	if err != nil {
		return nil, err
	}
	return map[string]any{"membership": toProjectMembership(m, false)}, nil
}

func (s *Server) updateProjectUser(rq *request) (any, error) {
	var b struct {
		Roles []roleInputBody `json:"roles"`
	}
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
	rows, err := s.eng.Memberships.SetUserRoles(rq.ctx(), rq.actor, rq.path("workspaceId"), rq.path("membershipId"), roles)
	if err != nil {
		return nil, err
	}
	out := make([]imRoleRowJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, imRoleRowJSON{ID: r.ID, Role: r.Role, ProjectMembershipID: r.MembershipID, CustomRoleID: r.CustomRoleID,
			IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
			TemporaryAccessStartTime: tsp(r.TemporaryAccessStartTime), TemporaryAccessEndTime: tsp(r.TemporaryAccessEndTime),
			CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt)})
	}
	return map[string]any{"roles": out}, nil
}

func (s *Server) deleteProjectUser(rq *request) (any, error) {
	m, err := s.eng.Memberships.RemoveUserMembership(rq.ctx(), rq.actor, rq.path("workspaceId"), rq.path("membershipId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"membership": projectMembershipBrief{ID: m.ID, UserID: m.UserID, ProjectID: m.ProjectID,
		CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt)}}, nil
}

type projectUsersBody struct {
	Emails    []string  `json:"emails"`
	Usernames []string  `json:"usernames"`
	RoleSlugs *[]string `json:"roleSlugs"`
}

func (s *Server) addProjectUsers(rq *request) (any, error) {
	var b projectUsersBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in := infisical.AddProjectUsersInput{Emails: b.Emails, Usernames: b.Usernames}
	if b.RoleSlugs != nil {
		in.RoleSlugs = append([]string{}, *b.RoleSlugs...)
	}
	list, err := s.eng.Memberships.AddUsers(rq.ctx(), rq.actor, rq.path("projectId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"memberships": toProjectMembershipBriefs(list)}, nil
}

func (s *Server) removeProjectUsers(rq *request) (any, error) {
	var b projectUsersBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	list, err := s.eng.Memberships.RemoveUsers(rq.ctx(), rq.actor, rq.path("projectId"), b.Emails, b.Usernames)
	if err != nil {
		return nil, err
	}
	return map[string]any{"memberships": toProjectMembershipBriefs(list)}, nil
}
