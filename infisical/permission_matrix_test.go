package infisical_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// acFixture is an engine with a clock, an organization and a project, for
// access-control tests.
type acFixture struct {
	t     *testing.T
	ctx   context.Context
	eng   *infisical.Engine
	org   *infisical.Organization
	proj  *infisical.Project
	admin infisical.Actor
	clock *testClock
}

func newACFixture(t *testing.T, b enginetest.Backend) *acFixture {
	t.Helper()
	clock := newTestClock()
	eng, org, p := idSetup(t, b, clock.use)
	return &acFixture{t: t, ctx: context.Background(), eng: eng, org: org, proj: p, admin: infisical.Platform(org.ID), clock: clock}
}

func (f *acFixture) ref() infisical.ProjectRef { return infisical.ProjectRef{ID: f.proj.ID} }

// identity creates an identity with orgRole, in the project with roles
// (none: not a member), and returns it as an actor.
func (f *acFixture) identity(name, orgRole string, roles ...infisical.RoleAssignment) infisical.Actor {
	f.t.Helper()
	o, err := f.eng.Identities.Create(f.ctx, f.admin, infisical.CreateIdentityInput{OrgID: f.org.ID, Name: name, Role: orgRole})
	if err != nil {
		f.t.Fatalf("create identity %s: %v", name, err)
	}
	if len(roles) > 0 {
		if _, err := f.eng.Memberships.AddIdentity(f.ctx, f.admin, f.proj.ID, o.IdentityID, roles); err != nil {
			f.t.Fatalf("add identity %s: %v", name, err)
		}
	}
	return infisical.Actor{Type: infisical.ActorIdentity, ID: o.IdentityID, Name: name, OrgID: f.org.ID}
}

// user creates a user who is a member of the organization (directly in the
// store: user sign-up is another area's work) and returns it as an actor.
func (f *acFixture) user(username string) infisical.Actor {
	f.t.Helper()
	now := f.eng.Now()
	u := &store.User{ID: uuid.NewString(), Username: username, CreatedAt: now, UpdatedAt: now, IsAccepted: true}
	uid := u.ID
	om := &store.OrgMembership{ID: uuid.NewString(), OrgID: f.org.ID, UserID: &uid, Role: "member", Status: "accepted", IsActive: true, CreatedAt: now, UpdatedAt: now}
	err := f.eng.Store().Tx(f.ctx, func(q store.Q) error {
		if err := q.Insert(f.ctx, u); err != nil {
			return err
		}
		return q.Insert(f.ctx, om)
	})
	if err != nil {
		f.t.Fatalf("create user: %v", err)
	}
	return infisical.Actor{Type: infisical.ActorUser, ID: u.ID, Username: username, OrgID: f.org.ID}
}

// set returns the actor's compiled permissions in the project now.
func (f *acFixture) set(a infisical.Actor) *permission.Set {
	f.t.Helper()
	rules, err := f.eng.Roles.ProjectPermissions(f.ctx, a, f.ref())
	if err != nil {
		f.t.Fatalf("permissions of %s: %v", a.ID, err)
	}
	return permission.MustCompile(rules)
}

func secretAttrs(env, path, name string) permission.Attributes {
	a := permission.Attributes{permission.FieldEnvironment: env, permission.FieldSecretPath: path}
	if name != "" {
		a[permission.FieldSecretName] = name
	}
	return a
}

