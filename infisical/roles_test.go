package infisical_test

import (
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// auditCount counts the write events of type typ recorded for the fixture's
// organization.
func (f *acFixture) auditCount(typ string) int {
	f.t.Helper()
	rows, err := f.eng.Store().Read().ListAuditLogs(f.ctx, store.AuditLogFilter{OrgID: f.org.ID, EventTypes: []string{typ},
		Start: time.Unix(0, 0), End: f.eng.Now().Add(time.Hour), Limit: 1000})
	if err != nil {
		f.t.Fatalf("list audit logs: %v", err)
	}
	return len(rows)
}

func TestProjectRolesCRUD(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx, ref := f.ctx, f.ref()
		readDev := []permission.Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "dev"}}}
		desc := "reads dev"
		r, err := f.eng.Roles.CreateProjectRole(ctx, f.admin, ref, infisical.RoleInput{Slug: "dev-reader", Name: "Dev reader", Description: &desc, Permissions: readDev})
		if err != nil {
			t.Fatal(err)
		}
		if r.ProjectID != f.proj.ID || r.Slug != "dev-reader" || *r.Description != desc || len(r.Permissions) != 1 {
			t.Fatalf("created %+v", r)
		}
		// Validation.
		for _, tc := range []struct {
			name string
			in   infisical.RoleInput
			kind infisical.Kind
			msg  string
		}{
			{"reserved slug", infisical.RoleInput{Slug: "viewer", Name: "x", Permissions: readDev}, infisical.KindValidation, "reserved"},
			{"custom marker", infisical.RoleInput{Slug: "custom", Name: "x", Permissions: readDev}, infisical.KindValidation, "reserved"},
			{"bad slug", infisical.RoleInput{Slug: "Bad Slug", Name: "x", Permissions: readDev}, infisical.KindValidation, "slug"},
			{"empty name", infisical.RoleInput{Slug: "ok-slug", Name: " ", Permissions: readDev}, infisical.KindValidation, "name"},
			{"unknown subject", infisical.RoleInput{Slug: "ok-slug", Name: "x", Permissions: []permission.Rule{{Subject: "nope", Action: []string{"read"}}}}, infisical.KindValidation, "permissions"},
			{"bad action", infisical.RoleInput{Slug: "ok-slug", Name: "x", Permissions: []permission.Rule{{Subject: "secrets", Action: []string{"fly"}}}}, infisical.KindValidation, "permissions"},
			{"bad glob", infisical.RoleInput{Slug: "ok-slug", Name: "x", Permissions: []permission.Rule{{Subject: "secrets", Action: []string{"read"},
				Conditions: map[string]any{"secretPath": map[string]any{"$glob": "/a/[z-a]"}}}}}, infisical.KindValidation, "permissions"},
			{"duplicate", infisical.RoleInput{Slug: "dev-reader", Name: "x", Permissions: readDev}, infisical.KindBadRequest, "already exists"},
		} {
			_, err := f.eng.Roles.CreateProjectRole(ctx, f.admin, ref, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, tc.msg)
		}
		// List: predefined pseudo-rows first, with stable ids, then custom.
		list, err := f.eng.Roles.ListProjectRoles(ctx, f.admin, ref)
		if err != nil || len(list) != 5 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		for i, slug := range []string{"admin", "member", "viewer", "no-access", "dev-reader"} {
			if list[i].Slug != slug || list[i].Predefined != (i < 4) {
				t.Fatalf("list[%d] = %s (predefined %v)", i, list[i].Slug, list[i].Predefined)
			}
		}
		again, _ := f.eng.Roles.ListProjectRoles(ctx, f.admin, ref)
		if again[0].ID != list[0].ID {
			t.Fatal("predefined role ids change between calls")
		}
		viewer, err := f.eng.Roles.GetProjectRoleBySlug(ctx, f.admin, ref, "viewer")
		builtin, _ := permission.BuiltinProjectRole("viewer")
		if err != nil || len(viewer.Permissions) != len(builtin) {
			t.Fatalf("get predefined viewer: %v", err)
		}
		_, err = f.eng.Roles.GetProjectRoleBySlug(ctx, f.admin, ref, "missing")
		wantErrKind(t, "get missing", err, infisical.KindNotFound, "")
		// Slug-addressed access works too.
		if _, err := f.eng.Roles.GetProjectRoleBySlug(ctx, f.admin, infisical.ProjectRef{Slug: f.proj.Slug}, "dev-reader"); err != nil {
			t.Fatalf("get by project slug: %v", err)
		}

		// Assign, then widen the role: the holder's access follows at once.
		holder := f.identity("holder", "no-access", infisical.RoleAssignment{Role: "dev-reader"})
		if !f.set(holder).Can("read", "secrets", secretAttrs("dev", "/", "K")) || f.set(holder).Can("read", "secrets", secretAttrs("prod", "/", "K")) {
			t.Fatal("custom role not applied")
		}
		m, err := f.eng.Memberships.GetIdentity(ctx, f.admin, f.proj.ID, holder.ID)
		if err != nil || m.Roles[0].Role != "custom" || *m.Roles[0].CustomRoleID != r.ID || *m.Roles[0].CustomRoleSlug != "dev-reader" || *m.Roles[0].CustomRoleName != "Dev reader" {
			t.Fatalf("membership role: %v %+v", err, m.Roles)
		}
		readAll := []permission.Rule{{Subject: "secrets", Action: []string{"read"}}}
		newSlug, newName := "all-reader", "All reader"
		upd, err := f.eng.Roles.UpdateProjectRole(ctx, f.admin, ref, r.ID, infisical.RoleUpdate{Slug: &newSlug, Name: &newName, DescriptionSet: true, Permissions: &readAll})
		if err != nil || upd.Slug != newSlug || upd.Description != nil {
			t.Fatalf("update: %v %+v", err, upd)
		}
		if !f.set(holder).Can("read", "secrets", secretAttrs("prod", "/", "K")) {
			t.Fatal("role update not seen by its holder (cache not invalidated)")
		}
		// Delete while assigned: refused; after unassigning: done.
		_, err = f.eng.Roles.DeleteProjectRole(ctx, f.admin, ref, r.ID)
		wantErrKind(t, "delete assigned", err, infisical.KindBadRequest, "assigned")
		if _, err := f.eng.Memberships.SetIdentityRoles(ctx, f.admin, f.proj.ID, holder.ID, []infisical.RoleAssignment{{Role: "no-access"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Roles.DeleteProjectRole(ctx, f.admin, ref, r.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
		_, err = f.eng.Roles.DeleteProjectRole(ctx, f.admin, ref, r.ID)
		wantErrKind(t, "delete twice", err, infisical.KindNotFound, "")
		_, err = f.eng.Roles.DeleteProjectRole(ctx, f.admin, ref, list[0].ID)
		wantErrKind(t, "delete predefined", err, infisical.KindBadRequest, "Predefined")
		// Assigning an unknown custom role is a 404.
		_, err = f.eng.Memberships.SetIdentityRoles(ctx, f.admin, f.proj.ID, holder.ID, []infisical.RoleAssignment{{Role: "all-reader"}})
		wantErrKind(t, "assign deleted role", err, infisical.KindNotFound, "")
		// A role of another project is invisible here.
		other, err := f.eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		or, err := f.eng.Roles.CreateProjectRole(ctx, f.admin, infisical.ProjectRef{ID: other.ID}, infisical.RoleInput{Slug: "elsewhere", Name: "e", Permissions: readAll})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.eng.Roles.UpdateProjectRole(ctx, f.admin, ref, or.ID, infisical.RoleUpdate{Name: &newName})
		wantErrKind(t, "update a role through another project", err, infisical.KindNotFound, "")
		// Viewers may read roles, not change them; no-access may not even read.
		viewerActor := f.identity("viewer", "no-access", infisical.RoleAssignment{Role: "viewer"})
		if _, err := f.eng.Roles.ListProjectRoles(ctx, viewerActor, ref); err != nil {
			t.Fatalf("viewer lists roles: %v", err)
		}
		_, err = f.eng.Roles.CreateProjectRole(ctx, viewerActor, ref, infisical.RoleInput{Slug: "v", Name: "v", Permissions: []permission.Rule{}})
		wantErrKind(t, "viewer creates role", err, infisical.KindPermissionDenied, "")
		_, err = f.eng.Roles.ListProjectRoles(ctx, holder, ref)
		wantErrKind(t, "no-access lists roles", err, infisical.KindPermissionDenied, "")
		for typ, n := range map[string]int{"create-project-role": 2, "update-project-role": 1, "delete-project-role": 1} {
			if got := f.auditCount(typ); got != n {
				t.Errorf("%d %s events, want %d", got, typ, n)
			}
		}
	})
}

func TestOrgCustomRoles(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx := f.ctx
		rules := []permission.Rule{{Subject: "identity", Action: []string{"read"}}, {Subject: "workspace", Action: []string{"read", "create"}}}
		r, err := f.eng.Roles.CreateOrgRole(ctx, f.admin, f.org.ID, infisical.RoleInput{Slug: "auditor", Name: "Auditor", Permissions: rules})
		if err != nil {
			t.Fatal(err)
		}
		for _, slug := range []string{"admin", "member", "no-access", "custom", "owner"} {
			_, err := f.eng.Roles.CreateOrgRole(ctx, f.admin, f.org.ID, infisical.RoleInput{Slug: slug, Name: "x", Permissions: rules})
			wantErrKind(t, "reserved "+slug, err, infisical.KindValidation, "reserved")
		}
		_, err = f.eng.Roles.CreateOrgRole(ctx, f.admin, f.org.ID, infisical.RoleInput{Slug: "bad-subject", Name: "x",
			Permissions: []permission.Rule{{Subject: "secrets", Action: []string{"read"}}}})
		wantErrKind(t, "project subject in an org role", err, infisical.KindValidation, "permissions")

		// Assigned to an identity by slug: reported as custom with its id.
		o, err := f.eng.Identities.Create(ctx, f.admin, infisical.CreateIdentityInput{OrgID: f.org.ID, Name: "aud", Role: "auditor"})
		if err != nil {
			t.Fatal(err)
		}
		if o.Role != "custom" || o.RoleID == nil || *o.RoleID != r.ID || o.CustomRole == nil || o.CustomRole.Slug != "auditor" {
			t.Fatalf("identity role: %s %v %+v", o.Role, o.RoleID, o.CustomRole)
		}
		aud := infisical.Actor{Type: infisical.ActorIdentity, ID: o.IdentityID, OrgID: f.org.ID}
		got, err := f.eng.Roles.OrgPermissions(ctx, aud, f.org.ID)
		if err != nil || !permission.MustCompile(got).Can("read", "identity", nil) || permission.MustCompile(got).Can("create", "identity", nil) {
			t.Fatalf("org permissions of a custom role: %v %+v", err, got)
		}
		if _, _, err := f.eng.Identities.List(ctx, aud, infisical.ListIdentitiesInput{OrgID: f.org.ID}); err != nil {
			t.Fatalf("custom org role reads identities: %v", err)
		}
		_, err = f.eng.Identities.Create(ctx, aud, infisical.CreateIdentityInput{OrgID: f.org.ID, Name: "no"})
		wantErrKind(t, "custom org role creates identity", err, infisical.KindPermissionDenied, "")
		// A slug rename is carried to its holders.
		slug := "inspector"
		if _, err := f.eng.Roles.UpdateOrgRole(ctx, f.admin, f.org.ID, r.ID, infisical.RoleUpdate{Slug: &slug}); err != nil {
			t.Fatal(err)
		}
		o, err = f.eng.Identities.Get(ctx, f.admin, o.IdentityID)
		if err != nil || o.CustomRole == nil || o.CustomRole.Slug != "inspector" || *o.RoleID != r.ID {
			t.Fatalf("after rename: %v %+v", err, o)
		}
		if got, err := f.eng.Roles.OrgPermissions(ctx, aud, f.org.ID); err != nil || len(got) != 2 {
			t.Fatalf("holder lost its permissions after the rename: %v %+v", err, got)
		}
		// Groups may hold it too.
		g, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "Auditors", Role: "inspector"})
		if err != nil || g.Role != "custom" || *g.RoleID != r.ID || *g.CustomRoleSlug != "inspector" {
			t.Fatalf("group with custom org role: %v %+v", err, g)
		}
		// Delete while held: refused; then allowed.
		_, err = f.eng.Roles.DeleteOrgRole(ctx, f.admin, f.org.ID, r.ID)
		wantErrKind(t, "delete held", err, infisical.KindBadRequest, "held")
		role := "no-access"
		if _, err := f.eng.Identities.Update(ctx, f.admin, o.IdentityID, infisical.UpdateIdentityInput{Role: &role}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Groups.Delete(ctx, f.admin, g.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Roles.DeleteOrgRole(ctx, f.admin, f.org.ID, r.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
		list, err := f.eng.Roles.ListOrgRoles(ctx, f.admin, f.org.ID)
		if err != nil || len(list) != 3 || !list[0].Predefined {
			t.Fatalf("list: %v %+v", err, list)
		}
		if _, err := f.eng.Roles.GetOrgRole(ctx, f.admin, f.org.ID, list[1].ID); err != nil {
			t.Fatalf("get predefined by id: %v", err)
		}
		// Other organizations are not visible.
		other := enginetest.Org(t, f.eng, "Other")
		_, err = f.eng.Roles.ListOrgRoles(ctx, aud, other.ID)
		wantErrKind(t, "list another org's roles", err, infisical.KindNotFound, "")
	})
}
