package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/permission"
)

// Routes of identity additional privileges: the six slug-addressed V1
// routes of spec §8.8 and the id-addressed V2 twin used by Terraform
// (/api/v2/identity-project-additional-privilege, V2 rules, a "type"
// object for temporariness).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerPrivilegeRoutes) }

func (s *Server) registerPrivilegeRoutes() {
	const tag = "Identity additional privileges"
	v1 := "/api/v1/additional-privilege/identity"
	s.handle(http.MethodPost, v1+"/permanent", authUI, tag, "Create a permanent privilege for an identity", s.createPrivilegeV1(false))
	s.handle(http.MethodPost, v1+"/temporary", authUI, tag, "Create a temporary privilege for an identity", s.createPrivilegeV1(true))
	s.handle(http.MethodPatch, v1, authUI, tag, "Update a privilege of an identity", s.updatePrivilegeV1)
	s.handle(http.MethodDelete, v1, authUI, tag, "Delete a privilege of an identity (JSON body)", s.deletePrivilegeV1)
	s.handle(http.MethodGet, v1+"/{privilegeSlug}", authUI, tag, "Get a privilege of an identity by slug", s.getPrivilegeV1)
	s.handle(http.MethodGet, v1, authUI, tag, "List the privileges of an identity in a project", s.listPrivilegesV1)

	v2 := "/api/v2/identity-project-additional-privilege"
	s.handle(http.MethodPost, v2, authUI, tag, "Create a privilege for an identity", s.createPrivilegeV2)
	s.handle(http.MethodPatch, v2+"/{id}", authUI, tag, "Update a privilege", s.updatePrivilegeV2)
	s.handle(http.MethodDelete, v2+"/{id}", authUI, tag, "Delete a privilege", s.deletePrivilegeV2)
	s.handle(http.MethodGet, v2+"/{id}", authUI, tag, "Get a privilege by id", s.getPrivilegeV2)
	s.handle(http.MethodGet, v2+"/slug/{privilegeSlug}", authUI, tag, "Get a privilege by slug", s.getPrivilegeBySlugV2)
	s.handle(http.MethodGet, v2, authUI, tag, "List the privileges of an identity in a project", s.listPrivilegesV2)
}

// ---- shapes ------------------------------------------------------------------

// privilegeV1JSON is the V1 privilege (dynamic-secrets, secret-imports and
// secret-folders rules hidden).
type privilegeV1JSON struct {
	ID                       string            `json:"id"`
	Slug                     string            `json:"slug"`
	ProjectMembershipID      string            `json:"projectMembershipId"`
	IsTemporary              bool              `json:"isTemporary"`
	TemporaryMode            *string           `json:"temporaryMode"`
	TemporaryRange           *string           `json:"temporaryRange"`
	TemporaryAccessStartTime *isoTime          `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *isoTime          `json:"temporaryAccessEndTime"`
	Permissions              []permission.Rule `json:"permissions"`
	CreatedAt                isoTime           `json:"createdAt"`
	UpdatedAt                isoTime           `json:"updatedAt"`
}

func toPrivilegeV1(p *infisical.Privilege) privilegeV1JSON {
	return privilegeV1JSON{ID: p.ID, Slug: p.Slug, ProjectMembershipID: p.ProjectMembershipID, IsTemporary: p.IsTemporary,
		TemporaryMode: p.TemporaryMode, TemporaryRange: p.TemporaryRange, TemporaryAccessStartTime: tsp(p.TemporaryAccessStartTime),
		TemporaryAccessEndTime: tsp(p.TemporaryAccessEndTime), Permissions: nonNilRules(permission.V1PrivilegeView(p.Permissions)),
		CreatedAt: ts(p.CreatedAt), UpdatedAt: ts(p.UpdatedAt)}
}

// privilegeV2JSON is the V2 privilege (all rules, identity and project ids,
// no membership id).
type privilegeV2JSON struct {
	ID                       string             `json:"id"`
	Slug                     string             `json:"slug"`
	IdentityID               string             `json:"identityId"`
	ProjectID                string             `json:"projectId"`
	IsTemporary              bool               `json:"isTemporary"`
	TemporaryMode            *string            `json:"temporaryMode"`
	TemporaryRange           *string            `json:"temporaryRange"`
	TemporaryAccessStartTime *isoTime           `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *isoTime           `json:"temporaryAccessEndTime"`
	Permissions              *[]permission.Rule `json:"permissions,omitempty"`
	CreatedAt                isoTime            `json:"createdAt"`
	UpdatedAt                isoTime            `json:"updatedAt"`
}

