package infisical

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// TemplateService manages project templates (templates.go): organization
// presets of environments, roles and memberships applied to a project when
// it is created (POST /api/v2/workspace with "template"). Templates never
// change existing projects.
type TemplateService struct{ e *Engine }

// TemplateRole is a custom role a template creates in the project.
type TemplateRole struct {
	Name        string            `json:"name"`
	Slug        string            `json:"slug"`
	Permissions []permission.Rule `json:"permissions"`
}

// TemplateEnvironment is an environment a template creates.
type TemplateEnvironment struct {
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Position int    `json:"position"`
}

// TemplateUser adds a user of the organization (by username) with roles
// (predefined or template role slugs).
type TemplateUser struct {
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
}

// TemplateGroup adds a group (by slug) with roles.
type TemplateGroup struct {
	GroupSlug string   `json:"groupSlug"`
	Roles     []string `json:"roles"`
}

// TemplateIdentity adds a machine identity of the organization with roles.
// IdentityName is filled on output.
type TemplateIdentity struct {
	IdentityID   string   `json:"identityId"`
	IdentityName string   `json:"-"`
	Roles        []string `json:"roles"`
}

// TemplateManagedIdentity creates a machine identity (organization role
// no-access, no auth method) named Name and adds it with roles.
type TemplateManagedIdentity struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// ProjectTemplate is a template. A nil list is Infisical's null (for
// Environments: the template creates none).
type ProjectTemplate struct {
	ID                       string
	OrgID                    string
	Name                     string
	Description              *string
	Type                     string
	Roles                    []TemplateRole
	Environments             []TemplateEnvironment
	Users                    []TemplateUser
	Groups                   []TemplateGroup
	Identities               []TemplateIdentity
	ProjectManagedIdentities []TemplateManagedIdentity
	// IsDefault marks the built-in "default" template (read-only).
	IsDefault bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TemplateInput creates a template. Environments nil means null; the other
// nil lists mean empty.
type TemplateInput struct {
	Name                     string
	Description              *string
	Type                     string
	Roles                    []TemplateRole
	Environments             []TemplateEnvironment
	Users                    []TemplateUser
	Groups                   []TemplateGroup
	Identities               []TemplateIdentity
	ProjectManagedIdentities []TemplateManagedIdentity
}

// TemplateUpdate holds the optional fields of a template update. A set
// pointer to a nil list clears the list to null.
type TemplateUpdate struct {
	Name                     *string
	Description              *string
	Roles                    *[]TemplateRole
	Environments             *[]TemplateEnvironment
	Users                    *[]TemplateUser
	Groups                   *[]TemplateGroup
	Identities               *[]TemplateIdentity
	ProjectManagedIdentities *[]TemplateManagedIdentity
}

// DefaultTemplateID is the stable id of the built-in "default" template.
const DefaultTemplateID = "b11b49a9-09a9-4443-916a-4246f9ff2c69"

const (
	defaultTemplateName      = "default"
	maxTemplateDescription   = 256
	maxTemplateListJSONBytes = 32768
)

// defaultTemplate is the built-in template for a project type: the four
// predefined roles and, for secret managers, dev/staging/prod.
func defaultTemplate(org *store.Organization, typ string) *ProjectTemplate {
	desc := "Infisical's " + typ + " default project template"
	t := &ProjectTemplate{ID: DefaultTemplateID, OrgID: org.ID, Name: defaultTemplateName, Description: &desc, Type: typ,
		IsDefault: true, CreatedAt: org.CreatedAt, UpdatedAt: org.CreatedAt}
	names := map[string]string{permission.RoleAdmin: "Admin", permission.RoleMember: "Member", permission.RoleViewer: "Viewer", permission.RoleNoAccess: "No Access"}
	for _, slug := range []string{permission.RoleAdmin, permission.RoleMember, permission.RoleViewer, permission.RoleNoAccess} {
		rules, _ := permission.BuiltinProjectRole(slug)
		t.Roles = append(t.Roles, TemplateRole{Name: names[slug], Slug: slug, Permissions: rules})
	}
	if typ == ProjectTypeSecretManager {
		for i, de := range defaultEnvironments {
			t.Environments = append(t.Environments, TemplateEnvironment{Name: de.name, Slug: de.slug, Position: i + 1})
		}
	}
	return t
}

// templatesAccess checks action on the organization's project templates.
func (e *Engine) templatesAccess(ctx context.Context, actor Actor, action string) (*store.Organization, error) {
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot manage project templates")
	}
	if actor.OrgID == "" {
		return nil, BadRequest("Missing organization")
	}
	set, err := e.orgPermissions(ctx, actor, actor.OrgID)
	if err != nil {
		return nil, err
	}
	if err := set.Check(action, permission.OrgSubjectProjectTemplates, nil); err != nil {
		return nil, err
	}
	org, err := e.store.Read().GetOrg(ctx, actor.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Organization with ID '%s' not found", actor.OrgID)
	}
	if err != nil {
		return nil, Internal("load organization", err)
	}
	return org, nil
}

