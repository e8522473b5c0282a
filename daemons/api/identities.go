package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical"
)

// Routes of machine identities, their organization memberships and their
// project memberships (spec §8.1, §8.2, §8.4).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerIdentityRoutes) }

func (s *Server) registerIdentityRoutes() {
	const tag = "Identities"
	s.handle(http.MethodPost, "/api/v1/identities", authUI, tag, "Create a machine identity", s.createIdentity)
	s.handle(http.MethodGet, "/api/v1/identities", authUI, tag, "List the machine identities of an organization", s.listIdentities)
	s.handle(http.MethodPost, "/api/v1/identities/search", authUI, tag, "Search the machine identities of the caller's organization", s.searchIdentities)
	s.handle(http.MethodGet, "/api/v1/identities/details", authIdentity, tag, "Organization of the calling identity", s.identityDetails)
	s.handle(http.MethodGet, "/api/v1/identities/{identityId}", authUI, tag, "Get a machine identity", s.getIdentity)
	s.handle(http.MethodPatch, "/api/v1/identities/{identityId}", authUI, tag, "Update a machine identity", s.updateIdentity)
	s.handle(http.MethodDelete, "/api/v1/identities/{identityId}", authUI, tag, "Delete a machine identity", s.deleteIdentity)
	s.handle(http.MethodGet, "/api/v1/identities/{identityId}/identity-memberships", authUI, tag, "List the project memberships of a machine identity", s.identityProjectMemberships)
	s.handle(http.MethodGet, "/api/v2/organizations/{orgId}/identity-memberships", authUI, tag, "List the identity memberships of an organization", s.listOrgIdentityMemberships)

	const mtag = "Project identity memberships"
	base := "/api/v2/workspace/{projectId}/identity-memberships"
	s.handle(http.MethodPost, base+"/{identityId}", authUI, mtag, "Add a machine identity to a project", s.addIdentityMembership)
	s.handle(http.MethodPatch, base+"/{identityId}", authUI, mtag, "Replace the roles of a machine identity in a project", s.updateIdentityMembership)
	s.handle(http.MethodDelete, base+"/{identityId}", authUI, mtag, "Remove a machine identity from a project", s.deleteIdentityMembership)
	s.handle(http.MethodGet, base, authUI, mtag, "List the machine identities of a project", s.listIdentityMemberships)
	s.handle(http.MethodGet, base+"/{identityId}", authUI, mtag, "Get the membership of a machine identity in a project", s.getIdentityMembership)
	s.handle(http.MethodGet, "/api/v2/workspace/identity-memberships/{identityMembershipId}", authUI, mtag, "Get a project identity membership by id", s.getIdentityMembershipByID)
}

// ---- shapes ------------------------------------------------------------------

// identityRow is Infisical's identity row plus authMethods.
type identityRow struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	AuthMethod          *string  `json:"authMethod"`
	AuthMethods         []string `json:"authMethods"`
	CreatedAt           isoTime  `json:"createdAt"`
	UpdatedAt           isoTime  `json:"updatedAt"`
	HasDeleteProtection bool     `json:"hasDeleteProtection"`
	OrgID               string   `json:"orgId"`
	ProjectID           *string  `json:"projectId"`
}

func firstMethod(methods []string) *string {
	if len(methods) == 0 {
		return nil
	}
	m := methods[0]
	return &m
}

func toIdentityRow(o *infisical.OrgIdentity) identityRow {
	return identityRow{ID: o.Identity.ID, Name: o.Identity.Name, AuthMethod: firstMethod(o.Identity.AuthMethods),
		AuthMethods: nonNilStrings(o.Identity.AuthMethods), CreatedAt: ts(o.Identity.CreatedAt), UpdatedAt: ts(o.Identity.UpdatedAt),
		HasDeleteProtection: o.Identity.HasDeleteProtection, OrgID: o.OrgID}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type identitySummary struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	AuthMethods         []string `json:"authMethods"`
	AuthMethod          *string  `json:"authMethod"`
	HasDeleteProtection bool     `json:"hasDeleteProtection"`
}

