package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/permission"
)

// Routes of custom project roles (spec §8.7: slug-addressed V1 routes with
// V1 rules, id-addressed V2 routes with V2 rules) and custom organization
// roles (Infisical's /api/v1/organization/{organizationId}/roles).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerRoleRoutes) }

func (s *Server) registerRoleRoutes() {
	const tag = "Project roles"
	v1 := "/api/v1/workspace/{projectSlug}/roles"
	s.handle(http.MethodPost, v1, authUI, tag, "Create a project role (V1 rules)", s.createRole(true))
	s.handle(http.MethodPatch, v1+"/{roleId}", authUI, tag, "Update a project role (V1 rules)", s.updateRole(true))
	s.handle(http.MethodDelete, v1+"/{roleId}", authUI, tag, "Delete a project role", s.deleteRole(true))
	s.handle(http.MethodGet, v1, authUI, tag, "List the roles of a project", s.listRoles(true))
	s.handle(http.MethodGet, v1+"/slug/{slug}", authUI, tag, "Get a project role by slug (V1 rules)", s.getRoleBySlug(true))
	for _, base := range []string{"/api/v2/workspace/{projectId}/roles", "/api/v1/projects/{projectId}/roles"} {
		s.handle(http.MethodPost, base, authUI, tag, "Create a project role", s.createRole(false))
		s.handle(http.MethodPatch, base+"/{roleId}", authUI, tag, "Update a project role", s.updateRole(false))
		s.handle(http.MethodDelete, base+"/{roleId}", authUI, tag, "Delete a project role", s.deleteRole(false))
		s.handle(http.MethodGet, base, authUI, tag, "List the roles of a project", s.listRoles(false))
		s.handle(http.MethodGet, base+"/slug/{slug}", authUI, tag, "Get a project role by slug", s.getRoleBySlug(false))
	}

	const otag = "Organization roles"
	ob := "/api/v1/organization/{organizationId}/roles"
	s.handle(http.MethodPost, ob, authUI, otag, "Create an organization role", s.createOrgRole)
	s.handle(http.MethodGet, ob, authUI, otag, "List the roles of an organization", s.listOrgRoles)
	s.handle(http.MethodGet, ob+"/{roleId}", authUI, otag, "Get an organization role", s.getOrgRole)
	s.handle(http.MethodPatch, ob+"/{roleId}", authUI, otag, "Update an organization role", s.updateOrgRole)
	s.handle(http.MethodDelete, ob+"/{roleId}", authUI, otag, "Delete an organization role", s.deleteOrgRole)
}

// ---- shapes ------------------------------------------------------------------

// roleJSON is Infisical's project role.
type roleJSON struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description *string           `json:"description"`
	Slug        string            `json:"slug"`
	Permissions []permission.Rule `json:"permissions"`
	ProjectID   string            `json:"projectId"`
	CreatedAt   isoTime           `json:"createdAt"`
	UpdatedAt   isoTime           `json:"updatedAt"`
}

// roleListItem is a role in list responses (without permissions).
type roleListItem struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Slug        string  `json:"slug"`
	ProjectID   string  `json:"projectId"`
	CreatedAt   isoTime `json:"createdAt"`
	UpdatedAt   isoTime `json:"updatedAt"`
}

func toRole(r *infisical.Role, v1 bool) roleJSON {
	perms := r.Permissions
	if v1 {
		perms = permission.V1RoleView(perms)
	}
	return roleJSON{ID: r.ID, Name: r.Name, Description: r.Description, Slug: r.Slug, Permissions: nonNilRules(perms),
		ProjectID: r.ProjectID, CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt)}
}

func nonNilRules(r []permission.Rule) []permission.Rule {
	if r == nil {
		return []permission.Rule{}
	}
	return r
}

// orgRoleJSON is Infisical's organization role.
type orgRoleJSON struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description *string           `json:"description"`
	Slug        string            `json:"slug"`
	Permissions []permission.Rule `json:"permissions"`
	OrgID       string            `json:"orgId"`
	CreatedAt   isoTime           `json:"createdAt"`
	UpdatedAt   isoTime           `json:"updatedAt"`
}

