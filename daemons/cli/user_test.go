package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestUserLoginAgainstServer logs the bootstrap admin in with email and
// password and uses the session for the secret commands, including a
// personal override.
func TestUserLoginAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		if code, _ := e.do("POST", "/api/v3/auth/login", "", map[string]string{"email": "x@example.com", "password": "y"}); code == http.StatusNotFound {
			t.Skip("the server has no user login yet")
		}
		e.createSecret("dev", "/", "A", "shared-value", nil)
		env := e.env("INFISICAL_TOKEN", "")

		if r := e.run(env, "login", "--email", "admin@example.com", "--password", "wrong-password-123", "--organization-id", e.orgID); r.code != ExitError {
			t.Fatalf("wrong password: exit %d", r.code)
		}
		r := e.mustRun(env, "login", "--email", "admin@example.com", "--password", "correct-horse-battery", "--organization-id", e.orgID)
		if !strings.Contains(r.stdout, "logged in as admin@example.com") {
			t.Fatalf("login: %q", r.stdout)
		}
		if got := e.mustRun(env, "secrets", "get", "A", "--plain").stdout; got != "shared-value\n" {
			t.Fatalf("secrets with the session: %q", got)
		}
		// A personal override wins by default; --secret-overriding=false
		// shows the shared value.
		e.mustRun(env, "secrets", "set", "A=personal-value", "--type", "personal")
		if got := e.mustRun(env, "secrets", "get", "A", "--plain").stdout; got != "personal-value\n" {
			t.Fatalf("with override: %q", got)
		}
		if got := e.mustRun(env, "secrets", "get", "A", "--plain", "--secret-overriding=false").stdout; got != "shared-value\n" {
			t.Fatalf("without override: %q", got)
		}
		r = e.mustRun(env, append([]string{"run", "--"}, "sh", "-c", "printf %s \"$A\"")...)
		if r.stdout != "personal-value" {
			t.Fatalf("run with override: %q", r.stdout)
		}
		if got := strings.TrimSpace(e.mustRun(env, "user", "get", "token", "--plain").stdout); strings.Count(got, ".") != 2 {
			t.Fatalf("user get token: %q", got)
		}
	})
}

// fakeUserServer implements the user-session endpoints with two
// organizations, one of which requires MFA, and a secret list that
// accepts only organization-scoped tokens.
type fakeUserServer struct {
	mu       sync.Mutex
	srv      *httptest.Server
	requests []string
}

func fakeJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + ".sig"
}

var (
	fakeInterim = fakeJWT(map[string]any{"authTokenType": "accessToken", "userId": "u-1", "tokenVersionId": "tv-0"})
	fakeMFA     = fakeJWT(map[string]any{"authTokenType": "mfaToken", "userId": "u-1"})
	fakeOrg1    = fakeJWT(map[string]any{"authTokenType": "accessToken", "userId": "u-1", "tokenVersionId": "tv-1", "organizationId": "org-1", "exp": time.Now().Add(time.Hour).Unix()})
	fakeOrg2    = fakeJWT(map[string]any{"authTokenType": "accessToken", "userId": "u-1", "tokenVersionId": "tv-2", "organizationId": "org-2", "exp": time.Now().Add(time.Hour).Unix()})
	fakeExpired = fakeJWT(map[string]any{"authTokenType": "accessToken", "userId": "u-1", "tokenVersionId": "tv-3", "organizationId": "org-3", "exp": time.Now().Add(-time.Hour).Unix()})
)