type identityMetadataJSON struct {
	ID    string `json:"id"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// orgIdentityMembershipJSON is Infisical's organization identity membership.
type orgIdentityMembershipJSON struct {
	ID                  string                 `json:"id"`
	Role                string                 `json:"role"`
	RoleID              *string                `json:"roleId"`
	OrgID               string                 `json:"orgId"`
	IdentityID          string                 `json:"identityId"`
	CreatedAt           isoTime                `json:"createdAt"`
	UpdatedAt           isoTime                `json:"updatedAt"`
	LastLoginAuthMethod *string                `json:"lastLoginAuthMethod"`
	LastLoginTime       *isoTime               `json:"lastLoginTime"`
	Identity            identitySummary        `json:"identity"`
	Metadata            []identityMetadataJSON `json:"metadata"`
	CustomRole          *customOrgRoleJSON     `json:"customRole,omitempty"`
}

func toOrgIdentityMembership(o *infisical.OrgIdentity) orgIdentityMembershipJSON {
	out := orgIdentityMembershipJSON{ID: o.ID, Role: o.Role, RoleID: o.RoleID, OrgID: o.OrgID, IdentityID: o.IdentityID,
		CreatedAt: ts(o.CreatedAt), UpdatedAt: ts(o.UpdatedAt), LastLoginAuthMethod: o.LastLoginAuthMethod, LastLoginTime: tsp(o.LastLoginTime),
		Identity: identitySummary{ID: o.Identity.ID, Name: o.Identity.Name, AuthMethods: nonNilStrings(o.Identity.AuthMethods),
			AuthMethod: firstMethod(o.Identity.AuthMethods), HasDeleteProtection: o.Identity.HasDeleteProtection},
		Metadata: []identityMetadataJSON{}, CustomRole: toCustomOrgRole(o.CustomRole)}
	for _, m := range o.Metadata {
		out.Metadata = append(out.Metadata, identityMetadataJSON{ID: m.ID, Key: m.Key, Value: m.Value})
	}
	return out
}

func toOrgIdentityMemberships(list []infisical.OrgIdentity) []orgIdentityMembershipJSON {
	out := make([]orgIdentityMembershipJSON, 0, len(list))
	for i := range list {
		out = append(out, toOrgIdentityMembership(&list[i]))
	}
	return out
}

// imRoleJSON is a membership role in list and get responses (§3.9).
type imRoleJSON struct {
	ID                       string   `json:"id"`
	Role                     string   `json:"role"`
	CustomRoleID             *string  `json:"customRoleId"`
	CustomRoleName           *string  `json:"customRoleName"`
	CustomRoleSlug           *string  `json:"customRoleSlug"`
	IsTemporary              bool     `json:"isTemporary"`
	TemporaryMode            *string  `json:"temporaryMode"`
	TemporaryRange           *string  `json:"temporaryRange"`
	TemporaryAccessStartTime *isoTime `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *isoTime `json:"temporaryAccessEndTime"`
}

func toIMRoles(roles []infisical.MembershipRole) []imRoleJSON {
	out := make([]imRoleJSON, 0, len(roles))
	for _, r := range roles {
		out = append(out, imRoleJSON{ID: r.ID, Role: r.Role, CustomRoleID: r.CustomRoleID, CustomRoleName: r.CustomRoleName,
			CustomRoleSlug: r.CustomRoleSlug, IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
			TemporaryAccessStartTime: tsp(r.TemporaryAccessStartTime), TemporaryAccessEndTime: tsp(r.TemporaryAccessEndTime)})
	}
	return out
}

