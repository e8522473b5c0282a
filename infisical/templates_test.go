package infisical_test

import (
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
)

func TestProjectTemplates(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx := f.ctx
		list, err := f.eng.Templates.List(ctx, f.admin, "")
		if err != nil || len(list) != 1 || !list[0].IsDefault || list[0].ID != infisical.DefaultTemplateID || len(list[0].Environments) != 3 || len(list[0].Roles) != 4 {
			t.Fatalf("default template: %v %+v", err, list)
		}
		if l, _ := f.eng.Templates.List(ctx, f.admin, "kms"); l[0].Environments != nil || l[0].Type != "kms" {
			t.Fatalf("default kms template: %+v", l[0])
		}
		f.user("dana")
		ci := f.identity("ci", "no-access")
		g, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "Ops", Slug: "ops-team"})
		if err != nil {
			t.Fatal(err)
		}
		in := infisical.TemplateInput{Name: "service", Type: "secret-manager",
			Roles: []infisical.TemplateRole{{Name: "Deployer", Slug: "deployer", Permissions: []permission.Rule{
				{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "production"}}}}},
			Environments:             []infisical.TemplateEnvironment{{Name: "Production", Slug: "production", Position: 2}, {Name: "Testing", Slug: "testing", Position: 1}},
			Users:                    []infisical.TemplateUser{{Username: "Dana", Roles: []string{"viewer"}}, {Username: "gone", Roles: []string{"viewer"}}},
			Groups:                   []infisical.TemplateGroup{{GroupSlug: "ops-team", Roles: []string{"member"}}},
			Identities:               []infisical.TemplateIdentity{{IdentityID: ci.ID, Roles: []string{"deployer"}}},
			ProjectManagedIdentities: []infisical.TemplateManagedIdentity{{Name: "robot", Roles: []string{"no-access"}}},
		}
		tmpl, err := f.eng.Templates.Create(ctx, f.admin, in)
		if err != nil {
			t.Fatal(err)
		}
		if tmpl.Environments[0].Slug != "testing" || tmpl.Users[0].Username != "dana" || tmpl.Identities[0].IdentityName != "ci" {
			t.Fatalf("created %+v", tmpl)
		}
		// Validation.
		bad := func(mod func(*infisical.TemplateInput)) infisical.TemplateInput {
			c := in
			c.Name = "other"
			mod(&c)
			return c
		}
		for _, tc := range []struct {
			name string
			in   infisical.TemplateInput
			kind infisical.Kind
		}{
			{"reserved name", bad(func(c *infisical.TemplateInput) { c.Name = "default" }), infisical.KindValidation},
			{"duplicate name", bad(func(c *infisical.TemplateInput) { c.Name = "service" }), infisical.KindBadRequest},
			{"bad type", bad(func(c *infisical.TemplateInput) { c.Type = "nope" }), infisical.KindValidation},
			{"reserved role slug", bad(func(c *infisical.TemplateInput) {
				c.Roles = []infisical.TemplateRole{{Name: "X", Slug: "admin", Permissions: []permission.Rule{}}}
			}), infisical.KindValidation},
			{"reserved role name", bad(func(c *infisical.TemplateInput) {
				c.Roles = []infisical.TemplateRole{{Name: "No Access", Slug: "x-role", Permissions: []permission.Rule{}}}
			}), infisical.KindValidation},
			{"position gap", bad(func(c *infisical.TemplateInput) {
				c.Environments = []infisical.TemplateEnvironment{{Name: "A", Slug: "a", Position: 1}, {Name: "B", Slug: "b", Position: 3}}
			}), infisical.KindValidation},
			{"unknown role ref", bad(func(c *infisical.TemplateInput) {
				c.Users = []infisical.TemplateUser{{Username: "x", Roles: []string{"ghost"}}}
			}), infisical.KindValidation},
			{"identity of nobody", bad(func(c *infisical.TemplateInput) {
				c.Identities = []infisical.TemplateIdentity{{IdentityID: "00000000-0000-4000-8000-000000000000", Roles: []string{"viewer"}}}
			}), infisical.KindNotFound},
		} {
			_, err := f.eng.Templates.Create(ctx, f.admin, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, "")
		}

		// Applied at project creation.
		p, err := f.eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "Billing", Template: "service"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Environments) != 2 || p.Environments[0].Slug != "testing" || p.Environments[1].Slug != "production" {
			t.Fatalf("environments: %+v", p.Environments)
		}
		pref := infisical.ProjectRef{ID: p.ID}
		if _, err := f.eng.Roles.GetProjectRoleBySlug(ctx, f.admin, pref, "deployer"); err != nil {
			t.Fatalf("template role: %v", err)
		}
		set := func(a infisical.Actor) *permission.Set {
			rules, err := f.eng.Roles.ProjectPermissions(ctx, a, pref)
			if err != nil {
				t.Fatal(err)
			}
			return permission.MustCompile(rules)
		}
		if !set(ci).Can("read", "secrets", secretAttrs("production", "/", "K")) || set(ci).Can("read", "secrets", secretAttrs("testing", "/", "K")) {
			t.Fatal("template identity membership with template role not applied")
		}
		ids, _, err := f.eng.Identities.List(ctx, f.admin, infisical.ListIdentitiesInput{OrgID: f.org.ID, NameEq: "robot"})
		if err != nil || len(ids) != 1 {
			t.Fatalf("managed identity: %v %d", err, len(ids))
		}
		gm, err := f.eng.Groups.GetProjectGroup(ctx, f.admin, p.ID, g.ID)
		if err != nil || gm.Roles[0].Role != "member" {
			t.Fatalf("template group: %v", err)
		}
		// Type mismatch and unknown names are refused; default still works.
		_, err = f.eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "Keys", Type: "kms", Template: "service"})
		wantErrKind(t, "type mismatch", err, infisical.KindBadRequest, "type")
		_, err = f.eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "X", Template: "nope"})
		wantErrKind(t, "unknown template", err, infisical.KindNotFound, "")
		if dp, err := f.eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "Plain", Template: "default"}); err != nil || len(dp.Environments) != 3 {
			t.Fatalf("default template: %v", err)
		}
		// The creator keeps admin even when the template names it.
		creator := f.identity("creator", "member")
		withCreator := infisical.TemplateInput{Name: "with-creator", Type: "secret-manager",
			Identities: []infisical.TemplateIdentity{{IdentityID: creator.ID, Roles: []string{"viewer"}}}}
		if _, err := f.eng.Templates.Create(ctx, f.admin, withCreator); err != nil {
			t.Fatal(err)
		}
		cp, err := f.eng.Projects.Create(ctx, creator, infisical.CreateProjectInput{Name: "Mine", Template: "with-creator"})
		if err != nil {
			t.Fatalf("create with a template naming the creator: %v", err)
		}
		pref = infisical.ProjectRef{ID: cp.ID}
		if !set(creator).Can("delete", "workspace", nil) || len(cp.Environments) != 0 {
			t.Fatalf("creator is not admin of its project (or environments were made from a null list): %+v", cp.Environments)
		}

		// Update: null clears lists, the default template is read-only.
		var noEnvs []infisical.TemplateEnvironment
		desc := "services"
		up, err := f.eng.Templates.Update(ctx, f.admin, tmpl.ID, infisical.TemplateUpdate{Description: &desc, Environments: &noEnvs})
		if err != nil || up.Environments != nil || *up.Description != desc || len(up.Roles) != 1 {
			t.Fatalf("update: %v %+v", err, up)
		}
		_, err = f.eng.Templates.Update(ctx, f.admin, infisical.DefaultTemplateID, infisical.TemplateUpdate{Description: &desc})
		wantErrKind(t, "update default", err, infisical.KindBadRequest, "default")
		_, err = f.eng.Templates.Delete(ctx, f.admin, infisical.DefaultTemplateID)
		wantErrKind(t, "delete default", err, infisical.KindBadRequest, "default")
		// Removing a role that members still reference is refused.
		noRoles := []infisical.TemplateRole{}
		_, err = f.eng.Templates.Update(ctx, f.admin, tmpl.ID, infisical.TemplateUpdate{Roles: &noRoles})
		wantErrKind(t, "drop referenced role", err, infisical.KindValidation, "deployer")
		// Org members read templates but cannot create them.
		member := f.identity("m", "member")
		if _, err := f.eng.Templates.Get(ctx, member, tmpl.ID); err != nil {
			t.Fatalf("member reads template: %v", err)
		}
		_, err = f.eng.Templates.Create(ctx, member, infisical.TemplateInput{Name: "mine", Type: "secret-manager"})
		wantErrKind(t, "member creates template", err, infisical.KindPermissionDenied, "")
		if _, err := f.eng.Templates.Delete(ctx, f.admin, tmpl.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.eng.Templates.Get(ctx, f.admin, tmpl.ID)
		wantErrKind(t, "get deleted", err, infisical.KindNotFound, "")
	})
}