func toPrivilegeV2(p *infisical.Privilege, withRules bool) privilegeV2JSON {
	out := privilegeV2JSON{ID: p.ID, Slug: p.Slug, IdentityID: p.IdentityID, ProjectID: p.ProjectID, IsTemporary: p.IsTemporary,
		TemporaryMode: p.TemporaryMode, TemporaryRange: p.TemporaryRange, TemporaryAccessStartTime: tsp(p.TemporaryAccessStartTime),
		TemporaryAccessEndTime: tsp(p.TemporaryAccessEndTime), CreatedAt: ts(p.CreatedAt), UpdatedAt: ts(p.UpdatedAt)}
	if withRules {
		rules := nonNilRules(p.Permissions)
		out.Permissions = &rules
	}
	return out
}

// parseStart parses an ISO 8601 start time (nil when absent or empty).
func parseStart(field string, v *string) (*time.Time, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*v))
	if err != nil {
		return nil, infisical.Invalid(field, "%s must be an ISO 8601 date-time", field)
	}
	return &t, nil
}

// ---- v1 -------------------------------------------------------------------------

type createPrivilegeV1Body struct {
	IdentityID               string          `json:"identityId"`
	ProjectSlug              string          `json:"projectSlug"`
	ProjectID                string          `json:"projectId"`
	Slug                     string          `json:"slug"`
	Permissions              json.RawMessage `json:"permissions"`
	TemporaryMode            string          `json:"temporaryMode"`
	TemporaryRange           string          `json:"temporaryRange"`
	TemporaryAccessStartTime *string         `json:"temporaryAccessStartTime"`
}

func requireTarget(identityID, projectSlug, projectID string) error {
	if strings.TrimSpace(identityID) == "" {
		return infisical.Invalid("identityId", "identityId is required")
	}
	if strings.TrimSpace(projectSlug) == "" && strings.TrimSpace(projectID) == "" {
		return infisical.Invalid("projectSlug", "projectSlug is required")
	}
	return nil
}

func (s *Server) createPrivilegeV1(temporary bool) handler {
	return func(rq *request) (any, error) {
		var b createPrivilegeV1Body
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		if err := requireTarget(b.IdentityID, b.ProjectSlug, b.ProjectID); err != nil {
			return nil, err
		}
		rules, err := parseRules(b.Permissions, true, false)
		if err != nil {
			return nil, err
		}
		in := infisical.CreatePrivilegeInput{IdentityID: b.IdentityID, Project: infisical.ProjectRef{ID: b.ProjectID, Slug: b.ProjectSlug},
			Slug: b.Slug, Permissions: rules}
		if temporary {
			start, err := parseStart("temporaryAccessStartTime", b.TemporaryAccessStartTime)
			if err != nil {
				return nil, err
			}
			in.IsTemporary, in.TemporaryMode, in.TemporaryRange, in.TemporaryAccessStartTime = true, b.TemporaryMode, b.TemporaryRange, start
		}
		p, err := s.eng.Privileges.Create(rq.ctx(), rq.actor, in)
		if err != nil {
			return nil, err
		}
		return map[string]any{"privilege": toPrivilegeV1(p)}, nil
	}
}

// privilegeDetailsBody is the changeable part of a privilege.
type privilegeDetailsBody struct {
	Slug                     *string         `json:"slug"`
	Permissions              json.RawMessage `json:"permissions"`
	IsTemporary              *bool           `json:"isTemporary"`
	TemporaryMode            *string         `json:"temporaryMode"`
	TemporaryRange           *string         `json:"temporaryRange"`
	TemporaryAccessStartTime *string         `json:"temporaryAccessStartTime"`
}

