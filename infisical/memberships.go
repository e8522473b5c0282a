package infisical

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// IdentityMembership is a machine identity's membership in a project with
// its roles.
type IdentityMembership struct {
	ID          string
	IdentityID  string
	ProjectID   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Roles       []MembershipRole
	Identity    Identity // ID, Name and AuthMethods are set
	ProjectName string
	ProjectType string
}

const identityMembershipNotFound = "Identity membership for identity with ID '%s' not found in project"

// projectIdentityAccess resolves a project and checks action on its
// identity subject for identityID ("" = any identity).
func (e *Engine) projectIdentityAccess(ctx context.Context, actor Actor, projectID, identityID, action string) (*projectMeta, *permission.Set, error) {
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
	var attrs permission.Attributes
	if identityID != "" {
		attrs = identityAttrs(identityID)
	}
	if err := set.Check(action, permission.SubjectIdentity, attrs); err != nil {
		return nil, nil, err
	}
	return m, set, nil
}

// projectRolesWithin refuses role rows that grant more than the caller holds
// in the project (a non-admin cannot hand out admin).
func (e *Engine) projectRolesWithin(ctx context.Context, actor Actor, projectID string, set *permission.Set, rows []store.MembershipRole, what string) error {
	if actor.Type == ActorPlatform {
		return nil
	}
	for i := range rows {
		rules, err := e.roleRules(ctx, projectID, &rows[i])
		if err != nil {
			return err
		}
		if !setCovers(set, rules) {
			return boundaryError("Failed to %s: the role '%s' grants more privileges than you have", what, rows[i].Role)
		}
	}
	return nil
}

// identityOfOrg checks that identityID belongs to orgID.
func (e *Engine) identityOfOrg(ctx context.Context, q store.Q, orgID, identityID string) error {
	if strings.TrimSpace(identityID) == "" {
		return Invalid("identityId", "identityId is required")
	}
	_, err := q.IdentityOrgMembershipOf(ctx, orgID, identityID)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound(identityNotFoundText, identityID)
	}
	if err != nil {
		return Internal("load identity membership", err)
	}
	return nil
}

// AddIdentity makes an identity of the project's organization a member of
// the project with the given roles (default: no-access).
func (s *MembershipService) AddIdentity(ctx context.Context, actor Actor, projectID, identityID string, roles []RoleAssignment) (*IdentityMembership, error) {
	e := s.e
	meta, set, err := e.projectIdentityAccess(ctx, actor, projectID, identityID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	if err := e.identityOfOrg(ctx, e.store.Read(), meta.project.OrgID, identityID); err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		roles = []RoleAssignment{{Role: permission.RoleNoAccess}}
	}
	var id string
	err = e.store.Tx(ctx, func(q store.Q) error {
		rows, err := e.roleRows(ctx, q, pid, "", roles)
		if err != nil {
			return err
		}
		if err := e.projectRolesWithin(ctx, actor, pid, set, rows, "add identity to project with a more privileged role"); err != nil {
			return err
		}
		m, err := e.insertMembership(ctx, q, pid, store.ActorIdentity, identityID, roles)
		if err != nil {
			return err
		}
		id = m.ID
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-identity-project-membership", ProjectID: pid,
			Metadata: map[string]any{"identityId": identityID, "roles": auditRoles(roles)}})
	})
	if err != nil {
		return nil, err
	}
	return s.identityMembershipByID(ctx, e.store.Read(), id)
}

// replaceProjectRoles replaces the roles of project membership m inside q,
// with the caller's privileges checked against the roles m holds now
// (current) and the roles it is given, then bumps m's UpdatedAt and drops
// the project's cached permissions. who names m's kind in errors
// ("identity", "member", "group"). It returns the new role rows.
func (e *Engine) replaceProjectRoles(ctx context.Context, q store.Q, actor Actor, set *permission.Set, projectID string,
	m *store.ProjectMembership, current []store.MembershipRole, roles []RoleAssignment, who string) ([]store.MembershipRole, error) {
	rows, err := e.roleRows(ctx, q, projectID, m.ID, roles)
	if err != nil {
		return nil, err
	}
	if err := e.projectRolesWithin(ctx, actor, projectID, set, current, "change the roles of a more privileged "+who); err != nil {
		return nil, err
	}
	if err := e.projectRolesWithin(ctx, actor, projectID, set, rows, "assign a more privileged role"); err != nil {
		return nil, err
	}
	if err := q.DeleteMembershipRoles(ctx, m.ID); err != nil {
		return nil, Internal("replace membership roles", err)
	}
	for i := range rows {
		if err := q.Insert(ctx, &rows[i]); err != nil {
			return nil, Internal("create membership role", err)
		}
	}
	m.UpdatedAt = e.now()
	if err := q.Update(ctx, m); err != nil {
		return nil, Internal("update "+who+" membership", err)
	}
	q.Invalidate(topicAccess, projectID)
	return rows, nil
}