// ---- validation -------------------------------------------------------------

func jsonSize(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

func isReservedTemplateRoleName(name string) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "custom", "admin", "viewer", "member", "no access":
		return true
	}
	return false
}

func validTemplateRoles(roles []TemplateRole) ([]TemplateRole, error) {
	if jsonSize(roles) > maxTemplateListJSONBytes {
		return nil, Invalid("roles", "roles: size limit exceeded")
	}
	slugs, names := map[string]bool{}, map[string]bool{}
	out := make([]TemplateRole, len(roles))
	for i, r := range roles {
		name := strings.TrimSpace(r.Name)
		slug := strings.TrimSpace(r.Slug)
		if name == "" {
			return nil, Invalid("roles", "roles[%d].name is required", i)
		}
		if !validSlug(slug, 1, 64) {
			return nil, Invalid("roles", "roles[%d].slug must be a lowercase slug", i)
		}
		if permission.IsReservedProjectRoleSlug(slug) {
			return nil, Invalid("roles", "Role slug \"%s\" is reserved", slug)
		}
		if isReservedTemplateRoleName(name) {
			return nil, Invalid("roles", "Role name \"%s\" is reserved", name)
		}
		if slugs[slug] {
			return nil, Invalid("roles", "Role slugs must be unique")
		}
		if names[name] {
			return nil, Invalid("roles", "Role names must be unique")
		}
		slugs[slug], names[name] = true, true
		if err := permission.ValidateRules(r.Permissions); err != nil {
			return nil, Invalid("roles", "roles[%d].%s", i, err.Error())
		}
		perms := r.Permissions
		if perms == nil {
			perms = []permission.Rule{}
		}
		out[i] = TemplateRole{Name: name, Slug: slug, Permissions: perms}
	}
	return out, nil
}

