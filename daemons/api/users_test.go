package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// usrFast keeps password hashing cheap.
func usrFast(c *infisical.Config) {
	c.Argon2 = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// usrClock is a settable clock for Config.Now.
type usrClock struct {
	mu sync.Mutex
	t  time.Time
}

func newUsrClock() *usrClock { return &usrClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *usrClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *usrClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *usrClock) use(cfg *infisical.Config) { cfg.Now = c.now }

// usrStatus sends a request that must answer code and returns the body.
func (ts *testServer) usrStatus(code int, method, path, token string, body any) map[string]any {
	ts.t.Helper()
	got, raw, _ := ts.do(method, path, token, body)
	if got != code {
		ts.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, code, raw)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			ts.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// usrLogin logs in by email and password and selects orgID; it returns the
// organization-scoped user token.
func (ts *testServer) usrLogin(email, password, orgID string) string {
	ts.t.Helper()
	var lr struct {
		AccessToken string `json:"accessToken"`
	}
	ts.must("POST", "/api/v3/auth/login", "", map[string]string{"email": email, "password": password}, &lr)
	var sel struct {
		Token        string `json:"token"`
		IsMfaEnabled *bool  `json:"isMfaEnabled"`
	}
	ts.must("POST", "/api/v3/auth/select-organization", lr.AccessToken, map[string]string{"organizationId": orgID}, &sel)
	if sel.Token == "" || sel.IsMfaEnabled == nil || *sel.IsMfaEnabled {
		ts.t.Fatalf("select-organization: %+v", sel)
	}
	return sel.Token
}

// usrAdmin bootstraps the instance and logs its first user in.
func (ts *testServer) usrAdmin() (orgID, userToken string) {
	ts.t.Helper()
	boot := ts.bootstrap()
	return boot.OrgID, ts.usrLogin("admin@example.com", "correct-horse-battery", boot.OrgID)
}

// usrInvite invites email into orgID (optionally a project) and completes
// the account with password; it returns the user's organization token.
func (ts *testServer) usrInvite(adminToken, orgID, email, password, projectID, projectRole string) string {
	ts.t.Helper()
	body := map[string]any{"inviteeEmails": []string{email}, "organizationId": orgID}
	if projectID != "" {
		body["projects"] = []map[string]any{{"id": projectID, "projectRoleSlug": []string{projectRole}}}
	}
	var inv struct {
		Message string `json:"message"`
		Links   []struct {
			Email string `json:"email"`
			Link  string `json:"link"`
		} `json:"completeInviteLinks"`
	}
	ts.must("POST", "/api/v1/invite-org/signup", adminToken, body, &inv)
	if len(inv.Links) != 1 || inv.Links[0].Email != email || !strings.Contains(inv.Message, email) {
		ts.t.Fatalf("invite: %+v", inv)
	}
	u, err := url.Parse(inv.Links[0].Link)
	if err != nil {
		ts.t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/signupinvite" || q.Get("to") != email || q.Get("organization_id") != orgID || q.Get("token") == "" {
		ts.t.Fatalf("invite link %q", inv.Links[0].Link)
	}
	var ver struct {
		Message string `json:"message"`
		Token   string `json:"token"`
		User    struct {
			Email           string `json:"email"`
			IsEmailVerified bool   `json:"isEmailVerified"`
		} `json:"user"`
	}
	ts.must("POST", "/api/v1/invite-org/verify", "", map[string]string{"email": email, "organizationId": orgID, "code": q.Get("token")}, &ver)
	if ver.Token == "" || ver.User.Email != email || !ver.User.IsEmailVerified {
		ts.t.Fatalf("verify: %+v", ver)
	}
	// Legacy end-to-end encryption fields are accepted and ignored.
	var done struct {
		Message string `json:"message"`
		Token   string `json:"token"`
		User    struct {
			ID         string `json:"id"`
			IsAccepted bool   `json:"isAccepted"`
		} `json:"user"`
	}
	ts.must("POST", "/api/v3/signup/complete-account/invite", ver.Token, map[string]any{"email": email, "password": password,
		"firstName": "First", "lastName": "Last", "protectedKey": "ignored", "encryptedPrivateKey": "ignored", "salt": "x", "verifier": "y"}, &done)
	if done.Token == "" || !done.User.IsAccepted {
		ts.t.Fatalf("complete account: %+v", done)
	}
	return done.Token
}

func usrDecodeJWT(t *testing.T, tok string) map[string]any {
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

func TestUserLoginHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, usrFast)
		boot := ts.bootstrap()
		var lr struct {
			AccessToken string `json:"accessToken"`
		}
		ts.must("POST", "/api/v3/auth/login", "", map[string]string{"email": "admin@example.com", "password": "correct-horse-battery"}, &lr)
		orgless := lr.AccessToken
		c := usrDecodeJWT(t, orgless)
		if c["authTokenType"] != "accessToken" || c["organizationId"] != nil || c["tokenVersionId"] == "" {
			t.Fatalf("org-less claims %v", c)
		}
		// The org-less token works where no organization is needed...
		ts.usrStatus(200, "POST", "/api/v1/auth/checkAuth", orgless, nil)
		orgs := ts.usrStatus(200, "GET", "/api/v1/organization", orgless, nil)["organizations"].([]any)
		if len(orgs) != 1 || orgs[0].(map[string]any)["id"] != boot.OrgID || orgs[0].(map[string]any)["userRole"] != "admin" {
			t.Fatalf("organizations %v", orgs)
		}
		tree := ts.usrStatus(200, "GET", "/api/v1/organization/accessible-with-sub-orgs", orgless, nil)["organizations"].([]any)
		if len(tree) != 1 || tree[0].(map[string]any)["slug"] == "" {
			t.Fatalf("organization tree %v", tree)
		}
		me := ts.usrStatus(200, "GET", "/api/v1/user", orgless, nil)["user"].(map[string]any)
		if me["email"] != "admin@example.com" || me["superAdmin"] != true || me["encryptionVersion"] != float64(2) || me["isAccepted"] != true {
			t.Fatalf("user %v", me)
		}
		// ...and nowhere else.
		if body := ts.usrStatus(403, "GET", "/api/v1/workspace", orgless, nil); body["error"] != "ForbiddenError" {
			t.Fatalf("org-less workspace list: %v", body)
		}
		// Machine identities get no user routes.
		ts.usrStatus(403, "GET", "/api/v2/users/me", boot.AdminToken, nil)
		ts.usrStatus(403, "POST", "/api/v3/auth/select-organization", boot.AdminToken, map[string]string{"organizationId": boot.OrgID})

		ts.usrStatus(401, "POST", "/api/v3/auth/select-organization", orgless, map[string]string{"organizationId": "00000000-0000-0000-0000-000000000009"})
		if body := ts.usrStatus(422, "POST", "/api/v3/auth/select-organization", orgless, map[string]string{}); body["error"] != "ValidationFailure" {
			t.Fatalf("missing organizationId: %v", body)
		}
		sel := ts.usrStatus(200, "POST", "/api/v3/auth/select-organization", orgless, map[string]string{"organizationId": boot.OrgID})
		if sel["isMfaEnabled"] != false {
			t.Fatalf("select-organization %v", sel)
		}
		admin := sel["token"].(string)
		c = usrDecodeJWT(t, admin)
		for _, k := range []string{"authTokenType", "userId", "tokenVersionId", "accessVersion", "organizationId", "authMethod", "iat", "exp"} {
			if _, ok := c[k]; !ok {
				t.Fatalf("claim %s missing: %v", k, c)
			}
		}
		if c["organizationId"] != boot.OrgID || c["authMethod"] != "email" || c["authTokenType"] != "accessToken" {
			t.Fatalf("claims %v", c)
		}
		// Selecting an organization ends the org-less session.
		ts.usrStatus(401, "POST", "/api/v1/auth/checkAuth", orgless, nil)
		me2 := ts.usrStatus(200, "GET", "/api/v2/users/me", admin, nil)["user"].(map[string]any)
		if me2["id"] != c["userId"] {
			t.Fatalf("me %v", me2)
		}
		ts.usrStatus(200, "GET", "/api/v1/workspace", admin, nil)

		// Logout ends the session; repeated or anonymous logouts succeed.
		ts.usrStatus(200, "POST", "/api/v1/auth/logout", admin, nil)
		if body := ts.usrStatus(401, "POST", "/api/v1/auth/checkAuth", admin, nil); body["error"] != "UnauthorizedError" {
			t.Fatalf("after logout: %v", body)
		}
		ts.usrStatus(200, "POST", "/api/v1/auth/logout", admin, nil)
		ts.usrStatus(200, "POST", "/api/v1/auth/logout", "", nil)

		// Revoking every session.
		a1 := ts.usrLogin("admin@example.com", "correct-horse-battery", boot.OrgID)
		a2 := ts.usrLogin("admin@example.com", "correct-horse-battery", boot.OrgID)
		ts.usrStatus(200, "DELETE", "/api/v2/users/me/sessions", a1, nil)
		ts.usrStatus(401, "POST", "/api/v1/auth/checkAuth", a2, nil)
	})
}

func TestLoginRateLimitHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, usrFast)
		ts.bootstrap()
		login := func(email, pw string) (int, map[string]any, http.Header) {
			code, raw, h := ts.do("POST", "/api/v3/auth/login", "", map[string]string{"email": email, "password": pw})
			var out map[string]any
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("login body: %s", raw)
			}
			return code, out, h
		}
		_, unknown, _ := login("nobody@example.com", "correct-horse-battery")
		for i := 0; i < 10; i++ {
			code, body, _ := login("admin@example.com", "wrong-password")
			if code != 401 || body["error"] != "UnauthorizedError" || body["message"] != unknown["message"] {
				t.Fatalf("attempt %d: %d %v (unknown email: %v)", i, code, body, unknown)
			}
		}
		code, body, h := login("admin@example.com", "correct-horse-battery")
		if code != 429 || body["error"] != "RateLimitExceeded" || body["statusCode"] != float64(429) {
			t.Fatalf("11th attempt: %d %v", code, body)
		}
		if ra := h.Get("Retry-After"); ra != "6" {
			t.Fatalf("Retry-After %q", ra)
		}
		if body := ts.usrStatus(422, "POST", "/api/v3/auth/login", "", map[string]string{"email": "admin@example.com"}); body["error"] != "ValidationFailure" {
			t.Fatalf("missing password: %v", body)
		}
	})
}

func TestUsersSecretsHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, usrFast)
		orgID, admin := ts.usrAdmin()
		pid := ts.createProject(admin, "Users project")
		// Invitee emails must be lower-case.
		ts.usrStatus(422, "POST", "/api/v1/invite-org/signup", admin, map[string]any{"inviteeEmails": []string{"Bob@example.com"}, "organizationId": orgID})
		ts.usrInvite(admin, orgID, "bob@example.com", "bob-password", pid, "member")
		ts.usrInvite(admin, orgID, "carol@example.com", "carol-password", pid, "member")
		bob := ts.usrLogin("bob@example.com", "bob-password", orgID)
		carol := ts.usrLogin("carol@example.com", "carol-password", orgID)

		// Both see the project.
		for _, tok := range []string{bob, carol} {
			ws := ts.usrStatus(200, "GET", "/api/v1/workspace", tok, nil)["workspaces"].([]any)
			if len(ws) != 1 || ws[0].(map[string]any)["_id"] != pid {
				t.Fatalf("workspaces %v", ws)
			}
		}
		create := func(tok, key, value, typ string) {
			t.Helper()
			ts.usrStatus(200, "POST", "/api/v3/secrets/raw/"+key, tok, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": value, "type": typ})
		}
		create(admin, "API_KEY", "shared-value", "shared")
		create(bob, "API_KEY", "bob-value", "personal")
		// A personal secret needs a shared one of the same key.
		ts.usrStatus(400, "POST", "/api/v3/secrets/raw/ONLY_MINE", bob, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "x", "type": "personal"})
		read := func(tok string) (string, string) {
			t.Helper()
			list := ts.usrStatus(200, "GET", "/api/v4/secrets?projectId="+pid+"&environment=dev&includePersonalOverrides=true", tok, nil)["secrets"].([]any)
			if len(list) != 1 {
				t.Fatalf("secrets %v", list)
			}
			s := list[0].(map[string]any)
			return s["secretValue"].(string), s["type"].(string)
		}
		for _, tc := range []struct{ who, tok, value, typ string }{
			{"bob", bob, "bob-value", "personal"}, {"carol", carol, "shared-value", "shared"}, {"admin", admin, "shared-value", "shared"},
		} {
			if v, typ := read(tc.tok); v != tc.value || typ != tc.typ {
				t.Fatalf("%s reads %q (%s), want %q (%s)", tc.who, v, typ, tc.value, tc.typ)
			}
		}
		got := ts.usrStatus(200, "GET", "/api/v3/secrets/raw/API_KEY?workspaceId="+pid+"&environment=dev&type=personal", bob, nil)["secret"].(map[string]any)
		if got["secretValue"] != "bob-value" {
			t.Fatalf("bob's personal secret %v", got)
		}
		ts.usrStatus(404, "GET", "/api/v3/secrets/raw/API_KEY?workspaceId="+pid+"&environment=dev&type=personal", carol, nil)

		// Every step was audited, and no audit entry holds a credential.
		var rows []struct {
			EventType string `bun:"event_type"`
			ActorType string `bun:"actor_type"`
			Meta      string `bun:"event_metadata"`
			Actor     string `bun:"actor_metadata"`
		}
		if err := ts.eng.Store().DB().NewSelect().Table("audit_logs").Column("event_type", "actor_type", "event_metadata", "actor_metadata").
			Scan(context.Background(), &rows); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range rows {
			seen[r.EventType]++
			for _, secret := range []string{"bob-password", "carol-password", "correct-horse-battery", bob, carol, admin} {
				if strings.Contains(r.Meta+r.Actor, secret) {
					t.Fatalf("audit entry %s holds a credential: %s %s", r.EventType, r.Meta, r.Actor)
				}
			}
		}
		for ev, n := range map[string]int{"user-login": 3, "select-organization": 3, "invite-org-member": 2, "user-signup": 2} {
			if seen[ev] != n {
				t.Fatalf("%d %s events, want %d (%v)", seen[ev], ev, n, seen)
			}
		}
	})
}
