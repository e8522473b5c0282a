package infisical

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/duration"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// RoleAssignment is one role given to a project member, permanently or for
// a time window (temporaryMode "relative": from TemporaryAccessStartTime for
// TemporaryRange).
type RoleAssignment struct {
	Role                     string
	IsTemporary              bool
	TemporaryMode            string
	TemporaryRange           string
	TemporaryAccessStartTime *time.Time
}

// MembershipRole is an assigned role as stored. Role is the built-in slug
// or "custom" (then CustomRoleID, and in list and get responses
// CustomRoleName and CustomRoleSlug, name the custom role).
type MembershipRole struct {
	ID                       string
	Role                     string
	CustomRoleID             *string
	CustomRoleName           *string
	CustomRoleSlug           *string
	IsTemporary              bool
	TemporaryMode            *string
	TemporaryRange           *string
	TemporaryAccessStartTime *time.Time
	TemporaryAccessEndTime   *time.Time
	MembershipID             string
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

func membershipRoleFromRow(r *store.MembershipRole) MembershipRole {
	return MembershipRole{ID: r.ID, Role: r.Role, CustomRoleID: r.CustomRoleID, IsTemporary: r.IsTemporary,
		TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
		TemporaryAccessStartTime: r.TemporaryAccessStartTime, TemporaryAccessEndTime: r.TemporaryAccessEndTime,
		MembershipID: r.MembershipID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// membershipRoles converts role rows and names their custom roles.
func (e *Engine) membershipRoles(ctx context.Context, q store.Q, rows []store.MembershipRole) ([]MembershipRole, error) {
	var ids []string
	for i := range rows {
		if rows[i].CustomRoleID != nil {
			ids = append(ids, *rows[i].CustomRoleID)
		}
	}
	custom, err := q.ProjectRolesByIDs(ctx, ids)
	if err != nil {
		return nil, Internal("load custom roles", err)
	}
	byID := make(map[string]*store.ProjectRole, len(custom))
	for i := range custom {
		byID[custom[i].ID] = &custom[i]
	}
	out := make([]MembershipRole, len(rows))
	for i := range rows {
		out[i] = membershipRoleFromRow(&rows[i])
		if rows[i].CustomRoleID != nil {
			if cr := byID[*rows[i].CustomRoleID]; cr != nil {
				name, slug := cr.Name, cr.Slug
				out[i].CustomRoleName, out[i].CustomRoleSlug = &name, &slug
			}
		}
	}
	return out, nil
}

// roleRows validates assignments and turns them into rows for membershipID.
// Slugs that are not built-in name custom roles of the project.
func (e *Engine) roleRows(ctx context.Context, q store.Q, projectID, membershipID string, roles []RoleAssignment) ([]store.MembershipRole, error) {
	if len(roles) == 0 {
		return nil, Invalid("roles", "At least one role is required")
	}
	now := e.now()
	permanent := false
	out := make([]store.MembershipRole, 0, len(roles))
	for i, ra := range roles {
		slug := strings.TrimSpace(ra.Role)
		if slug == "" {
			return nil, Invalid("roles", "roles[%d].role is required", i)
		}
		row := store.MembershipRole{ID: uuid.NewString(), MembershipID: membershipID, Role: slug, CreatedAt: now, UpdatedAt: now}
		if _, ok := permission.BuiltinProjectRole(slug); !ok {
			if e.resolveCustomRole == nil {
				return nil, NotFound("Role with slug '%s' not found", slug)
			}
			id, err := e.resolveCustomRole(ctx, q, projectID, slug)
			if err != nil {
				return nil, err
			}
			row.Role = permission.RoleCustom
			row.CustomRoleID = &id
		}
		if ra.IsTemporary {
			start, end, mode, rng, err := temporaryWindow("roles", i, ra.TemporaryMode, ra.TemporaryRange, ra.TemporaryAccessStartTime)
			if err != nil {
				return nil, err
			}
			row.IsTemporary = true
			row.TemporaryMode, row.TemporaryRange = &mode, &rng
			row.TemporaryAccessStartTime, row.TemporaryAccessEndTime = &start, &end
		} else {
			permanent = true
		}
		out = append(out, row)
	}
	if !permanent {
		return nil, Invalid("roles", "At least one permanent role is required")
	}
	return out, nil
}

// temporaryWindow validates a temporary grant ("relative" mode: from start
// for the duration rng) and returns its window. field and index name the
// input in errors (index < 0: a single object).
func temporaryWindow(field string, index int, mode, rng string, start *time.Time) (time.Time, time.Time, string, string, error) {
	at := field
	if index >= 0 {
		at = field + "[" + strconv.Itoa(index) + "]"
	}
	if mode != "relative" {
		return time.Time{}, time.Time{}, "", "", Invalid(field, "%s.temporaryMode must be \"relative\"", at)
	}
	d, err := duration.ParsePositive(rng)
	if err != nil {
		return time.Time{}, time.Time{}, "", "", Invalid(field, "%s.temporaryRange: %v", at, err)
	}
	if start == nil || start.IsZero() {
		return time.Time{}, time.Time{}, "", "", Invalid(field, "%s.temporaryAccessStartTime is required", at)
	}
	s := start.UTC().Truncate(time.Millisecond)
	return s, s.Add(d), mode, rng, nil
}

// insertMembership creates a project membership with its roles inside q.
func (e *Engine) insertMembership(ctx context.Context, q store.Q, projectID, actorType, actorID string, roles []RoleAssignment) (*store.ProjectMembership, error) {
	now := e.now()
	m := &store.ProjectMembership{ID: uuid.NewString(), ProjectID: projectID, ActorType: actorType, ActorID: actorID, CreatedAt: now, UpdatedAt: now}
	rows, err := e.roleRows(ctx, q, projectID, m.ID, roles)
	if err != nil {
		return nil, err
	}
	if err := q.Insert(ctx, m); err != nil {
		if isDuplicate(err) {
			return nil, BadRequest("This %s is already a member of the project", actorType)
		}
		return nil, Internal("create membership", err)
	}
	for i := range rows {
		if err := q.Insert(ctx, &rows[i]); err != nil {
			return nil, Internal("create membership role", err)
		}
	}
	q.Invalidate(topicAccess, projectID)
	return m, nil
}

// ---- custom roles -----------------------------------------------------------

// RoleService manages custom project and organization roles (roles.go).
type RoleService struct{ e *Engine }

// Role is a project role: a custom one, or a built-in one shown as a
// predefined pseudo-row (Predefined, with a stable id derived from the
// project and slug).
type Role struct {
	ID          string
	ProjectID   string
	Name        string
	Slug        string
	Description *string
	Permissions []permission.Rule
	Predefined  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// OrgRole is an organization role, custom or predefined.
type OrgRole struct {
	ID          string
	OrgID       string
	Name        string
	Slug        string
	Description *string
	Permissions []permission.Rule
	Predefined  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoleInput creates a custom role. Permissions are V2 rules (convert V1
// input with permission.ConvertV1 first).
type RoleInput struct {
	Slug        string
	Name        string
	Description *string
	Permissions []permission.Rule
}

// RoleUpdate holds the optional fields of a role update. DescriptionSet
// with a nil Description clears it.
type RoleUpdate struct {
	Slug           *string
	Name           *string
	DescriptionSet bool
	Description    *string
	Permissions    *[]permission.Rule
}

// Limits of role fields.
const (
	maxRoleNameLen        = 128
	maxRoleDescriptionLen = 1000
	maxRoleRules          = 1000
)

var predefinedProjectRoles = []struct{ slug, name, description string }{
	{permission.RoleAdmin, "Admin", "Full administrative access over a project"},
	{permission.RoleMember, "Developer", "Limited read/write role in a project"},
	{permission.RoleViewer, "Viewer", "Only read role in a project"},
	{permission.RoleNoAccess, "No Access", "No access to any resources in the project"},
}

var predefinedOrgRoles = []struct{ slug, name, description string }{
	{permission.RoleAdmin, "Admin", "Complete administration access over the organization"},
	{permission.RoleMember, "Member", "Non-administrative role in an organization"},
	{permission.RoleNoAccess, "No Access", "No access to any resources in the organization"},
}

// predefinedID derives a stable id for a built-in role shown in a scope, so
// that list responses (and their ETags) do not change between calls.
func predefinedID(kind, scopeID, slug string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("infisical-go:"+kind+":"+scopeID+":"+slug)).String()
}

func predefinedProjectRole(p *store.Project, slug string) (*Role, bool) {
	for _, r := range predefinedProjectRoles {
		if r.slug != slug {
			continue
		}
		rules, _ := permission.BuiltinProjectRole(slug)
		desc := r.description
		return &Role{ID: predefinedID("project-role", p.ID, slug), ProjectID: p.ID, Name: r.name, Slug: slug, Description: &desc,
			Permissions: rules, Predefined: true, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt}, true
	}
	return nil, false
}

// isPredefinedProjectRoleID reports whether id is the derived id (or the
// slug) of a predefined project role.
func isPredefinedProjectRoleID(p *store.Project, id string) bool {
	id = strings.TrimSpace(id)
	for _, r := range predefinedProjectRoles {
		if id == r.slug || id == predefinedID("project-role", p.ID, r.slug) {
			return true
		}
	}
	return false
}

func predefinedOrgRole(org *store.Organization, slug string) (*OrgRole, bool) {
	for _, r := range predefinedOrgRoles {
		if r.slug != slug {
			continue
		}
		rules, _ := permission.BuiltinOrgRole(slug)
		desc := r.description
		return &OrgRole{ID: predefinedID("org-role", org.ID, slug), OrgID: org.ID, Name: r.name, Slug: slug, Description: &desc,
			Permissions: rules, Predefined: true, CreatedAt: org.CreatedAt, UpdatedAt: org.CreatedAt}, true
	}
	return nil, false
}

// decodeRules parses stored V2 rules.
func decodeRules(raw string) ([]permission.Rule, error) {
	rules := []permission.Rule{}
	if strings.TrimSpace(raw) == "" {
		return rules, nil
	}
	if err := json.Unmarshal([]byte(raw), &rules); err != nil {
		return nil, err
	}
	return rules, nil
}

func encodeRules(rules []permission.Rule) string {
	if rules == nil {
		rules = []permission.Rule{}
	}
	b, _ := json.Marshal(rules)
	return string(b)
}

func roleFromRow(r *store.ProjectRole) (*Role, error) {
	rules, err := decodeRules(r.Permissions)
	if err != nil {
		return nil, Internal("decode role permissions", err)
	}
	return &Role{ID: r.ID, ProjectID: r.ProjectID, Name: r.Name, Slug: r.Slug, Description: r.Description, Permissions: rules,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

func orgRoleFromRow(r *store.OrgRole) (*OrgRole, error) {
	rules, err := decodeRules(r.Permissions)
	if err != nil {
		return nil, Internal("decode role permissions", err)
	}
	return &OrgRole{ID: r.ID, OrgID: r.OrgID, Name: r.Name, Slug: r.Slug, Description: r.Description, Permissions: rules,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

// validRuleList checks a role's rules (project or organization catalogue)
// and reports problems as 422 naming the permissions field.
func validRuleList(rules []permission.Rule, org bool) error {
	if len(rules) > maxRoleRules {
		return Invalid("permissions", "At most %d permission rules are allowed", maxRoleRules)
	}
	var err error
	if org {
		err = permission.ValidateOrgRules(rules)
	} else {
		err = permission.ValidateRules(rules)
	}
	if err != nil {
		return Invalid("permissions", "%s", err.Error())
	}
	return nil
}

// validRoleInput checks a new custom role (project or organization) and
// returns its trimmed slug, name and description.
func validRoleInput(in RoleInput, org bool) (slug, name string, desc *string, err error) {
	reserved := permission.IsReservedProjectRoleSlug
	if org {
		reserved = permission.IsReservedOrgRoleSlug
	}
	if slug, err = validRoleSlug(in.Slug, reserved); err != nil {
		return "", "", nil, err
	}
	if name, err = validRoleName(in.Name); err != nil {
		return "", "", nil, err
	}
	if desc, err = validRoleDescription(in.Description); err != nil {
		return "", "", nil, err
	}
	if err = validRuleList(in.Permissions, org); err != nil {
		return "", "", nil, err
	}
	return slug, name, desc, nil
}

func validRoleName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" || len(n) > maxRoleNameLen {
		return "", Invalid("name", "name must be 1 to %d characters", maxRoleNameLen)
	}
	return n, nil
}

func validRoleDescription(d *string) (*string, error) {
	if d == nil {
		return nil, nil
	}
	s := strings.TrimSpace(*d)
	if len(s) > maxRoleDescriptionLen {
		return nil, Invalid("description", "description must be at most %d characters", maxRoleDescriptionLen)
	}
	return &s, nil
}

func validRoleSlug(slug string, reserved func(string) bool) (string, error) {
	s := strings.TrimSpace(slug)
	if !validSlug(s, 1, 64) {
		return "", Invalid("slug", "slug must be 1 to 64 lowercase letters, digits and single hyphens or underscores")
	}
	if reserved(s) {
		return "", Invalid("slug", "Please choose a different slug, the slug you have entered is reserved")
	}
	return s, nil
}

// projectRoleAccess resolves the project and checks action on roles.
func (e *Engine) projectRoleAccess(ctx context.Context, actor Actor, ref ProjectRef, action string) (*projectMeta, *permission.Set, error) {
	if actor.Type == ActorService {
		return nil, nil, Forbidden("Service tokens cannot manage roles")
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := set.Check(action, permission.SubjectRole, nil); err != nil {
		return nil, nil, err
	}
	return m, set, nil
}

// resolveProjectRole finds a custom role of the project by slug (hook used
// when assigning roles).
func (e *Engine) resolveProjectRole(ctx context.Context, q store.Q, projectID, slug string) (string, error) {
	r, err := q.ProjectRoleBySlug(ctx, projectID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return "", NotFound("Role with slug '%s' not found", slug)
	}
	if err != nil {
		return "", Internal("load role", err)
	}
	return r.ID, nil
}

// ListProjectRoles returns the predefined roles followed by the project's
// custom roles.
func (s *RoleService) ListProjectRoles(ctx context.Context, actor Actor, ref ProjectRef) ([]Role, error) {
	e := s.e
	m, _, err := e.projectRoleAccess(ctx, actor, ref, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	out := make([]Role, 0, len(predefinedProjectRoles))
	for _, pr := range predefinedProjectRoles {
		r, _ := predefinedProjectRole(&m.project, pr.slug)
		out = append(out, *r)
	}
	rows, err := e.store.Read().ListProjectRoles(ctx, m.project.ID)
	if err != nil {
		return nil, Internal("list roles", err)
	}
	for i := range rows {
		r, err := roleFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-roles", ProjectID: m.project.ID, Metadata: map[string]any{"count": len(out)}})
	return out, nil
}

// GetProjectRoleBySlug returns a custom role by slug, or the built-in rules
// of a predefined slug.
func (s *RoleService) GetProjectRoleBySlug(ctx context.Context, actor Actor, ref ProjectRef, slug string) (*Role, error) {
	e := s.e
	m, _, err := e.projectRoleAccess(ctx, actor, ref, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	slug = strings.TrimSpace(slug)
	if r, ok := predefinedProjectRole(&m.project, slug); ok {
		return r, nil
	}
	row, err := e.store.Read().ProjectRoleBySlug(ctx, m.project.ID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Role with slug '%s' not found", slug)
	}
	if err != nil {
		return nil, Internal("load role", err)
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-role", ProjectID: m.project.ID, Metadata: map[string]any{"roleId": row.ID, "slug": row.Slug}})
	return roleFromRow(row)
}

// CreateProjectRole creates a custom project role. Its rules may not grant
// more than the caller holds in the project.
func (s *RoleService) CreateProjectRole(ctx context.Context, actor Actor, ref ProjectRef, in RoleInput) (*Role, error) {
	e := s.e
	m, set, err := e.projectRoleAccess(ctx, actor, ref, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	slug, name, desc, err := validRoleInput(in, false)
	if err != nil {
		return nil, err
	}
	if err := e.rulesWithin(actor, set, in.Permissions, "create a role"); err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.ProjectRole{ID: uuid.NewString(), ProjectID: m.project.ID, Name: name, Slug: slug, Description: desc,
		Permissions: encodeRules(in.Permissions), CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("A role with the slug '%s' already exists in this project", slug)
			}
			return Internal("create role", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-project-role", ProjectID: m.project.ID, Metadata: map[string]any{
			"roleId": row.ID, "slug": slug, "name": name, "description": desc, "permissions": in.Permissions}})
	})
	if err != nil {
		return nil, err
	}
	return roleFromRow(row)
}

// loadProjectRole loads a custom role of the project by id.
func loadProjectRole(ctx context.Context, q store.Q, projectID, roleID string) (*store.ProjectRole, error) {
	roleID = strings.TrimSpace(roleID)
	if roleID == "" {
		return nil, Invalid("roleId", "roleId is required")
	}
	row, err := q.GetProjectRole(ctx, roleID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.ProjectID != projectID) {
		return nil, NotFound("Role with ID '%s' not found", roleID)
	}
	if err != nil {
		return nil, Internal("load role", err)
	}
	return row, nil
}

// UpdateProjectRole changes a custom project role. Neither its current nor
// its new rules may exceed the caller's.
func (s *RoleService) UpdateProjectRole(ctx context.Context, actor Actor, ref ProjectRef, roleID string, in RoleUpdate) (*Role, error) {
	e := s.e
	m, set, err := e.projectRoleAccess(ctx, actor, ref, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	if isPredefinedProjectRoleID(&m.project, roleID) {
		return nil, BadRequest("Predefined roles cannot be modified")
	}
	var out *Role
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err := loadProjectRole(ctx, q, m.project.ID, roleID)
		if err != nil {
			return err
		}
		upd := *row
		if err := e.applyRoleUpdate(actor, set, in, false, &upd.Slug, &upd.Name, &upd.Description, &upd.Permissions); err != nil {
			return err
		}
		upd.UpdatedAt = e.now()
		if err := q.Update(ctx, &upd); err != nil {
			if isDuplicate(err) {
				return BadRequest("A role with the slug '%s' already exists in this project", upd.Slug)
			}
			return Internal("update role", err)
		}
		q.Invalidate(topicAccess, m.project.ID)
		meta := map[string]any{"roleId": upd.ID, "slug": upd.Slug, "name": upd.Name, "description": upd.Description}
		if in.Permissions != nil {
			meta["permissions"] = *in.Permissions
		}
		if err := e.audit(ctx, q, actor, AuditEvent{Type: "update-project-role", ProjectID: m.project.ID, Metadata: meta}); err != nil {
			return err
		}
		out, err = roleFromRow(&upd)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteProjectRole deletes a custom project role. A role still assigned to
// a member is refused (400): remove the assignments first, so that nobody
// silently loses access or is left without a role.
func (s *RoleService) DeleteProjectRole(ctx context.Context, actor Actor, ref ProjectRef, roleID string) (*Role, error) {
	e := s.e
	m, set, err := e.projectRoleAccess(ctx, actor, ref, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	if isPredefinedProjectRoleID(&m.project, roleID) {
		return nil, BadRequest("Predefined roles cannot be deleted")
	}
	var out *Role
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err := loadProjectRole(ctx, q, m.project.ID, roleID)
		if err != nil {
			return err
		}
		if out, err = roleFromRow(row); err != nil {
			return err
		}
		if err := e.rulesWithin(actor, set, out.Permissions, "delete a role more privileged than you"); err != nil {
			return err
		}
		n, err := q.CountProjectRoleAssignments(ctx, row.ID)
		if err != nil {
			return Internal("count role assignments", err)
		}
		if n > 0 {
			return BadRequest("Role '%s' is assigned to %d membership(s); remove it from them before deleting it", row.Slug, n)
		}
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete role", err)
		}
		q.Invalidate(topicAccess, m.project.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-project-role", ProjectID: m.project.ID, Metadata: map[string]any{
			"roleId": row.ID, "slug": row.Slug, "name": row.Name}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProjectPermissions returns the rules the actor holds in a project now
// (the union of its roles, its groups' roles and its additional
// privileges, placeholders applied).
func (s *RoleService) ProjectPermissions(ctx context.Context, actor Actor, ref ProjectRef) ([]permission.Rule, error) {
	_, set, err := s.e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return set.Rules(), nil
}

// ---- organization roles --------------------------------------------------------

// orgRoleAccess checks action on organization roles in orgID.
func (e *Engine) orgRoleAccess(ctx context.Context, actor Actor, orgID, action string) (*store.Organization, *permission.Set, error) {
	if actor.Type == ActorService {
		return nil, nil, Forbidden("Service tokens cannot manage roles")
	}
	orgID = strings.TrimSpace(orgID)
	if orgID == "" {
		return nil, nil, Invalid("organizationId", "organizationId is required")
	}
	if actor.Type != ActorPlatform && actor.OrgID != orgID {
		return nil, nil, NotFound("Organization with ID '%s' not found", orgID)
	}
	org, err := e.store.Read().GetOrg(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, NotFound("Organization with ID '%s' not found", orgID)
	}
	if err != nil {
		return nil, nil, Internal("load organization", err)
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, nil, err
	}
	if err := set.Check(action, permission.OrgSubjectRole, nil); err != nil {
		return nil, nil, err
	}
	return org, set, nil
}

// customOrgRole loads a custom organization role by slug (nil when none).
func (e *Engine) customOrgRole(ctx context.Context, q store.Q, orgID, slug string) (*OrgRole, error) {
	row, err := q.OrgRoleBySlug(ctx, orgID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal("load organization role", err)
	}
	return orgRoleFromRow(row)
}

// customOrgRoleRulesBySlug is the hook behind orgRoleRules for custom
// organization roles.
func (e *Engine) customOrgRoleRulesBySlug(ctx context.Context, orgID, slug string) ([]permission.Rule, error) {
	r, err := e.customOrgRole(ctx, e.store.Read(), orgID, slug)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, NotFound("Organization role with slug '%s' not found", slug)
	}
	return r.Permissions, nil
}

// customOrgRoles maps the custom organization role slugs among slugs to
// their roles (for the roleId / customRole fields of membership rows, which
// store the slug). Built-in slugs and unknown ones are skipped.
func (e *Engine) customOrgRoles(ctx context.Context, q store.Q, orgID string, slugs []string) (map[string]*OrgRole, error) {
	var want []string
	seen := map[string]bool{}
	for _, s := range slugs {
		if _, builtin := permission.BuiltinOrgRole(s); builtin || s == permission.RoleCustom || seen[s] {
			continue
		}
		seen[s] = true
		want = append(want, s)
	}
	out := map[string]*OrgRole{}
	if len(want) == 0 {
		return out, nil
	}
	rows, err := q.OrgRolesBySlugs(ctx, orgID, want)
	if err != nil {
		return nil, Internal("load organization roles", err)
	}
	for i := range rows {
		r, err := orgRoleFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out[r.Slug] = r
	}
	return out, nil
}

// decorateOrgIdentities fills the roleId and customRole of identity
// memberships that hold a custom organization role (stored by slug): role
// becomes "custom", as Infisical reports it.
func (e *Engine) decorateOrgIdentities(ctx context.Context, q store.Q, orgID string, list []OrgIdentity) error {
	slugs := make([]string, len(list))
	for i := range list {
		slugs[i] = list[i].Role
	}
	custom, err := e.customOrgRoles(ctx, q, orgID, slugs)
	if err != nil {
		return err
	}
	for i := range list {
		if r := custom[list[i].Role]; r != nil {
			id := r.ID
			list[i].Role, list[i].RoleID, list[i].CustomRole = permission.RoleCustom, &id, r
		}
	}
	return nil
}

// ListOrgRoles returns the predefined organization roles followed by the
// custom ones.
func (s *RoleService) ListOrgRoles(ctx context.Context, actor Actor, orgID string) ([]OrgRole, error) {
	e := s.e
	org, _, err := e.orgRoleAccess(ctx, actor, orgID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	out := make([]OrgRole, 0, len(predefinedOrgRoles))
	for _, pr := range predefinedOrgRoles {
		r, _ := predefinedOrgRole(org, pr.slug)
		out = append(out, *r)
	}
	rows, err := e.store.Read().ListOrgRoles(ctx, org.ID)
	if err != nil {
		return nil, Internal("list organization roles", err)
	}
	for i := range rows {
		r, err := orgRoleFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	e.auditRead(actor, AuditEvent{Type: "get-org-roles", OrgID: org.ID, Metadata: map[string]any{"count": len(out)}})
	return out, nil
}

// loadOrgRole loads a custom organization role of org by id.
func loadOrgRole(ctx context.Context, q store.Q, orgID, roleID string) (*store.OrgRole, error) {
	roleID = strings.TrimSpace(roleID)
	if roleID == "" {
		return nil, Invalid("roleId", "roleId is required")
	}
	row, err := q.GetOrgRole(ctx, roleID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.OrgID != orgID) {
		return nil, NotFound("Organization role with ID '%s' not found", roleID)
	}
	if err != nil {
		return nil, Internal("load organization role", err)
	}
	return row, nil
}

// predefinedOrgRoleByID finds a predefined organization role by its
// derived id.
func predefinedOrgRoleByID(org *store.Organization, id string) (*OrgRole, bool) {
	for _, pr := range predefinedOrgRoles {
		if predefinedID("org-role", org.ID, pr.slug) == id {
			return predefinedOrgRole(org, pr.slug)
		}
	}
	return nil, false
}

// GetOrgRole returns an organization role by id (predefined ones included).
func (s *RoleService) GetOrgRole(ctx context.Context, actor Actor, orgID, roleID string) (*OrgRole, error) {
	e := s.e
	org, _, err := e.orgRoleAccess(ctx, actor, orgID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	if r, ok := predefinedOrgRoleByID(org, strings.TrimSpace(roleID)); ok {
		return r, nil
	}
	row, err := loadOrgRole(ctx, e.store.Read(), org.ID, roleID)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-org-role", OrgID: org.ID, Metadata: map[string]any{"roleId": row.ID, "slug": row.Slug}})
	return orgRoleFromRow(row)
}

// CreateOrgRole creates a custom organization role. Its rules may not
// grant more than the caller's organization permissions.
func (s *RoleService) CreateOrgRole(ctx context.Context, actor Actor, orgID string, in RoleInput) (*OrgRole, error) {
	e := s.e
	org, set, err := e.orgRoleAccess(ctx, actor, orgID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	slug, name, desc, err := validRoleInput(in, true)
	if err != nil {
		return nil, err
	}
	if err := e.rulesWithin(actor, set, in.Permissions, "create an organization role"); err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.OrgRole{ID: uuid.NewString(), OrgID: org.ID, Name: name, Slug: slug, Description: desc,
		Permissions: encodeRules(in.Permissions), CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("An organization role with the slug '%s' already exists", slug)
			}
			return Internal("create organization role", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-org-role", OrgID: org.ID, Metadata: map[string]any{
			"roleId": row.ID, "slug": slug, "name": name, "description": desc, "permissions": in.Permissions}})
	})
	if err != nil {
		return nil, err
	}
	return orgRoleFromRow(row)
}

// UpdateOrgRole changes a custom organization role. A new slug is carried
// over to every member, identity and group holding the role.
func (s *RoleService) UpdateOrgRole(ctx context.Context, actor Actor, orgID, roleID string, in RoleUpdate) (*OrgRole, error) {
	e := s.e
	org, set, err := e.orgRoleAccess(ctx, actor, orgID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	if _, ok := predefinedOrgRoleByID(org, strings.TrimSpace(roleID)); ok {
		return nil, BadRequest("Predefined roles cannot be modified")
	}
	var out *OrgRole
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err := loadOrgRole(ctx, q, org.ID, roleID)
		if err != nil {
			return err
		}
		upd := *row
		if err := e.applyRoleUpdate(actor, set, in, true, &upd.Slug, &upd.Name, &upd.Description, &upd.Permissions); err != nil {
			return err
		}
		upd.UpdatedAt = e.now()
		if err := q.Update(ctx, &upd); err != nil {
			if isDuplicate(err) {
				return BadRequest("An organization role with the slug '%s' already exists", upd.Slug)
			}
			return Internal("update organization role", err)
		}
		if upd.Slug != row.Slug {
			if err := q.RenameOrgRoleHolders(ctx, org.ID, row.Slug, upd.Slug); err != nil {
				return Internal("rename organization role holders", err)
			}
		}
		// Organization roles decide organization permissions and, through
		// them, project access: drop every cached permission set.
		q.Invalidate(topicAccess, "")
		meta := map[string]any{"roleId": upd.ID, "slug": upd.Slug, "name": upd.Name, "description": upd.Description}
		if in.Permissions != nil {
			meta["permissions"] = *in.Permissions
		}
		if err := e.audit(ctx, q, actor, AuditEvent{Type: "update-org-role", OrgID: org.ID, Metadata: meta}); err != nil {
			return err
		}
		out, err = orgRoleFromRow(&upd)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOrgRole deletes a custom organization role that nobody holds (400
// otherwise).
func (s *RoleService) DeleteOrgRole(ctx context.Context, actor Actor, orgID, roleID string) (*OrgRole, error) {
	e := s.e
	org, set, err := e.orgRoleAccess(ctx, actor, orgID, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	if _, ok := predefinedOrgRoleByID(org, strings.TrimSpace(roleID)); ok {
		return nil, BadRequest("Predefined roles cannot be deleted")
	}
	var out *OrgRole
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, err := loadOrgRole(ctx, q, org.ID, roleID)
		if err != nil {
			return err
		}
		if out, err = orgRoleFromRow(row); err != nil {
			return err
		}
		if err := e.rulesWithin(actor, set, out.Permissions, "delete an organization role more privileged than you"); err != nil {
			return err
		}
		n, err := q.CountOrgRoleHolders(ctx, org.ID, row.Slug)
		if err != nil {
			return Internal("count organization role holders", err)
		}
		if n > 0 {
			return BadRequest("Organization role '%s' is held by %d member(s), identities or groups; assign them another role first", row.Slug, n)
		}
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete organization role", err)
		}
		q.Invalidate(topicAccess, "")
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-org-role", OrgID: org.ID, Metadata: map[string]any{
			"roleId": row.ID, "slug": row.Slug, "name": row.Name}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OrgPermissions returns the organization rules the actor holds.
func (s *RoleService) OrgPermissions(ctx context.Context, actor Actor, orgID string) ([]permission.Rule, error) {
	set, err := s.e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	return set.Rules(), nil
}

// initAccessControl wires the access-control services and the hooks other
// areas call (custom roles, templates). Called once by newEngine.
func (e *Engine) initAccessControl() {
	e.Roles = &RoleService{e: e}
	e.Groups = &GroupService{e: e}
	e.Privileges = &PrivilegeService{e: e}
	e.Templates = &TemplateService{e: e}
	e.resolveCustomRole = e.resolveProjectRole
	e.customOrgRoleRules = e.customOrgRoleRulesBySlug
	e.applyTemplate = e.applyProjectTemplate
}

// applyRoleUpdate validates in against a custom role (project or
// organization) and applies it to the role's fields. The caller must hold
// every rule the role grants now and every rule it would grant after.
func (e *Engine) applyRoleUpdate(actor Actor, set *permission.Set, in RoleUpdate, org bool, slug, name *string, description **string, perms *string) error {
	what, reserved := "role", permission.IsReservedProjectRoleSlug
	if org {
		what, reserved = "organization role", permission.IsReservedOrgRoleSlug
	}
	current, err := decodeRules(*perms)
	if err != nil {
		return Internal("decode role permissions", err)
	}
	if err := e.rulesWithin(actor, set, current, "update "+article(what)+" more privileged than you"); err != nil {
		return err
	}
	if in.Slug != nil {
		if *slug, err = validRoleSlug(*in.Slug, reserved); err != nil {
			return err
		}
	}
	if in.Name != nil {
		if *name, err = validRoleName(*in.Name); err != nil {
			return err
		}
	}
	if in.DescriptionSet {
		if *description, err = validRoleDescription(in.Description); err != nil {
			return err
		}
	}
	if in.Permissions != nil {
		if err := validRuleList(*in.Permissions, org); err != nil {
			return err
		}
		if err := e.rulesWithin(actor, set, *in.Permissions, "update "+article(what)); err != nil {
			return err
		}
		*perms = encodeRules(*in.Permissions)
	}
	return nil
}

func article(noun string) string {
	if strings.IndexAny(noun[:1], "aeiou") == 0 {
		return "an " + noun
	}
	return "a " + noun
}