func toOrgRole(r *infisical.OrgRole) orgRoleJSON {
	return orgRoleJSON{ID: r.ID, Name: r.Name, Description: r.Description, Slug: r.Slug, Permissions: nonNilRules(r.Permissions),
		OrgID: r.OrgID, CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt)}
}

// customOrgRoleJSON is the customRole of an organization membership.
type customOrgRoleJSON struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Slug        string            `json:"slug"`
	Permissions []permission.Rule `json:"permissions"`
	Description *string           `json:"description"`
}

func toCustomOrgRole(r *infisical.OrgRole) *customOrgRoleJSON {
	if r == nil {
		return nil
	}
	return &customOrgRoleJSON{ID: r.ID, Name: r.Name, Slug: r.Slug, Permissions: nonNilRules(r.Permissions), Description: r.Description}
}

// ---- rule input ------------------------------------------------------------------

// parseRules reads a permissions array. v1 routes take V1 rules (one action
// per rule, converted to V2 with Infisical's backfill); a V1 route given V2
// rules (action arrays) takes them as they are, as newer clients send them.
func parseRules(raw json.RawMessage, v1, org bool) ([]permission.Rule, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, infisical.Invalid("permissions", "permissions is required")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, infisical.Invalid("permissions", "permissions must be an array of rules")
	}
	if v1 && !org && allV1(items) {
		var in []permission.V1Rule
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, infisical.Invalid("permissions", "permissions must be an array of rules")
		}
		rules, err := permission.ConvertV1(in)
		if err != nil {
			return nil, ruleError(err)
		}
		return rules, nil
	}
	var rules []permission.Rule
	var err error
	if org {
		rules, err = permission.ParseOrgRules(raw)
	} else {
		rules, err = permission.ParseRules(raw)
	}
	if err != nil {
		return nil, ruleError(err)
	}
	return rules, nil
}

// allV1 reports whether every rule names its action as a single string.
func allV1(items []json.RawMessage) bool {
	for _, it := range items {
		var probe struct {
			Action json.RawMessage `json:"action"`
		}
		if err := json.Unmarshal(it, &probe); err != nil {
			return true // reported by the V1 decoder
		}
		a := bytes.TrimSpace(probe.Action)
		if len(a) > 0 && a[0] == '[' {
			return false
		}
	}
	return true
}

func ruleError(err error) error {
	var ve *permission.ValidationError
	if errors.As(err, &ve) {
		return infisical.Invalid("permissions", "%s", ve.Error())
	}
	return infisical.Invalid("permissions", "Invalid permissions: %s", err.Error())
}

// optionalString tells an absent field from null and from a value.
type optionalString struct {
	Set   bool
	Value *string
}

func (o *optionalString) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Value = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o.Value = &s
	return nil
}

// ---- project roles -----------------------------------------------------------------

func roleRef(rq *request, v1 bool) infisical.ProjectRef {
	if v1 {
		return infisical.ProjectRef{Slug: rq.path("projectSlug")}
	}
	return infisical.ProjectRef{ID: rq.path("projectId")}
}

type createRoleBody struct {
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Permissions json.RawMessage `json:"permissions"`
}

func (s *Server) createRole(v1 bool) handler {
	return func(rq *request) (any, error) {
		var b createRoleBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		if b.Slug == "" {
			return nil, infisical.Invalid("slug", "slug is required")
		}
		if b.Name == "" {
			return nil, infisical.Invalid("name", "name is required")
		}
		rules, err := parseRules(b.Permissions, v1, false)
		if err != nil {
			return nil, err
		}
		r, err := s.eng.Roles.CreateProjectRole(rq.ctx(), rq.actor, roleRef(rq, v1), infisical.RoleInput{Slug: b.Slug, Name: b.Name,
			Description: b.Description, Permissions: rules})
		if err != nil {
			return nil, err
		}
		return map[string]any{"role": toRole(r, v1)}, nil
	}
}

type updateRoleBody struct {
	Slug        *string         `json:"slug"`
	Name        *string         `json:"name"`
	Description optionalString  `json:"description"`
	Permissions json.RawMessage `json:"permissions"`
}

