package infisical_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
)

// setup opens an engine with an organization and a project.
func idSetup(t *testing.T, b enginetest.Backend, mod ...func(*infisical.Config)) (*infisical.Engine, *infisical.Organization, *infisical.Project) {
	t.Helper()
	eng := enginetest.Open(t, b, mod...)
	org := enginetest.Org(t, eng, "Acme")
	p, err := eng.Projects.Create(context.Background(), infisical.Platform(org.ID), infisical.CreateProjectInput{OrgID: org.ID, Name: "Backend"})
	if err != nil {
		t.Fatal(err)
	}
	return eng, org, p
}

func idAuth(t *testing.T, eng *infisical.Engine, token string) infisical.Actor {
	t.Helper()
	a, err := eng.Authenticate(context.Background(), token, "127.0.0.1")
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return a
}

func TestIdentityTokenHelper(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng, org, p := idSetup(t, b)
		id, tok := enginetest.IdentityToken(t, eng, org.ID, "no-access", p.ID, "viewer")
		a := idAuth(t, eng, tok)
		if a.Type != infisical.ActorIdentity || a.ID != id || a.OrgID != org.ID || a.AuthMethod != "token-auth" {
			t.Fatalf("actor %+v", a)
		}
		if _, err := eng.Projects.Get(ctx, a, infisical.ProjectRef{ID: p.ID}); err != nil {
			t.Fatalf("viewer get project: %v", err)
		}
		if _, err := eng.Projects.Update(ctx, a, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{}); infisical.KindOf(err) != infisical.KindPermissionDenied {
			t.Fatalf("viewer update project: %v", err)
		}
		// Org-only identity.
		_, tok2 := enginetest.IdentityToken(t, eng, org.ID, "admin", "", "")
		a2 := idAuth(t, eng, tok2)
		if _, err := eng.Projects.Update(ctx, a2, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{}); err != nil {
			t.Fatalf("org admin update project: %v", err)
		}
	})
}

// testClock is a settable clock for Config.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *testClock) use(cfg *infisical.Config) { cfg.Now = c.Now }

// wantErrKind fails unless err has kind k (and, when msg is not empty, a
// message containing msg).
func wantErrKind(t *testing.T, what string, err error, k infisical.Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want kind %d", what, k)
	}
	if got := infisical.KindOf(err); got != k {
		t.Fatalf("%s: kind %d, want %d: %v", what, got, k, err)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: error %q does not mention %q", what, err.Error(), msg)
	}
}

