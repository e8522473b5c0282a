package infisical

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Project memberships of users (spec §8.3).

// UserMembership is a user's membership in a project with its roles.
type UserMembership struct {
	ID          string
	UserID      string
	ProjectID   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	User        OrgMemberUser
	Roles       []MembershipRole
	ProjectName string
	ProjectType string
}

func userMembershipNotFound(id string) *Error {
	return NotFound("Project membership with ID '%s' not found", id)
}

// projectUserAccess resolves a project and checks action on its member
// subject.
func (e *Engine) projectUserAccess(ctx context.Context, actor Actor, projectID, action string) (*projectMeta, *permission.Set, error) {
	if actor.Type == ActorService {
		return nil, nil, Forbidden("Service tokens cannot manage project memberships")
	}
	projectID = strings.TrimSpace(projectID)
	if projectID == "" {
		return nil, nil, Invalid("workspaceId", "workspaceId is required")
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: projectID})
	if err != nil {
		return nil, nil, err
	}
	if err := set.Check(action, permission.SubjectMember, nil); err != nil {
		return nil, nil, err
	}
	return m, set, nil
}

// userMemberships converts joined rows, loading the roles.
func (e *Engine) userMemberships(ctx context.Context, q store.Q, rows []store.ProjectUserRow) ([]UserMembership, error) {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	roleRows, err := q.RolesOfMemberships(ctx, ids)
	if err != nil {
		return nil, Internal("load membership roles", err)
	}
	roles := map[string][]MembershipRole{}
	for i := range roleRows {
		r := &roleRows[i]
		roles[r.MembershipID] = append(roles[r.MembershipID], membershipRoleFromRow(r))
	}
	out := make([]UserMembership, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = UserMembership{ID: r.ID, UserID: r.ActorID, ProjectID: r.ProjectID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			User: OrgMemberUser{ID: r.ActorID, Username: r.Username, Email: r.UserEmail, IsEmailVerified: r.IsEmailVerified,
				FirstName: r.FirstName, LastName: r.LastName},
			Roles: nonNil(roles[r.ID]), ProjectName: r.ProjectName, ProjectType: r.ProjectType}
	}
	return out, nil
}