func (b *updateRoleBody) input(v1, org bool) (infisical.RoleUpdate, error) {
	in := infisical.RoleUpdate{Slug: b.Slug, Name: b.Name, DescriptionSet: b.Description.Set, Description: b.Description.Value}
	if p := bytes.TrimSpace(b.Permissions); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		rules, err := parseRules(b.Permissions, v1, org)
		if err != nil {
			return in, err
		}
		in.Permissions = &rules
	}
	return in, nil
}

func (s *Server) updateRole(v1 bool) handler {
	return func(rq *request) (any, error) {
		var b updateRoleBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		in, err := b.input(v1, false)
		if err != nil {
			return nil, err
		}
		r, err := s.eng.Roles.UpdateProjectRole(rq.ctx(), rq.actor, roleRef(rq, v1), rq.path("roleId"), in)
		if err != nil {
			return nil, err
		}
		return map[string]any{"role": toRole(r, v1)}, nil
	}
}

func (s *Server) deleteRole(v1 bool) handler {
	return func(rq *request) (any, error) {
		r, err := s.eng.Roles.DeleteProjectRole(rq.ctx(), rq.actor, roleRef(rq, v1), rq.path("roleId"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"role": toRole(r, v1)}, nil
	}
}

func (s *Server) listRoles(v1 bool) handler {
	return func(rq *request) (any, error) {
		list, err := s.eng.Roles.ListProjectRoles(rq.ctx(), rq.actor, roleRef(rq, v1))
		if err != nil {
			return nil, err
		}
		out := make([]roleListItem, 0, len(list))
		for _, r := range list {
			out = append(out, roleListItem{ID: r.ID, Name: r.Name, Description: r.Description, Slug: r.Slug, ProjectID: r.ProjectID,
				CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt)})
		}
		return map[string]any{"roles": out}, nil
	}
}

func (s *Server) getRoleBySlug(v1 bool) handler {
	return func(rq *request) (any, error) {
		r, err := s.eng.Roles.GetProjectRoleBySlug(rq.ctx(), rq.actor, roleRef(rq, v1), rq.path("slug"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"role": toRole(r, v1)}, nil
	}
}

// ---- organization roles --------------------------------------------------------------

func (s *Server) createOrgRole(rq *request) (any, error) {
	var b createRoleBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.Slug == "" {
		return nil, infisical.Invalid("slug", "slug is required")
	}
	if b.Name == "" {
		return nil, infisical.Invalid("name", "name is required")
	}
	rules, err := parseRules(b.Permissions, false, true)
	if err != nil {
		return nil, err
	}
	r, err := s.eng.Roles.CreateOrgRole(rq.ctx(), rq.actor, rq.path("organizationId"), infisical.RoleInput{Slug: b.Slug, Name: b.Name,
		Description: b.Description, Permissions: rules})
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": toOrgRole(r)}, nil
}

func (s *Server) listOrgRoles(rq *request) (any, error) {
	list, err := s.eng.Roles.ListOrgRoles(rq.ctx(), rq.actor, rq.path("organizationId"))
	if err != nil {
		return nil, err
	}
	out := make([]orgRoleJSON, 0, len(list))
	for i := range list {
		out = append(out, toOrgRole(&list[i]))
	}
	return map[string]any{"data": map[string]any{"roles": out}}, nil
}

func (s *Server) getOrgRole(rq *request) (any, error) {
	r, err := s.eng.Roles.GetOrgRole(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("roleId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": toOrgRole(r)}, nil
}

func (s *Server) updateOrgRole(rq *request) (any, error) {
	var b updateRoleBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in, err := b.input(false, true)
	if err != nil {
		return nil, err
	}
	r, err := s.eng.Roles.UpdateOrgRole(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("roleId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": toOrgRole(r)}, nil
}

func (s *Server) deleteOrgRole(rq *request) (any, error) {
	r, err := s.eng.Roles.DeleteOrgRole(rq.ctx(), rq.actor, rq.path("organizationId"), rq.path("roleId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": toOrgRole(r)}, nil
}
