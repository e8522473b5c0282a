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

// Identity is a machine identity.
type Identity struct {
	ID                  string
	Name                string
	HasDeleteProtection bool
	// AuthMethods lists the configured auth methods ("universal-auth",
	// "token-auth", ...), sorted.
	AuthMethods []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IdentityMetadata is one key/value attribute of an identity (used by ABAC
// placeholders).
type IdentityMetadata struct {
	ID    string
	Key   string
	Value string
}

// MetadataInput is one key/value attribute in a request.
type MetadataInput struct {
	Key   string
	Value string
}

// OrgIdentity is a machine identity as a member of an organization
// (Infisical's organization identity membership).
type OrgIdentity struct {
	ID                  string // membership id
	OrgID               string
	IdentityID          string
	Role                string
	RoleID              *string
	LastLoginAuthMethod *string
	LastLoginTime       *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Identity            Identity
	Metadata            []IdentityMetadata
	// CustomRole is set when Role is "custom" (a custom organization role).
	CustomRole *OrgRole
}

// Limits of identity fields.
const (
	maxIdentityNameLen   = 64
	maxIdentityMetadata  = 100
	maxMetadataKeyLen    = 255
	maxMetadataValueLen  = 1020
	defaultIdentityRole  = permission.RoleNoAccess
	identityNotFoundText = "Failed to find identity with ID %s"
)

// CreateIdentityInput is the body of POST /api/v1/identities.
type CreateIdentityInput struct {
	Name string
	// OrgID is the organization; it must be the caller's (any for the
	// platform actor).
	OrgID               string
	Role                string // org role slug; default "no-access"
	HasDeleteProtection bool
	Metadata            []MetadataInput
}

func validIdentityName(field, name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" || len(n) > maxIdentityNameLen {
		return "", Invalid(field, "%s must be 1 to %d characters", field, maxIdentityNameLen)
	}
	return n, nil
}

func validMetadata(in []MetadataInput) error {
	if len(in) > maxIdentityMetadata {
		return Invalid("metadata", "At most %d metadata entries are allowed", maxIdentityMetadata)
	}
	for i, m := range in {
		if strings.TrimSpace(m.Key) == "" || len(m.Key) > maxMetadataKeyLen {
			return Invalid("metadata", "metadata[%d].key must be 1 to %d characters", i, maxMetadataKeyLen)
		}
		if m.Value == "" || len(m.Value) > maxMetadataValueLen {
			return Invalid("metadata", "metadata[%d].value must be 1 to %d characters", i, maxMetadataValueLen)
		}
	}
	return nil
}

// identityAttrs are the attributes of an identity for org rules.
func identityAttrs(identityID string) permission.Attributes {
	return permission.Attributes{permission.FieldIdentityID: identityID}
}

// orgIdentityRow loads the membership of identityID in the caller's
// organization. Identities of other organizations are reported as not
// found, like missing ones. The platform actor without an organization
// gets the identity's home organization.
func (e *Engine) orgIdentityRow(ctx context.Context, q store.Q, actor Actor, identityID string) (*store.IdentityOrgMembership, *store.Identity, error) {
	identityID = strings.TrimSpace(identityID)
	if identityID == "" {
		return nil, nil, Invalid("identityId", "identityId is required")
	}
	var m *store.IdentityOrgMembership
	var err error
	if actor.Type == ActorPlatform && actor.OrgID == "" {
		var all []store.IdentityOrgMembership
		all, err = q.IdentityOrgMembershipsOf(ctx, identityID)
		if err == nil && len(all) == 0 {
			err = store.ErrNotFound
		}
		if err == nil {
			m = &all[0]
		}
	} else {
		m, err = q.IdentityOrgMembershipOf(ctx, actor.OrgID, identityID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, NotFound(identityNotFoundText, identityID)
	}
	if err != nil {
		return nil, nil, Internal("load identity membership", err)
	}
	ident, err := q.GetIdentity(ctx, identityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, NotFound(identityNotFoundText, identityID)
	}
	if err != nil {
		return nil, nil, Internal("load identity", err)
	}
	return m, ident, nil
}

// identityAccess loads an identity of the caller's organization and checks
// that the caller may perform action on it. Changing actions (anything but
// read) are also refused when the identity holds a more powerful org role
// than the caller.
func (e *Engine) identityAccess(ctx context.Context, actor Actor, identityID, action string) (*store.IdentityOrgMembership, *store.Identity, *permission.Set, error) {
	if actor.Type == ActorService {
		return nil, nil, nil, Forbidden("Service tokens cannot manage identities")
	}
	m, ident, err := e.orgIdentityRow(ctx, e.store.Read(), actor, identityID)
	if err != nil {
		return nil, nil, nil, err
	}
	set, err := e.orgPermissions(ctx, actor, m.OrgID)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := set.Check(action, permission.OrgSubjectIdentity, identityAttrs(ident.ID)); err != nil {
		return nil, nil, nil, err
	}
	if action != permission.ActionRead && action != permission.ActionGetToken {
		if err := e.orgRoleWithin(ctx, actor, m.OrgID, set, m.Role, "manage a more privileged identity"); err != nil {
			return nil, nil, nil, err
		}
	}
	return m, ident, set, nil
}

// insertIdentity creates an identity, its org membership and metadata
// inside q.
func (e *Engine) insertIdentity(ctx context.Context, q store.Q, orgID, name, role string, protect bool, meta []MetadataInput) (*store.Identity, *store.IdentityOrgMembership, error) {
	now := e.now()
	ident := &store.Identity{ID: uuid.NewString(), Name: name, HasDeleteProtection: protect, CreatedAt: now, UpdatedAt: now}
	if err := q.Insert(ctx, ident); err != nil {
		return nil, nil, Internal("create identity", err)
	}
	m := &store.IdentityOrgMembership{ID: uuid.NewString(), OrgID: orgID, IdentityID: ident.ID, Role: role, CreatedAt: now, UpdatedAt: now}
	if err := q.Insert(ctx, m); err != nil {
		return nil, nil, Internal("create identity membership", err)
	}
	if err := e.insertIdentityMetadata(ctx, q, orgID, ident.ID, meta); err != nil {
		return nil, nil, err
	}
	return ident, m, nil
}

func (e *Engine) insertIdentityMetadata(ctx context.Context, q store.Q, orgID, identityID string, meta []MetadataInput) error {
	now := e.now()
	for _, md := range meta {
		row := &store.IdentityMetadata{ID: uuid.NewString(), IdentityID: identityID, OrgID: orgID, Key: strings.TrimSpace(md.Key), Value: md.Value, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, row); err != nil {
			return Internal("store identity metadata", err)
		}
	}
	return nil
}

// Create creates a machine identity and its membership in the organization
// with the given org role. The caller cannot give the identity more than it
// holds itself.
func (s *IdentityService) Create(ctx context.Context, actor Actor, in CreateIdentityInput) (*OrgIdentity, error) {
	e := s.e
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot manage identities")
	}
	orgID := strings.TrimSpace(in.OrgID)
	if orgID == "" {
		orgID = actor.OrgID
	}
	if orgID == "" {
		return nil, Invalid("organizationId", "organizationId is required")
	}
	name, err := validIdentityName("name", in.Name)
	if err != nil {
		return nil, err
	}
	role := strings.TrimSpace(in.Role)
	if role == "" {
		role = defaultIdentityRole
	}
	if err := validMetadata(in.Metadata); err != nil {
		return nil, err
	}
	if actor.Type != ActorPlatform && orgID != actor.OrgID {
		return nil, Forbidden("You are not allowed to access this organization")
	}
	if _, err := e.store.Read().GetOrg(ctx, orgID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, NotFound("Organization with ID '%s' not found", orgID)
		}
		return nil, Internal("load organization", err)
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.OrgSubjectIdentity, nil); err != nil {
		return nil, err
	}
	if _, err := e.orgRoleRules(ctx, orgID, role); err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, orgID, set, role, "create a more privileged identity"); err != nil {
		return nil, err
	}
	var id string
	err = e.store.Tx(ctx, func(q store.Q) error {
		ident, _, err := e.insertIdentity(ctx, q, orgID, name, role, in.HasDeleteProtection, in.Metadata)
		if err != nil {
			return err
		}
		id = ident.ID
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-identity", OrgID: orgID,
			Metadata: map[string]any{"identityId": ident.ID, "name": name, "role": role, "hasDeleteProtection": in.HasDeleteProtection,
				"metadata": auditKeyValues(in.Metadata)}})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, e.store.Read(), orgID, id)
}

