package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/permission"
)

// Routes of project templates (spec §8.10).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerTemplateRoutes) }

func (s *Server) registerTemplateRoutes() {
	const tag = "Project templates"
	base := "/api/v1/project-templates"
	s.handle(http.MethodGet, base, authUI, tag, "List the project templates of the caller's organization", s.listTemplates)
	s.handle(http.MethodPost, base, authUI, tag, "Create a project template", s.createTemplate)
	s.handle(http.MethodGet, base+"/{templateId}", authUI, tag, "Get a project template", s.getTemplate)
	s.handle(http.MethodPatch, base+"/{templateId}", authUI, tag, "Update a project template", s.updateTemplate)
	s.handle(http.MethodDelete, base+"/{templateId}", authUI, tag, "Delete a project template", s.deleteTemplate)
}

// ---- shapes ------------------------------------------------------------------

type templateRoleJSON struct {
	Name        string            `json:"name"`
	Slug        string            `json:"slug"`
	Permissions []permission.Rule `json:"permissions"`
}

type templateEnvJSON struct {
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Position int    `json:"position"`
}

type templateUserJSON struct {
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
}

type templateGroupJSON struct {
	GroupSlug string   `json:"groupSlug"`
	Roles     []string `json:"roles"`
}

type templateIdentityJSON struct {
	IdentityID   string   `json:"identityId"`
	IdentityName string   `json:"identityName"`
	Roles        []string `json:"roles"`
}

type templateManagedJSON struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// templateJSON is Infisical's project template; nil lists encode as null.
type templateJSON struct {
	ID                       string                 `json:"id"`
	Name                     string                 `json:"name"`
	Description              *string                `json:"description"`
	Type                     string                 `json:"type"`
	OrgID                    string                 `json:"orgId"`
	CreatedAt                isoTime                `json:"createdAt"`
	UpdatedAt                isoTime                `json:"updatedAt"`
	Roles                    []templateRoleJSON     `json:"roles"`
	Environments             []templateEnvJSON      `json:"environments"`
	Users                    []templateUserJSON     `json:"users"`
	Groups                   []templateGroupJSON    `json:"groups"`
	Identities               []templateIdentityJSON `json:"identities"`
	ProjectManagedIdentities []templateManagedJSON  `json:"projectManagedIdentities"`
}

// mapList converts a list keeping nil as nil (null) and empty as empty.
func mapList[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

func toTemplate(t *infisical.ProjectTemplate) templateJSON {
	out := templateJSON{ID: t.ID, Name: t.Name, Description: t.Description, Type: t.Type, OrgID: t.OrgID,
		CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt)}
	out.Roles = mapList(t.Roles, func(r infisical.TemplateRole) templateRoleJSON {
		return templateRoleJSON{Name: r.Name, Slug: r.Slug, Permissions: nonNilRules(r.Permissions)}
	})
	if out.Roles == nil {
		out.Roles = []templateRoleJSON{}
	}
	out.Environments = mapList(t.Environments, func(e infisical.TemplateEnvironment) templateEnvJSON {
		return templateEnvJSON{Name: e.Name, Slug: e.Slug, Position: e.Position}
	})
	out.Users = mapList(t.Users, func(u infisical.TemplateUser) templateUserJSON {
		return templateUserJSON{Username: u.Username, Roles: nonNilStrings(u.Roles)}
	})
	out.Groups = mapList(t.Groups, func(g infisical.TemplateGroup) templateGroupJSON {
		return templateGroupJSON{GroupSlug: g.GroupSlug, Roles: nonNilStrings(g.Roles)}
	})
	out.Identities = mapList(t.Identities, func(i infisical.TemplateIdentity) templateIdentityJSON {
		return templateIdentityJSON{IdentityID: i.IdentityID, IdentityName: i.IdentityName, Roles: nonNilStrings(i.Roles)}
	})
	out.ProjectManagedIdentities = mapList(t.ProjectManagedIdentities, func(m infisical.TemplateManagedIdentity) templateManagedJSON {
		return templateManagedJSON{Name: m.Name, Roles: nonNilStrings(m.Roles)}
	})
	return out
}

// ---- request bodies -------------------------------------------------------------

type templateRoleBody struct {
	Name        string          `json:"name"`
	Slug        string          `json:"slug"`
	Permissions json.RawMessage `json:"permissions"`
}

type templateIdentityBody struct {
	IdentityID string   `json:"identityId"`
	Roles      []string `json:"roles"`
}

// templateBody holds every field raw, so that absent, null and a value can
// be told apart (PATCH: null clears a list).
type templateBody struct {
	Name                     *string         `json:"name"`
	Description              *string         `json:"description"`
	Type                     string          `json:"type"`
	Roles                    json.RawMessage `json:"roles"`
	Environments             json.RawMessage `json:"environments"`
	Users                    json.RawMessage `json:"users"`
	Groups                   json.RawMessage `json:"groups"`
	Identities               json.RawMessage `json:"identities"`
	ProjectManagedIdentities json.RawMessage `json:"projectManagedIdentities"`
}