// imRoleRowJSON is a stored role row (PATCH responses, §3.9).
type imRoleRowJSON struct {
	ID                       string   `json:"id"`
	Role                     string   `json:"role"`
	ProjectMembershipID      string   `json:"projectMembershipId"`
	CustomRoleID             *string  `json:"customRoleId"`
	IsTemporary              bool     `json:"isTemporary"`
	TemporaryMode            *string  `json:"temporaryMode"`
	TemporaryRange           *string  `json:"temporaryRange"`
	TemporaryAccessStartTime *isoTime `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *isoTime `json:"temporaryAccessEndTime"`
	CreatedAt                isoTime  `json:"createdAt"`
	UpdatedAt                isoTime  `json:"updatedAt"`
}

type imIdentityJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	AuthMethods []string `json:"authMethods"`
}

type imProjectJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// identityMembershipJSON is a project identity membership with its roles.
type identityMembershipJSON struct {
	ID         string         `json:"id"`
	IdentityID string         `json:"identityId"`
	ProjectID  string         `json:"projectId"`
	CreatedAt  isoTime        `json:"createdAt"`
	UpdatedAt  isoTime        `json:"updatedAt"`
	Roles      []imRoleJSON   `json:"roles"`
	Identity   imIdentityJSON `json:"identity"`
	Project    imProjectJSON  `json:"project"`
}

func toIdentityMembership(m *infisical.IdentityMembership) identityMembershipJSON {
	return identityMembershipJSON{ID: m.ID, IdentityID: m.IdentityID, ProjectID: m.ProjectID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt),
		Roles:    toIMRoles(m.Roles),
		Identity: imIdentityJSON{ID: m.Identity.ID, Name: m.Identity.Name, AuthMethods: nonNilStrings(m.Identity.AuthMethods)},
		Project:  imProjectJSON{ID: m.ProjectID, Name: m.ProjectName, Type: m.ProjectType}}
}

func toIdentityMemberships(list []infisical.IdentityMembership) []identityMembershipJSON {
	out := make([]identityMembershipJSON, 0, len(list))
	for i := range list {
		out = append(out, toIdentityMembership(&list[i]))
	}
	return out
}

// identityMembershipBrief is the bare membership row of POST/DELETE.
type identityMembershipBrief struct {
	ID         string  `json:"id"`
	IdentityID string  `json:"identityId"`
	ProjectID  string  `json:"projectId"`
	CreatedAt  isoTime `json:"createdAt"`
	UpdatedAt  isoTime `json:"updatedAt"`
}

func toIdentityMembershipBrief(m *infisical.IdentityMembership) identityMembershipBrief {
	return identityMembershipBrief{ID: m.ID, IdentityID: m.IdentityID, ProjectID: m.ProjectID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt)}
}

// ---- request bodies -------------------------------------------------------------

type metadataBody struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func toMetadataInput(in []metadataBody) []infisical.MetadataInput {
	out := make([]infisical.MetadataInput, 0, len(in))
	for _, m := range in {
		out = append(out, infisical.MetadataInput{Key: m.Key, Value: m.Value})
	}
	return out
}

// roleInputBody is one RoleInput.
type roleInputBody struct {
	Role                     string  `json:"role"`
	IsTemporary              bool    `json:"isTemporary"`
	TemporaryMode            string  `json:"temporaryMode"`
	TemporaryRange           string  `json:"temporaryRange"`
	TemporaryAccessStartTime *string `json:"temporaryAccessStartTime"`
}

// toRoleAssignments converts RoleInputs; timestamps must be ISO 8601.
func toRoleAssignments(in []roleInputBody) ([]infisical.RoleAssignment, error) {
	out := make([]infisical.RoleAssignment, 0, len(in))
	for i, r := range in {
		ra := infisical.RoleAssignment{Role: r.Role, IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange}
		if r.TemporaryAccessStartTime != nil && *r.TemporaryAccessStartTime != "" {
			t, err := time.Parse(time.RFC3339Nano, *r.TemporaryAccessStartTime)
			if err != nil {
				return nil, infisical.Invalid("roles", "roles[%d].temporaryAccessStartTime must be an ISO 8601 date-time", i)
			}
			ra.TemporaryAccessStartTime = &t
		}
		out = append(out, ra)
	}
	return out, nil
}

// ---- identities -------------------------------------------------------------------

type createIdentityBody struct {
	Name                string         `json:"name"`
	OrganizationID      string         `json:"organizationId"`
	Role                string         `json:"role"`
	HasDeleteProtection bool           `json:"hasDeleteProtection"`
	Metadata            []metadataBody `json:"metadata"`
}

func (s *Server) createIdentity(rq *request) (any, error) {
	var b createIdentityBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.Name) == "" {
		return nil, infisical.Invalid("name", "name is required")
	}
	if strings.TrimSpace(b.OrganizationID) == "" {
		return nil, infisical.Invalid("organizationId", "organizationId is required")
	}
	o, err := s.eng.Identities.Create(rq.ctx(), rq.actor, infisical.CreateIdentityInput{Name: b.Name, OrgID: b.OrganizationID,
		Role: b.Role, HasDeleteProtection: b.HasDeleteProtection, Metadata: toMetadataInput(b.Metadata)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"identity": toIdentityRow(o)}, nil
}

func (s *Server) getIdentity(rq *request) (any, error) {
	o, err := s.eng.Identities.Get(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"identity": toOrgIdentityMembership(o)}, nil
}

// orderDirection parses an "asc"/"desc" query parameter.
func orderDirection(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, infisical.Invalid(name, "%s must be 'asc' or 'desc'", name)
}

func (s *Server) listIdentities(rq *request) (any, error) {
	orgID := rq.query("orgId")
	if orgID == "" {
		return nil, infisical.Invalid("orgId", "orgId is required")
	}
	offset, err := rq.qint("offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := rq.qint("limit", 100, 1, 20000)
	if err != nil {
		return nil, err
	}
	desc, err := orderDirection("orderDirection", rq.query("orderDirection"))
	if err != nil {
		return nil, err
	}
	list, total, err := s.eng.Identities.List(rq.ctx(), rq.actor, infisical.ListIdentitiesInput{OrgID: orgID, Offset: offset, Limit: limit,
		OrderBy: rq.query("orderBy"), Desc: desc, Search: rq.query("search")})
	if err != nil {
		return nil, err
	}
	return map[string]any{"identities": toOrgIdentityMemberships(list), "totalCount": total}, nil
}

// searchFilter is `str | {$eq?, $contains?, $in?[]}`.
type searchFilter struct {
	Eq       string
	Contains string
	In       []string
}

func (f *searchFilter) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Eq)
	}
	var ops struct {
		Eq       *string  `json:"$eq"`
		Contains *string  `json:"$contains"`
		In       []string `json:"$in"`
	}
	if err := json.Unmarshal(b, &ops); err != nil {
		return err
	}
	if ops.Eq != nil {
		f.Eq = *ops.Eq
	}
	if ops.Contains != nil {
		f.Contains = *ops.Contains
	}
	f.In = ops.In
	return nil
}

type searchIdentitiesBody struct {
	Limit          *int   `json:"limit"`
	Offset         *int   `json:"offset"`
	OrderBy        string `json:"orderBy"`
	OrderDirection string `json:"orderDirection"`
	Search         struct {
		Name *searchFilter `json:"name"`
		Role *searchFilter `json:"role"`
	} `json:"search"`
}

func (s *Server) searchIdentities(rq *request) (any, error) {
	var b searchIdentitiesBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	limit, offset := 50, 0
	if b.Limit != nil {
		if *b.Limit < 1 || *b.Limit > 100 {
			return nil, infisical.Invalid("limit", "limit must be between 1 and 100")
		}
		limit = *b.Limit
	}
	if b.Offset != nil {
		if *b.Offset < 0 {
			return nil, infisical.Invalid("offset", "offset must be ≥ 0")
		}
		offset = *b.Offset
	}
	desc, err := orderDirection("orderDirection", b.OrderDirection)
	if err != nil {
		return nil, err
	}
	in := infisical.ListIdentitiesInput{OrgID: rq.actor.OrgID, Limit: limit, Offset: offset, OrderBy: b.OrderBy, Desc: desc}
	if n := b.Search.Name; n != nil {
		in.NameEq, in.Search, in.NameIn = n.Eq, n.Contains, n.In
	}
	if r := b.Search.Role; r != nil {
		if r.Eq != "" {
			in.RoleIn = append(in.RoleIn, r.Eq)
		}
		in.RoleIn = append(in.RoleIn, r.In...)
	}
	list, total, err := s.eng.Identities.List(rq.ctx(), rq.actor, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"identities": toOrgIdentityMemberships(list), "totalCount": total}, nil
}

type updateIdentityBody struct {
	Name                *string         `json:"name"`
	Role                *string         `json:"role"`
	HasDeleteProtection *bool           `json:"hasDeleteProtection"`
	Metadata            *[]metadataBody `json:"metadata"`
}

func (s *Server) updateIdentity(rq *request) (any, error) {
	var b updateIdentityBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in := infisical.UpdateIdentityInput{Name: b.Name, Role: b.Role, HasDeleteProtection: b.HasDeleteProtection}
	if b.Metadata != nil {
		md := toMetadataInput(*b.Metadata)
		in.Metadata = &md
	}
	o, err := s.eng.Identities.Update(rq.ctx(), rq.actor, rq.path("identityId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"identity": toIdentityRow(o)}, nil
}

func (s *Server) deleteIdentity(rq *request) (any, error) {
	o, err := s.eng.Identities.Delete(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"identity": toIdentityRow(o)}, nil
}

type orgBrief struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

func (s *Server) identityDetails(rq *request) (any, error) {
	org, err := s.eng.Identities.Details(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityDetails": map[string]any{"organization": orgBrief{ID: org.ID, Name: org.Name, Slug: org.Slug}}}, nil
}

func (s *Server) identityProjectMemberships(rq *request) (any, error) {
	list, err := s.eng.Identities.ProjectMemberships(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMemberships": toIdentityMemberships(list)}, nil
}

func (s *Server) listOrgIdentityMemberships(rq *request) (any, error) {
	offset, err := rq.qint("offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := rq.qint("limit", 100, 1, 20000)
	if err != nil {
		return nil, err
	}
	orderBy := rq.query("orderBy")
	if orderBy != "" && orderBy != "name" && orderBy != "role" {
		return nil, infisical.Invalid("orderBy", "orderBy must be 'name' or 'role'")
	}
	desc, err := orderDirection("direction", rq.query("direction"))
	if err != nil {
		return nil, err
	}
	list, total, err := s.eng.Identities.List(rq.ctx(), rq.actor, infisical.ListIdentitiesInput{OrgID: rq.path("orgId"), Offset: offset,
		Limit: limit, OrderBy: orderBy, Desc: desc, Search: rq.query("textFilter")})
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMemberships": toOrgIdentityMemberships(list), "totalCount": total}, nil
}

// ---- project identity memberships -----------------------------------------------

type addIdentityMembershipBody struct {
	Roles []roleInputBody `json:"roles"`
	Role  string          `json:"role"`
}

func (s *Server) addIdentityMembership(rq *request) (any, error) {
	var b addIdentityMembershipBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	roles, err := toRoleAssignments(b.Roles)
	if err != nil {
		return nil, err
	}
	if b.Roles == nil {
		role := b.Role
		if role == "" {
			role = "no-access"
		}
		roles = []infisical.RoleAssignment{{Role: role}}
	}
	m, err := s.eng.Memberships.AddIdentity(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("identityId"), roles)
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMembership": toIdentityMembershipBrief(m)}, nil
}

type updateIdentityMembershipBody struct {
	Roles []roleInputBody `json:"roles"`
}

func (s *Server) updateIdentityMembership(rq *request) (any, error) {
	var b updateIdentityMembershipBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if len(b.Roles) == 0 {
		return nil, infisical.Invalid("roles", "roles must contain at least one role")
	}
	roles, err := toRoleAssignments(b.Roles)
	if err != nil {
		return nil, err
	}
	rows, err := s.eng.Memberships.SetIdentityRoles(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("identityId"), roles)
	if err != nil {
		return nil, err
	}
	out := make([]imRoleRowJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, imRoleRowJSON{ID: r.ID, Role: r.Role, ProjectMembershipID: r.MembershipID, CustomRoleID: r.CustomRoleID,
			IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
			TemporaryAccessStartTime: tsp(r.TemporaryAccessStartTime), TemporaryAccessEndTime: tsp(r.TemporaryAccessEndTime),
			CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt)})
	}
	return map[string]any{"roles": out}, nil
}

func (s *Server) deleteIdentityMembership(rq *request) (any, error) {
	m, err := s.eng.Memberships.RemoveIdentity(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMembership": toIdentityMembershipBrief(m)}, nil
}

func (s *Server) listIdentityMemberships(rq *request) (any, error) {
	offset, err := rq.qint("offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	limit, err := rq.qint("limit", 100, 1, 20000)
	if err != nil {
		return nil, err
	}
	if ob := rq.query("orderBy"); ob != "" && ob != "name" {
		return nil, infisical.Invalid("orderBy", "orderBy must be 'name'")
	}
	desc, err := orderDirection("orderDirection", rq.query("orderDirection"))
	if err != nil {
		return nil, err
	}
	list, total, err := s.eng.Memberships.ListIdentities(rq.ctx(), rq.actor, rq.path("projectId"), infisical.ListProjectIdentitiesInput{
		Search: rq.query("search"), Desc: desc, Offset: offset, Limit: limit})
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMemberships": toIdentityMemberships(list), "totalCount": total}, nil
}

func (s *Server) getIdentityMembership(rq *request) (any, error) {
	m, err := s.eng.Memberships.GetIdentity(rq.ctx(), rq.actor, rq.path("projectId"), rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMembership": toIdentityMembership(m)}, nil
}

func (s *Server) getIdentityMembershipByID(rq *request) (any, error) {
	m, err := s.eng.Memberships.GetIdentityMembership(rq.ctx(), rq.actor, rq.path("identityMembershipId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"identityMembership": toIdentityMembership(m)}, nil
}