// load returns one org identity with its auth methods and metadata.
func (s *IdentityService) load(ctx context.Context, q store.Q, orgID, identityID string) (*OrgIdentity, error) {
	rows, _, err := q.ListOrgIdentities(ctx, store.OrgIdentityFilter{OrgID: orgID, IdentityID: identityID})
	if err != nil {
		return nil, Internal("load identity", err)
	}
	if len(rows) == 0 {
		return nil, NotFound(identityNotFoundText, identityID)
	}
	out, err := s.e.orgIdentities(ctx, q, orgID, rows, true)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// orgIdentities converts joined rows, adding auth methods (and metadata).
func (e *Engine) orgIdentities(ctx context.Context, q store.Q, orgID string, rows []store.OrgIdentityRow, withMeta bool) ([]OrgIdentity, error) {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].IdentityID
	}
	methods, err := e.authMethodNames(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	meta := map[string][]IdentityMetadata{}
	if withMeta {
		mrows, err := q.IdentityMetadataOf(ctx, orgID, ids)
		if err != nil {
			return nil, Internal("load identity metadata", err)
		}
		for _, m := range mrows {
			meta[m.IdentityID] = append(meta[m.IdentityID], IdentityMetadata{ID: m.ID, Key: m.Key, Value: m.Value})
		}
	}
	out := make([]OrgIdentity, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = OrgIdentity{ID: r.ID, OrgID: r.OrgID, IdentityID: r.IdentityID, Role: r.Role, RoleID: r.RoleID,
			LastLoginAuthMethod: r.LastLoginAuthMethod, LastLoginTime: r.LastLoginTime, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			Identity: Identity{ID: r.IdentityID, Name: r.IdentityName, HasDeleteProtection: r.HasDeleteProtection,
				AuthMethods: nonNil(methods[r.IdentityID]), CreatedAt: r.IdentityCreatedAt, UpdatedAt: r.IdentityUpdatedAt},
			Metadata: nonNil(meta[r.IdentityID])}
	}
	if err := e.decorateOrgIdentities(ctx, q, orgID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// authMethodNames maps identity ids to their configured auth methods.
func (e *Engine) authMethodNames(ctx context.Context, q store.Q, identityIDs []string) (map[string][]string, error) {
	rows, err := q.AuthMethodNamesOf(ctx, identityIDs)
	if err != nil {
		return nil, Internal("load identity auth methods", err)
	}
	out := make(map[string][]string, len(identityIDs))
	for _, r := range rows {
		out[r.IdentityID] = append(out[r.IdentityID], r.Method)
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Get returns an identity of the caller's organization.
func (s *IdentityService) Get(ctx context.Context, actor Actor, identityID string) (*OrgIdentity, error) {
	m, _, _, err := s.e.identityAccess(ctx, actor, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-identity", OrgID: m.OrgID, Metadata: map[string]any{"identityId": m.IdentityID}})
	return s.load(ctx, s.e.store.Read(), m.OrgID, m.IdentityID)
}

// ListIdentitiesInput filters and pages the identities of an organization.
type ListIdentitiesInput struct {
	OrgID string
	// Search is a case-insensitive substring of the name (textFilter,
	// search.name.$contains).
	Search  string
	NameEq  string
	NameIn  []string
	RoleIn  []string
	OrderBy string // "name" (default), "role", "createdAt"
	Desc    bool
	Offset  int
	Limit   int // 0 = all
}

// List returns the identities of an organization with the total count.
func (s *IdentityService) List(ctx context.Context, actor Actor, in ListIdentitiesInput) ([]OrgIdentity, int, error) {
	e := s.e
	orgID := strings.TrimSpace(in.OrgID)
	if orgID == "" {
		orgID = actor.OrgID
	}
	if orgID == "" {
		return nil, 0, Invalid("orgId", "orgId is required")
	}
	if actor.Type == ActorService {
		return nil, 0, Forbidden("Service tokens cannot manage identities")
	}
	if in.Offset < 0 {
		return nil, 0, Invalid("offset", "offset must be ≥ 0")
	}
	if in.Limit < 0 {
		return nil, 0, Invalid("limit", "limit must be ≥ 0")
	}
	switch in.OrderBy {
	case "", "name", "role", "createdAt":
	default:
		return nil, 0, Invalid("orderBy", "orderBy must be one of name, role, createdAt")
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, 0, err
	}
	if err := set.Check(permission.ActionRead, permission.OrgSubjectIdentity, nil); err != nil {
		return nil, 0, err
	}
	q := e.store.Read()
	rows, total, err := q.ListOrgIdentities(ctx, store.OrgIdentityFilter{OrgID: orgID, NameEq: in.NameEq, NameContain: strings.TrimSpace(in.Search),
		NameIn: in.NameIn, RoleIn: in.RoleIn, OrderBy: in.OrderBy, Desc: in.Desc, Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, 0, Internal("list identities", err)
	}
	out, err := e.orgIdentities(ctx, q, orgID, rows, true)
	if err != nil {
		return nil, 0, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-identities", OrgID: orgID, Metadata: map[string]any{"numberOfIdentities": len(out)}})
	return out, total, nil
}

// UpdateIdentityInput holds the optional fields of an identity update.
type UpdateIdentityInput struct {
	Name                *string
	Role                *string
	HasDeleteProtection *bool
	// Metadata, when set, replaces every metadata entry.
	Metadata *[]MetadataInput
}

// Update changes an identity's name, org role, delete protection or
// metadata.
func (s *IdentityService) Update(ctx context.Context, actor Actor, identityID string, in UpdateIdentityInput) (*OrgIdentity, error) {
	e := s.e
	m, ident, set, err := e.identityAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	now := e.now()
	identRow, memRow := *ident, *m
	identChanged, roleChanged := false, false
	if in.Name != nil {
		n, err := validIdentityName("name", *in.Name)
		if err != nil {
			return nil, err
		}
		identRow.Name, identChanged = n, true
	}
	if in.HasDeleteProtection != nil {
		identRow.HasDeleteProtection, identChanged = *in.HasDeleteProtection, true
	}
	if in.Role != nil {
		role := strings.TrimSpace(*in.Role)
		if role == "" {
			return nil, Invalid("role", "role must not be empty")
		}
		if _, err := e.orgRoleRules(ctx, m.OrgID, role); err != nil {
			return nil, err
		}
		if err := e.orgRoleWithin(ctx, actor, m.OrgID, set, role, "update identity to a more privileged role"); err != nil {
			return nil, err
		}
		if role != m.Role {
			memRow.Role, memRow.RoleID, roleChanged = role, nil, true
		}
	}
	if in.Metadata != nil {
		if err := validMetadata(*in.Metadata); err != nil {
			return nil, err
		}
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if identChanged {
			identRow.UpdatedAt = now
			if err := q.Update(ctx, &identRow); err != nil {
				return Internal("update identity", err)
			}
			if identRow.Name != ident.Name {
				// The name is {{identity.username}} in ABAC rules.
				q.Invalidate(topicAccess, "")
			}
		}
		if roleChanged {
			memRow.UpdatedAt = now
			if err := q.Update(ctx, &memRow); err != nil {
				return Internal("update identity role", err)
			}
			// The org role decides project access (org admins administer
			// every project), so every cached permission set may be stale.
			q.Invalidate(topicAccess, "")
		}
		if in.Metadata != nil {
			if err := q.DeleteIdentityMetadata(ctx, m.OrgID, ident.ID); err != nil {
				return Internal("replace identity metadata", err)
			}
			if err := e.insertIdentityMetadata(ctx, q, m.OrgID, ident.ID, *in.Metadata); err != nil {
				return err
			}
			// Metadata feeds ABAC placeholders in project rules.
			q.Invalidate(topicAccess, "")
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-identity", OrgID: m.OrgID, Metadata: identityUpdateMeta(ident.ID, identRow.Name, in)})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, e.store.Read(), m.OrgID, ident.ID)
}

// Delete removes an identity, its memberships and configurations, and
// revokes every token it holds.
func (s *IdentityService) Delete(ctx context.Context, actor Actor, identityID string) (*OrgIdentity, error) {
	e := s.e
	m, ident, _, err := e.identityAccess(ctx, actor, identityID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	if ident.HasDeleteProtection {
		return nil, BadRequest("Identity '%s' has delete protection enabled; disable it first", ident.Name)
	}
	out, err := s.load(ctx, e.store.Read(), m.OrgID, ident.ID)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		ids, err := q.RevokeTokensOfIdentity(ctx, ident.ID, e.now())
		if err != nil {
			return Internal("revoke identity tokens", err)
		}
		for _, id := range ids {
			q.Invalidate(topicToken, id)
		}
		if _, err := q.DeleteProjectMembershipsOfActor(ctx, store.ActorIdentity, ident.ID); err != nil {
			return Internal("delete identity project memberships", err)
		}
		if _, err := q.DeleteLockoutsWithPrefix(ctx, lockoutPrefix(ident.ID)); err != nil {
			return Internal("delete identity lockouts", err)
		}
		// Memberships, metadata, auth methods, client secrets and token rows
		// cascade from the identity row.
		if err := q.Delete(ctx, &store.Identity{ID: ident.ID}); err != nil {
			return Internal("delete identity", err)
		}
		q.Invalidate(topicIdentityTokens, ident.ID)
		q.Invalidate(topicAccess, "")
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-identity", OrgID: m.OrgID,
			Metadata: map[string]any{"identityId": ident.ID, "name": ident.Name}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Details returns the organization of the calling identity (GET
// /api/v1/identities/details, used by `infisical login status`).
func (s *IdentityService) Details(ctx context.Context, actor Actor) (*Organization, error) {
	if actor.Type != ActorIdentity {
		return nil, Forbidden("This endpoint accepts machine identity access tokens only")
	}
	org, err := s.e.store.Read().GetOrg(ctx, actor.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Organization with ID '%s' not found", actor.OrgID)
	}
	if err != nil {
		return nil, Internal("load organization", err)
	}
	return orgFromRow(org), nil
}

// ProjectMemberships lists the project memberships of an identity of the
// caller's organization.
func (s *IdentityService) ProjectMemberships(ctx context.Context, actor Actor, identityID string) ([]IdentityMembership, error) {
	e := s.e
	m, ident, _, err := e.identityAccess(ctx, actor, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	q := e.store.Read()
	rows, err := q.ProjectMembershipsOfIdentity(ctx, m.OrgID, ident.ID)
	if err != nil {
		return nil, Internal("list identity project memberships", err)
	}
	for i := range rows {
		rows[i].ActorName = ident.Name
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-project-memberships", OrgID: m.OrgID, Metadata: map[string]any{"identityId": ident.ID}})
	return e.identityMemberships(ctx, q, rows)
}