// currentIdentityMembership loads the membership of identityID in the
// project and its role rows.
func (e *Engine) currentIdentityMembership(ctx context.Context, q store.Q, projectID, identityID string) (*store.ProjectMembership, []store.MembershipRole, error) {
	m, err := q.ProjectMembershipOf(ctx, projectID, store.ActorIdentity, identityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, NotFound(identityMembershipNotFound, identityID)
	}
	if err != nil {
		return nil, nil, Internal("load identity membership", err)
	}
	roles, err := q.RolesOfMemberships(ctx, []string{m.ID})
	if err != nil {
		return nil, nil, Internal("load membership roles", err)
	}
	return m, roles, nil
}

// SetIdentityRoles replaces the roles of an identity in a project, in one
// transaction, and returns the new role rows.
func (s *MembershipService) SetIdentityRoles(ctx context.Context, actor Actor, projectID, identityID string, roles []RoleAssignment) ([]MembershipRole, error) {
	e := s.e
	meta, set, err := e.projectIdentityAccess(ctx, actor, projectID, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out []MembershipRole
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, current, err := e.currentIdentityMembership(ctx, q, pid, identityID)
		if err != nil {
			return err
		}
		rows, err := e.replaceProjectRoles(ctx, q, actor, set, pid, m, current, roles, "identity")
		if err != nil {
			return err
		}
		out = membershipRolesFromRows(rows)
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-identity-project-membership", ProjectID: pid,
			Metadata: map[string]any{"identityId": identityID, "roles": auditRoles(roles)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveIdentity removes an identity from a project.
func (s *MembershipService) RemoveIdentity(ctx context.Context, actor Actor, projectID, identityID string) (*IdentityMembership, error) {
	e := s.e
	meta, set, err := e.projectIdentityAccess(ctx, actor, projectID, identityID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	pid := meta.project.ID
	var out *IdentityMembership
	err = e.store.Tx(ctx, func(q store.Q) error {
		m, current, err := e.currentIdentityMembership(ctx, q, pid, identityID)
		if err != nil {
			return err
		}
		if err := e.projectRolesWithin(ctx, actor, pid, set, current, "remove a more privileged identity"); err != nil {
			return err
		}
		roles := make([]MembershipRole, len(current))
		for i := range current {
			roles[i] = membershipRoleFromRow(&current[i])
		}
		out = &IdentityMembership{ID: m.ID, IdentityID: m.ActorID, ProjectID: m.ProjectID, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
			Roles: roles, Identity: Identity{ID: m.ActorID, AuthMethods: []string{}}, ProjectName: meta.project.Name, ProjectType: meta.project.Type}
		if err := q.Delete(ctx, m); err != nil {
			return Internal("delete identity membership", err)
		}
		q.Invalidate(topicAccess, pid)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-identity-project-membership", ProjectID: pid,
			Metadata: map[string]any{"identityId": identityID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListProjectIdentitiesInput pages the identity memberships of a project.
type ListProjectIdentitiesInput struct {
	Search string // case-insensitive substring of the identity name
	Desc   bool
	Offset int
	Limit  int // 0 = all
}

// ListIdentities returns the identity memberships of a project, ordered by
// identity name, and their total count.
func (s *MembershipService) ListIdentities(ctx context.Context, actor Actor, projectID string, in ListProjectIdentitiesInput) ([]IdentityMembership, int, error) {
	e := s.e
	meta, _, err := e.projectIdentityAccess(ctx, actor, projectID, "", permission.ActionRead)
	if err != nil {
		return nil, 0, err
	}
	if in.Offset < 0 {
		return nil, 0, Invalid("offset", "offset must be ≥ 0")
	}
	if in.Limit < 0 {
		return nil, 0, Invalid("limit", "limit must be ≥ 0")
	}
	q := e.store.Read()
	rows, total, err := q.ListProjectIdentityMemberships(ctx, store.ProjectIdentityFilter{ProjectID: meta.project.ID,
		Search: strings.TrimSpace(in.Search), Desc: in.Desc, Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, 0, Internal("list identity memberships", err)
	}
	out, err := e.identityMemberships(ctx, q, rows)
	if err != nil {
		return nil, 0, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-project-memberships", ProjectID: meta.project.ID, Metadata: map[string]any{"numberOfMemberships": len(out)}})
	return out, total, nil
}

// GetIdentity returns the membership of an identity in a project.
func (s *MembershipService) GetIdentity(ctx context.Context, actor Actor, projectID, identityID string) (*IdentityMembership, error) {
	e := s.e
	meta, _, err := e.projectIdentityAccess(ctx, actor, projectID, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	q := e.store.Read()
	m, err := q.ProjectMembershipOf(ctx, meta.project.ID, store.ActorIdentity, identityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound(identityMembershipNotFound, identityID)
	}
	if err != nil {
		return nil, Internal("load identity membership", err)
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-project-membership", ProjectID: meta.project.ID, Metadata: map[string]any{"identityId": identityID}})
	return s.identityMembershipByID(ctx, q, m.ID)
}

// GetIdentityMembership returns an identity membership by its id.
func (s *MembershipService) GetIdentityMembership(ctx context.Context, actor Actor, membershipID string) (*IdentityMembership, error) {
	e := s.e
	membershipID = strings.TrimSpace(membershipID)
	if membershipID == "" {
		return nil, Invalid("identityMembershipId", "identityMembershipId is required")
	}
	m, err := e.store.Read().GetProjectMembership(ctx, membershipID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.ActorType != store.ActorIdentity) {
		return nil, NotFound("Identity membership with ID '%s' not found", membershipID)
	}
	if err != nil {
		return nil, Internal("load identity membership", err)
	}
	if _, _, err := e.projectIdentityAccess(ctx, actor, m.ProjectID, m.ActorID, permission.ActionRead); err != nil {
		if IsNotFound(err) {
			return nil, NotFound("Identity membership with ID '%s' not found", membershipID)
		}
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-project-membership", ProjectID: m.ProjectID, Metadata: map[string]any{"identityId": m.ActorID}})
	return s.identityMembershipByID(ctx, e.store.Read(), m.ID)
}

func (s *MembershipService) identityMembershipByID(ctx context.Context, q store.Q, id string) (*IdentityMembership, error) {
	row, err := q.ProjectIdentityMembershipRow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Identity membership with ID '%s' not found", id)
	}
	if err != nil {
		return nil, Internal("load identity membership", err)
	}
	out, err := s.e.identityMemberships(ctx, q, []store.ProjectActorRow{*row})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// identityMemberships converts joined rows, loading roles and auth methods.
func (e *Engine) identityMemberships(ctx context.Context, q store.Q, rows []store.ProjectActorRow) ([]IdentityMembership, error) {
	mids := make([]string, len(rows))
	iids := make([]string, 0, len(rows))
	seen := map[string]bool{}
	for i := range rows {
		mids[i] = rows[i].ID
		if !seen[rows[i].ActorID] {
			seen[rows[i].ActorID] = true
			iids = append(iids, rows[i].ActorID)
		}
	}
	roleRows, err := q.RolesOfMemberships(ctx, mids)
	if err != nil {
		return nil, Internal("load membership roles", err)
	}
	converted, err := e.membershipRoles(ctx, q, roleRows)
	if err != nil {
		return nil, err
	}
	roles := map[string][]MembershipRole{}
	for _, r := range converted {
		roles[r.MembershipID] = append(roles[r.MembershipID], r)
	}
	methods, err := e.authMethodNames(ctx, q, iids)
	if err != nil {
		return nil, err
	}
	out := make([]IdentityMembership, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = IdentityMembership{ID: r.ID, IdentityID: r.ActorID, ProjectID: r.ProjectID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			Roles:       nonNil(roles[r.ID]),
			Identity:    Identity{ID: r.ActorID, Name: r.ActorName, AuthMethods: nonNil(methods[r.ActorID])},
			ProjectName: r.ProjectName, ProjectType: r.ProjectType}
	}
	return out, nil
}

// membershipRolesFromRows converts stored role rows for an answer.
func membershipRolesFromRows(rows []store.MembershipRole) []MembershipRole {
	out := make([]MembershipRole, len(rows))
	for i := range rows {
		out[i] = membershipRoleFromRow(&rows[i])
	}
	return out
}