func TestIdentityCRUD(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng, org, _ := idSetup(t, b)
		admin := infisical.Platform(org.ID)

		for _, tc := range []struct {
			name string
			in   infisical.CreateIdentityInput
			kind infisical.Kind
			msg  string
		}{
			{"empty name", infisical.CreateIdentityInput{OrgID: org.ID, Name: "  "}, infisical.KindValidation, "name"},
			{"long name", infisical.CreateIdentityInput{OrgID: org.ID, Name: strings.Repeat("x", 65)}, infisical.KindValidation, "name"},
			{"unknown role", infisical.CreateIdentityInput{OrgID: org.ID, Name: "a", Role: "boss"}, infisical.KindNotFound, "boss"},
			{"bad metadata", infisical.CreateIdentityInput{OrgID: org.ID, Name: "a", Metadata: []infisical.MetadataInput{{Key: "k"}}}, infisical.KindValidation, "metadata"},
			{"unknown org", infisical.CreateIdentityInput{OrgID: "00000000-0000-0000-0000-00000000000f", Name: "a"}, infisical.KindNotFound, ""},
		} {
			_, err := eng.Identities.Create(ctx, infisical.Platform(""), tc.in)
			wantErrKind(t, tc.name, err, tc.kind, tc.msg)
		}

		created, err := eng.Identities.Create(ctx, admin, infisical.CreateIdentityInput{OrgID: org.ID, Name: " ci-runner ",
			Metadata: []infisical.MetadataInput{{Key: "team", Value: "platform"}}})
		if err != nil {
			t.Fatal(err)
		}
		if created.Role != "no-access" || created.Identity.Name != "ci-runner" || created.OrgID != org.ID ||
			len(created.Identity.AuthMethods) != 0 || len(created.Metadata) != 1 || created.Metadata[0].Value != "platform" {
			t.Fatalf("created %+v", created)
		}
		id := created.IdentityID
		if _, err := eng.Identities.Create(ctx, admin, infisical.CreateIdentityInput{OrgID: org.ID, Name: "deployer", Role: "member"}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.TokenAuth.Attach(ctx, admin, id, infisical.TokenSettings{}); err != nil {
			t.Fatal(err)
		}
		got, err := eng.Identities.Get(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Identity.AuthMethods) != 1 || got.Identity.AuthMethods[0] != "token-auth" {
			t.Fatalf("auth methods %v", got.Identity.AuthMethods)
		}

		list, total, err := eng.Identities.List(ctx, admin, infisical.ListIdentitiesInput{OrgID: org.ID})
		if err != nil || total != 2 || len(list) != 2 || list[0].Identity.Name != "ci-runner" || list[1].Identity.Name != "deployer" {
			t.Fatalf("list %v %d %+v", err, total, list)
		}
		list, total, _ = eng.Identities.List(ctx, admin, infisical.ListIdentitiesInput{OrgID: org.ID, Limit: 1, Offset: 1})
		if total != 2 || len(list) != 1 || list[0].Identity.Name != "deployer" {
			t.Fatalf("page 2: %d %+v", total, list)
		}
		list, total, _ = eng.Identities.List(ctx, admin, infisical.ListIdentitiesInput{OrgID: org.ID, Search: "RUN"})
		if total != 1 || list[0].IdentityID != id {
			t.Fatalf("search: %d %+v", total, list)
		}
		list, total, _ = eng.Identities.List(ctx, admin, infisical.ListIdentitiesInput{OrgID: org.ID, RoleIn: []string{"member"}, Desc: true})
		if total != 1 || list[0].Identity.Name != "deployer" {
			t.Fatalf("role filter: %d %+v", total, list)
		}

		name, role, prot := "ci", "member", true
		md := []infisical.MetadataInput{{Key: "env", Value: "prod"}, {Key: "tier", Value: "1"}}
		upd, err := eng.Identities.Update(ctx, admin, id, infisical.UpdateIdentityInput{Name: &name, Role: &role, HasDeleteProtection: &prot, Metadata: &md})
		if err != nil {
			t.Fatal(err)
		}
		if upd.Identity.Name != "ci" || upd.Role != "member" || !upd.Identity.HasDeleteProtection || len(upd.Metadata) != 2 || upd.Metadata[0].Key != "env" {
			t.Fatalf("updated %+v", upd)
		}

		tok, err := eng.TokenAuth.CreateToken(ctx, admin, id, infisical.CreateTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		me := idAuth(t, eng, tok.AccessToken)
		det, err := eng.Identities.Details(ctx, me)
		if err != nil || det.ID != org.ID || det.Slug != org.Slug {
			t.Fatalf("details %v %+v", err, det)
		}
		if _, err := eng.Identities.Details(ctx, admin); infisical.KindOf(err) != infisical.KindForbidden {
			t.Fatalf("details as platform: %v", err)
		}

		_, err = eng.Identities.Delete(ctx, admin, id)
		wantErrKind(t, "delete protected", err, infisical.KindBadRequest, "delete protection")
		prot = false
		if _, err := eng.Identities.Update(ctx, admin, id, infisical.UpdateIdentityInput{HasDeleteProtection: &prot}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Identities.Delete(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		_, err = eng.Authenticate(ctx, tok.AccessToken, "127.0.0.1")
		wantErrKind(t, "token of deleted identity", err, infisical.KindUnauthorized, "")
		_, err = eng.Identities.Get(ctx, admin, id)
		wantErrKind(t, "get deleted", err, infisical.KindNotFound, "Failed to find identity")
	})
}

func TestIdentityOrgIsolationAndPermissions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng, org, _ := idSetup(t, b)
		other := enginetest.Org(t, eng, "Other")
		otherIdent, err := eng.Identities.Create(ctx, infisical.Platform(other.ID), infisical.CreateIdentityInput{OrgID: other.ID, Name: "theirs"})
		if err != nil {
			t.Fatal(err)
		}
		_, adminTok := enginetest.IdentityToken(t, eng, org.ID, "admin", "", "")
		orgAdmin := idAuth(t, eng, adminTok)
		_, memberTok := enginetest.IdentityToken(t, eng, org.ID, "member", "", "")
		member := idAuth(t, eng, memberTok)

		// Another organization's identity does not exist for us.
		_, err = eng.Identities.Get(ctx, orgAdmin, otherIdent.IdentityID)
		wantErrKind(t, "get other org", err, infisical.KindNotFound, "Failed to find identity with ID")
		_, err = eng.UniversalAuth.Attach(ctx, orgAdmin, otherIdent.IdentityID, infisical.UniversalAuthSettings{})
		wantErrKind(t, "attach other org", err, infisical.KindNotFound, "Failed to find identity with ID")
		_, err = eng.Identities.Create(ctx, orgAdmin, infisical.CreateIdentityInput{OrgID: other.ID, Name: "x"})
		wantErrKind(t, "create in other org", err, infisical.KindForbidden, "")

		// Org members may read identities but not create, change or configure them.
		if _, _, err := eng.Identities.List(ctx, member, infisical.ListIdentitiesInput{OrgID: org.ID}); err != nil {
			t.Fatalf("member list: %v", err)
		}
		for _, role := range []string{"admin", "member", "no-access"} {
			_, err = eng.Identities.Create(ctx, member, infisical.CreateIdentityInput{OrgID: org.ID, Name: "x", Role: role})
			wantErrKind(t, "member creates "+role, err, infisical.KindPermissionDenied, "")
		}
		victim, err := eng.Identities.Create(ctx, orgAdmin, infisical.CreateIdentityInput{OrgID: org.ID, Name: "victim", Role: "admin"})
		if err != nil {
			t.Fatalf("org admin creates admin identity: %v", err)
		}
		_, err = eng.TokenAuth.Attach(ctx, member, victim.IdentityID, infisical.TokenSettings{})
		wantErrKind(t, "member attaches token auth", err, infisical.KindPermissionDenied, "")
		role := "no-access"
		_, err = eng.Identities.Update(ctx, member, victim.IdentityID, infisical.UpdateIdentityInput{Role: &role})
		wantErrKind(t, "member demotes admin", err, infisical.KindPermissionDenied, "")
	})
}

