package api_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// idWantError checks status, error name and (for 422) that the issue
// array names field.
func idWantError(t *testing.T, what string, code int, raw []byte, wantCode int, wantName, wantField string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: status %d, want %d: %s", what, code, wantCode, raw)
	}
	var body struct {
		ReqID      string          `json:"reqId"`
		StatusCode int             `json:"statusCode"`
		Error      string          `json:"error"`
		Message    json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: error body: %v: %s", what, err, raw)
	}
	if body.StatusCode != wantCode || (wantName != "" && body.Error != wantName) || !strings.HasPrefix(body.ReqID, "req-") {
		t.Fatalf("%s: body %s", what, raw)
	}
	if wantField != "" {
		var issues []struct {
			Path []string `json:"path"`
		}
		if err := json.Unmarshal(body.Message, &issues); err != nil || len(issues) == 0 || issues[0].Path[0] != wantField {
			t.Fatalf("%s: 422 message does not name %q: %s", what, wantField, raw)
		}
	}
}

// idKeys returns the sorted keys of a JSON object.
func idKeys(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func idWantKeys(t *testing.T, what string, raw json.RawMessage, want ...string) {
	t.Helper()
	got := "," + idKeys(t, raw) + ","
	for _, k := range want {
		if !strings.Contains(got, ","+k+",") {
			t.Fatalf("%s: key %q missing in %s", what, k, raw)
		}
	}
}

func TestIdentityRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		admin := boot.AdminToken

		code, raw, _ := ts.do("POST", "/api/v1/identities", admin, map[string]any{"organizationId": boot.OrgID})
		idWantError(t, "create without name", code, raw, 422, "ValidationFailure", "name")
		code, raw, _ = ts.do("POST", "/api/v1/identities", admin, map[string]any{"name": "x", "organizationId": boot.OrgID, "hasDeleteProtection": "yes"})
		idWantError(t, "create wrong type", code, raw, 422, "ValidationFailure", "hasDeleteProtection")
		code, raw, _ = ts.do("POST", "/api/v1/identities", "", map[string]any{"name": "x", "organizationId": boot.OrgID})
		idWantError(t, "create unauthenticated", code, raw, 401, "UnauthorizedError", "")

		var created struct {
			Identity json.RawMessage `json:"identity"`
		}
		ts.must("POST", "/api/v1/identities", admin, map[string]any{"name": "ci", "organizationId": boot.OrgID, "role": "member",
			"metadata": []map[string]string{{"key": "team", "value": "core"}}}, &created)
		if k := idKeys(t, created.Identity); k != "authMethod,authMethods,createdAt,hasDeleteProtection,id,name,orgId,projectId,updatedAt" {
			t.Fatalf("identity row keys %s", k)
		}
		var row struct {
			ID          string   `json:"id"`
			AuthMethods []string `json:"authMethods"`
			AuthMethod  *string  `json:"authMethod"`
			OrgID       string   `json:"orgId"`
		}
		_ = json.Unmarshal(created.Identity, &row)
		if row.AuthMethods == nil || len(row.AuthMethods) != 0 || row.AuthMethod != nil || row.OrgID != boot.OrgID {
			t.Fatalf("created %s", created.Identity)
		}
		id := row.ID

		var got struct {
			Identity json.RawMessage `json:"identity"`
		}
		ts.must("GET", "/api/v1/identities/"+id, admin, nil, &got)
		idWantKeys(t, "org identity membership", got.Identity, "id", "role", "roleId", "orgId", "identityId", "createdAt", "updatedAt",
			"lastLoginAuthMethod", "lastLoginTime", "identity", "metadata")
		var m struct {
			Role     string `json:"role"`
			Identity struct {
				ID          string   `json:"id"`
				Name        string   `json:"name"`
				AuthMethods []string `json:"authMethods"`
			} `json:"identity"`
			Metadata []struct{ ID, Key, Value string } `json:"metadata"`
		}
		_ = json.Unmarshal(got.Identity, &m)
		if m.Role != "member" || m.Identity.ID != id || m.Identity.Name != "ci" || len(m.Metadata) != 1 || m.Metadata[0].Key != "team" {
			t.Fatalf("get %s", got.Identity)
		}

		var list struct {
			Identities []json.RawMessage `json:"identities"`
			TotalCount int               `json:"totalCount"`
		}
		ts.must("GET", "/api/v1/identities?orgId="+boot.OrgID, admin, nil, &list)
		if list.TotalCount != 2 || len(list.Identities) != 2 {
			t.Fatalf("list %d", list.TotalCount)
		}
		code, raw, _ = ts.do("GET", "/api/v1/identities", admin, nil)
		idWantError(t, "list without orgId", code, raw, 422, "ValidationFailure", "orgId")

		var search struct {
			Identities []struct {
				Identity struct{ Name string } `json:"identity"`
			} `json:"identities"`
			TotalCount int `json:"totalCount"`
		}
		ts.must("POST", "/api/v1/identities/search", admin, map[string]any{"search": map[string]any{"name": map[string]any{"$contains": "Instance"}}}, &search)
		if search.TotalCount != 1 || search.Identities[0].Identity.Name != "Instance Admin Identity" {
			t.Fatalf("search contains %+v", search)
		}
		ts.must("POST", "/api/v1/identities/search", admin, map[string]any{"search": map[string]any{"role": "member"}}, &search)
		if search.TotalCount != 1 || search.Identities[0].Identity.Name != "ci" {
			t.Fatalf("search role %+v", search)
		}
		ts.must("POST", "/api/v1/identities/search", admin, map[string]any{"limit": 1, "orderDirection": "desc"}, &search)
		if search.TotalCount != 2 || len(search.Identities) != 1 || search.Identities[0].Identity.Name != "Instance Admin Identity" {
			t.Fatalf("search page %+v", search)
		}
		code, raw, _ = ts.do("POST", "/api/v1/identities/search", admin, map[string]any{"limit": 101})
		idWantError(t, "search limit", code, raw, 422, "ValidationFailure", "limit")

		var oim struct {
			IdentityMemberships []struct {
				Identity struct {
					Name       string  `json:"name"`
					AuthMethod *string `json:"authMethod"`
				} `json:"identity"`
			} `json:"identityMemberships"`
			TotalCount int `json:"totalCount"`
		}
		ts.must("GET", "/api/v2/organizations/"+boot.OrgID+"/identity-memberships?textFilter=ci&limit=10&direction=asc", admin, nil, &oim)
		if oim.TotalCount != 1 || oim.IdentityMemberships[0].Identity.Name != "ci" {
			t.Fatalf("org identity memberships %+v", oim)
		}
		ts.must("GET", "/api/v2/organizations/"+boot.OrgID+"/identity-memberships?orderBy=name&direction=desc", admin, nil, &oim)
		if oim.TotalCount != 2 || oim.IdentityMemberships[0].Identity.Name != "Instance Admin Identity" ||
			oim.IdentityMemberships[0].Identity.AuthMethod == nil || *oim.IdentityMemberships[0].Identity.AuthMethod != "token-auth" {
			t.Fatalf("org identity memberships desc %+v", oim)
		}
		code, raw, _ = ts.do("GET", "/api/v2/organizations/"+boot.OrgID+"/identity-memberships?direction=up", admin, nil)
		idWantError(t, "bad direction", code, raw, 422, "ValidationFailure", "direction")

		var upd struct {
			Identity struct {
				Name                string `json:"name"`
				HasDeleteProtection bool   `json:"hasDeleteProtection"`
			} `json:"identity"`
		}
		ts.must("PATCH", "/api/v1/identities/"+id, admin, map[string]any{"name": "ci-2", "hasDeleteProtection": true, "metadata": []any{}}, &upd)
		if upd.Identity.Name != "ci-2" || !upd.Identity.HasDeleteProtection {
			t.Fatalf("update %+v", upd)
		}
		code, raw, _ = ts.do("DELETE", "/api/v1/identities/"+id, admin, nil)
		idWantError(t, "delete protected", code, raw, 400, "BadRequest", "")
		ts.must("PATCH", "/api/v1/identities/"+id, admin, map[string]any{"hasDeleteProtection": false}, nil)
		ts.must("DELETE", "/api/v1/identities/"+id, admin, nil, nil)
		code, raw, _ = ts.do("GET", "/api/v1/identities/"+id, admin, nil)
		idWantError(t, "get deleted", code, raw, 404, "NotFound", "")

		var det struct {
			IdentityDetails struct {
				Organization struct{ ID, Name, Slug string } `json:"organization"`
			} `json:"identityDetails"`
		}
		ts.must("GET", "/api/v1/identities/details", admin, nil, &det)
		if det.IdentityDetails.Organization.ID != boot.OrgID || det.IdentityDetails.Organization.Name != "Acme" || det.IdentityDetails.Organization.Slug == "" {
			t.Fatalf("details %+v", det)
		}
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", "", nil)
		idWantError(t, "details without token", code, raw, 401, "", "")
	})
}

func TestIdentityMembershipRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		admin := boot.AdminToken
		pid := ts.createProject(admin, "Backend")
		id, clientID, secret := ts.uaIdentity(admin, boot.OrgID, "reader", "", "", nil)
		var login struct {
			AccessToken string `json:"accessToken"`
		}
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": secret}, &login)
		tok := login.AccessToken
		base := "/api/v2/workspace/" + pid + "/identity-memberships/"

		code, raw, _ := ts.do("GET", "/api/v1/workspace/"+pid, tok, nil)
		idWantError(t, "non-member reads project", code, raw, 403, "PermissionDenied", "")

		var added struct {
			IdentityMembership json.RawMessage `json:"identityMembership"`
		}
		ts.must("POST", base+id, admin, map[string]any{"role": "viewer"}, &added)
		if k := idKeys(t, added.IdentityMembership); k != "createdAt,id,identityId,projectId,updatedAt" {
			t.Fatalf("membership keys %s", k)
		}
		var brief struct{ ID string }
		_ = json.Unmarshal(added.IdentityMembership, &brief)
		code, raw, _ = ts.do("POST", base+id, admin, map[string]any{"role": "viewer"})
		idWantError(t, "duplicate", code, raw, 400, "BadRequest", "")

		// viewer: reads, does not write.
		ts.must("GET", "/api/v1/workspace/"+pid, tok, nil, nil)
		code, raw, _ = ts.do("PATCH", "/api/v1/workspace/"+pid, tok, map[string]any{"name": "x"})
		idWantError(t, "viewer writes", code, raw, 403, "PermissionDenied", "")
		// The viewer cannot add itself as admin.
		code, raw, _ = ts.do("PATCH", base+id, tok, map[string]any{"roles": []map[string]any{{"role": "admin", "isTemporary": false}}})
		idWantError(t, "viewer escalates", code, raw, 403, "PermissionDenied", "")

		var roles struct {
			Roles []json.RawMessage `json:"roles"`
		}
		ts.must("PATCH", base+id, admin, map[string]any{"roles": []map[string]any{{"role": "member", "isTemporary": false},
			{"role": "admin", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": "2020-01-01T00:00:00.000Z"}}}, &roles)
		if len(roles.Roles) != 2 {
			t.Fatalf("roles %d", len(roles.Roles))
		}
		idWantKeys(t, "role row", roles.Roles[1], "id", "role", "projectMembershipId", "customRoleId", "isTemporary", "temporaryMode",
			"temporaryRange", "temporaryAccessStartTime", "temporaryAccessEndTime", "createdAt", "updatedAt")
		// member may rename? no: settings edit is admin-only, and the temporary admin grant expired in 2020.
		code, raw, _ = ts.do("PATCH", "/api/v1/workspace/"+pid, tok, map[string]any{"name": "x"})
		idWantError(t, "member writes settings", code, raw, 403, "PermissionDenied", "")
		ts.must("PATCH", base+id, admin, map[string]any{"roles": []map[string]any{{"role": "admin"}}}, nil)
		ts.must("PATCH", "/api/v1/workspace/"+pid, tok, map[string]any{"name": "Renamed"}, nil)

		for _, tc := range []struct {
			name  string
			body  any
			code  int
			field string
		}{
			{"no roles", map[string]any{"roles": []any{}}, 422, "roles"},
			{"bad start", map[string]any{"roles": []map[string]any{{"role": "viewer"}, {"role": "admin", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": "yesterday"}}}, 422, "roles"},
			{"only temporary", map[string]any{"roles": []map[string]any{{"role": "admin", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": "2030-01-01T00:00:00Z"}}}, 422, "roles"},
			{"unknown role", map[string]any{"roles": []map[string]any{{"role": "wizard"}}}, 404, ""},
		} {
			code, raw, _ := ts.do("PATCH", base+id, admin, tc.body)
			idWantError(t, tc.name, code, raw, tc.code, "", tc.field)
		}

		var list struct {
			IdentityMemberships []json.RawMessage `json:"identityMemberships"`
			TotalCount          int               `json:"totalCount"`
		}
		// The creator of the project (the bootstrap identity) is a member too.
		ts.must("GET", "/api/v2/workspace/"+pid+"/identity-memberships?offset=0&limit=10&orderBy=name&orderDirection=asc", admin, nil, &list)
		if list.TotalCount != 2 || len(list.IdentityMemberships) != 2 {
			t.Fatalf("list %d", list.TotalCount)
		}
		ts.must("GET", "/api/v2/workspace/"+pid+"/identity-memberships?offset=1&limit=1&orderDirection=desc", admin, nil, &list)
		if list.TotalCount != 2 || len(list.IdentityMemberships) != 1 {
			t.Fatalf("list page %d", list.TotalCount)
		}
		ts.must("GET", "/api/v2/workspace/"+pid+"/identity-memberships?search=READ", admin, nil, &list)
		if list.TotalCount != 1 || len(list.IdentityMemberships) != 1 {
			t.Fatalf("list %d", list.TotalCount)
		}
		idWantKeys(t, "list item", list.IdentityMemberships[0], "id", "identityId", "createdAt", "updatedAt", "roles", "identity", "project")
		var item struct {
			Roles    []json.RawMessage `json:"roles"`
			Identity struct {
				Name        string   `json:"name"`
				AuthMethods []string `json:"authMethods"`
			} `json:"identity"`
			Project struct{ ID, Name string } `json:"project"`
		}
		_ = json.Unmarshal(list.IdentityMemberships[0], &item)
		if item.Identity.Name != "reader" || len(item.Identity.AuthMethods) != 1 || item.Project.ID != pid || item.Project.Name != "Renamed" || len(item.Roles) != 1 {
			t.Fatalf("item %s", list.IdentityMemberships[0])
		}
		idWantKeys(t, "membership role", item.Roles[0], "id", "role", "customRoleId", "customRoleName", "customRoleSlug", "isTemporary",
			"temporaryMode", "temporaryRange", "temporaryAccessStartTime", "temporaryAccessEndTime")
		ts.must("GET", "/api/v2/workspace/"+pid+"/identity-memberships?search=nobody", admin, nil, &list)
		if list.TotalCount != 0 || list.IdentityMemberships == nil {
			t.Fatalf("search %+v", list)
		}
		code, raw, _ = ts.do("GET", "/api/v2/workspace/"+pid+"/identity-memberships?limit=0", admin, nil)
		idWantError(t, "limit 0", code, raw, 422, "ValidationFailure", "limit")

		var one struct {
			IdentityMembership struct {
				ID         string `json:"id"`
				IdentityID string `json:"identityId"`
			} `json:"identityMembership"`
		}
		ts.must("GET", base+id, admin, nil, &one)
		if one.IdentityMembership.ID != brief.ID {
			t.Fatalf("get %+v", one)
		}
		ts.must("GET", "/api/v2/workspace/identity-memberships/"+brief.ID, admin, nil, &one)
		if one.IdentityMembership.IdentityID != id {
			t.Fatalf("get by id %+v", one)
		}
		var memberships struct {
			IdentityMemberships []struct {
				Project struct{ ID, Type string } `json:"project"`
			} `json:"identityMemberships"`
		}
		ts.must("GET", "/api/v1/identities/"+id+"/identity-memberships", admin, nil, &memberships)
		if len(memberships.IdentityMemberships) != 1 || memberships.IdentityMemberships[0].Project.Type != "secret-manager" {
			t.Fatalf("identity memberships %+v", memberships)
		}

		ts.must("DELETE", base+id, admin, nil, &added)
		code, raw, _ = ts.do("GET", "/api/v1/workspace/"+pid, tok, nil)
		idWantError(t, "removed member reads", code, raw, 403, "PermissionDenied", "")
		code, raw, _ = ts.do("DELETE", base+id, admin, nil)
		idWantError(t, "delete twice", code, raw, 404, "NotFound", "")
		code, raw, _ = ts.do("GET", "/api/v2/workspace/identity-memberships/"+brief.ID, admin, nil)
		idWantError(t, "get removed by id", code, raw, http.StatusNotFound, "NotFound", "")
	})
}
