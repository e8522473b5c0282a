package infisical_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// jwtClaims decodes a JWT's payload without verifying it.
func usrJWTClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// userSession creates a user with a password in the organization and
// returns its organization-scoped actor and token.
func usrSession(t *testing.T, eng *infisical.Engine, orgID, email, orgRole string) (infisical.Actor, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := eng.Users.Create(ctx, infisical.Platform(orgID), infisical.CreateUserInput{Email: email, Password: "password-" + email, OrgRole: orgRole}); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return usrLogin(t, eng, orgID, email, "password-"+email)
}

func usrLogin(t *testing.T, eng *infisical.Engine, orgID, email, password string) (infisical.Actor, string) {
	t.Helper()
	ctx := context.Background()
	s, err := eng.Users.Login(ctx, infisical.LoginInput{Email: email, Password: password, IP: "10.0.0.1", UserAgent: "test"})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	a := idAuth(t, eng, s.Token)
	sel, err := eng.Users.SelectOrganization(ctx, a, orgID)
	if err != nil {
		t.Fatalf("select organization: %v", err)
	}
	return idAuth(t, eng, sel.Token), sel.Token
}

func TestUserCreateValidation(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng, org, _ := idSetup(t, b, fastArgon)
		admin := infisical.Platform(org.ID)
		if _, err := eng.Users.Create(ctx, admin, infisical.CreateUserInput{Email: "taken@example.com", Password: "long-enough"}); err != nil {
			t.Fatal(err)
		}
		member, _ := usrSession(t, eng, org.ID, "member@example.com", "member")
		for _, tc := range []struct {
			name  string
			actor infisical.Actor
			in    infisical.CreateUserInput
			kind  infisical.Kind
			msg   string
		}{
			{"bad email", admin, infisical.CreateUserInput{Email: "not-an-email", Password: "long-enough"}, infisical.KindValidation, "email"},
			{"short password", admin, infisical.CreateUserInput{Email: "a@example.com", Password: "short"}, infisical.KindValidation, "password"},
			{"long first name", admin, infisical.CreateUserInput{Email: "a@example.com", Password: "long-enough", FirstName: usrPtr(strings.Repeat("x", 65))}, infisical.KindValidation, "firstName"},
			{"duplicate", admin, infisical.CreateUserInput{Email: "TAKEN@example.com", Password: "long-enough"}, infisical.KindBadRequest, "already exists"},
			{"unknown role", admin, infisical.CreateUserInput{Email: "a@example.com", Password: "long-enough", OrgRole: "superuser"}, infisical.KindNotFound, "superuser"},
			{"member may not add members", member, infisical.CreateUserInput{Email: "a@example.com", Password: "long-enough"}, infisical.KindPermissionDenied, ""},
			{"other organization", infisical.Actor{Type: infisical.ActorUser, ID: member.ID, OrgID: "other"}, infisical.CreateUserInput{Email: "a@example.com", Password: "long-enough", OrgID: org.ID}, infisical.KindForbidden, ""},
		} {
			_, err := eng.Users.Create(ctx, tc.actor, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, tc.msg)
		}
	})
}

func usrPtr[T any](v T) *T { return &v }

