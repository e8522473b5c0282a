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

// PrivilegeService manages additional privileges of machine identities in
// projects (privileges.go): extra rules on top of their roles, permanent or
// for a time window, that end on time without a restart (the permission
// cache expires at the next start or end of a temporary grant).
type PrivilegeService struct{ e *Engine }

// Privilege is an additional privilege of an identity in a project.
// Permissions are V2 rules.
type Privilege struct {
	ID                       string
	Slug                     string
	ProjectMembershipID      string
	IdentityID               string
	ProjectID                string
	IsTemporary              bool
	TemporaryMode            *string
	TemporaryRange           *string
	TemporaryAccessStartTime *time.Time
	TemporaryAccessEndTime   *time.Time
	Permissions              []permission.Rule
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// CreatePrivilegeInput creates a privilege. Permissions are V2 rules
// (convert V1 input with permission.ConvertV1 first); Slug is generated when
// empty.
type CreatePrivilegeInput struct {
	IdentityID               string
	Project                  ProjectRef
	Slug                     string
	Permissions              []permission.Rule
	IsTemporary              bool
	TemporaryMode            string
	TemporaryRange           string
	TemporaryAccessStartTime *time.Time
}

// UpdatePrivilegeInput holds the optional fields of a privilege update.
// IsTemporary false makes the privilege permanent; true (or changing the
// range or start of a temporary one) recomputes its window.
type UpdatePrivilegeInput struct {
	Slug                     *string
	Permissions              *[]permission.Rule
	IsTemporary              *bool
	TemporaryMode            *string
	TemporaryRange           *string
	TemporaryAccessStartTime *time.Time
}

// Limits of privilege fields.
const (
	maxPrivilegeSlugLen = 60
	privilegeSlugGenLen = 12
)

func validPrivilegeSlug(slug string) (string, error) {
	s := strings.TrimSpace(slug)
	if !validSlug(s, 1, maxPrivilegeSlugLen) {
		return "", Invalid("slug", "slug must be 1 to %d lowercase letters, digits and single hyphens or underscores", maxPrivilegeSlugLen)
	}
	return s, nil
}

func privilegeFromRow(r *store.AdditionalPrivilege) (*Privilege, error) {
	rules, err := decodeRules(r.Permissions)
	if err != nil {
		return nil, Internal("decode privilege permissions", err)
	}
	return &Privilege{ID: r.ID, Slug: r.Slug, ProjectMembershipID: r.MembershipID, IdentityID: r.ActorID, ProjectID: r.ProjectID,
		IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
		TemporaryAccessStartTime: r.TemporaryAccessStartTime, TemporaryAccessEndTime: r.TemporaryAccessEndTime,
		Permissions: rules, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

// privilegeScope is the resolved target of a privilege operation: the
// project, the caller's permissions in it and the identity's membership.
type privilegeScope struct {
	meta       *projectMeta
	set        *permission.Set
	membership *store.ProjectMembership
}

// privilegeScopeOf resolves the project, checks action on the identity and
// loads the identity's membership in the project.
func (e *Engine) privilegeScopeOf(ctx context.Context, actor Actor, ref ProjectRef, identityID, action string) (*privilegeScope, error) {
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot manage privileges")
	}
	identityID = strings.TrimSpace(identityID)
	if identityID == "" {
		return nil, Invalid("identityId", "identityId is required")
	}
	if strings.TrimSpace(ref.ID) == "" && strings.TrimSpace(ref.Slug) == "" {
		return nil, Invalid("projectSlug", "projectSlug or projectId is required")
	}
	meta, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(action, permission.SubjectIdentity, identityAttrs(identityID)); err != nil {
		return nil, err
	}
	m, err := e.store.Read().ProjectMembershipOf(ctx, meta.project.ID, store.ActorIdentity, identityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Failed to find identity with ID %s in project", identityID)
	}
	if err != nil {
		return nil, Internal("load identity membership", err)
	}
	return &privilegeScope{meta: meta, set: set, membership: m}, nil
}

// privilegeByID loads a privilege of an identity by id and resolves its
// scope; privileges of other organizations are not found.
func (e *Engine) privilegeByID(ctx context.Context, actor Actor, id, action string) (*privilegeScope, *store.AdditionalPrivilege, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, nil, Invalid("id", "id is required")
	}
	row, err := e.store.Read().GetPrivilege(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.ActorType != store.ActorIdentity) {
		return nil, nil, NotFound("Failed to find privilege with ID %s", id)
	}
	if err != nil {
		return nil, nil, Internal("load privilege", err)
	}
	sc, err := e.privilegeScopeOf(ctx, actor, ProjectRef{ID: row.ProjectID}, row.ActorID, action)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, NotFound("Failed to find privilege with ID %s", id)
		}
		return nil, nil, err
	}
	return sc, row, nil
}

