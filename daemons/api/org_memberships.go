package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// Organization memberships of users (spec §8.2).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerOrgMembershipRoutes) }

func (s *Server) registerOrgMembershipRoutes() {
	const tag = "Organization memberships"
	base := "/api/v2/organizations/{organizationId}/memberships"
	s.handle(http.MethodGet, base, authUI, tag, "List the user memberships of an organization", s.listOrgMemberships)
	s.handle(http.MethodGet, base+"/{membershipId}", authUI, tag, "Get a user membership of an organization", s.getOrgMembership)
	// Changing people's memberships takes a user session (spec §8.2: U);
	// machine identities may only read them.
	s.handle(http.MethodPatch, base+"/{membershipId}", authUser, tag, "Update a user membership (role, active, metadata)", s.updateOrgMembership)
	s.handle(http.MethodDelete, base+"/{membershipId}", authUser, tag, "Remove a user from the organization and its projects", s.deleteOrgMembership)
	s.handle(http.MethodGet, base+"/{membershipId}/project-memberships", authUI, tag, "List the project memberships of an organization member", s.orgMembershipProjects)
}

// orgMemberUserJSON is the user inside organization memberships.
type orgMemberUserJSON struct {
	ID              string  `json:"id"`
	Username        string  `json:"username"`
	Email           *string `json:"email"`
	IsEmailVerified bool    `json:"isEmailVerified"`
	FirstName       *string `json:"firstName"`
	LastName        *string `json:"lastName"`
	PublicKey       *string `json:"publicKey"`
}

func toOrgMemberUser(u infisical.OrgMemberUser) orgMemberUserJSON {
	return orgMemberUserJSON{ID: u.ID, Username: u.Username, Email: u.Email, IsEmailVerified: u.IsEmailVerified, FirstName: u.FirstName,
		LastName: u.LastName}
}

// orgMembershipJSON is a membership in list responses (no timestamps).
type orgMembershipJSON struct {
	ID          string            `json:"id"`
	OrgID       string            `json:"orgId"`
	Role        string            `json:"role"`
	RoleID      *string           `json:"roleId"`
	Status      string            `json:"status"`
	IsActive    bool              `json:"isActive"`
	UserID      string            `json:"userId"`
	InviteEmail *string           `json:"inviteEmail"`
	User        orgMemberUserJSON `json:"user"`
}

func toOrgMembershipJSON(m *infisical.OrgUserMembership) orgMembershipJSON {
	return orgMembershipJSON{ID: m.ID, OrgID: m.OrgID, Role: m.Role, RoleID: m.RoleID, Status: m.Status, IsActive: m.IsActive,
		UserID: m.UserID, InviteEmail: m.InviteEmail, User: toOrgMemberUser(m.User)}
}

// orgMembershipDetailJSON is GET .../memberships/{id}: the list shape plus
// metadata.
type orgMembershipDetailJSON struct {
	orgMembershipJSON
	Metadata []identityMetadataJSON `json:"metadata"`
}

// orgMembershipRowJSON is the stored membership row (PATCH, DELETE).
type orgMembershipRowJSON struct {
	ID          string  `json:"id"`
	OrgID       string  `json:"orgId"`
	UserID      string  `json:"userId"`
	Role        string  `json:"role"`
	RoleID      *string `json:"roleId"`
	Status      string  `json:"status"`
	IsActive    bool    `json:"isActive"`
	InviteEmail *string `json:"inviteEmail"`
	CreatedAt   isoTime `json:"createdAt"`
	UpdatedAt   isoTime `json:"updatedAt"`
}

func toOrgMembershipRow(m *infisical.OrgUserMembership) orgMembershipRowJSON {
	return orgMembershipRowJSON{ID: m.ID, OrgID: m.OrgID, UserID: m.UserID, Role: m.Role, RoleID: m.RoleID, Status: m.Status,
		IsActive: m.IsActive, InviteEmail: m.InviteEmail, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt)}
}

// memberProjectJSON is a project membership of an org member.
type memberProjectJSON struct {
	ID        string            `json:"id"`
	UserID    string            `json:"userId"`
	ProjectID string            `json:"projectId"`
	CreatedAt isoTime           `json:"createdAt"`
	UpdatedAt isoTime           `json:"updatedAt"`
	User      orgMemberUserJSON `json:"user"`
	Project   imProjectJSON     `json:"project"`
	Roles     []imRoleJSON      `json:"roles"`
}

func (s *Server) listOrgMemberships(rq *request) (any, error) {
	list, err := s.eng.Users.ListOrgMemberships(rq.ctx(), rq.actor, rq.path("organizationId"))
	if err != nil {
		return nil, err
	}
	out := make([]orgMembershipJSON, 0, len(list))
	for i := range list {
		out = append(out, toOrgMembershipJSON(&list[i]))
	}
	return map[string]any{"users": out}, nil
}

func (s *Server) getOrgMembership(rq *request) (any, error) {
	m, err := s.eng.Users.GetOrgMembership(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("membershipId"))
	if err != nil {
		return nil, err
	}
	out := orgMembershipDetailJSON{orgMembershipJSON: toOrgMembershipJSON(m), Metadata: []identityMetadataJSON{}}
	for _, md := range m.Metadata {
		out.Metadata = append(out.Metadata, identityMetadataJSON{ID: md.ID, Key: md.Key, Value: md.Value})
	}
	return map[string]any{"membership": out}, nil
}

type updateOrgMembershipBody struct {
	Role     *string         `json:"role"`
	IsActive *bool           `json:"isActive"`
	Metadata *[]metadataBody `json:"metadata"`
}

func (s *Server) updateOrgMembership(rq *request) (any, error) {
	var b updateOrgMembershipBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in := infisical.UpdateOrgMembershipInput{Role: b.Role, IsActive: b.IsActive}
	if b.Metadata != nil {
		md := toMetadataInput(*b.Metadata)
		in.Metadata = &md
	}
	m, err := s.eng.Users.UpdateOrgMembership(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("membershipId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"membership": toOrgMembershipRow(m)}, nil
}

func (s *Server) deleteOrgMembership(rq *request) (any, error) {
	m, err := s.eng.Users.DeleteOrgMembership(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("membershipId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"membership": toOrgMembershipRow(m)}, nil
}

func (s *Server) orgMembershipProjects(rq *request) (any, error) {
	list, err := s.eng.Users.OrgMembershipProjects(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("membershipId"))
	if err != nil {
		return nil, err
	}
	out := make([]memberProjectJSON, 0, len(list))
	for i := range list {
		m := &list[i]
		out = append(out, memberProjectJSON{ID: m.ID, UserID: m.UserID, ProjectID: m.ProjectID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt),
			User: toOrgMemberUser(m.User), Project: imProjectJSON{ID: m.ProjectID, Name: m.ProjectName, Type: m.ProjectType},
			Roles: toIMRoles(m.Roles)})
	}
	return map[string]any{"memberships": out}, nil
}