// TestIdentityPrivilegeBoundary uses custom roles that may manage
// identities but hold little else: they must not hand out (or manage
// holders of) more than they have.
func TestIdentityPrivilegeBoundary(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng, org, p := idSetup(t, b)
		idRules := []permission.Rule{{Subject: permission.OrgSubjectIdentity, Action: permission.OrgSubjectActions(permission.OrgSubjectIdentity)}}
		projRules := []permission.Rule{
			{Subject: permission.SubjectIdentity, Action: []string{"read", "create", "edit", "delete"}},
			{Subject: permission.SubjectSecrets, Action: []string{"read", "describeSecret", "readValue"}, Conditions: map[string]any{"environment": "dev"}},
		}
		infisical.SetTestCustomRoles(eng, map[string][]permission.Rule{"identity-manager": idRules},
			map[string][]permission.Rule{"identity-manager": projRules,
				"dev-reader":  {{Subject: permission.SubjectSecrets, Action: []string{"read"}, Conditions: map[string]any{"environment": "dev"}}},
				"prod-reader": {{Subject: permission.SubjectSecrets, Action: []string{"read"}, Conditions: map[string]any{"environment": map[string]any{"$eq": "prod"}}}},
			})
		_, tok := enginetest.IdentityToken(t, eng, org.ID, "identity-manager", p.ID, "identity-manager")
		mgr := idAuth(t, eng, tok)

		for _, tc := range []struct {
			role string
			ok   bool
		}{{"admin", false}, {"member", false}, {"no-access", true}, {"identity-manager", true}} {
			_, err := eng.Identities.Create(ctx, mgr, infisical.CreateIdentityInput{OrgID: org.ID, Name: "made-" + tc.role, Role: tc.role})
			if tc.ok && err != nil {
				t.Fatalf("create %s: %v", tc.role, err)
			}
			if !tc.ok {
				wantErrKind(t, "create "+tc.role, err, infisical.KindForbidden, "")
				var e *infisical.Error
				if !errors.As(err, &e) || e.Name != "PermissionBoundaryError" {
					t.Fatalf("create %s: %#v", tc.role, err)
				}
			}
		}
		// An admin identity created by someone else cannot be changed by the manager.
		adminIdent, err := eng.Identities.Create(ctx, infisical.Platform(org.ID), infisical.CreateIdentityInput{OrgID: org.ID, Name: "root", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = eng.Identities.Delete(ctx, mgr, adminIdent.IdentityID)
		wantErrKind(t, "manager deletes admin", err, infisical.KindForbidden, "")
		_, err = eng.UniversalAuth.Attach(ctx, mgr, adminIdent.IdentityID, infisical.UniversalAuthSettings{})
		wantErrKind(t, "manager configures admin", err, infisical.KindForbidden, "")

		target, err := eng.Identities.Create(ctx, mgr, infisical.CreateIdentityInput{OrgID: org.ID, Name: "target"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			role string
			ok   bool
		}{{"admin", false}, {"member", false}, {"viewer", false}, {"prod-reader", false}, {"dev-reader", true}, {"no-access", true}} {
			_, err := eng.Memberships.AddIdentity(ctx, mgr, p.ID, target.IdentityID, []infisical.RoleAssignment{{Role: tc.role}})
			if tc.ok {
				if err != nil {
					t.Fatalf("assign %s: %v", tc.role, err)
				}
				if _, err := eng.Memberships.RemoveIdentity(ctx, mgr, p.ID, target.IdentityID); err != nil {
					t.Fatal(err)
				}
				continue
			}
			wantErrKind(t, "assign "+tc.role, err, infisical.KindForbidden, "more privileged")
		}
		// Patching to admin is refused just the same, and the old roles stay.
		if _, err := eng.Memberships.AddIdentity(ctx, mgr, p.ID, target.IdentityID, []infisical.RoleAssignment{{Role: "no-access"}}); err != nil {
			t.Fatal(err)
		}
		_, err = eng.Memberships.SetIdentityRoles(ctx, mgr, p.ID, target.IdentityID, []infisical.RoleAssignment{{Role: "admin"}})
		wantErrKind(t, "patch to admin", err, infisical.KindForbidden, "")
		m, err := eng.Memberships.GetIdentity(ctx, mgr, p.ID, target.IdentityID)
		if err != nil || len(m.Roles) != 1 || m.Roles[0].Role != "no-access" {
			t.Fatalf("roles after refused patch: %v %+v", err, m)
		}
	})
}

func TestProjectIdentityMemberships(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng, org, p := idSetup(t, b)
		admin := infisical.Platform(org.ID)
		id, tok := enginetest.IdentityToken(t, eng, org.ID, "no-access", "", "")
		me := idAuth(t, eng, tok)

		_, err := eng.Projects.Get(ctx, me, infisical.ProjectRef{ID: p.ID})
		wantErrKind(t, "non-member reads project", err, infisical.KindPermissionDenied, "")

		m, err := eng.Memberships.AddIdentity(ctx, admin, p.ID, id, []infisical.RoleAssignment{{Role: "viewer"}})
		if err != nil {
			t.Fatal(err)
		}
		if m.IdentityID != id || m.ProjectID != p.ID || len(m.Roles) != 1 || m.Roles[0].Role != "viewer" || m.ProjectName != p.Name {
			t.Fatalf("membership %+v", m)
		}
		_, err = eng.Memberships.AddIdentity(ctx, admin, p.ID, id, nil)
		wantErrKind(t, "duplicate", err, infisical.KindBadRequest, "already a member")

		// viewer: read yes, write no — effective at once.
		if _, err := eng.Projects.Get(ctx, me, infisical.ProjectRef{ID: p.ID}); err != nil {
			t.Fatalf("viewer reads: %v", err)
		}
		_, err = eng.Projects.Update(ctx, me, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{})
		wantErrKind(t, "viewer writes", err, infisical.KindPermissionDenied, "")

		start := eng.Now().Add(-time.Minute)
		rows, err := eng.Memberships.SetIdentityRoles(ctx, admin, p.ID, id, []infisical.RoleAssignment{
			{Role: "viewer"}, {Role: "admin", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "1h", TemporaryAccessStartTime: &start}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || !rows[1].IsTemporary || rows[1].TemporaryAccessEndTime == nil || rows[1].MembershipID != m.ID {
			t.Fatalf("roles %+v", rows)
		}
		if _, err := eng.Projects.Update(ctx, me, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{}); err != nil {
			t.Fatalf("temporary admin writes: %v", err)
		}
		_, err = eng.Memberships.SetIdentityRoles(ctx, admin, p.ID, id, []infisical.RoleAssignment{
			{Role: "admin", IsTemporary: true, TemporaryMode: "relative", TemporaryRange: "1h", TemporaryAccessStartTime: &start}})
		wantErrKind(t, "only temporary", err, infisical.KindValidation, "permanent")
		_, err = eng.Memberships.SetIdentityRoles(ctx, admin, p.ID, id, []infisical.RoleAssignment{{Role: "nope"}})
		wantErrKind(t, "unknown role", err, infisical.KindNotFound, "nope")
		if _, err := eng.Memberships.SetIdentityRoles(ctx, admin, p.ID, id, []infisical.RoleAssignment{{Role: "no-access"}}); err != nil {
			t.Fatal(err)
		}
		_, err = eng.Projects.Get(ctx, me, infisical.ProjectRef{ID: p.ID})
		wantErrKind(t, "no-access reads", err, infisical.KindPermissionDenied, "")

		other, _ := enginetest.IdentityToken(t, eng, org.ID, "no-access", p.ID, "member")
		list, total, err := eng.Memberships.ListIdentities(ctx, admin, p.ID, infisical.ListProjectIdentitiesInput{})
		if err != nil || total != 2 || len(list) != 2 {
			t.Fatalf("list %v %d %+v", err, total, list)
		}
		list, total, _ = eng.Memberships.ListIdentities(ctx, admin, p.ID, infisical.ListProjectIdentitiesInput{Limit: 1, Offset: 1, Desc: true})
		if total != 2 || len(list) != 1 {
			t.Fatalf("page %d %+v", total, list)
		}
		byID, err := eng.Memberships.GetIdentityMembership(ctx, admin, m.ID)
		if err != nil || byID.IdentityID != id || byID.Identity.AuthMethods[0] != "token-auth" {
			t.Fatalf("by id %v %+v", err, byID)
		}
		mine, err := eng.Identities.ProjectMemberships(ctx, admin, other)
		if err != nil || len(mine) != 1 || mine[0].ProjectID != p.ID || mine[0].Roles[0].Role != "member" {
			t.Fatalf("identity memberships %v %+v", err, mine)
		}
		// A project member cannot manage identity memberships (member: identity read only).
		otherActor := idAuth(t, eng, mustToken(t, eng, org.ID, other))
		_, err = eng.Memberships.SetIdentityRoles(ctx, otherActor, p.ID, id, []infisical.RoleAssignment{{Role: "admin"}})
		wantErrKind(t, "member patches", err, infisical.KindPermissionDenied, "")

		// An identity of another organization cannot join.
		org2 := enginetest.Org(t, eng, "Two")
		foreign, err := eng.Identities.Create(ctx, infisical.Platform(org2.ID), infisical.CreateIdentityInput{OrgID: org2.ID, Name: "f"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = eng.Memberships.AddIdentity(ctx, admin, p.ID, foreign.IdentityID, nil)
		wantErrKind(t, "foreign identity", err, infisical.KindNotFound, "Failed to find identity")

		if _, err := eng.Memberships.RemoveIdentity(ctx, admin, p.ID, id); err != nil {
			t.Fatal(err)
		}
		_, err = eng.Memberships.GetIdentity(ctx, admin, p.ID, id)
		wantErrKind(t, "removed", err, infisical.KindNotFound, "")
		_, err = eng.Memberships.RemoveIdentity(ctx, admin, p.ID, id)
		wantErrKind(t, "remove twice", err, infisical.KindNotFound, "")
	})
}

// mustToken mints a token-auth token for an identity that has token auth.
func mustToken(t *testing.T, eng *infisical.Engine, orgID, identityID string) string {
	t.Helper()
	tok, err := eng.TokenAuth.CreateToken(context.Background(), infisical.Platform(orgID), identityID, infisical.CreateTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}