func newFakeUserServer(t *testing.T) *fakeUserServer {
	f := &fakeUserServer{}
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		unauthorized := map[string]any{"statusCode": 401, "error": "UnauthorizedError", "message": "bad token"}
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v3/auth/login":
			if body["password"] != "pw" {
				reply(w, 401, map[string]any{"statusCode": 401, "error": "UnauthorizedError", "message": "Invalid credentials"})
				return
			}
			reply(w, 200, map[string]string{"accessToken": fakeInterim})
		case "GET /api/v1/organization":
			if auth != fakeInterim {
				reply(w, 401, unauthorized)
				return
			}
			reply(w, 200, map[string]any{"organizations": []map[string]string{{"id": "org-1", "name": "Acme", "slug": "acme"}, {"id": "org-2", "name": "Beta", "slug": "beta"}, {"id": "org-3", "name": "Old", "slug": "old"}}})
		case "POST /api/v3/auth/select-organization":
			if auth != fakeInterim {
				reply(w, 401, unauthorized)
				return
			}
			switch body["organizationId"] {
			case "org-1":
				reply(w, 200, map[string]any{"token": fakeOrg1, "isMfaEnabled": false})
			case "org-2":
				reply(w, 200, map[string]any{"token": fakeMFA, "isMfaEnabled": true, "mfaMethod": "email"})
			case "org-3":
				reply(w, 200, map[string]any{"token": fakeExpired, "isMfaEnabled": false})
			default:
				reply(w, 403, map[string]any{"statusCode": 403, "error": "ForbiddenError", "message": "not a member"})
			}
		case "POST /api/v2/auth/mfa/verify":
			if auth != fakeMFA || body["mfaToken"] != "123456" || body["mfaMethod"] != "email" {
				reply(w, 400, map[string]any{"statusCode": 400, "error": "BadRequest", "message": "invalid code"})
				return
			}
			reply(w, 200, map[string]string{"token": fakeOrg2})
		case "GET /api/v1/workspace":
			if auth != fakeOrg1 && auth != fakeOrg2 {
				reply(w, 401, unauthorized)
				return
			}
			reply(w, 200, map[string]any{"workspaces": []map[string]string{
				{"_id": "p-1", "id": "p-1", "name": "one", "orgId": "org-1"},
				{"_id": "p-2", "id": "p-2", "name": "two", "orgId": "org-1"},
				{"_id": "p-3", "id": "p-3", "name": "three", "orgId": "org-2"}}})
		case "GET /api/v4/secrets":
			org := map[string]string{fakeOrg1: "org-1", fakeOrg2: "org-2"}[auth]
			if org == "" {
				reply(w, 401, unauthorized)
				return
			}
			reply(w, 200, map[string]any{"secrets": []map[string]any{{"id": "s-1", "_id": "s-1", "workspace": r.URL.Query().Get("projectId"),
				"environment": r.URL.Query().Get("environment"), "version": 1, "type": "shared", "secretKey": "ORG", "secretValue": org, "secretComment": "", "secretPath": "/"}}})
		default:
			reply(w, 404, map[string]any{"statusCode": 404, "error": "NotFound", "message": "Route not found"})
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func TestUserSessionVaultAndProfiles(t *testing.T) {
	f := newFakeUserServer(t)
	cfgDir := t.TempDir()
	// No INFISICAL_API_URL: the session remembers its domain.
	env := map[string]string{"INFISICAL_CONFIG_DIR": cfgDir}

	r := runCLIWith(t, env, "", "--domain", f.srv.URL, "login", "--email", "a@example.com", "--password", "pw", "--organization-id", "org-1")
	if r.code != ExitOK || !strings.Contains(r.stdout, "logged in as a@example.com") {
		t.Fatalf("login: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The session file is sealed and private.
	vaultFiles, _ := filepath.Glob(filepath.Join(cfgDir, "vault", "*.json"))
	if len(vaultFiles) != 1 {
		t.Fatalf("vault files: %v", vaultFiles)
	}
	raw, _ := os.ReadFile(vaultFiles[0])
	fi, _ := os.Stat(vaultFiles[0])
	if strings.Contains(string(raw), fakeOrg1) || strings.Contains(string(raw), "a@example.com") || fi.Mode().Perm() != 0o600 {
		t.Fatalf("vault file is not sealed/private (mode %v): %s", fi.Mode().Perm(), raw)
	}
	if got := runCLI(t, env, "user", "get", "token", "--plain"); got.stdout != fakeOrg1+"\n" {
		t.Fatalf("user get token --plain: %q %q", got.stdout, got.stderr)
	}
	if got := runCLI(t, env, "user", "get", "token"); got.stdout != "Session ID: tv-1\nToken: "+fakeOrg1+"\n" {
		t.Fatalf("user get token: %q", got.stdout)
	}
	// The secret commands use the session and its domain.
	if got := runCLI(t, env, "secrets", "get", "ORG", "--plain", "--projectId", "p-1"); got.code != ExitOK || got.stdout != "org-1\n" {
		t.Fatalf("secrets with the session: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
	// init offers the projects of the session's organization only.
	dir := t.TempDir()
	t.Chdir(dir)
	if got := runCLIWith(t, env, "2\n", "init"); got.code != ExitOK || !strings.Contains(got.stderr, "1) one (p-1)") || strings.Contains(got.stderr, "p-3") {
		t.Fatalf("init: exit %d\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, ".infisical.json")); !strings.Contains(string(raw), `"workspaceId": "p-2"`) {
		t.Fatalf(".infisical.json: %s", raw)
	}
	if got := runCLI(t, env, "secrets", "get", "ORG", "--plain"); got.stdout != "org-1\n" {
		t.Fatalf("secrets with .infisical.json: %q %q", got.stdout, got.stderr)
	}

	// An interactive login with organization choice and MFA adds a profile.
	r = runCLIWith(t, env, "b@example.com\npw\n2\n123456\n", "--domain", f.srv.URL, "login")
	if r.code != ExitOK || !strings.Contains(r.stderr, "2) Beta (org-2)") {
		t.Fatalf("interactive login: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := runCLI(t, env, "user", "get", "token", "--plain"); got.stdout != fakeOrg2+"\n" {
		t.Fatalf("token after the second login: %q", got.stdout)
	}
	if got := runCLI(t, env, "user", "switch", "a@example.com"); got.code != ExitOK || !strings.Contains(got.stdout, "a@example.com") {
		t.Fatalf("user switch: %d %q %q", got.code, got.stdout, got.stderr)
	}
	if got := runCLI(t, env, "user", "get", "token", "--plain"); got.stdout != fakeOrg1+"\n" {
		t.Fatalf("token after switching: %q", got.stdout)
	}
	if got := runCLIWith(t, env, "2\n", "user", "switch"); got.code != ExitOK || !strings.Contains(got.stdout, "b@example.com") {
		t.Fatalf("user switch by prompt: %d %q %q", got.code, got.stdout, got.stderr)
	}
	if got := runCLI(t, env, "user", "switch", "nobody@example.com"); got.code != ExitError {
		t.Fatalf("switch to an unknown profile: exit %d", got.code)
	}

	// Failures: wrong password, wrong MFA code, no answers on stdin, expired session.
	failures := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"wrong password", "", []string{"login", "--email", "a@example.com", "--password", "nope", "--organization-id", "org-1"}, ExitError, "Invalid credentials"},
		{"wrong mfa code", "", []string{"login", "--email", "a@example.com", "--password", "pw", "--organization-id", "org-2", "--mfa-code", "000000"}, ExitError, "invalid code"},
		{"no email on stdin", "", []string{"login"}, ExitUsage, "--email"},
		{"organization not mine", "", []string{"login", "--email", "a@example.com", "--password", "pw", "--organization-id", "org-9"}, ExitError, "not a member"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLIWith(t, env, tt.stdin, append([]string{"--domain", f.srv.URL}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tt.wantCode, r.stderr, tt.wantErr)
			}
		})
	}
	if r := runCLI(t, env, "--domain", f.srv.URL, "login", "--email", "c@example.com", "--password", "pw", "--organization-id", "org-3"); r.code != ExitOK {
		t.Fatalf("login to org-3: %q", r.stderr)
	}
	if r := runCLI(t, env, "secrets", "--projectId", "p-1"); r.code != ExitError || !strings.Contains(r.stderr, "expired") {
		t.Fatalf("expired session: exit %d, %q", r.code, r.stderr)
	}
	runCLI(t, env, "user", "switch", "a@example.com")

	// user update domain changes where the profile's session goes;
	// INFISICAL_API_URL still wins.
	if r := runCLI(t, env, "user", "update", "domain", "http://127.0.0.1:1"); r.code != ExitOK || !strings.Contains(r.stdout, "http://127.0.0.1:1/api") {
		t.Fatalf("update domain: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "secrets", "--projectId", "p-1", "--silent"); r.code != ExitError || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Fatalf("after update domain: exit %d %q", r.code, r.stderr)
	}
	withURL := map[string]string{"INFISICAL_CONFIG_DIR": cfgDir, "INFISICAL_API_URL": f.srv.URL}
	if r := runCLI(t, withURL, "secrets", "get", "ORG", "--plain", "--projectId", "p-1"); r.stdout != "org-1\n" {
		t.Fatalf("INFISICAL_API_URL over the profile domain: %q %q", r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "user", "update", "domain", "not a url"); r.code != ExitUsage {
		t.Fatalf("invalid domain: exit %d", r.code)
	}

	// Vaults.
	if r := runCLI(t, env, "vault"); !strings.Contains(r.stdout, "You are currently using [file] vault") || !strings.Contains(r.stdout, "- auto") {
		t.Fatalf("vault: %q", r.stdout)
	}
	if r := runCLI(t, env, "vault", "set", "file", "--passphrase", "correct horse"); r.code != ExitOK {
		t.Fatalf("set passphrase: %q", r.stderr)
	}
	raw, _ = os.ReadFile(vaultFiles[0])
	if !strings.Contains(string(raw), `"kdf":"scrypt"`) {
		t.Fatalf("session not re-sealed with the passphrase: %s", raw)
	}
	if r := runCLI(t, withURL, "user", "get", "token", "--plain"); r.stdout != fakeOrg1+"\n" {
		t.Fatalf("token with the configured passphrase: %q %q", r.stdout, r.stderr)
	}
	wrong := map[string]string{"INFISICAL_CONFIG_DIR": cfgDir, "INFISICAL_VAULT_FILE_PASSPHRASE": "wrong"}
	if r := runCLI(t, wrong, "user", "get", "token", "--plain"); r.code != ExitError || r.stdout != "" {
		t.Fatalf("wrong passphrase opened the vault: %q", r.stdout)
	}
	for _, args := range [][]string{{"vault", "use", "keychain"}, {"vault", "set", "auto", "--passphrase", "x"}, {"vault", "use"}} {
		if r := runCLI(t, env, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
	if r := runCLI(t, env, "vault", "use", "auto"); r.code != ExitOK || !strings.Contains(r.stdout, "from [file] to [auto]") {
		t.Fatalf("vault use auto: %q", r.stdout)
	}

	// reset deletes everything local.
	if r := runCLI(t, env, "reset"); r.code != ExitOK {
		t.Fatalf("reset: %q", r.stderr)
	}
	if left, _ := os.ReadDir(cfgDir); len(left) != 0 {
		t.Fatalf("left after reset: %v", left)
	}
	if r := runCLI(t, env, "user", "get", "token"); r.code != ExitError || !strings.Contains(r.stderr, "not logged in") {
		t.Fatalf("after reset: exit %d %q", r.code, r.stderr)
	}
}