func (d *privilegeDetailsBody) input(v1 bool) (infisical.UpdatePrivilegeInput, error) {
	in := infisical.UpdatePrivilegeInput{Slug: d.Slug, IsTemporary: d.IsTemporary, TemporaryMode: d.TemporaryMode, TemporaryRange: d.TemporaryRange}
	if p := strings.TrimSpace(string(d.Permissions)); p != "" && p != "null" {
		rules, err := parseRules(d.Permissions, v1, false)
		if err != nil {
			return in, err
		}
		in.Permissions = &rules
	}
	start, err := parseStart("temporaryAccessStartTime", d.TemporaryAccessStartTime)
	if err != nil {
		return in, err
	}
	in.TemporaryAccessStartTime = start
	return in, nil
}

type updatePrivilegeV1Body struct {
	PrivilegeSlug    string               `json:"privilegeSlug"`
	IdentityID       string               `json:"identityId"`
	ProjectSlug      string               `json:"projectSlug"`
	ProjectID        string               `json:"projectId"`
	PrivilegeDetails privilegeDetailsBody `json:"privilegeDetails"`
}

func (s *Server) updatePrivilegeV1(rq *request) (any, error) {
	var b updatePrivilegeV1Body
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.PrivilegeSlug) == "" {
		return nil, infisical.Invalid("privilegeSlug", "privilegeSlug is required")
	}
	if err := requireTarget(b.IdentityID, b.ProjectSlug, b.ProjectID); err != nil {
		return nil, err
	}
	in, err := b.PrivilegeDetails.input(true)
	if err != nil {
		return nil, err
	}
	p, err := s.eng.Privileges.Update(rq.ctx(), rq.actor, b.IdentityID, infisical.ProjectRef{ID: b.ProjectID, Slug: b.ProjectSlug}, b.PrivilegeSlug, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV1(p)}, nil
}

type privilegeTargetBody struct {
	PrivilegeSlug string `json:"privilegeSlug"`
	IdentityID    string `json:"identityId"`
	ProjectSlug   string `json:"projectSlug"`
	ProjectID     string `json:"projectId"`
}

func (s *Server) deletePrivilegeV1(rq *request) (any, error) {
	var b privilegeTargetBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.PrivilegeSlug) == "" {
		return nil, infisical.Invalid("privilegeSlug", "privilegeSlug is required")
	}
	if err := requireTarget(b.IdentityID, b.ProjectSlug, b.ProjectID); err != nil {
		return nil, err
	}
	p, err := s.eng.Privileges.Delete(rq.ctx(), rq.actor, b.IdentityID, infisical.ProjectRef{ID: b.ProjectID, Slug: b.ProjectSlug}, b.PrivilegeSlug)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV1(p)}, nil
}

func (s *Server) getPrivilegeV1(rq *request) (any, error) {
	if err := requireTarget(rq.query("identityId"), rq.query("projectSlug"), rq.query("projectId")); err != nil {
		return nil, err
	}
	p, err := s.eng.Privileges.Get(rq.ctx(), rq.actor, rq.query("identityId"),
		infisical.ProjectRef{ID: rq.query("projectId"), Slug: rq.query("projectSlug")}, rq.path("privilegeSlug"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV1(p)}, nil
}

func (s *Server) listPrivilegesV1(rq *request) (any, error) {
	if err := requireTarget(rq.query("identityId"), rq.query("projectSlug"), rq.query("projectId")); err != nil {
		return nil, err
	}
	list, err := s.eng.Privileges.List(rq.ctx(), rq.actor, rq.query("identityId"), infisical.ProjectRef{ID: rq.query("projectId"), Slug: rq.query("projectSlug")})
	if err != nil {
		return nil, err
	}
	out := make([]privilegeV1JSON, 0, len(list))
	for i := range list {
		out = append(out, toPrivilegeV1(&list[i]))
	}
	return map[string]any{"privileges": out}, nil
}

// ---- v2 -------------------------------------------------------------------------

// privilegeTypeBody is V2's {isTemporary, temporaryMode?, temporaryRange?,
// temporaryAccessStartTime?}.
type privilegeTypeBody struct {
	IsTemporary              *bool   `json:"isTemporary"`
	TemporaryMode            *string `json:"temporaryMode"`
	TemporaryRange           *string `json:"temporaryRange"`
	TemporaryAccessStartTime *string `json:"temporaryAccessStartTime"`
}

type createPrivilegeV2Body struct {
	IdentityID  string             `json:"identityId"`
	ProjectID   string             `json:"projectId"`
	Slug        string             `json:"slug"`
	Permissions json.RawMessage    `json:"permissions"`
	Type        *privilegeTypeBody `json:"type"`
}

func (s *Server) createPrivilegeV2(rq *request) (any, error) {
	var b createPrivilegeV2Body
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.IdentityID) == "" {
		return nil, infisical.Invalid("identityId", "identityId is required")
	}
	if strings.TrimSpace(b.ProjectID) == "" {
		return nil, infisical.Invalid("projectId", "projectId is required")
	}
	rules, err := parseRules(b.Permissions, false, false)
	if err != nil {
		return nil, err
	}
	in := infisical.CreatePrivilegeInput{IdentityID: b.IdentityID, Project: infisical.ProjectRef{ID: b.ProjectID}, Slug: b.Slug, Permissions: rules}
	if b.Type == nil || b.Type.IsTemporary == nil {
		return nil, infisical.Invalid("type", "type.isTemporary is required")
	}
	if *b.Type.IsTemporary {
		start, err := parseStart("type", b.Type.TemporaryAccessStartTime)
		if err != nil {
			return nil, err
		}
		in.IsTemporary, in.TemporaryAccessStartTime = true, start
		if b.Type.TemporaryMode != nil {
			in.TemporaryMode = *b.Type.TemporaryMode
		}
		if b.Type.TemporaryRange != nil {
			in.TemporaryRange = *b.Type.TemporaryRange
		}
	}
	p, err := s.eng.Privileges.Create(rq.ctx(), rq.actor, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV2(p, true)}, nil
}