// TestRuleEvaluationSpecExamples evaluates custom roles written like the
// spec's examples (§8.7 V1 and V2 rules, inverted rules, globs, tags,
// §3.3 ABAC placeholders) through the whole path: role stored, assigned,
// loaded, compiled and cached.
func TestRuleEvaluationSpecExamples(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		// V1 rules as the slug-addressed API takes them.
		v1, err := permission.ConvertV1([]permission.V1Rule{
			{Action: "read", Subject: "secrets", Conditions: map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/app/**"}}},
			{Action: "edit", Subject: "secrets", Conditions: map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/app/*"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		roles := map[string][]permission.Rule{
			"v1-dev-app": v1,
			"v2-deny-prod-db": {
				{Subject: "secrets", Action: []string{"read"}},
				{Subject: "secrets", Action: []string{"readValue"}, Inverted: true, Conditions: map[string]any{
					"environment": "prod", "secretName": map[string]any{"$in": []any{"DB_PASSWORD", "DB_USER"}}}},
			},
			"v2-tags": {{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"secretTags": map[string]any{"$in": []any{"public"}}}}},
			"v2-ne":   {{Subject: "secrets", Action: []string{"describeSecret"}, Conditions: map[string]any{"environment": map[string]any{"$ne": "prod"}}}},
			"abac": {{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{
				"secretPath": map[string]any{"$glob": "/appA/{{ identity.metadata.location }}/**"}}}},
		}
		for slug, rules := range roles {
			if _, err := f.eng.Roles.CreateProjectRole(f.ctx, f.admin, f.ref(), infisical.RoleInput{Slug: slug, Name: slug, Permissions: rules}); err != nil {
				t.Fatalf("create %s: %v", slug, err)
			}
		}
		type check struct {
			action string
			attrs  permission.Attributes
			want   bool
		}
		tests := []struct {
			role   string
			checks []check
		}{
			{"v1-dev-app", []check{
				{"read", secretAttrs("dev", "/app", "K"), true},
				{"read", secretAttrs("dev", "/app/a/b", "K"), true},
				{"read", secretAttrs("dev", "/other", "K"), false},
				{"read", secretAttrs("prod", "/app", "K"), false},
				{"edit", secretAttrs("dev", "/app/a", "K"), true},
				{"edit", secretAttrs("dev", "/app/a/b", "K"), false},
				{"create", secretAttrs("dev", "/app", "K"), false},
			}},
			{"v2-deny-prod-db", []check{
				{"readValue", secretAttrs("prod", "/", "API_KEY"), true},
				{"readValue", secretAttrs("prod", "/", "DB_PASSWORD"), false},
				{"describeSecret", secretAttrs("prod", "/", "DB_PASSWORD"), true},
				{"readValue", secretAttrs("dev", "/", "DB_PASSWORD"), true},
				// Folder-level question (no name): the deny does not hide the folder.
				{"readValue", secretAttrs("prod", "/", ""), true},
			}},
			{"v2-tags", []check{
				{"read", permission.Attributes{"environment": "dev", "secretPath": "/", "secretTags": []string{"internal", "public"}}, true},
				{"read", permission.Attributes{"environment": "dev", "secretPath": "/", "secretTags": []string{"internal"}}, false},
			}},
			{"v2-ne", []check{
				{"describeSecret", secretAttrs("dev", "/", "K"), true},
				{"describeSecret", secretAttrs("prod", "/", "K"), false},
				{"readValue", secretAttrs("dev", "/", "K"), false},
			}},
		}
		for _, tc := range tests {
			a := f.identity("ident-"+tc.role, "no-access", infisical.RoleAssignment{Role: "no-access"}, infisical.RoleAssignment{Role: tc.role})
			set := f.set(a)
			for _, c := range tc.checks {
				if got := set.Can(c.action, "secrets", c.attrs); got != c.want {
					t.Errorf("%s: %s %v = %v, want %v", tc.role, c.action, c.attrs, got, c.want)
				}
			}
		}

		// ABAC: the folder follows the identity's metadata; changing the
		// metadata changes access without editing the role.
		geo := f.identity("geo", "no-access", infisical.RoleAssignment{Role: "abac"})
		md := []infisical.MetadataInput{{Key: "location", Value: "berlin"}}
		if _, err := f.eng.Identities.Update(f.ctx, f.admin, geo.ID, infisical.UpdateIdentityInput{Metadata: &md}); err != nil {
			t.Fatal(err)
		}
		if s := f.set(geo); !s.Can("read", "secrets", secretAttrs("dev", "/appA/berlin/x", "K")) || s.Can("read", "secrets", secretAttrs("dev", "/appA/paris", "K")) {
			t.Fatal("metadata placeholder not applied")
		}
		md = []infisical.MetadataInput{{Key: "location", Value: "paris"}}
		if _, err := f.eng.Identities.Update(f.ctx, f.admin, geo.ID, infisical.UpdateIdentityInput{Metadata: &md}); err != nil {
			t.Fatal(err)
		}
		if s := f.set(geo); s.Can("read", "secrets", secretAttrs("dev", "/appA/berlin/x", "K")) || !s.Can("read", "secrets", secretAttrs("dev", "/appA/paris", "K")) {
			t.Fatal("metadata change did not change access")
		}
		// A metadata value with glob characters matches literally.
		md = []infisical.MetadataInput{{Key: "location", Value: "*"}}
		if _, err := f.eng.Identities.Update(f.ctx, f.admin, geo.ID, infisical.UpdateIdentityInput{Metadata: &md}); err != nil {
			t.Fatal(err)
		}
		if f.set(geo).Can("read", "secrets", secretAttrs("dev", "/appA/berlin", "K")) {
			t.Fatal("a '*' metadata value widened the rule")
		}

		// The login principal is reachable as {{identity.auth.*}}.
		if _, err := f.eng.Roles.CreateProjectRole(f.ctx, f.admin, f.ref(), infisical.RoleInput{Slug: "k8s-ns", Name: "k8s", Permissions: []permission.Rule{
			{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"secretPath": map[string]any{"$glob": "/{{identity.auth.kubernetes.namespace}}/**"}}}}}); err != nil {
			t.Fatal(err)
		}
		pod := f.identity("pod", "no-access", infisical.RoleAssignment{Role: "k8s-ns"})
		pod.TokenID, pod.Principal = "tok-1", map[string]any{"kubernetes": map[string]any{"namespace": "payments"}}
		if s := f.set(pod); !s.Can("read", "secrets", secretAttrs("dev", "/payments/db", "K")) || s.Can("read", "secrets", secretAttrs("dev", "/billing", "K")) {
			t.Fatal("auth placeholder not applied")
		}
		pod.TokenID, pod.Principal = "tok-2", map[string]any{"kubernetes": map[string]any{"namespace": "billing"}}
		if s := f.set(pod); !s.Can("read", "secrets", secretAttrs("dev", "/billing", "K")) {
			t.Fatal("a second token with another principal got the first token's permissions")
		}
	})
}

// TestTemporaryAccessCrossesEndTime moves the engine clock across the
// start and end of temporary role grants and privileges: access starts and
// ends on time, without any write in between, and an expired grant gives
// nothing.
func TestTemporaryAccessCrossesEndTime(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		if _, err := f.eng.Secrets.Create(f.ctx, f.admin, infisical.CreateSecretInput{
			SecretScope: infisical.SecretScope{Project: f.ref(), Environment: "dev"}, NewSecret: infisical.NewSecret{Key: "K", Value: "v"}}); err != nil {
			t.Fatal(err)
		}
		now := f.eng.Now()
		later := now.Add(30 * time.Minute)
		temp := f.identity("temp", "no-access",
			infisical.RoleAssignment{Role: "no-access"},
			infisical.RoleAssignment{Role: "viewer", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "1h", TemporaryAccessStartTime: &now},
			infisical.RoleAssignment{Role: "member", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "30m", TemporaryAccessStartTime: &later})
		list := func() error {
			_, err := f.eng.Secrets.List(f.ctx, temp, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Project: f.ref(), Environment: "dev"}})
			return err
		}
		canEdit := func() bool { return f.set(temp).Can("edit", "secrets", secretAttrs("dev", "/", "K")) }
		steps := []struct {
			advance  time.Duration
			read     bool
			edit     bool
			describe string
		}{
			{0, true, false, "viewer active, member not yet"},
			{29*time.Minute + 59*time.Second, true, false, "just before the member grant starts"},
			{time.Second, true, true, "member grant started"},
			{29*time.Minute + 59*time.Second, true, true, "both active, just before the viewer grant ends"},
			{time.Second, false, false, "both grants ended at the same instant"},
			{time.Hour, false, false, "long after"},
		}
		for _, st := range steps {
			f.clock.Advance(st.advance)
			err := list()
			if st.read && err != nil {
				t.Fatalf("%s: read refused: %v", st.describe, err)
			}
			if !st.read && infisical.KindOf(err) != infisical.KindPermissionDenied {
				t.Fatalf("%s: read: %v, want permission denied", st.describe, err)
			}
			if got := canEdit(); got != st.edit {
				t.Fatalf("%s: edit = %v, want %v", st.describe, got, st.edit)
			}
		}

		// A temporary additional privilege ends on time as well.
		start := f.eng.Now()
		priv := f.identity("priv", "no-access", infisical.RoleAssignment{Role: "no-access"})
		if _, err := f.eng.Privileges.Create(f.ctx, f.admin, infisical.CreatePrivilegeInput{IdentityID: priv.ID, Project: f.ref(), Slug: "temp-read",
			Permissions: []permission.Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "dev"}}},
			IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "10m", TemporaryAccessStartTime: &start}); err != nil {
			t.Fatal(err)
		}
		if !f.set(priv).Can("read", "secrets", secretAttrs("dev", "/", "K")) {
			t.Fatal("temporary privilege not active")
		}
		f.clock.Advance(10 * time.Minute)
		if f.set(priv).Can("read", "secrets", secretAttrs("dev", "/", "K")) {
			t.Fatal("temporary privilege still active at its end time")
		}
		// A grant that is only temporary is refused: one permanent role is required.
		_, err := f.eng.Memberships.AddIdentity(f.ctx, f.admin, f.proj.ID, f.identity("only-temp", "no-access").ID,
			[]infisical.RoleAssignment{{Role: "viewer", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "1h", TemporaryAccessStartTime: &start}})
		wantErrKind(t, "only temporary roles", err, infisical.KindValidation, "permanent")
		for _, bad := range []infisical.RoleAssignment{
			{Role: "viewer", IsTemporary: true, TemporaryMode: "absolute", TemporaryRange: "1h", TemporaryAccessStartTime: &start},
			{Role: "viewer", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "0s", TemporaryAccessStartTime: &start},
			{Role: "viewer", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "soon", TemporaryAccessStartTime: &start},
			{Role: "viewer", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "1h"},
		} {
			_, err := f.eng.Memberships.SetIdentityRoles(f.ctx, f.admin, f.proj.ID, priv.ID, []infisical.RoleAssignment{{Role: "no-access"}, bad})
			wantErrKind(t, "bad temporary role", err, infisical.KindValidation, "roles")
		}
	})
}

// TestGroupUnion checks the four group semantics of features §3.6.
func TestGroupUnion(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx := f.ctx
		alice, bob := f.user("alice"), f.user("bob")
		if _, err := f.eng.Roles.CreateProjectRole(ctx, f.admin, f.ref(), infisical.RoleInput{Slug: "prod-reader", Name: "Prod reader",
			Permissions: []permission.Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "prod"}}}}); err != nil {
			t.Fatal(err)
		}
		eng, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "Engineering"})
		if err != nil {
			t.Fatal(err)
		}
		ops, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "Ops", Slug: "ops-team"})
		if err != nil {
			t.Fatal(err)
		}
		devRead := func(a infisical.Actor) bool { return f.set(a).Can("read", "secrets", secretAttrs("dev", "/", "K")) }
		prodRead := func(a infisical.Actor) bool { return f.set(a).Can("read", "secrets", secretAttrs("prod", "/", "K")) }
		devWrite := func(a infisical.Actor) bool { return f.set(a).Can("create", "secrets", secretAttrs("dev", "/", "K")) }

		if devRead(alice) {
			t.Fatal("alice reads before any membership")
		}
		// 1. A group in the project gives its members access.
		if _, err := f.eng.Groups.AddToProject(ctx, f.admin, f.proj.ID, eng.ID, []infisical.RoleAssignment{{Role: "viewer"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Groups.AddUser(ctx, f.admin, eng.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if !devRead(alice) || devWrite(alice) || devRead(bob) {
			t.Fatal("group viewer role not inherited by exactly its members")
		}
		// 2. Leaving the group loses the access.
		if _, err := f.eng.Groups.RemoveUser(ctx, f.admin, eng.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if devRead(alice) {
			t.Fatal("alice still reads after leaving the group")
		}
		if _, err := f.eng.Groups.AddUser(ctx, f.admin, eng.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		// 3. Direct membership and group: the union; removing the group from
		// the project keeps the direct membership.
		now := f.eng.Now()
		uid := alice.ID
		pm := &store.ProjectMembership{ID: uuid.NewString(), ProjectID: f.proj.ID, ActorType: store.ActorUser, ActorID: uid, CreatedAt: now, UpdatedAt: now}
		custom, err := f.eng.Roles.GetProjectRoleBySlug(ctx, f.admin, f.ref(), "prod-reader")
		if err != nil {
			t.Fatal(err)
		}
		mr := &store.MembershipRole{ID: uuid.NewString(), MembershipID: pm.ID, Role: "custom", CustomRoleID: &custom.ID, CreatedAt: now, UpdatedAt: now}
		if err := f.eng.Store().Tx(ctx, func(q store.Q) error {
			if err := q.Insert(ctx, pm); err != nil {
				return err
			}
			if err := q.Insert(ctx, mr); err != nil {
				return err
			}
			q.Invalidate("access", f.proj.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !devRead(alice) || !prodRead(alice) {
			t.Fatal("direct and group roles are not combined")
		}
		if _, err := f.eng.Groups.RemoveFromProject(ctx, f.admin, f.proj.ID, eng.ID); err != nil {
			t.Fatal(err)
		}
		if devRead(alice) || !prodRead(alice) {
			t.Fatal("removing the group did not keep exactly the direct membership")
		}
		// 4. Several groups: the union of all of them (added by name).
		if _, err := f.eng.Groups.AddToProject(ctx, f.admin, f.proj.ID, "Engineering", []infisical.RoleAssignment{{Role: "viewer"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Groups.AddToProject(ctx, f.admin, f.proj.ID, "ops-team", []infisical.RoleAssignment{{Role: "member"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Groups.AddUser(ctx, f.admin, ops.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Groups.AddUser(ctx, f.admin, ops.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if !devWrite(alice) || !prodRead(alice) || !devWrite(bob) {
			t.Fatal("roles of several groups are not combined")
		}
		// A group's roles can be replaced; deleting the group removes its access.
		if _, err := f.eng.Groups.SetProjectRoles(ctx, f.admin, f.proj.ID, ops.ID, []infisical.RoleAssignment{{Role: "no-access"}}); err != nil {
			t.Fatal(err)
		}
		if devWrite(bob) || devRead(bob) {
			t.Fatal("bob keeps access after the group role became no-access")
		}
		if _, err := f.eng.Groups.Delete(ctx, f.admin, eng.ID); err != nil {
			t.Fatal(err)
		}
		if devRead(alice) || !prodRead(alice) {
			t.Fatal("deleting a group did not remove exactly its access")
		}
		// A group's organization role is its members' too; the admin role
		// (administer every project) included.
		admins, err := f.eng.Groups.Create(ctx, f.admin, infisical.CreateGroupInput{Name: "Admins", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		carol := f.user("carol")
		orgCan := func(a infisical.Actor, action, subject string) bool {
			rules, err := f.eng.Roles.OrgPermissions(ctx, a, f.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			return permission.MustCompile(rules).Can(action, subject, nil)
		}
		if f.set(carol).Can("delete", "workspace", nil) || orgCan(carol, "create", "identity") {
			t.Fatal("carol is an admin before joining the admins group")
		}
		if _, err := f.eng.Groups.AddUser(ctx, f.admin, admins.ID, "carol"); err != nil {
			t.Fatal(err)
		}
		if !f.set(carol).Can("delete", "workspace", nil) || !orgCan(carol, "create", "identity") {
			t.Fatal("the admin org role of a group does not reach its member")
		}
		if _, err := f.eng.Groups.RemoveUser(ctx, f.admin, admins.ID, "carol"); err != nil {
			t.Fatal(err)
		}
		if f.set(carol).Can("delete", "workspace", nil) || orgCan(carol, "create", "identity") {
			t.Fatal("carol keeps admin after leaving the group")
		}
		// Identities do not belong to groups: their access is unaffected.
		users, total, err := f.eng.Groups.ListUsers(ctx, f.admin, ops.ID, infisical.ListGroupUsersInput{Filter: "existingMembers", Limit: 10})
		if err != nil || total != 2 || len(users) != 2 || !users[0].IsPartOfGroup || users[0].Username != "alice" {
			t.Fatalf("group users: %v %d %+v", err, total, users)
		}
		users, total, err = f.eng.Groups.ListUsers(ctx, f.admin, ops.ID, infisical.ListGroupUsersInput{Filter: "nonMembers", Limit: 10})
		if err != nil || total != 1 || len(users) != 1 || users[0].Username != "carol" || users[0].IsPartOfGroup {
			t.Fatalf("non-members: %v %d %+v", err, total, users)
		}
	})
}

// TestEscalationGuards checks that nobody creates, updates or assigns a
// role, privilege, membership or identity with more power than they hold
// (features §2.1 and §3.4 FAQ cases).
func TestEscalationGuards(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newACFixture(t, b)
		ctx := f.ctx
		// The manager may manage roles, identities, groups and privileges,
		// but reads secrets of dev only.
		mgrRules := []permission.Rule{
			{Subject: "role", Action: []string{"read", "create", "edit", "delete"}},
			{Subject: "identity", Action: permission.ProjectSubjectActions("identity")},
			{Subject: "groups", Action: []string{"read", "create", "edit", "delete"}},
			{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "dev"}},
		}
		if _, err := f.eng.Roles.CreateProjectRole(ctx, f.admin, f.ref(), infisical.RoleInput{Slug: "manager", Name: "Manager", Permissions: mgrRules}); err != nil {
			t.Fatal(err)
		}
		orgMgr := []permission.Rule{
			{Subject: "role", Action: []string{"read", "create", "edit", "delete"}},
			{Subject: "groups", Action: permission.OrgSubjectActions("groups")},
			{Subject: "identity", Action: permission.OrgSubjectActions("identity")},
			{Subject: "workspace", Action: []string{"read", "create"}},
		}
		if _, err := f.eng.Roles.CreateOrgRole(ctx, f.admin, f.org.ID, infisical.RoleInput{Slug: "org-manager", Name: "Org manager", Permissions: orgMgr}); err != nil {
			t.Fatal(err)
		}
		mgr := f.identity("manager", "org-manager", infisical.RoleAssignment{Role: "manager"})
		target := f.identity("target", "no-access", infisical.RoleAssignment{Role: "no-access"})
		boundary := func(what string, err error) {
			t.Helper()
			var e *infisical.Error
			if !errors.As(err, &e) || e.Kind != infisical.KindForbidden || e.Name != "PermissionBoundaryError" {
				t.Fatalf("%s: %v, want a PermissionBoundaryError", what, err)
			}
		}
		prodRead := []permission.Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "prod"}}}
		devRead := []permission.Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/app/**"}}}}

		// Custom project roles.
		_, err := f.eng.Roles.CreateProjectRole(ctx, mgr, f.ref(), infisical.RoleInput{Slug: "prod", Name: "prod", Permissions: prodRead})
		boundary("create role beyond own rules", err)
		dev, err := f.eng.Roles.CreateProjectRole(ctx, mgr, f.ref(), infisical.RoleInput{Slug: "dev-app", Name: "dev", Permissions: devRead})
		if err != nil {
			t.Fatalf("create role within own rules: %v", err)
		}
		_, err = f.eng.Roles.UpdateProjectRole(ctx, mgr, f.ref(), dev.ID, infisical.RoleUpdate{Permissions: &prodRead})
		boundary("widen role", err)
		adminMade, err := f.eng.Roles.CreateProjectRole(ctx, f.admin, f.ref(), infisical.RoleInput{Slug: "prod-only", Name: "prod", Permissions: prodRead})
		if err != nil {
			t.Fatal(err)
		}
		name := "renamed"
		_, err = f.eng.Roles.UpdateProjectRole(ctx, mgr, f.ref(), adminMade.ID, infisical.RoleUpdate{Name: &name})
		boundary("edit a role more privileged than oneself", err)
		_, err = f.eng.Roles.DeleteProjectRole(ctx, mgr, f.ref(), adminMade.ID)
		boundary("delete a role more privileged than oneself", err)

		// Identity memberships.
		_, err = f.eng.Memberships.SetIdentityRoles(ctx, mgr, f.proj.ID, target.ID, []infisical.RoleAssignment{{Role: "viewer"}})
		boundary("assign viewer (reads prod)", err)
		if _, err := f.eng.Memberships.SetIdentityRoles(ctx, mgr, f.proj.ID, target.ID, []infisical.RoleAssignment{{Role: "dev-app"}}); err != nil {
			t.Fatalf("assign a role within own rules: %v", err)
		}
		// Additional privileges.
		_, err = f.eng.Privileges.Create(ctx, mgr, infisical.CreatePrivilegeInput{IdentityID: target.ID, Project: f.ref(), Permissions: prodRead})
		boundary("privilege beyond own rules", err)
		p, err := f.eng.Privileges.Create(ctx, mgr, infisical.CreatePrivilegeInput{IdentityID: target.ID, Project: f.ref(), Permissions: devRead})
		if err != nil {
			t.Fatalf("privilege within own rules: %v", err)
		}
		_, err = f.eng.Privileges.Update(ctx, mgr, target.ID, f.ref(), p.Slug, infisical.UpdatePrivilegeInput{Permissions: &prodRead})
		boundary("widen privilege", err)
		// A more privileged identity cannot be managed.
		boss := f.identity("boss", "no-access", infisical.RoleAssignment{Role: "admin"})
		_, err = f.eng.Privileges.Create(ctx, mgr, infisical.CreatePrivilegeInput{IdentityID: boss.ID, Project: f.ref(), Permissions: devRead})
		boundary("privilege for a more privileged identity", err)
		_, err = f.eng.Memberships.RemoveIdentity(ctx, mgr, f.proj.ID, boss.ID)
		boundary("remove a more privileged identity", err)

		// Group memberships.
		g, err := f.eng.Groups.Create(ctx, mgr, infisical.CreateGroupInput{Name: "Devs"})
		if err != nil {
			t.Fatalf("manager creates a group: %v", err)
		}
		_, err = f.eng.Groups.AddToProject(ctx, mgr, f.proj.ID, g.ID, []infisical.RoleAssignment{{Role: "admin"}})
		boundary("group with admin", err)
		if _, err := f.eng.Groups.AddToProject(ctx, mgr, f.proj.ID, g.ID, []infisical.RoleAssignment{{Role: "dev-app"}}); err != nil {
			t.Fatalf("group with a role within own rules: %v", err)
		}
		_, err = f.eng.Groups.SetProjectRoles(ctx, mgr, f.proj.ID, g.ID, []infisical.RoleAssignment{{Role: "member"}})
		boundary("group to member", err)

		// Organization roles: groups and identities with the admin role or a
		// wider custom role are refused; org roles beyond one's own too.
		_, err = f.eng.Groups.Create(ctx, mgr, infisical.CreateGroupInput{Name: "Admins", Role: "admin"})
		boundary("group with org admin role", err)
		_, err = f.eng.Identities.Create(ctx, mgr, infisical.CreateIdentityInput{OrgID: f.org.ID, Name: "x", Role: "admin"})
		boundary("identity with org admin role", err)
		_, err = f.eng.Roles.CreateOrgRole(ctx, mgr, f.org.ID, infisical.RoleInput{Slug: "billing", Name: "b",
			Permissions: []permission.Rule{{Subject: "billing", Action: []string{"manage-billing"}}}})
		boundary("org role beyond own rules", err)
		narrow, err := f.eng.Roles.CreateOrgRole(ctx, mgr, f.org.ID, infisical.RoleInput{Slug: "ws-reader", Name: "ws",
			Permissions: []permission.Rule{{Subject: "workspace", Action: []string{"read"}}}})
		if err != nil {
			t.Fatalf("org role within own rules: %v", err)
		}
		wide := []permission.Rule{{Subject: "member", Action: []string{"delete"}}}
		_, err = f.eng.Roles.UpdateOrgRole(ctx, mgr, f.org.ID, narrow.ID, infisical.RoleUpdate{Permissions: &wide})
		boundary("widen org role", err)
		if _, err := f.eng.Identities.Create(ctx, mgr, infisical.CreateIdentityInput{OrgID: f.org.ID, Name: "reader", Role: "ws-reader"}); err != nil {
			t.Fatalf("identity with a custom org role within own rules: %v", err)
		}
		// The project admin (but org member) cannot create org roles at all.
		padmin := f.identity("padmin", "member", infisical.RoleAssignment{Role: "admin"})
		_, err = f.eng.Roles.CreateOrgRole(ctx, padmin, f.org.ID, infisical.RoleInput{Slug: "x-role", Name: "x", Permissions: []permission.Rule{}})
		wantErrKind(t, "org member creates org role", err, infisical.KindPermissionDenied, "")
		// Everything is fine for the project admin within the project.
		if _, err := f.eng.Privileges.Create(ctx, padmin, infisical.CreatePrivilegeInput{IdentityID: target.ID, Project: f.ref(), Permissions: prodRead}); err != nil {
			t.Fatalf("project admin grants a privilege: %v", err)
		}
	})
}
