package infisical_test

import (
	"fmt"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestGroupsCRUD(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx := f.ctx
		g, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "Engineering", Slug: "engineering"})
		if err != nil || g.Role != "no-access" || g.OrgID != f.org.ID || g.RoleID != nil {
			t.Fatalf("create: %v %+v", err, g)
		}
		auto, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "A", Role: "member"})
		if err != nil || len(auto.Slug) < 5 || auto.Role != "member" {
			t.Fatalf("derived slug: %v %+v", err, auto)
		}
		for _, tc := range []struct {
			name string
			in   infisical.CreateGroupInput
			kind infisical.Kind
		}{
			{"empty name", infisical.CreateGroupInput{Name: " "}, infisical.KindValidation},
			{"long name", infisical.CreateGroupInput{Name: fmt.Sprintf("%051d", 0)}, infisical.KindValidation},
			{"short slug", infisical.CreateGroupInput{Name: "x", Slug: "abc"}, infisical.KindValidation},
			{"bad slug", infisical.CreateGroupInput{Name: "x", Slug: "Not A Slug"}, infisical.KindValidation},
			{"duplicate slug", infisical.CreateGroupInput{Name: "x", Slug: "engineering"}, infisical.KindBadRequest},
			{"unknown role", infisical.CreateGroupInput{Name: "x", Role: "ghost"}, infisical.KindNotFound},
			{"custom marker", infisical.CreateGroupInput{Name: "x", Role: "custom"}, infisical.KindValidation},
		} {
			_, err := f.eng.Groups.Create(ctx, f.admin, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, "")
		}
		name, role := "Platform", "member"
		if g, err = f.eng.Groups.Update(ctx, f.admin, g.ID, infisical.UpdateGroupInput{Name: &name, Role: &role}); err != nil || g.Name != name || g.Role != role {
			t.Fatalf("update: %v %+v", err, g)
		}
		list, err := f.eng.Groups.List(ctx, f.admin, f.org.ID)
		if err != nil || len(list) != 2 || list[0].Name != "A" {
			t.Fatalf("list: %v %+v", err, list)
		}

		// Users: paging, username/search filters, members and non-members.
		for i := 0; i < 5; i++ {
			f.user(fmt.Sprintf("user%d", i))
		}
		for _, u := range []string{"user1", "USER3"} {
			if _, err := f.eng.Groups.AddUser(ctx, f.admin, g.ID, u); err != nil {
				t.Fatalf("add %s: %v", u, err)
			}
		}
		_, err = f.eng.Groups.AddUser(ctx, f.admin, g.ID, "user1")
		wantErrKind(t, "add twice", err, infisical.KindBadRequest, "already")
		_, err = f.eng.Groups.AddUser(ctx, f.admin, g.ID, "nobody")
		wantErrKind(t, "add unknown user", err, infisical.KindNotFound, "")
		users, total, err := f.eng.Groups.ListUsers(ctx, f.admin, g.ID, infisical.ListGroupUsersInput{Limit: 2})
		if err != nil || total != 5 || len(users) != 2 || users[0].Username != "user0" || users[0].IsPartOfGroup || !users[1].IsPartOfGroup || users[1].JoinedGroupAt == nil {
			t.Fatalf("page 1: %v %d %+v", err, total, users)
		}
		users, _, _ = f.eng.Groups.ListUsers(ctx, f.admin, g.ID, infisical.ListGroupUsersInput{Limit: 2, Offset: 4})
		if len(users) != 1 || users[0].Username != "user4" {
			t.Fatalf("last page: %+v", users)
		}
		users, total, _ = f.eng.Groups.ListUsers(ctx, f.admin, g.ID, infisical.ListGroupUsersInput{Filter: "nonMembers"})
		if total != 3 || len(users) != 3 {
			t.Fatalf("non-members: %d", total)
		}
		users, total, _ = f.eng.Groups.ListUsers(ctx, f.admin, g.ID, infisical.ListGroupUsersInput{Search: "ER3"})
		if total != 1 || users[0].Username != "user3" {
			t.Fatalf("search: %d %+v", total, users)
		}
		_, _, err = f.eng.Groups.ListUsers(ctx, f.admin, g.ID, infisical.ListGroupUsersInput{Filter: "everyone"})
		wantErrKind(t, "bad filter", err, infisical.KindValidation, "filter")
		if _, err := f.eng.Groups.RemoveUser(ctx, f.admin, g.ID, "user1"); err != nil {
			t.Fatal(err)
		}
		_, err = f.eng.Groups.RemoveUser(ctx, f.admin, g.ID, "user1")
		wantErrKind(t, "remove twice", err, infisical.KindNotFound, "")

		// Project memberships of groups.
		if _, err := f.eng.Groups.AddToProject(ctx, f.admin, f.proj.ID, g.ID, []infisical.RoleAssignment{{Role: "viewer"}}); err != nil {
			t.Fatal(err)
		}
		_, err = f.eng.Groups.AddToProject(ctx, f.admin, f.proj.ID, g.ID, nil)
		wantErrKind(t, "add twice to project", err, infisical.KindBadRequest, "already")
		ms, err := f.eng.Groups.ListProjectGroups(ctx, f.admin, f.proj.ID)
		if err != nil || len(ms) != 1 || ms[0].GroupSlug != "engineering" || ms[0].Roles[0].Role != "viewer" {
			t.Fatalf("project groups: %v %+v", err, ms)
		}
		pusers, ptotal, err := f.eng.Groups.ListProjectGroupUsers(ctx, f.admin, f.proj.ID, g.ID, infisical.ListGroupUsersInput{Filter: "existingMembers"})
		if err != nil || ptotal != 1 || pusers[0].Username != "user3" {
			t.Fatalf("project group users: %v %d %+v", err, ptotal, pusers)
		}
		_, err = f.eng.Groups.GetProjectGroup(ctx, f.admin, f.proj.ID, auto.ID)
		wantErrKind(t, "group not in project", err, infisical.KindNotFound, "")

		// Isolation: another organization sees nothing.
		other := enginetest.Org(t, f.eng, "Other")
		_, otok := enginetest.IdentityToken(t, f.eng, other.ID, "admin", "", "")
		outsider := idAuth(t, f.eng, otok)
		_, err = f.eng.Groups.Get(ctx, outsider, g.ID)
		wantErrKind(t, "other org gets group", err, infisical.KindNotFound, "")
		_, err = f.eng.Groups.AddToProject(ctx, outsider, f.proj.ID, g.ID, nil)
		wantErrKind(t, "other org adds group to project", err, infisical.KindNotFound, "")
		og, err := f.eng.Groups.Create(ctx, outsider, infisical.CreateGroupInput{Name: "Theirs"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.eng.Groups.AddToProject(ctx, f.admin, f.proj.ID, og.ID, nil)
		wantErrKind(t, "add another org's group", err, infisical.KindNotFound, "")
		// An org member may read groups but not change them.
		member := f.identity("m", "member")
		if _, err := f.eng.Groups.List(ctx, member, f.org.ID); err != nil {
			t.Fatalf("member lists groups: %v", err)
		}
		_, err = f.eng.Groups.AddUser(ctx, member, g.ID, "user0")
		wantErrKind(t, "member adds user", err, infisical.KindPermissionDenied, "")

		if _, err := f.eng.Groups.Delete(ctx, f.admin, g.ID); err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.eng.Groups.ListProjectGroups(ctx, f.admin, f.proj.ID); len(ms) != 0 {
			t.Fatal("group membership survives the group")
		}
		for typ, n := range map[string]int{"create-group": 2, "update-group": 1, "delete-group": 1, "add-user-to-group": 2,
			"remove-user-from-group": 1, "create-group-project-membership": 1} {
			if got := f.auditCount(typ); got != n {
				t.Errorf("%d %s events, want %d", got, typ, n)
			}
		}
	})
}