func (e *Engine) privilegeBySlug(ctx context.Context, q store.Q, sc *privilegeScope, slug string) (*store.AdditionalPrivilege, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		return nil, Invalid("privilegeSlug", "privilegeSlug is required")
	}
	row, err := q.PrivilegeBySlug(ctx, sc.membership.ID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Failed to find privilege with slug %s", slug)
	}
	if err != nil {
		return nil, Internal("load privilege", err)
	}
	return row, nil
}

// Create gives an identity an additional privilege in a project. The rules
// may not exceed the caller's, and the caller may not manage an identity
// more privileged than itself.
func (s *PrivilegeService) Create(ctx context.Context, actor Actor, in CreatePrivilegeInput) (*Privilege, error) {
	e := s.e
	sc, err := e.privilegeScopeOf(ctx, actor, in.Project, in.IdentityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	slug := strings.TrimSpace(in.Slug)
	if slug == "" {
		slug = randomSuffix(privilegeSlugGenLen)
	} else if slug, err = validPrivilegeSlug(slug); err != nil {
		return nil, err
	}
	if in.Permissions == nil {
		return nil, Invalid("permissions", "permissions is required")
	}
	if err := validRuleList(in.Permissions, false); err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.AdditionalPrivilege{ID: uuid.NewString(), MembershipID: sc.membership.ID, ProjectID: sc.meta.project.ID,
		ActorType: store.ActorIdentity, ActorID: sc.membership.ActorID, Slug: slug, Permissions: encodeRules(in.Permissions),
		CreatedAt: now, UpdatedAt: now}
	if in.IsTemporary {
		start, end, mode, rng, err := temporaryWindow("temporaryRange", -1, in.TemporaryMode, in.TemporaryRange, in.TemporaryAccessStartTime)
		if err != nil {
			return nil, err
		}
		row.IsTemporary = true
		row.TemporaryMode, row.TemporaryRange = &mode, &rng
		row.TemporaryAccessStartTime, row.TemporaryAccessEndTime = &start, &end
	}
	if err := e.rulesWithin(actor, sc.set, in.Permissions, "grant a privilege"); err != nil {
		return nil, err
	}
	if err := e.actorWithin(ctx, actor, sc.set, &sc.meta.project, store.ActorIdentity, row.ActorID, "grant a privilege to a more privileged identity"); err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("Identity additional privilege with slug '%s' already exists", slug)
			}
			return Internal("create privilege", err)
		}
		q.Invalidate(topicAccess, row.ProjectID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-identity-project-additional-privilege", ProjectID: row.ProjectID,
			Metadata: privilegeAudit(row, in.Permissions)})
	})
	if err != nil {
		return nil, err
	}
	return privilegeFromRow(row)
}

func privilegeAudit(row *store.AdditionalPrivilege, rules []permission.Rule) map[string]any {
	m := map[string]any{"privilegeId": row.ID, "slug": row.Slug, "identityId": row.ActorID, "isTemporary": row.IsTemporary}
	if rules != nil {
		m["permissions"] = rules
	}
	if row.IsTemporary {
		m["temporaryRange"] = row.TemporaryRange
		m["temporaryAccessStartTime"] = row.TemporaryAccessStartTime
		m["temporaryAccessEndTime"] = row.TemporaryAccessEndTime
	}
	return m
}