func TestUserLoginSessions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		clock := newTestClock()
		eng, org, p := idSetup(t, b, clock.use, fastArgon)
		admin := infisical.Platform(org.ID)
		if _, err := eng.Users.Create(ctx, admin, infisical.CreateUserInput{Email: "alice@example.com", Password: "alice-password"}); err != nil {
			t.Fatal(err)
		}
		// Wrong password, unknown email and an account without password
		// get the same answer.
		if _, err := eng.Users.Invite(ctx, admin, infisical.InviteInput{OrgID: org.ID, Emails: []string{"pending@example.com"}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ email, password string }{
			{"alice@example.com", "wrong-password"},
			{"nobody@example.com", "alice-password"},
			{"pending@example.com", "anything-at-all"},
		} {
			_, err := eng.Users.Login(ctx, infisical.LoginInput{Email: tc.email, Password: tc.password, IP: "10.0.0.2"})
			wantErrKind(t, "login "+tc.email, err, infisical.KindUnauthorized, "Invalid credentials")
			if err.Error() != "Invalid credentials" {
				t.Fatalf("login %s: message %q", tc.email, err.Error())
			}
		}
		_, err := eng.Users.Login(ctx, infisical.LoginInput{Email: "", Password: "x"})
		wantErrKind(t, "empty email", err, infisical.KindValidation, "email")

		s, err := eng.Users.Login(ctx, infisical.LoginInput{Email: " Alice@Example.com ", Password: "alice-password", IP: "10.0.0.2"})
		if err != nil {
			t.Fatal(err)
		}
		orgless := idAuth(t, eng, s.Token)
		if orgless.Type != infisical.ActorUser || orgless.OrgID != "" || orgless.Email != "alice@example.com" || orgless.TokenID == "" {
			t.Fatalf("org-less actor %+v", orgless)
		}
		if _, err := eng.Projects.List(ctx, orgless, org.ID); err == nil {
			t.Fatal("an org-less session listed projects")
		}
		orgs, err := eng.Users.Organizations(ctx, orgless)
		if err != nil || len(orgs) != 1 || orgs[0].ID != org.ID || orgs[0].UserRole != "member" {
			t.Fatalf("organizations %+v %v", orgs, err)
		}
		_, err = eng.Users.SelectOrganization(ctx, orgless, "00000000-0000-0000-0000-000000000001")
		wantErrKind(t, "select foreign org", err, infisical.KindUnauthorized, "does not have access")
		sel, err := eng.Users.SelectOrganization(ctx, orgless, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		c := usrJWTClaims(t, sel.Token)
		for k, want := range map[string]any{"authTokenType": "accessToken", "userId": orgless.ID, "organizationId": org.ID,
			"authMethod": "email", "accessVersion": float64(1), "tokenVersionId": sel.SessionID} {
			if c[k] != want {
				t.Fatalf("claim %s = %v, want %v (%v)", k, c[k], want, c)
			}
		}
		if iat, exp := c["iat"].(float64), c["exp"].(float64); exp-iat != float64(10*24*3600) {
			t.Fatalf("token lifetime %v", exp-iat)
		}
		// The org-less session ended with the selection.
		if _, err := eng.Authenticate(ctx, s.Token, "10.0.0.2"); infisical.KindOf(err) != infisical.KindUnauthorized {
			t.Fatalf("previous session still valid: %v", err)
		}
		alice := idAuth(t, eng, sel.Token)
		if alice.OrgID != org.ID || alice.ID != orgless.ID {
			t.Fatalf("actor %+v", alice)
		}
		// A member without project membership sees no project; with one,
		// the project and its secrets.
		if list, err := eng.Projects.List(ctx, alice, org.ID); err != nil || len(list) != 0 {
			t.Fatalf("projects before membership: %v %v", list, err)
		}
		if _, err := eng.Memberships.AddUsers(ctx, admin, p.ID, infisical.AddProjectUsersInput{Usernames: []string{"alice@example.com"}, RoleSlugs: []string{"viewer"}}); err != nil {
			t.Fatal(err)
		}
		if list, err := eng.Projects.List(ctx, alice, org.ID); err != nil || len(list) != 1 {
			t.Fatalf("projects after membership: %v %v", list, err)
		}

		// Deactivation cuts the session off at once; reactivation restores it.
		ms, err := eng.Users.ListOrgMemberships(ctx, admin, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		var mid string
		for _, m := range ms {
			if m.UserID == alice.ID {
				mid = m.ID
			}
		}
		if _, err := eng.Users.UpdateOrgMembership(ctx, admin, org.ID, mid, infisical.UpdateOrgMembershipInput{IsActive: usrPtr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Authenticate(ctx, sel.Token, "10.0.0.2"); infisical.KindOf(err) != infisical.KindUnauthorized {
			t.Fatalf("inactive member authenticated: %v", err)
		}
		if _, err := eng.Users.UpdateOrgMembership(ctx, admin, org.ID, mid, infisical.UpdateOrgMembershipInput{IsActive: usrPtr(true)}); err != nil {
			t.Fatal(err)
		}
		idAuth(t, eng, sel.Token)

		// Logout ends the session; garbage is ignored.
		if err := eng.Users.Logout(ctx, "garbage", "", ""); err != nil {
			t.Fatal(err)
		}
		if err := eng.Users.Logout(ctx, sel.Token, "10.0.0.2", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Authenticate(ctx, sel.Token, "10.0.0.2"); infisical.KindOf(err) != infisical.KindUnauthorized {
			t.Fatalf("token valid after logout: %v", err)
		}

		// Sessions expire with their tokens.
		_, tok := usrLogin(t, eng, org.ID, "alice@example.com", "alice-password")
		clock.Advance(10*24*time.Hour + time.Second)
		if _, err := eng.Authenticate(ctx, tok, "10.0.0.2"); infisical.KindOf(err) != infisical.KindTokenError {
			t.Fatalf("expired token: %v", err)
		}

		// RevokeSessions ends every session of the user.
		a1, t1 := usrLogin(t, eng, org.ID, "alice@example.com", "alice-password")
		_, t2 := usrLogin(t, eng, org.ID, "alice@example.com", "alice-password")
		if err := eng.Users.RevokeSessions(ctx, a1); err != nil {
			t.Fatal(err)
		}
		for _, tk := range []string{t1, t2} {
			if _, err := eng.Authenticate(ctx, tk, ""); infisical.KindOf(err) != infisical.KindUnauthorized {
				t.Fatalf("token valid after revoking all sessions: %v", err)
			}
		}
	})
}

func TestUserInviteFlow(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		clock := newTestClock()
		eng, org, p := idSetup(t, b, clock.use, fastArgon)
		admin := infisical.Platform(org.ID)
		invs, err := eng.Users.Invite(ctx, admin, infisical.InviteInput{OrgID: org.ID, Emails: []string{"Bob@Example.com", "bob@example.com"},
			Projects: []infisical.InviteProject{{ID: p.ID, RoleSlugs: []string{"viewer"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != 1 || invs[0].Email != "bob@example.com" || invs[0].Code == "" || !strings.Contains(invs[0].Link, "/signupinvite?token=") {
			t.Fatalf("invitations %+v", invs)
		}
		u, err := url.Parse(invs[0].Link)
		if err != nil || u.Query().Get("token") != invs[0].Code || u.Query().Get("to") != "bob@example.com" || u.Query().Get("organization_id") != org.ID {
			t.Fatalf("link %q", invs[0].Link)
		}
		// The invitee is listed as invited and is already in the project.
		ms, _ := eng.Users.ListOrgMemberships(ctx, admin, org.ID)
		if len(ms) != 1 || ms[0].Status != "invited" || ms[0].Role != "member" || ms[0].User.IsEmailVerified {
			t.Fatalf("memberships %+v", ms)
		}
		if pm, err := eng.Memberships.GetUserMembershipByUsername(ctx, admin, p.ID, "bob@example.com"); err != nil || pm.Roles[0].Role != "viewer" {
			t.Fatalf("project membership %+v %v", pm, err)
		}
		// Re-inviting issues a new code and voids the old one.
		again, err := eng.Users.Invite(ctx, admin, infisical.InviteInput{OrgID: org.ID, Emails: []string{"bob@example.com"}})
		if err != nil || again[0].Code == invs[0].Code {
			t.Fatalf("re-invite %+v %v", again, err)
		}
		for _, tc := range []struct {
			name, email, org, code string
			kind                   infisical.Kind
		}{
			{"old code", "bob@example.com", org.ID, invs[0].Code, infisical.KindBadRequest},
			{"wrong email", "eve@example.com", org.ID, again[0].Code, infisical.KindBadRequest},
			{"wrong org", "bob@example.com", p.ID, again[0].Code, infisical.KindBadRequest},
			{"missing code", "bob@example.com", org.ID, "", infisical.KindValidation},
		} {
			_, err := eng.Users.VerifyInvite(ctx, tc.email, tc.org, tc.code, "10.0.0.3")
			wantErrKind(t, tc.name, err, tc.kind, "")
		}
		ver, err := eng.Users.VerifyInvite(ctx, "BOB@example.com", org.ID, again[0].Code, "10.0.0.3")
		if err != nil || ver.Token == "" || !ver.User.IsEmailVerified {
			t.Fatalf("verify %+v %v", ver, err)
		}
		if _, err := eng.Users.VerifyInvite(ctx, "bob@example.com", org.ID, again[0].Code, "10.0.0.3"); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("code reused: %v", err)
		}
		// The signup token is no session token.
		if _, err := eng.Authenticate(ctx, ver.Token, ""); infisical.KindOf(err) != infisical.KindTokenError {
			t.Fatalf("signup token authenticated: %v", err)
		}
		_, err = eng.Users.CompleteInvite(ctx, ver.Token, infisical.CompleteAccountInput{Password: "short"})
		wantErrKind(t, "short password", err, infisical.KindValidation, "password")
		_, err = eng.Users.CompleteInvite(ctx, ver.Token, infisical.CompleteAccountInput{Email: "eve@example.com", Password: "bob-password"})
		wantErrKind(t, "other email", err, infisical.KindValidation, "email")
		_, err = eng.Users.CompleteInvite(ctx, "garbage", infisical.CompleteAccountInput{Password: "bob-password"})
		wantErrKind(t, "bad token", err, infisical.KindUnauthorized, "")
		done, err := eng.Users.CompleteInvite(ctx, ver.Token, infisical.CompleteAccountInput{Password: "bob-password", FirstName: usrPtr("Bob"), IP: "10.0.0.3"})
		if err != nil {
			t.Fatal(err)
		}
		if done.OrgID != org.ID || !done.User.IsAccepted || *done.User.FirstName != "Bob" {
			t.Fatalf("completed %+v", done)
		}
		bob := idAuth(t, eng, done.Token)
		if bob.OrgID != org.ID {
			t.Fatalf("bob %+v", bob)
		}
		if list, err := eng.Projects.List(ctx, bob, org.ID); err != nil || len(list) != 1 {
			t.Fatalf("bob's projects %v %v", list, err)
		}
		_, err = eng.Users.CompleteInvite(ctx, ver.Token, infisical.CompleteAccountInput{Password: "bob-password-2"})
		wantErrKind(t, "complete twice", err, infisical.KindBadRequest, "already")
		usrLogin(t, eng, org.ID, "bob@example.com", "bob-password")

		// An existing account invited to a second organization accepts
		// with the code alone.
		org2 := enginetest.Org(t, eng, "Second")
		inv2, err := eng.Users.Invite(ctx, infisical.Platform(org2.ID), infisical.InviteInput{OrgID: org2.ID, Emails: []string{"bob@example.com"}, OrgRole: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		ver2, err := eng.Users.VerifyInvite(ctx, "bob@example.com", org2.ID, inv2[0].Code, "")
		if err != nil || ver2.Token != "" {
			t.Fatalf("verify existing %+v %v", ver2, err)
		}
		usrLogin(t, eng, org2.ID, "bob@example.com", "bob-password")

		// Codes expire.
		inv3, err := eng.Users.Invite(ctx, admin, infisical.InviteInput{OrgID: org.ID, Emails: []string{"late@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(25 * time.Hour)
		_, err = eng.Users.VerifyInvite(ctx, "late@example.com", org.ID, inv3[0].Code, "")
		wantErrKind(t, "expired code", err, infisical.KindBadRequest, "")
		// Resending gives a fresh code.
		ms, _ = eng.Users.ListOrgMemberships(ctx, admin, org.ID)
		var lateID string
		for _, m := range ms {
			if m.User.Username == "late@example.com" {
				lateID = m.ID
			}
		}
		re, err := eng.Users.ResendInvite(ctx, admin, lateID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Users.VerifyInvite(ctx, "late@example.com", org.ID, re.Code, ""); err != nil {
			t.Fatalf("verify resent code: %v", err)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		clock := newTestClock()
		dsn := enginetest.DSN(t, b)
		open := func() *infisical.Engine {
			cfg := enginetest.Config(t, dsn)
			clock.use(&cfg)
			fastArgon(&cfg)
			eng, err := infisical.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { eng.Close() })
			return eng
		}
		// Two engines on one database share the limits (two servers).
		eng1, eng2 := open(), open()
		org := enginetest.Org(t, eng1, "Acme")
		if _, err := eng1.Users.Create(ctx, infisical.Platform(org.ID), infisical.CreateUserInput{Email: "carol@example.com", Password: "carol-password"}); err != nil {
			t.Fatal(err)
		}
		login := func(eng *infisical.Engine, email, pw, ip string) error {
			_, err := eng.Users.Login(ctx, infisical.LoginInput{Email: email, Password: pw, IP: ip})
			return err
		}
		for i := 0; i < 10; i++ {
			eng := eng1
			if i%2 == 1 {
				eng = eng2
			}
			if err := login(eng, "carol@example.com", "wrong-password", "10.1.0.1"); infisical.KindOf(err) != infisical.KindUnauthorized {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		// The 11th attempt, even with the right password and from another
		// address and server, is refused and says when to retry.
		err := login(eng2, "carol@example.com", "carol-password", "10.1.0.2")
		wantErrKind(t, "11th attempt", err, infisical.KindRateLimited, "")
		if d := infisical.RetryAfter(err); d <= 0 || d > 6*time.Second {
			t.Fatalf("retry after %v", d)
		}
		if n := infisical.RetryAfterSeconds(err); n != 6 {
			t.Fatalf("retry after %d s", n)
		}
		clock.Advance(6 * time.Second)
		if err := login(eng1, "carol@example.com", "carol-password", "10.1.0.2"); err != nil {
			t.Fatalf("after waiting: %v", err)
		}
		// Per IP: 30 attempts a minute across any emails.
		for i := 0; i < 30; i++ {
			email := "user" + string(rune('a'+i%26)) + "@example.com"
			if i >= 26 {
				email = "x" + email
			}
			if err := login(eng1, email, "whatever-pw", "10.1.0.9"); infisical.KindOf(err) != infisical.KindUnauthorized {
				t.Fatalf("ip attempt %d: %v", i, err)
			}
		}
		wantErrKind(t, "31st from one IP", login(eng2, "fresh@example.com", "whatever-pw", "10.1.0.9"), infisical.KindRateLimited, "")
		if err := login(eng2, "fresh@example.com", "whatever-pw", "10.1.0.10"); infisical.KindOf(err) != infisical.KindUnauthorized {
			t.Fatalf("other IP: %v", err)
		}
	})
}
