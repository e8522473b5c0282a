package api_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

type privilegeResp struct {
	Privilege struct {
		ID                       string     `json:"id"`
		Slug                     string     `json:"slug"`
		ProjectMembershipID      *string    `json:"projectMembershipId"`
		IdentityID               *string    `json:"identityId"`
		ProjectID                *string    `json:"projectId"`
		IsTemporary              bool       `json:"isTemporary"`
		TemporaryMode            *string    `json:"temporaryMode"`
		TemporaryRange           *string    `json:"temporaryRange"`
		TemporaryAccessStartTime *string    `json:"temporaryAccessStartTime"`
		TemporaryAccessEndTime   *string    `json:"temporaryAccessEndTime"`
		Permissions              []ruleJSON `json:"permissions"`
	} `json:"privilege"`
}

func TestIdentityPrivilegesAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		adm := boot.AdminToken
		pid := ts.createProject(adm, "Privileges API")
		var p struct {
			Workspace struct {
				Slug string `json:"slug"`
			} `json:"workspace"`
		}
		ts.must("GET", "/api/v1/workspace/"+pid, adm, nil, &p)
		slug := p.Workspace.Slug
		idID, _, _ := ts.uaIdentity(adm, boot.OrgID, "worker", pid, "no-access", nil)
		base := "/api/v1/additional-privilege/identity"
		v1Rules := []map[string]any{{"action": "read", "subject": "secrets", "conditions": map[string]any{"environment": "dev"}}}

		// Permanent, then temporary.
		var perm privilegeResp
		ts.must("POST", base+"/permanent", adm, map[string]any{"identityId": idID, "projectSlug": slug, "slug": "dev-read", "permissions": v1Rules}, &perm)
		pr := perm.Privilege
		if pr.Slug != "dev-read" || pr.IsTemporary || pr.ProjectMembershipID == nil || pr.TemporaryMode != nil {
			t.Fatalf("permanent: %+v", pr)
		}
		if s := subjects(pr.Permissions); !s["secrets"] || s["secret-imports"] || s["secret-folders"] || s["dynamic-secrets"] {
			t.Fatalf("V1 privilege view: %+v", pr.Permissions)
		}
		start := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05.000Z")
		var temp privilegeResp
		ts.must("POST", base+"/temporary", adm, map[string]any{"identityId": idID, "projectSlug": slug, "permissions": v1Rules,
			"temporaryMode": "relative", "temporaryRange": "2h", "temporaryAccessStartTime": start}, &temp)
		if !temp.Privilege.IsTemporary || *temp.Privilege.TemporaryRange != "2h" || len(temp.Privilege.Slug) != 12 || temp.Privilege.TemporaryAccessEndTime == nil {
			t.Fatalf("temporary: %+v", temp.Privilege)
		}
		for _, tc := range []struct {
			path string
			body map[string]any
			code int
		}{
			{base + "/temporary", map[string]any{"identityId": idID, "projectSlug": slug, "permissions": v1Rules, "temporaryMode": "relative", "temporaryRange": "0", "temporaryAccessStartTime": start}, 422},
			{base + "/temporary", map[string]any{"identityId": idID, "projectSlug": slug, "permissions": v1Rules, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": "yesterday"}, 422},
			{base + "/permanent", map[string]any{"projectSlug": slug, "permissions": v1Rules}, 422},
			{base + "/permanent", map[string]any{"identityId": idID, "permissions": v1Rules}, 422},
			{base + "/permanent", map[string]any{"identityId": idID, "projectSlug": slug, "slug": "dev-read", "permissions": v1Rules}, 400},
			{base + "/permanent", map[string]any{"identityId": idID, "projectSlug": "nope", "permissions": v1Rules}, 404},
		} {
			if code, raw, _ := ts.do("POST", tc.path, adm, tc.body); code != tc.code {
				t.Fatalf("%v: %d %s", tc.body, code, raw)
			}
		}
		// PATCH (JSON body selects the privilege), GET by slug, list, DELETE with a body.
		var upd privilegeResp
		ts.must("PATCH", base, adm, map[string]any{"privilegeSlug": "dev-read", "identityId": idID, "projectSlug": slug,
			"privilegeDetails": map[string]any{"slug": "dev-read-2", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "30m", "temporaryAccessStartTime": start}}, &upd)
		if upd.Privilege.Slug != "dev-read-2" || !upd.Privilege.IsTemporary {
			t.Fatalf("patch: %+v", upd.Privilege)
		}
		qs := url.Values{"identityId": {idID}, "projectSlug": {slug}}.Encode()
		var got privilegeResp
		ts.must("GET", base+"/dev-read-2?"+qs, adm, nil, &got)
		if got.Privilege.ID != pr.ID {
			t.Fatalf("get by slug: %+v", got.Privilege)
		}
		if code, _, _ := ts.do("GET", base+"/dev-read-2?projectSlug="+slug, adm, nil); code != 422 {
			t.Fatalf("get without identityId: %d", code)
		}
		var list struct {
			Privileges []map[string]any `json:"privileges"`
		}
		ts.must("GET", base+"?"+qs, adm, nil, &list)
		if len(list.Privileges) != 2 {
			t.Fatalf("list: %v", list.Privileges)
		}
		var del privilegeResp
		ts.must("DELETE", base, adm, map[string]any{"privilegeSlug": "dev-read-2", "identityId": idID, "projectSlug": slug}, &del)
		if code, _, _ := ts.do("GET", base+"/dev-read-2?"+qs, adm, nil); code != 404 {
			t.Fatalf("get deleted: %d", code)
		}

		// V2: id-addressed, V2 rules, "type" object.
		v2 := "/api/v2/identity-project-additional-privilege"
		var c2 privilegeResp
		ts.must("POST", v2, adm, map[string]any{"identityId": idID, "projectId": pid, "slug": "v2-priv",
			"permissions": []map[string]any{{"subject": "secret-folders", "action": []string{"read", "create"}}},
			"type":        map[string]any{"isTemporary": false}}, &c2)
		if *c2.Privilege.IdentityID != idID || *c2.Privilege.ProjectID != pid || c2.Privilege.ProjectMembershipID != nil || !subjects(c2.Privilege.Permissions)["secret-folders"] {
			t.Fatalf("v2 create: %+v", c2.Privilege)
		}
		if code, _, _ := ts.do("POST", v2, adm, map[string]any{"identityId": idID, "projectId": pid, "permissions": []any{}}); code != 422 {
			t.Fatalf("v2 without type: %d", code)
		}
		var u2 privilegeResp
		ts.must("PATCH", v2+"/"+c2.Privilege.ID, adm, map[string]any{"type": map[string]any{"isTemporary": true, "temporaryMode": "relative",
			"temporaryRange": "1d", "temporaryAccessStartTime": start}}, &u2)
		if !u2.Privilege.IsTemporary || *u2.Privilege.TemporaryRange != "1d" {
			t.Fatalf("v2 patch: %+v", u2.Privilege)
		}
		ts.must("GET", v2+"/"+c2.Privilege.ID, adm, nil, nil)
		ts.must("GET", v2+"/slug/v2-priv?"+qs, adm, nil, nil)
		var l2 struct {
			Privileges []map[string]any `json:"privileges"`
		}
		ts.must("GET", v2+"?identityId="+idID+"&projectId="+pid, adm, nil, &l2)
		if len(l2.Privileges) != 2 {
			t.Fatalf("v2 list: %v", l2.Privileges)
		}
		if _, ok := l2.Privileges[0]["permissions"]; ok {
			t.Fatal("v2 list items carry permissions")
		}
		ts.must("DELETE", v2+"/"+c2.Privilege.ID, adm, nil, nil)
		if code, _, _ := ts.do("GET", v2+"/"+c2.Privilege.ID, adm, nil); code != 404 {
			t.Fatalf("v2 get deleted: %d", code)
		}
	})
}
