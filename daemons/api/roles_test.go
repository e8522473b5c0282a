package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

type ruleJSON struct {
	Subject    string         `json:"subject"`
	Action     []string       `json:"action"`
	Conditions map[string]any `json:"conditions"`
	Inverted   bool           `json:"inverted"`
}

type roleResp struct {
	Role struct {
		ID          string     `json:"id"`
		Name        string     `json:"name"`
		Description *string    `json:"description"`
		Slug        string     `json:"slug"`
		Permissions []ruleJSON `json:"permissions"`
		ProjectID   string     `json:"projectId"`
		OrgID       string     `json:"orgId"`
		CreatedAt   string     `json:"createdAt"`
	} `json:"role"`
}

func subjects(rules []ruleJSON) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		out[r.Subject] = true
	}
	return out
}

func TestProjectRolesAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		adm := boot.AdminToken
		pid := ts.createProject(adm, "Roles API")
		var p struct {
			Workspace struct {
				Slug string `json:"slug"`
			} `json:"workspace"`
		}
		ts.must("GET", "/api/v1/workspace/"+pid, adm, nil, &p)
		v1 := "/api/v1/workspace/" + p.Workspace.Slug + "/roles"

		// V1 in, V1 view out; the stored form is V2 with Infisical's backfill.
		var created roleResp
		ts.must("POST", v1, adm, map[string]any{"slug": "dev-writer", "name": "Dev writer", "description": "writes dev",
			"permissions": []map[string]any{
				{"action": "read", "subject": "secrets", "conditions": map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/**"}}},
				{"action": "edit", "subject": "secrets", "conditions": map[string]any{"environment": "dev"}},
			}}, &created)
		r := created.Role
		if r.Slug != "dev-writer" || r.ProjectID != pid || *r.Description != "writes dev" || len(r.CreatedAt) != 24 {
			t.Fatalf("created %+v", r)
		}
		if s := subjects(r.Permissions); s["secret-imports"] || s["dynamic-secrets"] || !s["secrets"] {
			t.Fatalf("V1 view: %+v", r.Permissions)
		}
		var v2 roleResp
		ts.must("GET", "/api/v2/workspace/"+pid+"/roles/slug/dev-writer", adm, nil, &v2)
		if s := subjects(v2.Role.Permissions); !s["secret-imports"] || !s["dynamic-secrets"] || !s["secret-folders"] {
			t.Fatalf("V2 view lacks the backfilled rules: %+v", v2.Role.Permissions)
		}
		// A V1 route also takes V2 rules as newer clients send them.
		ts.must("POST", v1, adm, map[string]any{"slug": "v2-on-v1", "name": "x",
			"permissions": []map[string]any{{"action": []string{"read"}, "subject": "secrets"}}}, nil)

		// Lists carry no permissions and start with the predefined roles.
		var list struct {
			Roles []map[string]any `json:"roles"`
		}
		ts.must("GET", "/api/v1/projects/"+pid+"/roles", adm, nil, &list)
		if len(list.Roles) != 6 || list.Roles[0]["slug"] != "admin" || list.Roles[1]["name"] != "Developer" {
			t.Fatalf("list: %+v", list.Roles)
		}
		if _, ok := list.Roles[0]["permissions"]; ok {
			t.Fatal("list items carry permissions")
		}
		var builtin roleResp
		ts.must("GET", v1+"/slug/viewer", adm, nil, &builtin)
		if builtin.Role.Slug != "viewer" || len(builtin.Role.Permissions) == 0 {
			t.Fatalf("predefined viewer: %+v", builtin.Role)
		}

		// Validation: reserved slug, bad rules (422 naming the field), duplicate (400).
		for _, tc := range []struct {
			body map[string]any
			code int
		}{
			{map[string]any{"slug": "admin", "name": "x", "permissions": []any{}}, 422},
			{map[string]any{"slug": "ok", "name": "x"}, 422},
			{map[string]any{"slug": "ok", "name": "x", "permissions": []map[string]any{{"action": "fly", "subject": "secrets"}}}, 422},
			{map[string]any{"slug": "ok", "name": "x", "permissions": "all"}, 422},
			{map[string]any{"slug": "dev-writer", "name": "x", "permissions": []any{}}, 400},
		} {
			code, raw, _ := ts.do("POST", "/api/v2/workspace/"+pid+"/roles", adm, tc.body)
			if code != tc.code {
				t.Fatalf("%v: %d %s", tc.body, code, raw)
			}
			if code == 422 {
				var e struct {
					Message []map[string]any `json:"message"`
				}
				if err := json.Unmarshal(raw, &e); err != nil || len(e.Message) == 0 {
					t.Fatalf("422 message is not an issue array: %s", raw)
				}
			}
		}

		// PATCH: description null clears it; DELETE of an assigned role is refused.
		var upd roleResp
		ts.must("PATCH", "/api/v2/workspace/"+pid+"/roles/"+r.ID, adm, map[string]any{"name": "Renamed", "description": nil}, &upd)
		if upd.Role.Name != "Renamed" || upd.Role.Description != nil {
			t.Fatalf("patch: %+v", upd.Role)
		}
		identityID, _, _ := ts.uaIdentity(adm, boot.OrgID, "holder", pid, "dev-writer", nil)
		if code, raw, _ := ts.do("DELETE", v1+"/"+r.ID, adm, nil); code != 400 {
			t.Fatalf("delete assigned role: %d %s", code, raw)
		}
		var im struct {
			M struct {
				Roles []map[string]any `json:"roles"`
			} `json:"identityMembership"`
		}
		ts.must("GET", "/api/v2/workspace/"+pid+"/identity-memberships/"+identityID, adm, nil, &im)
		if im.M.Roles[0]["role"] != "custom" || im.M.Roles[0]["customRoleSlug"] != "dev-writer" || im.M.Roles[0]["customRoleName"] != "Renamed" {
			t.Fatalf("membership roles: %+v", im.M.Roles)
		}

		// A denial names the rules that applied (403 PermissionDenied with details).
		_, tok := enginetest.IdentityToken(t, ts.eng, boot.OrgID, "member", pid, "dev-writer")
		code, raw, _ := ts.do("GET", "/api/v3/secrets/raw?workspaceId="+pid+"&environment=prod&secretPath=/", tok, nil)
		var denied struct {
			Error   string     `json:"error"`
			Message string     `json:"message"`
			Details []ruleJSON `json:"details"`
		}
		if err := json.Unmarshal(raw, &denied); err != nil || code != http.StatusForbidden || denied.Error != "PermissionDenied" {
			t.Fatalf("prod read: %d %s", code, raw)
		}
		if len(denied.Details) == 0 || denied.Details[0].Subject != "secrets" || denied.Details[0].Conditions["environment"] != "dev" {
			t.Fatalf("details do not carry the applying rules: %s", raw)
		}
		// Escalation: a role editor cannot create a role beyond its own rules.
		ts.must("POST", "/api/v2/workspace/"+pid+"/roles", adm, map[string]any{"slug": "role-editor", "name": "Role editor",
			"permissions": []map[string]any{{"subject": "role", "action": []string{"read", "create"}}, {"subject": "secrets", "action": []string{"read"}, "conditions": map[string]any{"environment": "dev"}}}}, nil)
		_, etok := enginetest.IdentityToken(t, ts.eng, boot.OrgID, "member", pid, "role-editor")
		code, raw, _ = ts.do("POST", "/api/v2/workspace/"+pid+"/roles", etok, map[string]any{"slug": "everything", "name": "x",
			"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}}}})
		var be struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &be)
		if code != 403 || be.Error != "PermissionBoundaryError" {
			t.Fatalf("escalating role: %d %s", code, raw)
		}
		ts.must("POST", "/api/v2/workspace/"+pid+"/roles", etok, map[string]any{"slug": "dev-only", "name": "x",
			"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}, "conditions": map[string]any{"environment": "dev", "secretPath": "/a"}}}}, nil)
	})
}

func TestOrgRolesAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		adm := boot.AdminToken
		base := "/api/v1/organization/" + boot.OrgID + "/roles"
		var created roleResp
		ts.must("POST", base, adm, map[string]any{"slug": "reader", "name": "Reader", "permissions": []map[string]any{{"subject": "identity", "action": []string{"read"}}}}, &created)
		if created.Role.OrgID != boot.OrgID || created.Role.Slug != "reader" {
			t.Fatalf("created %+v", created.Role)
		}
		var list struct {
			Data struct {
				Roles []map[string]any `json:"roles"`
			} `json:"data"`
		}
		ts.must("GET", base, adm, nil, &list)
		if len(list.Data.Roles) != 4 || list.Data.Roles[3]["slug"] != "reader" {
			t.Fatalf("list: %+v", list.Data.Roles)
		}
		ts.must("GET", base+"/"+created.Role.ID, adm, nil, nil)
		if code, _, _ := ts.do("POST", base, adm, map[string]any{"slug": "owner", "name": "x", "permissions": []any{}}); code != 422 {
			t.Fatalf("reserved org slug: %d", code)
		}
		// Assigned to an identity as "role": shown as custom with roleId and customRole.
		var ident struct {
			Identity struct {
				ID string `json:"id"`
			} `json:"identity"`
		}
		ts.must("POST", "/api/v1/identities", adm, map[string]any{"name": "r", "organizationId": boot.OrgID, "role": "reader"}, &ident)
		var got struct {
			Identity struct {
				Role       string  `json:"role"`
				RoleID     *string `json:"roleId"`
				CustomRole *struct {
					ID          string     `json:"id"`
					Slug        string     `json:"slug"`
					Permissions []ruleJSON `json:"permissions"`
				} `json:"customRole"`
			} `json:"identity"`
		}
		ts.must("GET", "/api/v1/identities/"+ident.Identity.ID, adm, nil, &got)
		if got.Identity.Role != "custom" || got.Identity.RoleID == nil || *got.Identity.RoleID != created.Role.ID ||
			got.Identity.CustomRole == nil || got.Identity.CustomRole.Slug != "reader" || len(got.Identity.CustomRole.Permissions) != 1 {
			t.Fatalf("identity with custom org role: %+v", got.Identity)
		}
		if code, _, _ := ts.do("DELETE", base+"/"+created.Role.ID, adm, nil); code != 400 {
			t.Fatalf("delete held org role: %d", code)
		}
	})
}
