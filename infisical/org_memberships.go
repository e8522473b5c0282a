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

// Organization memberships of users (spec §8.2).

// OrgMemberUser is the user part of a membership.
type OrgMemberUser struct {
	ID              string
	Username        string
	Email           *string
	IsEmailVerified bool
	FirstName       *string
	LastName        *string
}

// OrgUserMembership is a user's membership in an organization.
type OrgUserMembership struct {
	ID          string
	OrgID       string
	UserID      string
	Role        string
	RoleID      *string
	Status      string // "invited" or "accepted"
	IsActive    bool
	InviteEmail *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	User        OrgMemberUser
	Metadata    []IdentityMetadata
}

func orgMembershipFromRow(r *store.OrgUserRow) OrgUserMembership {
	m := OrgUserMembership{ID: r.ID, OrgID: r.OrgID, Role: r.Role, RoleID: r.RoleID, Status: r.Status, IsActive: r.IsActive,
		InviteEmail: r.InviteEmail, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Metadata: []IdentityMetadata{},
		User: OrgMemberUser{Username: r.Username, Email: r.UserEmail, IsEmailVerified: r.IsEmailVerified, FirstName: r.FirstName, LastName: r.LastName}}
	if r.UserID != nil {
		m.UserID = *r.UserID
		m.User.ID = *r.UserID
	}
	return m
}

// orgUserMemberships converts joined rows, adding metadata when asked.
func (e *Engine) orgUserMemberships(ctx context.Context, q store.Q, orgID string, rows []store.OrgUserRow, withMeta bool) ([]OrgUserMembership, error) {
	out := make([]OrgUserMembership, len(rows))
	ids := make([]string, 0, len(rows))
	for i := range rows {
		out[i] = orgMembershipFromRow(&rows[i])
		ids = append(ids, out[i].UserID)
	}
	if !withMeta || len(ids) == 0 {
		return out, nil
	}
	meta, err := q.UserMetadataOf(ctx, orgID, ids)
	if err != nil {
		return nil, Internal("load user metadata", err)
	}
	byUser := map[string][]IdentityMetadata{}
	for _, m := range meta {
		byUser[m.UserID] = append(byUser[m.UserID], IdentityMetadata{ID: m.ID, Key: m.Key, Value: m.Value})
	}
	for i := range out {
		if md := byUser[out[i].UserID]; md != nil {
			out[i].Metadata = md
		}
	}
	return out, nil
}

func orgMembershipNotFound(id string) *Error {
	return NotFound("Organization membership with ID '%s' not found", id)
}

