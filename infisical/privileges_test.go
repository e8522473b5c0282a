package infisical_test

import (
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
)

func TestIdentityPrivileges(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx, ref := f.ctx, f.ref()
		id := f.identity("worker", "no-access", infisical.RoleAssignment{Role: "no-access"})
		prodRead := []permission.Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "prod"}}}
		p, err := f.eng.Privileges.Create(ctx, f.admin, infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: infisical.ProjectRef{Slug: f.proj.Slug}, Permissions: prodRead})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Slug) != 12 || p.IsTemporary || p.ProjectID != f.proj.ID || p.IdentityID != id.ID || p.ProjectMembershipID == "" {
			t.Fatalf("created %+v", p)
		}
		if !f.set(id).Can("read", "secrets", secretAttrs("prod", "/", "K")) || f.set(id).Can("read", "secrets", secretAttrs("dev", "/", "K")) {
			t.Fatal("privilege not added to the identity's permissions")
		}
		for _, tc := range []struct {
			name string
			in   infisical.CreatePrivilegeInput
			kind infisical.Kind
		}{
			{"duplicate slug", infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref, Slug: p.Slug, Permissions: prodRead}, infisical.KindBadRequest},
			{"bad slug", infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref, Slug: "Bad Slug", Permissions: prodRead}, infisical.KindValidation},
			{"no permissions", infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref}, infisical.KindValidation},
			{"bad rule", infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref, Permissions: []permission.Rule{{Subject: "x", Action: []string{"read"}}}}, infisical.KindValidation},
			{"not a member", infisical.CreatePrivilegeInput{IdentityID: f.identity("stranger", "no-access").ID, Project: ref, Permissions: prodRead}, infisical.KindNotFound},
			{"no project", infisical.CreatePrivilegeInput{IdentityID: id.ID, Permissions: prodRead}, infisical.KindValidation},
			{"temporary without range", infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref, Permissions: prodRead, IsTemporary: true, TemporaryMode: "relative"}, infisical.KindValidation},
		} {
			_, err := f.eng.Privileges.Create(ctx, f.admin, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, "")
		}
		// Update by slug: rename, make temporary (in the past: expired), then permanent again.
		newSlug := "prod-access"
		past := f.eng.Now().Add(-2 * time.Hour)
		yes, no := true, false
		mode, rng := "relative", "1h"
		p, err = f.eng.Privileges.Update(ctx, f.admin, id.ID, ref, p.Slug, infisical.UpdatePrivilegeInput{Slug: &newSlug, IsTemporary: &yes,
			TemporaryMode: &mode, TemporaryRange: &rng, TemporaryAccessStartTime: &past})
		if err != nil || p.Slug != newSlug || !p.IsTemporary || !p.TemporaryAccessEndTime.Equal(past.Add(time.Hour)) {
			t.Fatalf("update: %v %+v", err, p)
		}
		if f.set(id).Can("read", "secrets", secretAttrs("prod", "/", "K")) {
			t.Fatal("an expired privilege still grants access")
		}
		p, err = f.eng.Privileges.Update(ctx, f.admin, id.ID, ref, newSlug, infisical.UpdatePrivilegeInput{IsTemporary: &no})
		if err != nil || p.IsTemporary || p.TemporaryRange != nil || !f.set(id).Can("read", "secrets", secretAttrs("prod", "/", "K")) {
			t.Fatalf("back to permanent: %v %+v", err, p)
		}
		got, err := f.eng.Privileges.GetByID(ctx, f.admin, p.ID)
		if err != nil || got.Slug != newSlug {
			t.Fatalf("get by id: %v %+v", err, got)
		}
		list, err := f.eng.Privileges.List(ctx, f.admin, id.ID, ref)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		// Another organization cannot see or touch it.
		other := enginetest.Org(t, f.eng, "Other")
		_, otok := enginetest.IdentityToken(t, f.eng, other.ID, "admin", "", "")
		outsider := idAuth(t, f.eng, otok)
		_, err = f.eng.Privileges.GetByID(ctx, outsider, p.ID)
		wantErrKind(t, "other org gets privilege", err, infisical.KindNotFound, "")
		_, err = f.eng.Privileges.DeleteByID(ctx, outsider, p.ID)
		wantErrKind(t, "other org deletes privilege", err, infisical.KindNotFound, "")
		// A viewer may read privileges, not grant them.
		viewer := f.identity("viewer", "no-access", infisical.RoleAssignment{Role: "viewer"})
		if _, err := f.eng.Privileges.List(ctx, viewer, id.ID, ref); err != nil {
			t.Fatalf("viewer lists privileges: %v", err)
		}
		_, err = f.eng.Privileges.Create(ctx, viewer, infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref, Permissions: prodRead})
		wantErrKind(t, "viewer grants", err, infisical.KindPermissionDenied, "")
		// Removing the identity from the project removes its privileges.
		if _, err := f.eng.Privileges.Delete(ctx, f.admin, id.ID, ref, newSlug); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Privileges.Create(ctx, f.admin, infisical.CreatePrivilegeInput{IdentityID: id.ID, Project: ref, Slug: "again", Permissions: prodRead}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Memberships.RemoveIdentity(ctx, f.admin, f.proj.ID, id.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Memberships.AddIdentity(ctx, f.admin, f.proj.ID, id.ID, nil); err != nil {
			t.Fatal(err)
		}
		if list, err := f.eng.Privileges.List(ctx, f.admin, id.ID, ref); err != nil || len(list) != 0 {
			t.Fatalf("privileges survive the membership: %v %d", err, len(list))
		}
		for typ, n := range map[string]int{"create-identity-project-additional-privilege": 2, "update-identity-project-additional-privilege": 2,
			"delete-identity-project-additional-privilege": 1} {
			if got := f.auditCount(typ); got != n {
				t.Errorf("%d %s events, want %d", got, typ, n)
			}
		}
	})
}