func validTemplateEnvironments(envs []TemplateEnvironment) ([]TemplateEnvironment, error) {
	if envs == nil {
		return nil, nil
	}
	if jsonSize(envs) > maxTemplateListJSONBytes {
		return nil, Invalid("environments", "environments: size limit exceeded")
	}
	slugs, names, positions := map[string]bool{}, map[string]bool{}, map[int]bool{}
	out := make([]TemplateEnvironment, len(envs))
	for i, env := range envs {
		name := strings.TrimSpace(env.Name)
		slug := strings.TrimSpace(env.Slug)
		if name == "" {
			return nil, Invalid("environments", "environments[%d].name is required", i)
		}
		if !validSlug(slug, 1, 64) {
			return nil, Invalid("environments", "environments[%d].slug must be a lowercase slug", i)
		}
		if names[name] {
			return nil, Invalid("environments", "Environment names must be unique")
		}
		if slugs[slug] {
			return nil, Invalid("environments", "Environment slugs must be unique")
		}
		if env.Position < 1 || env.Position > len(envs) || positions[env.Position] {
			return nil, Invalid("environments", "One or more of the positions specified is invalid. Positions must be sequential starting from 1.")
		}
		names[name], slugs[slug], positions[env.Position] = true, true, true
		out[i] = TemplateEnvironment{Name: name, Slug: slug, Position: env.Position}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	return out, nil
}

// validRoleRefs checks role references of template members: each must be a
// predefined project role or one of the template's roles.
func validRoleRefs(field string, i int, who string, refs []string, roles []TemplateRole) ([]string, error) {
	if len(refs) == 0 {
		return nil, Invalid(field, "%s[%d].roles must name at least one role", field, i)
	}
	out := make([]string, len(refs))
	for k, r := range refs {
		r = strings.TrimSpace(r)
		ok := permission.IsReservedProjectRoleSlug(r) && r != permission.RoleCustom
		for _, tr := range roles {
			if tr.Slug == r {
				ok = true
			}
		}
		if !ok {
			return nil, Invalid(field, "%s references invalid role slug \"%s\". Role must be a predefined role or defined in the template roles.", who, r)
		}
		out[k] = r
	}
	return out, nil
}

func validTemplateUsers(users []TemplateUser, roles []TemplateRole) ([]TemplateUser, error) {
	return validTemplateMembers(users, roles, templateMemberKind[TemplateUser]{
		field: "users", nameField: "username", who: "User", duplicate: "Usernames must be unique",
		get:   func(u TemplateUser) (string, []string) { return u.Username, u.Roles },
		build: func(name string, refs []string) TemplateUser { return TemplateUser{Username: name, Roles: refs} },
	})
}

func validTemplateGroups(groups []TemplateGroup, roles []TemplateRole) ([]TemplateGroup, error) {
	return validTemplateMembers(groups, roles, templateMemberKind[TemplateGroup]{
		field: "groups", nameField: "groupSlug", who: "Group", duplicate: "Group slugs must be unique",
		get:   func(g TemplateGroup) (string, []string) { return g.GroupSlug, g.Roles },
		build: func(slug string, refs []string) TemplateGroup { return TemplateGroup{GroupSlug: slug, Roles: refs} },
	})
}

// templateMemberKind describes the users or the groups of a template for
// validTemplateMembers.
type templateMemberKind[T any] struct {
	field, nameField, who, duplicate string
	get                              func(T) (name string, roles []string)
	build                            func(name string, roles []string) T
}

// validTemplateMembers checks a template's users or groups: each named once
// (lower-cased, trimmed) and given roles the template can resolve.
func validTemplateMembers[T any](items []T, roles []TemplateRole, k templateMemberKind[T]) ([]T, error) {
	if items == nil {
		return nil, nil
	}
	if jsonSize(items) > maxTemplateListJSONBytes {
		return nil, Invalid(k.field, "%s: size limit exceeded", k.field)
	}
	seen := map[string]bool{}
	out := make([]T, len(items))
	for i, it := range items {
		raw, refs := k.get(it)
		name := strings.ToLower(strings.TrimSpace(raw))
		if name == "" {
			return nil, Invalid(k.field, "%s[%d].%s is required", k.field, i, k.nameField)
		}
		if seen[name] {
			return nil, Invalid(k.field, "%s", k.duplicate)
		}
		seen[name] = true
		valid, err := validRoleRefs(k.field, i, k.who+" \""+name+"\"", refs, roles)
		if err != nil {
			return nil, err
		}
		out[i] = k.build(name, valid)
	}
	return out, nil
}

func (e *Engine) validTemplateIdentities(ctx context.Context, orgID string, ids []TemplateIdentity, roles []TemplateRole) ([]TemplateIdentity, error) {
	if ids == nil {
		return nil, nil
	}
	if jsonSize(ids) > maxTemplateListJSONBytes {
		return nil, Invalid("identities", "identities: size limit exceeded")
	}
	seen := map[string]bool{}
	out := make([]TemplateIdentity, len(ids))
	for i, ti := range ids {
		id := strings.TrimSpace(ti.IdentityID)
		if _, err := uuid.Parse(id); err != nil {
			return nil, Invalid("identities", "identities[%d].identityId must be a UUID", i)
		}
		if seen[id] {
			return nil, Invalid("identities", "Identity IDs must be unique")
		}
		seen[id] = true
		if err := e.identityOfOrg(ctx, e.store.Read(), orgID, id); err != nil {
			return nil, err
		}
		refs, err := validRoleRefs("identities", i, "Identity \""+id+"\"", ti.Roles, roles)
		if err != nil {
			return nil, err
		}
		out[i] = TemplateIdentity{IdentityID: id, Roles: refs}
	}
	return out, nil
}

func validTemplateManaged(list []TemplateManagedIdentity, roles []TemplateRole) ([]TemplateManagedIdentity, error) {
	if list == nil {
		return nil, nil
	}
	if jsonSize(list) > maxTemplateListJSONBytes {
		return nil, Invalid("projectManagedIdentities", "projectManagedIdentities: size limit exceeded")
	}
	seen := map[string]bool{}
	out := make([]TemplateManagedIdentity, len(list))
	for i, m := range list {
		name, err := validIdentityName("projectManagedIdentities", m.Name)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, Invalid("projectManagedIdentities", "Identity names must be unique")
		}
		seen[name] = true
		refs, err := validRoleRefs("projectManagedIdentities", i, "Identity \""+name+"\"", m.Roles, roles)
		if err != nil {
			return nil, err
		}
		out[i] = TemplateManagedIdentity{Name: name, Roles: refs}
	}
	return out, nil
}