func (e *Engine) loadUserMembership(ctx context.Context, q store.Q, projectID, membershipID string) (*UserMembership, error) {
	rows, err := q.ListProjectUserMemberships(ctx, store.ProjectUserFilter{ProjectID: projectID, MembershipID: membershipID})
	if err != nil {
		return nil, Internal("load project membership", err)
	}
	if len(rows) == 0 {
		return nil, userMembershipNotFound(membershipID)
	}
	out, err := e.userMemberships(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ListUsers returns the user memberships of a project, by username.
func (s *MembershipService) ListUsers(ctx context.Context, actor Actor, projectID string) ([]UserMembership, error) {
	e := s.e
	meta, _, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	q := e.store.Read()
	rows, err := q.ListProjectUserMemberships(ctx, store.ProjectUserFilter{ProjectID: meta.project.ID})
	if err != nil {
		return nil, Internal("list project memberships", err)
	}
	out, err := e.userMemberships(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-memberships", ProjectID: meta.project.ID, Metadata: map[string]any{"count": len(out)}})
	return out, nil
}

// GetUserMembership returns one user membership of a project by id.
func (s *MembershipService) GetUserMembership(ctx context.Context, actor Actor, projectID, membershipID string) (*UserMembership, error) {
	e := s.e
	meta, _, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	membershipID = strings.TrimSpace(membershipID)
	if membershipID == "" {
		return nil, Invalid("membershipId", "membershipId is required")
	}
	out, err := e.loadUserMembership(ctx, e.store.Read(), meta.project.ID, membershipID)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-membership", ProjectID: meta.project.ID, Metadata: map[string]any{"membershipId": out.ID, "userId": out.UserID}})
	return out, nil
}

// GetUserMembershipByUsername returns the membership of the user with
// username in a project (404 when the user is not a member).
func (s *MembershipService) GetUserMembershipByUsername(ctx context.Context, actor Actor, projectID, username string) (*UserMembership, error) {
	e := s.e
	meta, _, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	username = strings.ToLower(strings.TrimSpace(username))
	if username == "" {
		return nil, Invalid("username", "username is required")
	}
	q := e.store.Read()
	rows, err := q.ListProjectUserMemberships(ctx, store.ProjectUserFilter{ProjectID: meta.project.ID, Usernames: []string{username}})
	if err != nil {
		return nil, Internal("load project membership", err)
	}
	if len(rows) == 0 {
		return nil, NotFound("User with username '%s' is not a member of the project", username)
	}
	out, err := e.userMemberships(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-membership", ProjectID: meta.project.ID, Metadata: map[string]any{"membershipId": out[0].ID, "userId": out[0].UserID}})
	return &out[0], nil
}

// currentUserMembership loads a user membership of a project by id with its
// role rows.
func currentUserMembership(ctx context.Context, q store.Q, projectID, membershipID string) (*store.ProjectMembership, []store.MembershipRole, error) {
	membershipID = strings.TrimSpace(membershipID)
	if membershipID == "" {
		return nil, nil, Invalid("membershipId", "membershipId is required")
	}
	m, err := q.GetProjectMembership(ctx, membershipID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (m.ProjectID != projectID || m.ActorType != store.ActorUser)) {
		return nil, nil, userMembershipNotFound(membershipID)
	}
	if err != nil {
		return nil, nil, Internal("load project membership", err)
	}
	roles, err := q.RolesOfMemberships(ctx, []string{m.ID})
	if err != nil {
		return nil, nil, Internal("load membership roles", err)
	}
	return m, roles, nil
}

// SetUserRoles replaces the roles of a user membership (at least one
// permanent role) and returns the new role rows.
func (s *MembershipService) SetUserRoles(ctx context.Context, actor Actor, projectID, membershipID string, roles []RoleAssignment) ([]MembershipRole, error) {
	e := s.e
	meta, set, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out []MembershipRole
	err = e.store.Tx(ctx, func(q store.Q) error {
		out = out[:0]
		m, current, err := currentUserMembership(ctx, q, pid, membershipID)
		if err != nil {
			return err
		}
		rows, err := e.replaceProjectRoles(ctx, q, actor, set, pid, m, current, roles, "member")
		if err != nil {
			return err
		}
		out = membershipRolesFromRows(rows)
		slugs := make([]string, 0, len(rows))
		for i := range rows {
			slugs = append(slugs, rows[i].Role)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-user-project-role", ProjectID: pid,
			Metadata: map[string]any{"membershipId": m.ID, "userId": m.ActorID, "roles": slugs}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveUserMembership removes a user membership from a project.
func (s *MembershipService) RemoveUserMembership(ctx context.Context, actor Actor, projectID, membershipID string) (*UserMembership, error) {
	e := s.e
	meta, set, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out *UserMembership
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, current, err := currentUserMembership(ctx, q, pid, membershipID)
		if err != nil {
			return err
		}
		out, err = e.removeUserFromProject(ctx, q, actor, pid, set, m, current)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// removeUserFromProject deletes a user membership inside q after the
// escalation check.
func (e *Engine) removeUserFromProject(ctx context.Context, q store.Q, actor Actor, projectID string, set *permission.Set, m *store.ProjectMembership, current []store.MembershipRole) (*UserMembership, error) {
	if err := e.projectRolesWithin(ctx, actor, projectID, set, current, "remove a more privileged member"); err != nil {
		return nil, err
	}
	roles := make([]MembershipRole, len(current))
	for i := range current {
		roles[i] = membershipRoleFromRow(&current[i])
	}
	out := &UserMembership{ID: m.ID, UserID: m.ActorID, ProjectID: m.ProjectID, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Roles: roles}
	if err := q.Delete(ctx, m); err != nil {
		return nil, Internal("delete project membership", err)
	}
	q.Invalidate(topicAccess, projectID)
	if err := e.audit(ctx, q, actor, AuditEvent{Type: "remove-project-member", ProjectID: projectID,
		Metadata: map[string]any{"membershipId": m.ID, "userId": m.ActorID}}); err != nil {
		return nil, err
	}
	return out, nil
}

// addUserToProject makes userID a member of the project with roles inside
// q, unless it already is one (then it returns nil).
func (e *Engine) addUserToProject(ctx context.Context, q store.Q, actor Actor, meta *projectMeta, set *permission.Set, userID string, roles []RoleAssignment) (*store.ProjectMembership, error) {
	pid := meta.project.ID
	if _, err := q.ProjectMembershipOf(ctx, pid, store.ActorUser, userID); err == nil {
		return nil, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, Internal("load project membership", err)
	}
	rows, err := e.roleRows(ctx, q, pid, "", roles)
	if err != nil {
		return nil, err
	}
	if err := e.projectRolesWithin(ctx, actor, pid, set, rows, "add a member with a more privileged role"); err != nil {
		return nil, err
	}
	return e.insertMembership(ctx, q, pid, store.ActorUser, userID, roles)
}

// AddProjectUsersInput is the body of POST /api/v2/workspace/{id}/memberships.
type AddProjectUsersInput struct {
	Emails    []string
	Usernames []string
	// RoleSlugs are the project roles to give (nil = ["member"]; an empty,
	// non-nil list is refused).
	RoleSlugs []string
}

// resolveProjectUsers turns emails and usernames into lower-cased,
// de-duplicated usernames.
func resolveProjectUsers(emails, usernames []string) ([]string, error) {
	ems, err := normalizeEmails("emails", emails)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(ems)+len(usernames))
	for _, em := range ems {
		if !seen[em] {
			seen[em] = true
			out = append(out, em)
		}
	}
	for _, u := range usernames {
		u = strings.ToLower(strings.TrimSpace(u))
		if u == "" {
			return nil, Invalid("usernames", "usernames must not contain empty names")
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, Invalid("emails", "Either emails or usernames must be provided")
	}
	if len(out) > maxInvitees {
		return nil, Invalid("emails", "At most %d users can be added at once", maxInvitees)
	}
	return out, nil
}

// AddUsers adds users to a project by email or username. People who are not
// yet members of the project's organization are invited to it first, with
// the org role no-access (their invitation codes can be reissued with
// ResendInvite). Users already in the project are left as they are; the
// result lists the memberships created.
func (s *MembershipService) AddUsers(ctx context.Context, actor Actor, projectID string, in AddProjectUsersInput) ([]UserMembership, error) {
	e := s.e
	meta, set, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	names, err := resolveProjectUsers(in.Emails, in.Usernames)
	if err != nil {
		return nil, err
	}
	if in.RoleSlugs != nil && len(in.RoleSlugs) == 0 {
		return nil, Invalid("roleSlugs", "roleSlugs must contain at least one role")
	}
	roles := roleSlugsToAssignments(in.RoleSlugs)
	pid, orgID := meta.project.ID, meta.project.OrgID
	isEmail := map[string]bool{}
	if ems, _ := normalizeEmails("emails", in.Emails); ems != nil {
		for _, em := range ems {
			isEmail[em] = true
		}
	}
	// Inviting people into the organization needs that permission too; it
	// is checked only when someone has to be invited.
	_, inviteErr := e.memberAccess(ctx, actor, orgID, permission.ActionCreate)
	var out []UserMembership
	err = e.store.Tx(ctx, func(q store.Q) error {
		out = out[:0]
		var added []string
		for _, name := range names {
			u, err := q.GetUserByUsername(ctx, name)
			switch {
			case errors.Is(err, store.ErrNotFound) && !isEmail[name]:
				return NotFound("User with username '%s' not found", name)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return Internal("load user", err)
			}
			var userID string
			inOrg := false
			if u != nil {
				userID = u.ID
				if _, err := q.OrgMembershipOfUser(ctx, orgID, u.ID); err == nil {
					inOrg = true
				} else if !errors.Is(err, store.ErrNotFound) {
					return Internal("load organization membership", err)
				}
			}
			if !inOrg {
				if inviteErr != nil {
					return inviteErr
				}
				inv, err := e.inviteToOrg(ctx, q, orgID, name, permission.RoleNoAccess)
				if err != nil {
					return err
				}
				userID = inv.UserID
				if err := e.audit(ctx, q, actor, AuditEvent{Type: "invite-org-member", OrgID: orgID,
					Metadata: map[string]any{"email": name, "userId": userID, "role": permission.RoleNoAccess}}); err != nil {
					return err
				}
			}
			m, err := e.addUserToProject(ctx, q, actor, meta, set, userID, roles)
			if err != nil {
				return err
			}
			if m == nil {
				continue
			}
			added = append(added, userID)
			out = append(out, UserMembership{ID: m.ID, UserID: userID, ProjectID: pid, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt})
		}
		if len(added) == 0 {
			return nil
		}
		slugs := make([]string, len(roles))
		for i, r := range roles {
			slugs[i] = r.Role
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "add-project-members", ProjectID: pid,
			Metadata: map[string]any{"userIds": added, "roles": slugs}})
	})
	if err != nil {
		return nil, err
	}
	return nonNil(out), nil
}

// RemoveUsers removes users, named by email or username, from a project.
// Names that are not members are ignored; the result lists the memberships
// removed.
func (s *MembershipService) RemoveUsers(ctx context.Context, actor Actor, projectID string, emails, usernames []string) ([]UserMembership, error) {
	e := s.e
	meta, set, err := e.projectUserAccess(ctx, actor, projectID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	names, err := resolveProjectUsers(emails, usernames)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out []UserMembership
	err = e.store.Tx(ctx, func(q store.Q) error {
		out = out[:0]
		rows, err := q.ListProjectUserMemberships(ctx, store.ProjectUserFilter{ProjectID: pid, Usernames: names})
		if err != nil {
			return Internal("load project memberships", err)
		}
		for i := range rows {
			m, current, err := currentUserMembership(ctx, q, pid, rows[i].ID)
			if err != nil {
				return err
			}
			removed, err := e.removeUserFromProject(ctx, q, actor, pid, set, m, current)
			if err != nil {
				return err
			}
			out = append(out, *removed)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return nonNil(out), nil
}