// rawList decodes an optional list field: present reports whether the field
// was sent; a null leaves out nil, a value a non-nil slice.
func rawList[T any](field string, raw json.RawMessage) (list []T, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, false, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return nil, true, nil
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, true, infisical.Invalid(field, "%s has an invalid shape: %s", field, err.Error())
	}
	if list == nil {
		list = []T{}
	}
	return list, true, nil
}

func templateRoles(raw json.RawMessage) ([]infisical.TemplateRole, bool, error) {
	items, present, err := rawList[templateRoleBody]("roles", raw)
	if err != nil || items == nil {
		return nil, present, err
	}
	out := make([]infisical.TemplateRole, 0, len(items))
	for _, it := range items {
		rules, err := parseRules(it.Permissions, false, false)
		if err != nil {
			return nil, true, infisical.Invalid("roles", "roles (%s): %s", it.Slug, err.Error())
		}
		out = append(out, infisical.TemplateRole{Name: it.Name, Slug: it.Slug, Permissions: rules})
	}
	return out, true, nil
}

// templateLists decodes the list fields of b.
type templateLists struct {
	roles                                            []infisical.TemplateRole
	envs                                             []infisical.TemplateEnvironment
	users                                            []infisical.TemplateUser
	groups                                           []infisical.TemplateGroup
	idents                                           []infisical.TemplateIdentity
	managed                                          []infisical.TemplateManagedIdentity
	hasRoles, hasEnvs, hasUsers, hasGroups, hasIdent bool
	hasManaged                                       bool
}

func (b *templateBody) lists() (*templateLists, error) {
	l := &templateLists{}
	var err error
	if l.roles, l.hasRoles, err = templateRoles(b.Roles); err != nil {
		return nil, err
	}
	if l.envs, l.hasEnvs, err = rawList[infisical.TemplateEnvironment]("environments", b.Environments); err != nil {
		return nil, err
	}
	if l.users, l.hasUsers, err = rawList[infisical.TemplateUser]("users", b.Users); err != nil {
		return nil, err
	}
	if l.groups, l.hasGroups, err = rawList[infisical.TemplateGroup]("groups", b.Groups); err != nil {
		return nil, err
	}
	idents, hasIdent, err := rawList[templateIdentityBody]("identities", b.Identities)
	if err != nil {
		return nil, err
	}
	l.hasIdent = hasIdent
	l.idents = mapList(idents, func(i templateIdentityBody) infisical.TemplateIdentity {
		return infisical.TemplateIdentity{IdentityID: i.IdentityID, Roles: i.Roles}
	})
	if l.managed, l.hasManaged, err = rawList[infisical.TemplateManagedIdentity]("projectManagedIdentities", b.ProjectManagedIdentities); err != nil {
		return nil, err
	}
	return l, nil
}

// ---- handlers ---------------------------------------------------------------------

func (s *Server) listTemplates(rq *request) (any, error) {
	list, err := s.eng.Templates.List(rq.ctx(), rq.actor, rq.query("type"))
	if err != nil {
		return nil, err
	}
	out := make([]templateJSON, 0, len(list))
	for i := range list {
		out = append(out, toTemplate(&list[i]))
	}
	return map[string]any{"projectTemplates": out}, nil
}

func (s *Server) getTemplate(rq *request) (any, error) {
	t, err := s.eng.Templates.Get(rq.ctx(), rq.actor, rq.path("templateId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"projectTemplate": toTemplate(t)}, nil
}

func (s *Server) createTemplate(rq *request) (any, error) {
	var b templateBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if b.Name == nil || *b.Name == "" {
		return nil, infisical.Invalid("name", "name is required")
	}
	if b.Type == "" {
		return nil, infisical.Invalid("type", "type is required")
	}
	l, err := b.lists()
	if err != nil {
		return nil, err
	}
	t, err := s.eng.Templates.Create(rq.ctx(), rq.actor, infisical.TemplateInput{Name: *b.Name, Description: b.Description, Type: b.Type,
		Roles: l.roles, Environments: l.envs, Users: l.users, Groups: l.groups, Identities: l.idents, ProjectManagedIdentities: l.managed})
	if err != nil {
		return nil, err
	}
	return map[string]any{"projectTemplate": toTemplate(t)}, nil
}

func (s *Server) updateTemplate(rq *request) (any, error) {
	var b templateBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	l, err := b.lists()
	if err != nil {
		return nil, err
	}
	in := infisical.TemplateUpdate{Name: b.Name, Description: b.Description}
	if l.hasRoles {
		roles := l.roles
		if roles == nil {
			roles = []infisical.TemplateRole{}
		}
		in.Roles = &roles
	}
	if l.hasEnvs {
		in.Environments = &l.envs
	}
	if l.hasUsers {
		in.Users = &l.users
	}
	if l.hasGroups {
		in.Groups = &l.groups
	}
	if l.hasIdent {
		in.Identities = &l.idents
	}
	if l.hasManaged {
		in.ProjectManagedIdentities = &l.managed
	}
	t, err := s.eng.Templates.Update(rq.ctx(), rq.actor, rq.path("templateId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"projectTemplate": toTemplate(t)}, nil
}

func (s *Server) deleteTemplate(rq *request) (any, error) {
	t, err := s.eng.Templates.Delete(rq.ctx(), rq.actor, rq.path("templateId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"projectTemplate": toTemplate(t)}, nil
}