// update applies in to row inside a transaction.
func (s *PrivilegeService) update(ctx context.Context, actor Actor, sc *privilegeScope, find func(q store.Q) (*store.AdditionalPrivilege, error), in UpdatePrivilegeInput) (*Privilege, error) {
	e := s.e
	if err := e.actorWithin(ctx, actor, sc.set, &sc.meta.project, store.ActorIdentity, sc.membership.ActorID, "update a privilege of a more privileged identity"); err != nil {
		return nil, err
	}
	var out *Privilege
	err := e.store.Tx(ctx, func(q store.Q) error {
		row, err := find(q)
		if err != nil {
			return err
		}
		current, err := decodeRules(row.Permissions)
		if err != nil {
			return Internal("decode privilege permissions", err)
		}
		if err := e.rulesWithin(actor, sc.set, current, "update a privilege more privileged than you"); err != nil {
			return err
		}
		upd := *row
		if in.Slug != nil {
			if upd.Slug, err = validPrivilegeSlug(*in.Slug); err != nil {
				return err
			}
		}
		if in.Permissions != nil {
			if err := validRuleList(*in.Permissions, false); err != nil {
				return err
			}
			if err := e.rulesWithin(actor, sc.set, *in.Permissions, "update a privilege"); err != nil {
				return err
			}
			upd.Permissions = encodeRules(*in.Permissions)
		}
		temporary := upd.IsTemporary
		if in.IsTemporary != nil {
			temporary = *in.IsTemporary
		}
		retime := in.IsTemporary != nil || in.TemporaryMode != nil || in.TemporaryRange != nil || in.TemporaryAccessStartTime != nil
		switch {
		case !temporary:
			upd.IsTemporary = false
			upd.TemporaryMode, upd.TemporaryRange, upd.TemporaryAccessStartTime, upd.TemporaryAccessEndTime = nil, nil, nil, nil
		case retime:
			mode, rng, start := deref(upd.TemporaryMode), deref(upd.TemporaryRange), upd.TemporaryAccessStartTime
			if in.TemporaryMode != nil {
				mode = *in.TemporaryMode
			}
			if in.TemporaryRange != nil {
				rng = *in.TemporaryRange
			}
			if in.TemporaryAccessStartTime != nil {
				start = in.TemporaryAccessStartTime
			}
			st, end, m, r, err := temporaryWindow("temporaryRange", -1, mode, rng, start)
			if err != nil {
				return err
			}
			upd.IsTemporary = true
			upd.TemporaryMode, upd.TemporaryRange = &m, &r
			upd.TemporaryAccessStartTime, upd.TemporaryAccessEndTime = &st, &end
		}
		upd.UpdatedAt = e.now()
		if err := q.Update(ctx, &upd); err != nil {
			if isDuplicate(err) {
				return BadRequest("Identity additional privilege with slug '%s' already exists", upd.Slug)
			}
			return Internal("update privilege", err)
		}
		q.Invalidate(topicAccess, upd.ProjectID)
		var rules []permission.Rule
		if in.Permissions != nil {
			rules = *in.Permissions
		}
		if err := e.audit(ctx, q, actor, AuditEvent{Type: "update-identity-project-additional-privilege", ProjectID: upd.ProjectID,
			Metadata: privilegeAudit(&upd, rules)}); err != nil {
			return err
		}
		out, err = privilegeFromRow(&upd)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Update changes the privilege named by slug of an identity in a project.
func (s *PrivilegeService) Update(ctx context.Context, actor Actor, identityID string, project ProjectRef, slug string, in UpdatePrivilegeInput) (*Privilege, error) {
	sc, err := s.e.privilegeScopeOf(ctx, actor, project, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, actor, sc, func(q store.Q) (*store.AdditionalPrivilege, error) { return s.e.privilegeBySlug(ctx, q, sc, slug) }, in)
}

// UpdateByID changes a privilege by id.
func (s *PrivilegeService) UpdateByID(ctx context.Context, actor Actor, id string, in UpdatePrivilegeInput) (*Privilege, error) {
	sc, row, err := s.e.privilegeByID(ctx, actor, id, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, actor, sc, func(q store.Q) (*store.AdditionalPrivilege, error) {
		cur, err := q.GetPrivilege(ctx, row.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, NotFound("Failed to find privilege with ID %s", row.ID)
		}
		if err != nil {
			return nil, Internal("load privilege", err)
		}
		return cur, nil
	}, in)
}

// remove deletes a privilege.
func (s *PrivilegeService) remove(ctx context.Context, actor Actor, sc *privilegeScope, row *store.AdditionalPrivilege) (*Privilege, error) {
	e := s.e
	if err := e.actorWithin(ctx, actor, sc.set, &sc.meta.project, store.ActorIdentity, row.ActorID, "delete a privilege of a more privileged identity"); err != nil {
		return nil, err
	}
	out, err := privilegeFromRow(row)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete privilege", err)
		}
		q.Invalidate(topicAccess, row.ProjectID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-identity-project-additional-privilege", ProjectID: row.ProjectID,
			Metadata: privilegeAudit(row, nil)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes the privilege named by slug of an identity in a project.
func (s *PrivilegeService) Delete(ctx context.Context, actor Actor, identityID string, project ProjectRef, slug string) (*Privilege, error) {
	sc, err := s.e.privilegeScopeOf(ctx, actor, project, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	row, err := s.e.privilegeBySlug(ctx, s.e.store.Read(), sc, slug)
	if err != nil {
		return nil, err
	}
	return s.remove(ctx, actor, sc, row)
}

// DeleteByID removes a privilege by id.
func (s *PrivilegeService) DeleteByID(ctx context.Context, actor Actor, id string) (*Privilege, error) {
	sc, row, err := s.e.privilegeByID(ctx, actor, id, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	return s.remove(ctx, actor, sc, row)
}

// Get returns the privilege named by slug of an identity in a project.
func (s *PrivilegeService) Get(ctx context.Context, actor Actor, identityID string, project ProjectRef, slug string) (*Privilege, error) {
	e := s.e
	sc, err := e.privilegeScopeOf(ctx, actor, project, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	row, err := e.privilegeBySlug(ctx, e.store.Read(), sc, slug)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-project-additional-privilege", ProjectID: row.ProjectID,
		Metadata: map[string]any{"privilegeId": row.ID, "slug": row.Slug, "identityId": row.ActorID}})
	return privilegeFromRow(row)
}

// GetByID returns a privilege by id.
func (s *PrivilegeService) GetByID(ctx context.Context, actor Actor, id string) (*Privilege, error) {
	_, row, err := s.e.privilegeByID(ctx, actor, id, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-identity-project-additional-privilege", ProjectID: row.ProjectID,
		Metadata: map[string]any{"privilegeId": row.ID, "slug": row.Slug, "identityId": row.ActorID}})
	return privilegeFromRow(row)
}

// List returns the privileges of an identity in a project.
func (s *PrivilegeService) List(ctx context.Context, actor Actor, identityID string, project ProjectRef) ([]Privilege, error) {
	e := s.e
	sc, err := e.privilegeScopeOf(ctx, actor, project, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.Read().ListPrivileges(ctx, sc.membership.ID)
	if err != nil {
		return nil, Internal("list privileges", err)
	}
	out := make([]Privilege, 0, len(rows))
	for i := range rows {
		p, err := privilegeFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-project-additional-privileges", ProjectID: sc.meta.project.ID,
		Metadata: map[string]any{"identityId": sc.membership.ActorID, "count": len(out)}})
	return out, nil
}