// loadOrgMembership returns one user membership of orgID with metadata.
func (s *UserService) loadOrgMembership(ctx context.Context, q store.Q, orgID, membershipID string) (*OrgUserMembership, error) {
	rows, err := q.ListOrgUserMemberships(ctx, orgID, membershipID)
	if err != nil {
		return nil, Internal("load organization membership", err)
	}
	if len(rows) == 0 {
		return nil, orgMembershipNotFound(membershipID)
	}
	out, err := s.e.orgUserMemberships(ctx, q, orgID, rows, true)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ListOrgMemberships returns the user memberships of an organization,
// ordered by username.
func (s *UserService) ListOrgMemberships(ctx context.Context, actor Actor, orgID string) ([]OrgUserMembership, error) {
	e := s.e
	if _, err := e.memberAccess(ctx, actor, orgID, permission.ActionRead); err != nil {
		return nil, err
	}
	q := e.store.Read()
	rows, err := q.ListOrgUserMemberships(ctx, orgID, "")
	if err != nil {
		return nil, Internal("list organization memberships", err)
	}
	out, err := e.orgUserMemberships(ctx, q, orgID, rows, false)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-org-memberships", OrgID: orgID, Metadata: map[string]any{"count": len(out)}})
	return out, nil
}

// GetOrgMembership returns one user membership of an organization.
func (s *UserService) GetOrgMembership(ctx context.Context, actor Actor, orgID, membershipID string) (*OrgUserMembership, error) {
	e := s.e
	if _, err := e.memberAccess(ctx, actor, orgID, permission.ActionRead); err != nil {
		return nil, err
	}
	membershipID = strings.TrimSpace(membershipID)
	if membershipID == "" {
		return nil, Invalid("membershipId", "membershipId is required")
	}
	out, err := s.loadOrgMembership(ctx, e.store.Read(), orgID, membershipID)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-org-membership", OrgID: orgID, Metadata: map[string]any{"membershipId": out.ID, "userId": out.UserID}})
	return out, nil
}

// userOrgMembership loads a user membership of orgID by id inside q.
func userOrgMembership(ctx context.Context, q store.Q, orgID, membershipID string) (*store.OrgMembership, error) {
	membershipID = strings.TrimSpace(membershipID)
	if membershipID == "" {
		return nil, Invalid("membershipId", "membershipId is required")
	}
	m, err := q.GetOrgMembership(ctx, membershipID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (m.OrgID != orgID || m.UserID == nil)) {
		return nil, orgMembershipNotFound(membershipID)
	}
	if err != nil {
		return nil, Internal("load organization membership", err)
	}
	return m, nil
}

// isCountedAdmin reports whether a membership counts toward the admins an
// organization must keep.
func isCountedAdmin(m *store.OrgMembership) bool {
	return m.Role == permission.RoleAdmin && m.IsActive && m.Status == store.OrgStatusAccepted
}

// keepAnAdmin refuses a change that would leave the organization without an
// active admin user.
func keepAnAdmin(ctx context.Context, q store.Q, m *store.OrgMembership) error {
	if !isCountedAdmin(m) {
		return nil
	}
	n, err := q.CountActiveAdmins(ctx, m.OrgID)
	if err != nil {
		return Internal("count organization admins", err)
	}
	if n <= 1 {
		return BadRequest("The organization must keep at least one active admin")
	}
	return nil
}

// UpdateOrgMembershipInput holds the optional fields of a membership update.
type UpdateOrgMembershipInput struct {
	Role     *string // built-in or custom org role slug
	IsActive *bool
	// Metadata, when set, replaces every metadata entry.
	Metadata *[]MetadataInput
}

// UpdateOrgMembership changes a user's org role, active flag or metadata.
// Nobody changes a member more privileged than themselves, nor gives a role
// more privileged than their own.
func (s *UserService) UpdateOrgMembership(ctx context.Context, actor Actor, orgID, membershipID string, in UpdateOrgMembershipInput) (*OrgUserMembership, error) {
	e := s.e
	set, err := e.memberAccess(ctx, actor, orgID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	current, err := userOrgMembership(ctx, e.store.Read(), orgID, membershipID)
	if err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, orgID, set, current.Role, "change a more privileged member"); err != nil {
		return nil, err
	}
	var role string
	if in.Role != nil {
		role = strings.TrimSpace(*in.Role)
		if role == "" {
			return nil, Invalid("role", "role must not be empty")
		}
		if _, err := e.orgRoleRules(ctx, orgID, role); err != nil {
			return nil, err
		}
		if err := e.orgRoleWithin(ctx, actor, orgID, set, role, "assign a more privileged role"); err != nil {
			return nil, err
		}
	}
	if in.Metadata != nil {
		if err := validMetadata(*in.Metadata); err != nil {
			return nil, err
		}
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, err := userOrgMembership(ctx, q, orgID, current.ID)
		if err != nil {
			return err
		}
		next := *m
		if in.Role != nil && role != m.Role {
			next.Role, next.RoleID = role, nil
		}
		if in.IsActive != nil {
			next.IsActive = *in.IsActive
		}
		changed := next.Role != m.Role || next.IsActive != m.IsActive
		if changed && isCountedAdmin(m) && !isCountedAdmin(&next) {
			if err := keepAnAdmin(ctx, q, m); err != nil {
				return err
			}
		}
		if changed {
			next.UpdatedAt = e.now()
			if err := q.Update(ctx, &next); err != nil {
				return Internal("update organization membership", err)
			}
			// The org role decides project access (org admins administer
			// every project), and inactive members lose their sessions'
			// access at once.
			q.Invalidate(topicAccess, "")
			q.Invalidate(topicUserSessions, *m.UserID)
		}
		if in.Metadata != nil {
			if err := q.DeleteUserMetadata(ctx, orgID, *m.UserID); err != nil {
				return Internal("replace user metadata", err)
			}
			now := e.now()
			for _, md := range *in.Metadata {
				row := &store.UserMetadata{ID: uuid.NewString(), UserID: *m.UserID, OrgID: orgID, Key: strings.TrimSpace(md.Key), Value: md.Value,
					CreatedAt: now, UpdatedAt: now}
				if err := q.Insert(ctx, row); err != nil {
					return Internal("store user metadata", err)
				}
			}
			// Metadata feeds ABAC placeholders in project rules.
			q.Invalidate(topicAccess, "")
		}
		meta := map[string]any{"membershipId": m.ID, "userId": *m.UserID, "role": next.Role, "isActive": next.IsActive}
		if in.Metadata != nil {
			meta["metadataKeys"] = len(*in.Metadata)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-org-membership", OrgID: orgID, Metadata: meta})
	})
	if err != nil {
		return nil, err
	}
	return s.loadOrgMembership(ctx, e.store.Read(), orgID, current.ID)
}

// DeleteOrgMembership removes a user from an organization and from every
// project and group of it, ends the user's sessions in the organization and
// drops pending invitations, in one transaction.
func (s *UserService) DeleteOrgMembership(ctx context.Context, actor Actor, orgID, membershipID string) (*OrgUserMembership, error) {
	e := s.e
	set, err := e.memberAccess(ctx, actor, orgID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	q0 := e.store.Read()
	current, err := userOrgMembership(ctx, q0, orgID, membershipID)
	if err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, orgID, set, current.Role, "remove a more privileged member"); err != nil {
		return nil, err
	}
	out, err := s.loadOrgMembership(ctx, q0, orgID, current.ID)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, err := userOrgMembership(ctx, q, orgID, current.ID)
		if err != nil {
			return err
		}
		if err := keepAnAdmin(ctx, q, m); err != nil {
			return err
		}
		uid := *m.UserID
		projects, err := q.DeleteProjectMembershipsOfUserInOrg(ctx, orgID, uid)
		if err != nil {
			return Internal("delete project memberships", err)
		}
		for _, pid := range projects {
			q.Invalidate(topicAccess, pid)
		}
		if err := q.DeleteGroupMembershipsOfUserInOrg(ctx, orgID, uid); err != nil {
			return Internal("delete group memberships", err)
		}
		if err := q.DeleteUserMetadata(ctx, orgID, uid); err != nil {
			return Internal("delete user metadata", err)
		}
		if _, err := q.DeleteOrgInvite(ctx, uid, orgID); err != nil {
			return Internal("delete invitation", err)
		}
		if _, err := q.DeleteSessionsOfUser(ctx, uid, orgID); err != nil {
			return Internal("end sessions", err)
		}
		if err := q.Delete(ctx, m); err != nil {
			return Internal("delete organization membership", err)
		}
		q.Invalidate(topicUserSessions, uid)
		// Group memberships may have granted access to any project.
		q.Invalidate(topicAccess, "")
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-org-membership", OrgID: orgID,
			Metadata: map[string]any{"membershipId": m.ID, "userId": uid, "projects": len(projects)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OrgMembershipProjects lists the project memberships, in the projects of
// the organization, of the user behind an org membership.
func (s *UserService) OrgMembershipProjects(ctx context.Context, actor Actor, orgID, membershipID string) ([]UserMembership, error) {
	e := s.e
	if _, err := e.memberAccess(ctx, actor, orgID, permission.ActionRead); err != nil {
		return nil, err
	}
	q := e.store.Read()
	m, err := userOrgMembership(ctx, q, orgID, membershipID)
	if err != nil {
		return nil, err
	}
	rows, err := q.ProjectMembershipsOfUserInOrg(ctx, orgID, *m.UserID)
	if err != nil {
		return nil, Internal("list project memberships", err)
	}
	out, err := e.userMemberships(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-org-membership-projects", OrgID: orgID, Metadata: map[string]any{"membershipId": m.ID, "userId": *m.UserID}})
	return out, nil
}
