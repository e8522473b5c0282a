package api_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
)

// orgUser inserts a user who belongs to orgID (user sign-up is another
// area's work).
func orgUser(t *testing.T, ts *testServer, orgID, username string) string {
	t.Helper()
	ctx := context.Background()
	now := ts.eng.Now()
	u := &store.User{ID: uuid.NewString(), Username: username, CreatedAt: now, UpdatedAt: now, IsAccepted: true}
	uid := u.ID
	om := &store.OrgMembership{ID: uuid.NewString(), OrgID: orgID, UserID: &uid, Role: "member", Status: "accepted", IsActive: true, CreatedAt: now, UpdatedAt: now}
	if err := ts.eng.Store().Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, u); err != nil {
			return err
		}
		return q.Insert(ctx, om)
	}); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestGroupsAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		adm := boot.AdminToken
		pid := ts.createProject(adm, "Groups API")
		for _, u := range []string{"ada", "alan", "grace"} {
			orgUser(t, ts, boot.OrgID, u)
		}
		// Bare objects and arrays.
		var g map[string]any
		ts.must("POST", "/api/v1/groups", adm, map[string]any{"name": "Engineering", "slug": "engineering"}, &g)
		for _, k := range []string{"id", "orgId", "name", "slug", "role", "roleId", "createdAt", "updatedAt"} {
			if _, ok := g[k]; !ok {
				t.Fatalf("group row lacks %s: %v", k, g)
			}
		}
		gid := g["id"].(string)
		if g["role"] != "no-access" || g["roleId"] != nil {
			t.Fatalf("group: %v", g)
		}
		var list []map[string]any
		ts.must("GET", "/api/v1/groups", adm, nil, &list)
		if len(list) != 1 || list[0]["slug"] != "engineering" {
			t.Fatalf("list: %v", list)
		}
		var one map[string]any
		ts.must("GET", "/api/v1/groups/"+gid, adm, nil, &one)
		if _, ok := one["customRoleSlug"]; !ok {
			t.Fatalf("get lacks customRoleSlug: %v", one)
		}
		if code, _, _ := ts.do("POST", "/api/v1/groups", adm, map[string]any{"name": ""}); code != 422 {
			t.Fatalf("empty name: %d", code)
		}
		ts.must("PATCH", "/api/v1/groups/"+gid, adm, map[string]any{"role": "member"}, &one)
		if one["role"] != "member" {
			t.Fatalf("patch: %v", one)
		}

		// Users.
		var added map[string]any
		ts.must("POST", "/api/v1/groups/"+gid+"/users/ada", adm, nil, &added)
		if added["username"] != "ada" || added["id"] == "" {
			t.Fatalf("added: %v", added)
		}
		ts.must("POST", "/api/v1/groups/"+gid+"/users/grace", adm, nil, nil)
		var users struct {
			Users []struct {
				Username      string  `json:"username"`
				IsPartOfGroup bool    `json:"isPartOfGroup"`
				JoinedGroupAt *string `json:"joinedGroupAt"`
			} `json:"users"`
			TotalCount int `json:"totalCount"`
		}
		ts.must("GET", "/api/v1/groups/"+gid+"/users?limit=2&offset=0", adm, nil, &users)
		if users.TotalCount != 4 || len(users.Users) != 2 || !users.Users[0].IsPartOfGroup || users.Users[1].IsPartOfGroup || users.Users[1].JoinedGroupAt != nil {
			t.Fatalf("users: %+v", users)
		}
		ts.must("GET", "/api/v1/groups/"+gid+"/users?filter=nonMembers&search=AL", adm, nil, &users)
		if users.TotalCount != 1 || users.Users[0].Username != "alan" {
			t.Fatalf("non-members: %+v", users)
		}
		if code, _, _ := ts.do("GET", "/api/v1/groups/"+gid+"/users?limit=0", adm, nil); code != 422 {
			t.Fatalf("limit 0: %d", code)
		}
		ts.must("DELETE", "/api/v1/groups/"+gid+"/users/grace", adm, nil, nil)

		// Project memberships (by name on POST).
		var gm struct {
			M map[string]any `json:"groupMembership"`
		}
		ts.must("POST", "/api/v2/workspace/"+pid+"/groups/Engineering", adm, map[string]any{"role": "viewer"}, &gm)
		if gm.M["groupId"] != gid || gm.M["projectId"] != pid {
			t.Fatalf("membership: %v", gm.M)
		}
		var roles struct {
			Roles []map[string]any `json:"roles"`
		}
		ts.must("PATCH", "/api/v2/workspace/"+pid+"/groups/"+gid, adm, map[string]any{"roles": []map[string]any{
			{"role": "member"}, {"role": "admin", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": "2030-01-01T00:00:00.000Z"}}}, &roles)
		if len(roles.Roles) != 2 || roles.Roles[1]["temporaryAccessEndTime"] != "2030-01-01T01:00:00.000Z" || roles.Roles[0]["projectMembershipId"] == nil {
			t.Fatalf("roles: %v", roles.Roles)
		}
		var pl struct {
			GroupMemberships []struct {
				GroupID string           `json:"groupId"`
				Roles   []map[string]any `json:"roles"`
				Group   map[string]any   `json:"group"`
			} `json:"groupMemberships"`
		}
		ts.must("GET", "/api/v2/workspace/"+pid+"/groups", adm, nil, &pl)
		if len(pl.GroupMemberships) != 1 || pl.GroupMemberships[0].Group["slug"] != "engineering" || len(pl.GroupMemberships[0].Roles) != 2 {
			t.Fatalf("project groups: %+v", pl)
		}
		ts.must("GET", "/api/v2/workspace/"+pid+"/groups/"+gid+"/users", adm, nil, &users)
		if users.TotalCount != 4 {
			t.Fatalf("project group users: %+v", users)
		}
		if code, raw, _ := ts.do("PATCH", "/api/v2/workspace/"+pid+"/groups/"+gid, adm, map[string]any{"roles": []any{}}); code != 422 {
			t.Fatalf("empty roles: %d %s", code, raw)
		}
		var del struct {
			M map[string]any `json:"groupMembership"`
		}
		ts.must("DELETE", "/api/v2/workspace/"+pid+"/groups/"+gid, adm, nil, &del)
		if del.M["id"] != gm.M["id"] {
			t.Fatalf("delete membership: %v", del.M)
		}
		var gone map[string]any
		ts.must("DELETE", "/api/v1/groups/"+gid, adm, nil, &gone)
		if code, raw, _ := ts.do("GET", "/api/v1/groups/"+gid, adm, nil); code != 404 {
			t.Fatalf("get deleted: %d %s", code, raw)
		}
		var e struct {
			Error string `json:"error"`
		}
		_, raw, _ := ts.do("GET", "/api/v1/groups/"+gid, adm, nil)
		if json.Unmarshal(raw, &e) != nil || e.Error != "NotFound" {
			t.Fatalf("404 body: %s", raw)
		}
	})
}