func validTemplateName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if !validSlug(n, 1, 64) {
		return "", Invalid("name", "name must be 1 to 64 lowercase letters, digits and single hyphens or underscores")
	}
	if n == defaultTemplateName {
		return "", Invalid("name", "The requested project template name is reserved.")
	}
	return n, nil
}

func validTemplateDescription(d *string) (*string, error) {
	if d == nil {
		return nil, nil
	}
	s := strings.TrimSpace(*d)
	if len(s) > maxTemplateDescription {
		return nil, Invalid("description", "description must be at most %d characters", maxTemplateDescription)
	}
	return &s, nil
}

// ---- storage conversion --------------------------------------------------------

func jsonCol(v any, null bool) *string {
	if null {
		return nil
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return &s
}

func decodeCol[T any](col *string, dst *[]T) error {
	if col == nil {
		*dst = nil
		return nil
	}
	var out []T
	if err := json.Unmarshal([]byte(*col), &out); err != nil {
		return err
	}
	if out == nil {
		out = []T{}
	}
	*dst = out
	return nil
}

func (e *Engine) templateFromRow(ctx context.Context, q store.Q, r *store.ProjectTemplate) (*ProjectTemplate, error) {
	t := &ProjectTemplate{ID: r.ID, OrgID: r.OrgID, Name: r.Name, Description: r.Description, Type: r.Type, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	roles := r.Roles
	if err := decodeCol(&roles, &t.Roles); err != nil {
		return nil, Internal("decode template roles", err)
	}
	if t.Roles == nil {
		t.Roles = []TemplateRole{}
	}
	for _, step := range []error{
		decodeCol(r.Environments, &t.Environments),
		decodeCol(r.Users, &t.Users),
		decodeCol(r.Groups, &t.Groups),
		decodeCol(r.Identities, &t.Identities),
		decodeCol(r.ProjectManagedIdentities, &t.ProjectManagedIdentities),
	} {
		if step != nil {
			return nil, Internal("decode template", step)
		}
	}
	for i := range t.Identities {
		ident, err := q.GetIdentity(ctx, t.Identities[i].IdentityID)
		if err == nil {
			t.Identities[i].IdentityName = ident.Name
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, Internal("load identity", err)
		}
	}
	return t, nil
}

// ---- service ----------------------------------------------------------------

// List returns the built-in default template (of typ, default
// secret-manager) followed by the organization's templates of that type
// (all types when typ is empty).
func (s *TemplateService) List(ctx context.Context, actor Actor, typ string) ([]ProjectTemplate, error) {
	e := s.e
	typ = strings.TrimSpace(typ)
	if typ != "" && !projectTypes[typ] {
		return nil, Invalid("type", "Invalid project type '%s'", typ)
	}
	org, err := e.templatesAccess(ctx, actor, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	defType := typ
	if defType == "" {
		defType = ProjectTypeSecretManager
	}
	out := []ProjectTemplate{*defaultTemplate(org, defType)}
	q := e.store.Read()
	rows, err := q.ListProjectTemplates(ctx, org.ID, typ)
	if err != nil {
		return nil, Internal("list project templates", err)
	}
	ids := make([]string, 0, len(rows))
	for i := range rows {
		t, err := e.templateFromRow(ctx, q, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
		ids = append(ids, t.ID)
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-templates", OrgID: org.ID, Metadata: map[string]any{"count": len(ids), "templateIds": ids}})
	return out, nil
}

// loadTemplate loads a template of org by id (the default one included).
func (e *Engine) loadTemplate(ctx context.Context, q store.Q, org *store.Organization, id string) (*store.ProjectTemplate, *ProjectTemplate, error) {
	id = strings.TrimSpace(id)
	if _, err := uuid.Parse(id); err != nil {
		return nil, nil, Invalid("templateId", "templateId must be a UUID")
	}
	if id == DefaultTemplateID {
		return nil, defaultTemplate(org, ProjectTypeSecretManager), nil
	}
	row, err := q.GetProjectTemplate(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.OrgID != org.ID) {
		return nil, nil, NotFound("Could not find project template with ID %s", id)
	}
	if err != nil {
		return nil, nil, Internal("load project template", err)
	}
	t, err := e.templateFromRow(ctx, q, row)
	if err != nil {
		return nil, nil, err
	}
	return row, t, nil
}

// Get returns a template by id.
func (s *TemplateService) Get(ctx context.Context, actor Actor, id string) (*ProjectTemplate, error) {
	e := s.e
	org, err := e.templatesAccess(ctx, actor, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	_, t, err := e.loadTemplate(ctx, e.store.Read(), org, id)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-project-template", OrgID: org.ID, Metadata: map[string]any{"templateId": t.ID}})
	return t, nil
}

// Create creates a template in the caller's organization.
func (s *TemplateService) Create(ctx context.Context, actor Actor, in TemplateInput) (*ProjectTemplate, error) {
	e := s.e
	org, err := e.templatesAccess(ctx, actor, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	name, err := validTemplateName(in.Name)
	if err != nil {
		return nil, err
	}
	desc, err := validTemplateDescription(in.Description)
	if err != nil {
		return nil, err
	}
	if !projectTypes[in.Type] {
		return nil, Invalid("type", "Invalid project type '%s'", in.Type)
	}
	roles, err := validTemplateRoles(in.Roles)
	if err != nil {
		return nil, err
	}
	envs, err := validTemplateEnvironments(in.Environments)
	if err != nil {
		return nil, err
	}
	users, err := validTemplateUsers(nonNil(in.Users), roles)
	if err != nil {
		return nil, err
	}
	groups, err := validTemplateGroups(nonNil(in.Groups), roles)
	if err != nil {
		return nil, err
	}
	idents, err := e.validTemplateIdentities(ctx, org.ID, nonNil(in.Identities), roles)
	if err != nil {
		return nil, err
	}
	managed, err := validTemplateManaged(nonNil(in.ProjectManagedIdentities), roles)
	if err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.ProjectTemplate{ID: uuid.NewString(), OrgID: org.ID, Name: name, Description: desc, Type: in.Type,
		Roles: *jsonCol(roles, false), Environments: jsonCol(envs, envs == nil), Users: jsonCol(users, false),
		Groups: jsonCol(groups, false), Identities: jsonCol(idents, false), ProjectManagedIdentities: jsonCol(managed, false),
		CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("A project template with the name '%s' already exists", name)
			}
			return Internal("create project template", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-project-template", OrgID: org.ID, Metadata: map[string]any{
			"templateId": row.ID, "name": name, "type": in.Type, "roles": roles, "environments": envs}})
	})
	if err != nil {
		return nil, err
	}
	return e.templateFromRow(ctx, e.store.Read(), row)
}

// Update changes a template. The built-in default template cannot be
// changed.
func (s *TemplateService) Update(ctx context.Context, actor Actor, id string, in TemplateUpdate) (*ProjectTemplate, error) {
	e := s.e
	org, err := e.templatesAccess(ctx, actor, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(id) == DefaultTemplateID {
		return nil, BadRequest("The default project template cannot be modified")
	}
	var out *ProjectTemplate
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, cur, err := e.loadTemplate(ctx, q, org, id)
		if err != nil {
			return err
		}
		upd := *row
		if in.Name != nil {
			if upd.Name, err = validTemplateName(*in.Name); err != nil {
				return err
			}
		}
		if in.Description != nil {
			if upd.Description, err = validTemplateDescription(in.Description); err != nil {
				return err
			}
		}
		roles := cur.Roles
		if in.Roles != nil {
			if roles, err = validTemplateRoles(*in.Roles); err != nil {
				return err
			}
			upd.Roles = *jsonCol(roles, false)
		}
		if in.Environments != nil {
			envs, err := validTemplateEnvironments(*in.Environments)
			if err != nil {
				return err
			}
			upd.Environments = jsonCol(envs, envs == nil)
		}
		// Member lists are re-validated against the (possibly new) roles.
		users, groups, idents, managed := cur.Users, cur.Groups, cur.Identities, cur.ProjectManagedIdentities
		if in.Users != nil {
			users = *in.Users
		}
		if in.Groups != nil {
			groups = *in.Groups
		}
		if in.Identities != nil {
			idents = *in.Identities
		}
		if in.ProjectManagedIdentities != nil {
			managed = *in.ProjectManagedIdentities
		}
		if users, err = validTemplateUsers(users, roles); err != nil {
			return err
		}
		if groups, err = validTemplateGroups(groups, roles); err != nil {
			return err
		}
		if idents, err = e.validTemplateIdentities(ctx, org.ID, idents, roles); err != nil {
			return err
		}
		if managed, err = validTemplateManaged(managed, roles); err != nil {
			return err
		}
		upd.Users, upd.Groups = jsonCol(users, users == nil), jsonCol(groups, groups == nil)
		upd.Identities, upd.ProjectManagedIdentities = jsonCol(idents, idents == nil), jsonCol(managed, managed == nil)
		upd.UpdatedAt = e.now()
		if err := q.Update(ctx, &upd); err != nil {
			if isDuplicate(err) {
				return BadRequest("A project template with the name '%s' already exists", upd.Name)
			}
			return Internal("update project template", err)
		}
		if err := e.audit(ctx, q, actor, AuditEvent{Type: "update-project-template", OrgID: org.ID, Metadata: map[string]any{
			"templateId": upd.ID, "name": upd.Name}}); err != nil {
			return err
		}
		out, err = e.templateFromRow(ctx, q, &upd)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a template. The built-in default template cannot be
// deleted.
func (s *TemplateService) Delete(ctx context.Context, actor Actor, id string) (*ProjectTemplate, error) {
	e := s.e
	org, err := e.templatesAccess(ctx, actor, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(id) == DefaultTemplateID {
		return nil, BadRequest("The default project template cannot be deleted")
	}
	var out *ProjectTemplate
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, t, err := e.loadTemplate(ctx, q, org, id)
		if err != nil {
			return err
		}
		out = t
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete project template", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-project-template", OrgID: org.ID, Metadata: map[string]any{"templateId": row.ID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyProjectTemplate provisions a new project from the template named
// name, inside the project's creation transaction: environments, custom
// roles, then memberships of users, groups, identities and managed
// identities. Members who have left the organization since the template was
// written are skipped; the creator is skipped too (it becomes admin).
func (e *Engine) applyProjectTemplate(ctx context.Context, q store.Q, actor Actor, p *store.Project, name string) error {
	if actor.Type != ActorPlatform {
		set, err := e.orgPermissions(ctx, actor, p.OrgID)
		if err != nil {
			return err
		}
		if err := set.Check(permission.ActionRead, permission.OrgSubjectProjectTemplates, nil); err != nil {
			return err
		}
	}
	row, err := q.ProjectTemplateByName(ctx, p.OrgID, name)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("Project template with name '%s' not found", name)
	}
	if err != nil {
		return Internal("load project template", err)
	}
	t, err := e.templateFromRow(ctx, q, row)
	if err != nil {
		return err
	}
	if t.Type != p.Type {
		return BadRequest("Project template '%s' is for projects of type %s, not %s", name, t.Type, p.Type)
	}
	for _, env := range t.Environments {
		if _, err := e.insertEnvironment(ctx, q, p.ID, env.Name, env.Slug, env.Position); err != nil {
			return err
		}
	}
	now := e.now()
	for _, r := range t.Roles {
		role := &store.ProjectRole{ID: uuid.NewString(), ProjectID: p.ID, Name: r.Name, Slug: r.Slug,
			Permissions: encodeRules(r.Permissions), CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, role); err != nil {
			return Internal("create template role", err)
		}
	}
	assign := func(refs []string) []RoleAssignment {
		out := make([]RoleAssignment, len(refs))
		for i, r := range refs {
			out[i] = RoleAssignment{Role: r}
		}
		return out
	}
	for _, u := range t.Users {
		user, err := q.OrgUserByUsername(ctx, p.OrgID, u.Username)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Internal("load template user", err)
		}
		if actor.Type == ActorUser && actor.ID == user.ID {
			continue
		}
		if _, err := e.insertMembership(ctx, q, p.ID, store.ActorUser, user.ID, assign(u.Roles)); err != nil {
			return err
		}
	}
	slugs := make([]string, len(t.Groups))
	for i, g := range t.Groups {
		slugs[i] = g.GroupSlug
	}
	groups, err := q.GroupsBySlugs(ctx, p.OrgID, slugs)
	if err != nil {
		return Internal("load template groups", err)
	}
	bySlug := map[string]string{}
	for _, g := range groups {
		bySlug[g.Slug] = g.ID
	}
	for _, g := range t.Groups {
		id, ok := bySlug[g.GroupSlug]
		if !ok {
			continue
		}
		if _, err := e.insertMembership(ctx, q, p.ID, store.ActorGroup, id, assign(g.Roles)); err != nil {
			return err
		}
	}
	for _, ti := range t.Identities {
		if _, err := q.IdentityOrgMembershipOf(ctx, p.OrgID, ti.IdentityID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return Internal("load template identity", err)
		}
		if actor.Type == ActorIdentity && actor.ID == ti.IdentityID {
			continue
		}
		if _, err := e.insertMembership(ctx, q, p.ID, store.ActorIdentity, ti.IdentityID, assign(ti.Roles)); err != nil {
			return err
		}
	}
	for _, mi := range t.ProjectManagedIdentities {
		ident, _, err := e.insertIdentity(ctx, q, p.OrgID, mi.Name, permission.RoleNoAccess, false, nil)
		if err != nil {
			return err
		}
		if _, err := e.insertMembership(ctx, q, p.ID, store.ActorIdentity, ident.ID, assign(mi.Roles)); err != nil {
			return err
		}
	}
	q.Invalidate(topicAccess, p.ID)
	return e.audit(ctx, q, actor, AuditEvent{Type: "apply-project-template", OrgID: p.OrgID, ProjectID: p.ID, Metadata: map[string]any{
		"templateId": t.ID, "name": t.Name}})
}
