package api_test

import (
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// usrMembershipID finds the org membership of email in a list response.
func usrMembershipID(t *testing.T, list []any, email string) string {
	t.Helper()
	for _, m := range list {
		mm := m.(map[string]any)
		if mm["user"].(map[string]any)["email"] == email {
			return mm["id"].(string)
		}
	}
	t.Fatalf("no membership of %s in %v", email, list)
	return ""
}

func TestOrgMembershipsHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, usrFast)
		orgID, admin := ts.usrAdmin()
		pid := ts.createProject(admin, "Memberships")
		ts.usrInvite(admin, orgID, "bob@example.com", "bob-password", pid, "member")
		ts.usrInvite(admin, orgID, "carol@example.com", "carol-password", pid, "member")
		bob := ts.usrLogin("bob@example.com", "bob-password", orgID)
		carol := ts.usrLogin("carol@example.com", "carol-password", orgID)
		base := "/api/v2/organizations/" + orgID + "/memberships"

		list := ts.usrStatus(200, "GET", base, admin, nil)["users"].([]any)
		if len(list) != 3 {
			t.Fatalf("memberships %v", list)
		}
		for _, m := range list {
			mm := m.(map[string]any)
			for _, k := range []string{"id", "orgId", "role", "roleId", "status", "isActive", "userId", "inviteEmail", "user"} {
				if _, ok := mm[k]; !ok {
					t.Fatalf("membership lacks %s: %v", k, mm)
				}
			}
			if _, ok := mm["createdAt"]; ok {
				t.Fatalf("list entries carry no timestamps: %v", mm)
			}
			if mm["status"] != "accepted" || mm["orgId"] != orgID {
				t.Fatalf("membership %v", mm)
			}
			u := mm["user"].(map[string]any)
			for _, k := range []string{"id", "username", "email", "isEmailVerified", "firstName", "lastName", "publicKey"} {
				if _, ok := u[k]; !ok {
					t.Fatalf("membership user lacks %s: %v", k, u)
				}
			}
		}
		carolMID := usrMembershipID(t, list, "carol@example.com")
		adminMID := usrMembershipID(t, list, "admin@example.com")
		// Members read but do not manage memberships.
		ts.usrStatus(200, "GET", base, bob, nil)
		if body := ts.usrStatus(403, "PATCH", base+"/"+carolMID, bob, map[string]any{"role": "admin"}); body["error"] != "PermissionDenied" {
			t.Fatalf("member patches: %v", body)
		}
		ts.usrStatus(403, "DELETE", base+"/"+carolMID, bob, nil)
		// Another organization's membership ids are not found.
		ts.usrStatus(404, "GET", base+"/00000000-0000-0000-0000-000000000000", admin, nil)
		ts.usrStatus(403, "GET", "/api/v2/organizations/00000000-0000-0000-0000-000000000000/memberships", admin, nil)

		upd := ts.usrStatus(200, "PATCH", base+"/"+carolMID, admin, map[string]any{"role": "no-access",
			"metadata": []map[string]string{{"key": "team", "value": "blue"}}})["membership"].(map[string]any)
		if upd["role"] != "no-access" || upd["createdAt"] == nil || upd["userId"] == nil {
			t.Fatalf("updated %v", upd)
		}
		got := ts.usrStatus(200, "GET", base+"/"+carolMID, admin, nil)["membership"].(map[string]any)
		md := got["metadata"].([]any)
		if got["role"] != "no-access" || len(md) != 1 || md[0].(map[string]any)["key"] != "team" || md[0].(map[string]any)["value"] != "blue" {
			t.Fatalf("membership %v", got)
		}
		if body := ts.usrStatus(404, "PATCH", base+"/"+carolMID, admin, map[string]any{"role": "superuser"}); body["error"] != "NotFound" {
			t.Fatalf("unknown role: %v", body)
		}
		ts.usrStatus(422, "PATCH", base+"/"+carolMID, admin, map[string]any{"isActive": "yes"})
		// The last admin cannot step down.
		ts.usrStatus(400, "PATCH", base+"/"+adminMID, admin, map[string]any{"role": "member"})
		ts.usrStatus(400, "DELETE", base+"/"+adminMID, admin, nil)

		// Deactivating a member suspends its sessions.
		ts.usrStatus(200, "PATCH", base+"/"+carolMID, admin, map[string]any{"isActive": false})
		ts.usrStatus(401, "POST", "/api/v1/auth/checkAuth", carol, nil)
		ts.usrStatus(200, "PATCH", base+"/"+carolMID, admin, map[string]any{"isActive": true})
		ts.usrStatus(200, "POST", "/api/v1/auth/checkAuth", carol, nil)

		projects := ts.usrStatus(200, "GET", base+"/"+carolMID+"/project-memberships", admin, nil)["memberships"].([]any)
		if len(projects) != 1 {
			t.Fatalf("project memberships %v", projects)
		}
		pm := projects[0].(map[string]any)
		roles := pm["roles"].([]any)
		if pm["projectId"] != pid || pm["project"].(map[string]any)["name"] != "Memberships" || len(roles) != 1 || roles[0].(map[string]any)["role"] != "member" {
			t.Fatalf("project membership %v", pm)
		}

		// Removing carol from the organization removes her from its
		// projects and ends her sessions, in one step.
		del := ts.usrStatus(200, "DELETE", base+"/"+carolMID, admin, nil)["membership"].(map[string]any)
		if del["id"] != carolMID {
			t.Fatalf("deleted %v", del)
		}
		ts.usrStatus(401, "POST", "/api/v1/auth/checkAuth", carol, nil)
		if n := len(ts.usrStatus(200, "GET", base, admin, nil)["users"].([]any)); n != 2 {
			t.Fatalf("%d memberships after delete", n)
		}
		for _, m := range ts.usrStatus(200, "GET", "/api/v1/workspace/"+pid+"/memberships", admin, nil)["memberships"].([]any) {
			if m.(map[string]any)["user"].(map[string]any)["email"] == "carol@example.com" {
				t.Fatal("carol is still a project member")
			}
		}
		ts.usrStatus(404, "DELETE", base+"/"+carolMID, admin, nil)
		// Her account stays; she can log in but select no organization.
		var lr struct {
			AccessToken string `json:"accessToken"`
		}
		ts.must("POST", "/api/v3/auth/login", "", map[string]string{"email": "carol@example.com", "password": "carol-password"}, &lr)
		ts.usrStatus(401, "POST", "/api/v3/auth/select-organization", lr.AccessToken, map[string]string{"organizationId": orgID})
		if n := len(ts.usrStatus(200, "GET", "/api/v1/organization", lr.AccessToken, nil)["organizations"].([]any)); n != 0 {
			t.Fatalf("carol still sees %d organizations", n)
		}
	})
}

func TestProjectUserMembershipsHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, usrFast)
		orgID, admin := ts.usrAdmin()
		pid := ts.createProject(admin, "Project users")
		ts.usrInvite(admin, orgID, "bob@example.com", "bob-password", pid, "member")
		bob := ts.usrLogin("bob@example.com", "bob-password", orgID)
		base := "/api/v1/workspace/" + pid + "/memberships"

		list := ts.usrStatus(200, "GET", base, admin, nil)["memberships"].([]any)
		if len(list) != 2 {
			t.Fatalf("memberships %v", list)
		}
		det := ts.usrStatus(200, "POST", base+"/details", admin, map[string]string{"username": "bob@example.com"})["membership"].(map[string]any)
		if _, ok := det["createdAt"]; ok || det["userId"] == nil || det["user"].(map[string]any)["username"] != "bob@example.com" {
			t.Fatalf("details %v", det)
		}
		ts.usrStatus(404, "POST", base+"/details", admin, map[string]string{"username": "nobody@example.com"})
		ts.usrStatus(422, "POST", base+"/details", admin, map[string]string{})
		bobMID := det["id"].(string)
		one := ts.usrStatus(200, "GET", base+"/"+bobMID, admin, nil)["membership"].(map[string]any)
		if one["id"] != bobMID || one["createdAt"] == nil || one["projectId"] != pid {
			t.Fatalf("membership %v", one)
		}
		// The same routes under /api/v1/projects.
		ts.usrStatus(200, "GET", "/api/v1/projects/"+pid+"/memberships/"+bobMID, admin, nil)

		secret := func(tok, key string) int {
			code, _, _ := ts.do("POST", "/api/v3/secrets/raw/"+key, tok, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "v"})
			return code
		}
		if code := secret(bob, "BY_MEMBER"); code != 200 {
			t.Fatalf("member writes: %d", code)
		}
		// Roles: at least one permanent role; members cannot change roles.
		ts.usrStatus(422, "PATCH", base+"/"+bobMID, admin, map[string]any{"roles": []any{}})
		ts.usrStatus(422, "PATCH", base+"/"+bobMID, admin, map[string]any{"roles": []map[string]any{{"role": "admin", "isTemporary": true,
			"temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": "2030-01-01T00:00:00.000Z"}}})
		ts.usrStatus(403, "PATCH", base+"/"+bobMID, bob, map[string]any{"roles": []map[string]any{{"role": "admin"}}})
		roles := ts.usrStatus(200, "PATCH", base+"/"+bobMID, admin, map[string]any{"roles": []map[string]any{{"role": "viewer", "isTemporary": false}}})["roles"].([]any)
		if len(roles) != 1 || roles[0].(map[string]any)["role"] != "viewer" || roles[0].(map[string]any)["projectMembershipId"] != bobMID {
			t.Fatalf("roles %v", roles)
		}
		if code := secret(bob, "BY_VIEWER"); code != 403 {
			t.Fatalf("viewer writes: %d", code)
		}
		ts.usrStatus(200, "GET", "/api/v4/secrets?projectId="+pid+"&environment=dev", bob, nil)

		// Remove by id, then re-add by username through v2.
		del := ts.usrStatus(200, "DELETE", base+"/"+bobMID, admin, nil)["membership"].(map[string]any)
		if del["id"] != bobMID {
			t.Fatalf("deleted %v", del)
		}
		ts.usrStatus(403, "GET", "/api/v4/secrets?projectId="+pid+"&environment=dev", bob, nil)
		ts.usrStatus(404, "GET", base+"/"+bobMID, admin, nil)
		v2 := "/api/v2/workspace/" + pid + "/memberships"
		added := ts.usrStatus(200, "POST", v2, admin, map[string]any{"usernames": []string{"bob@example.com"}, "roleSlugs": []string{"member"}})["memberships"].([]any)
		if len(added) != 1 || added[0].(map[string]any)["projectId"] != pid {
			t.Fatalf("added %v", added)
		}
		if again := ts.usrStatus(200, "POST", v2, admin, map[string]any{"usernames": []string{"bob@example.com"}})["memberships"].([]any); len(again) != 0 {
			t.Fatalf("re-added %v", again)
		}
		if code := secret(bob, "BACK_AGAIN"); code != 200 {
			t.Fatalf("re-added member writes: %d", code)
		}
		ts.usrStatus(422, "POST", v2, admin, map[string]any{"usernames": []string{"bob@example.com"}, "roleSlugs": []string{}})
		ts.usrStatus(422, "POST", v2, admin, map[string]any{})
		ts.usrStatus(404, "POST", v2, admin, map[string]any{"usernames": []string{"ghost"}})
		ts.usrStatus(403, "POST", v2, bob, map[string]any{"emails": []string{"dave@example.com"}})

		// An email from outside the organization is invited with no-access.
		ts.usrStatus(200, "POST", v2, admin, map[string]any{"emails": []string{"dave@example.com"}, "roleSlugs": []string{"viewer"}})
		orgList := ts.usrStatus(200, "GET", "/api/v2/organizations/"+orgID+"/memberships", admin, nil)["users"].([]any)
		daveMID := usrMembershipID(t, orgList, "dave@example.com")
		for _, m := range orgList {
			mm := m.(map[string]any)
			if mm["id"] == daveMID && (mm["status"] != "invited" || mm["role"] != "no-access" || mm["inviteEmail"] != "dave@example.com") {
				t.Fatalf("dave's org membership %v", mm)
			}
		}
		resent := ts.usrStatus(200, "POST", "/api/v1/invite-org/signup-resend", admin, map[string]string{"membershipId": daveMID})["signupToken"].(map[string]any)
		if resent["email"] != "dave@example.com" || resent["link"] == "" {
			t.Fatalf("resend %v", resent)
		}
		removed := ts.usrStatus(200, "DELETE", v2, admin, map[string]any{"emails": []string{"dave@example.com", "nobody@example.com"}})["memberships"].([]any)
		if len(removed) != 1 {
			t.Fatalf("removed %v", removed)
		}
		if n := len(ts.usrStatus(200, "GET", base, admin, nil)["memberships"].([]any)); n != 2 {
			t.Fatalf("%d memberships left", n)
		}
	})
}
