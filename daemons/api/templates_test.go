package api_test

import (
	"encoding/json"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestProjectTemplatesAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		adm := boot.AdminToken
		base := "/api/v1/project-templates"
		var list struct {
			T []map[string]any `json:"projectTemplates"`
		}
		ts.must("GET", base, adm, nil, &list)
		if len(list.T) != 1 || list.T[0]["name"] != "default" || list.T[0]["users"] != nil || len(list.T[0]["environments"].([]any)) != 3 {
			t.Fatalf("default template: %v", list.T)
		}
		ciID, _, _ := ts.uaIdentity(adm, boot.OrgID, "ci", "", "", nil)
		var created struct {
			T map[string]any `json:"projectTemplate"`
		}
		ts.must("POST", base, adm, map[string]any{"name": "backend", "description": "services", "type": "secret-manager",
			"roles":        []map[string]any{{"name": "Reader", "slug": "reader", "permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}}}}},
			"environments": []map[string]any{{"name": "Development", "slug": "development", "position": 1}, {"name": "Live", "slug": "live", "position": 2}},
			"identities":   []map[string]any{{"identityId": ciID, "roles": []string{"reader"}}},
		}, &created)
		tm := created.T
		for _, k := range []string{"id", "name", "description", "type", "orgId", "createdAt", "updatedAt", "roles", "environments", "users", "groups", "identities", "projectManagedIdentities"} {
			if _, ok := tm[k]; !ok {
				t.Fatalf("template lacks %s: %v", k, tm)
			}
		}
		ids := tm["identities"].([]any)
		if ids[0].(map[string]any)["identityName"] != "ci" || len(tm["users"].([]any)) != 0 {
			t.Fatalf("created: %v", tm)
		}
		tid := tm["id"].(string)
		for _, body := range []map[string]any{
			{"name": "default", "type": "secret-manager"},
			{"name": "x1", "type": "nope"},
			{"name": "x2", "type": "secret-manager", "environments": []map[string]any{{"name": "A", "slug": "a", "position": 2}}},
			{"name": "x3", "type": "secret-manager", "users": []map[string]any{{"username": "u", "roles": []string{"ghost"}}}},
			{"name": "x4", "type": "secret-manager", "roles": []map[string]any{{"name": "Z", "slug": "z", "permissions": []map[string]any{{"subject": "nope", "action": []string{"read"}}}}}},
			{"name": "Not A Slug", "type": "secret-manager"},
		} {
			code, raw, _ := ts.do("POST", base, adm, body)
			if code != 422 {
				t.Fatalf("%v: %d %s", body, code, raw)
			}
		}
		if code, _, _ := ts.do("GET", base+"/not-a-uuid", adm, nil); code != 422 {
			t.Fatalf("bad id: %d", code)
		}

		// Applied by POST /api/v2/workspace with "template".
		var proj struct {
			Project struct {
				ID           string           `json:"id"`
				Environments []map[string]any `json:"environments"`
			} `json:"project"`
		}
		ts.must("POST", "/api/v2/workspace", adm, map[string]any{"projectName": "From template", "template": "backend"}, &proj)
		if len(proj.Project.Environments) != 2 || proj.Project.Environments[1]["slug"] != "live" {
			t.Fatalf("environments: %v", proj.Project.Environments)
		}
		ts.must("GET", "/api/v2/workspace/"+proj.Project.ID+"/roles/slug/reader", adm, nil, nil)
		var im struct {
			M struct {
				Roles []map[string]any `json:"roles"`
			} `json:"identityMembership"`
		}
		ts.must("GET", "/api/v2/workspace/"+proj.Project.ID+"/identity-memberships/"+ciID, adm, nil, &im)
		if im.M.Roles[0]["customRoleSlug"] != "reader" {
			t.Fatalf("template identity membership: %v", im.M.Roles)
		}
		if code, _, _ := ts.do("POST", "/api/v2/workspace", adm, map[string]any{"projectName": "Nope", "template": "missing"}); code != 404 {
			t.Fatalf("unknown template: %d", code)
		}

		// PATCH: null clears a list; the default template is read-only.
		var upd struct {
			T map[string]any `json:"projectTemplate"`
		}
		ts.must("PATCH", base+"/"+tid, adm, map[string]any{"environments": nil, "identities": nil}, &upd)
		if upd.T["environments"] != nil || upd.T["identities"] != nil || len(upd.T["roles"].([]any)) != 1 {
			t.Fatalf("patch: %v", upd.T)
		}
		code, raw, _ := ts.do("PATCH", base+"/"+list.T[0]["id"].(string), adm, map[string]any{"description": "x"})
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || code != 400 {
			t.Fatalf("patch default: %d %s", code, raw)
		}
		ts.must("GET", base+"?type=secret-manager", adm, nil, &list)
		if len(list.T) != 2 {
			t.Fatalf("list by type: %d", len(list.T))
		}
		ts.must("DELETE", base+"/"+tid, adm, nil, nil)
		if code, _, _ := ts.do("GET", base+"/"+tid, adm, nil); code != 404 {
			t.Fatalf("get deleted: %d", code)
		}
	})
}