type updatePrivilegeV2Body struct {
	Slug        *string            `json:"slug"`
	Permissions json.RawMessage    `json:"permissions"`
	Type        *privilegeTypeBody `json:"type"`
}

func (s *Server) updatePrivilegeV2(rq *request) (any, error) {
	var b updatePrivilegeV2Body
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	d := privilegeDetailsBody{Slug: b.Slug, Permissions: b.Permissions}
	if b.Type != nil {
		d.IsTemporary, d.TemporaryMode, d.TemporaryRange, d.TemporaryAccessStartTime =
			b.Type.IsTemporary, b.Type.TemporaryMode, b.Type.TemporaryRange, b.Type.TemporaryAccessStartTime
	}
	in, err := d.input(false)
	if err != nil {
		return nil, err
	}
	p, err := s.eng.Privileges.UpdateByID(rq.ctx(), rq.actor, rq.path("id"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV2(p, true)}, nil
}

func (s *Server) deletePrivilegeV2(rq *request) (any, error) {
	p, err := s.eng.Privileges.DeleteByID(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV2(p, true)}, nil
}

func (s *Server) getPrivilegeV2(rq *request) (any, error) {
	p, err := s.eng.Privileges.GetByID(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV2(p, true)}, nil
}

func (s *Server) getPrivilegeBySlugV2(rq *request) (any, error) {
	if err := requireTarget(rq.query("identityId"), rq.query("projectSlug"), rq.query("projectId")); err != nil {
		return nil, err
	}
	p, err := s.eng.Privileges.Get(rq.ctx(), rq.actor, rq.query("identityId"),
		infisical.ProjectRef{ID: rq.query("projectId"), Slug: rq.query("projectSlug")}, rq.path("privilegeSlug"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": toPrivilegeV2(p, true)}, nil
}

func (s *Server) listPrivilegesV2(rq *request) (any, error) {
	if strings.TrimSpace(rq.query("identityId")) == "" {
		return nil, infisical.Invalid("identityId", "identityId is required")
	}
	if strings.TrimSpace(rq.query("projectId")) == "" {
		return nil, infisical.Invalid("projectId", "projectId is required")
	}
	list, err := s.eng.Privileges.List(rq.ctx(), rq.actor, rq.query("identityId"), infisical.ProjectRef{ID: rq.query("projectId")})
	if err != nil {
		return nil, err
	}
	out := make([]privilegeV2JSON, 0, len(list))
	for i := range list {
		out = append(out, toPrivilegeV2(&list[i], false))
	}
	return map[string]any{"privileges": out}, nil
}
