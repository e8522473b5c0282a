package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestLoginUniversalAuthAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "GREETING", "hello", nil)
		base := e.env("INFISICAL_TOKEN", "")

		// --plain --silent prints the token and nothing else.
		r := e.mustRun(base, "login", "--method=universal-auth", "--client-id", e.clientID, "--client-secret", e.secret, "--plain", "--silent")
		tok := strings.TrimSuffix(r.stdout, "\n")
		if tok == "" || strings.Contains(tok, "\n") || r.stderr != "" {
			t.Fatalf("plain login printed stdout %q, stderr %q", r.stdout, r.stderr)
		}
		// The token works for the secret commands.
		r = e.mustRun(base, "secrets", "get", "GREETING", "--plain", "--token", tok)
		if r.stdout != "hello\n" {
			t.Fatalf("secrets get with the new token: %q", r.stdout)
		}

		// Credentials from the environment; the default output names the token.
		r = e.mustRun(e.env("INFISICAL_TOKEN", "", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", e.clientID, "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", e.secret),
			"login", "--method", "universal-auth")
		if !strings.Contains(r.stdout, "Access token:") || !strings.Contains(r.stdout, "eyJ") {
			t.Fatalf("login output: %q", r.stdout)
		}

		tests := []struct {
			name     string
			args     []string
			wantCode int
			wantErr  string
		}{
			{"missing secret", []string{"login", "--method=universal-auth", "--client-id", e.clientID}, ExitUsage, "--client-secret"},
			{"wrong secret", []string{"login", "--method=universal-auth", "--client-id", e.clientID, "--client-secret", "0000" + e.secret[4:]}, ExitError, "401"},
			{"unknown method", []string{"login", "--method=carrier-pigeon"}, ExitUsage, "invalid --method"},
			{"identity id required", []string{"login", "--method=kubernetes"}, ExitUsage, "--machine-identity-id"},
			{"oidc jwt required", []string{"login", "--method=oidc-auth", "--machine-identity-id", "x"}, ExitUsage, "--oidc-jwt"},
			{"gcp key required", []string{"login", "--method=gcp-iam", "--machine-identity-id", "x"}, ExitUsage, "--service-account-key-file-path"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.run(base, tt.args...)
				if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
					t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tt.wantCode, r.stderr, tt.wantErr)
				}
				if strings.Contains(r.stderr, e.secret) || strings.Contains(r.stdout, e.secret) {
					t.Fatal("the client secret was printed")
				}
			})
		}
	})
}

func TestTokenRenewAndTokenAuth(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "K", "v", nil)
		base := e.env("INFISICAL_TOKEN", "")

		r := e.mustRun(base, "token", "renew", e.token, "--silent")
		renewed := strings.TrimSpace(r.stdout)
		if renewed == "" || r.stderr != "" {
			t.Fatalf("renew: stdout %q stderr %q", r.stdout, r.stderr)
		}
		if got := e.mustRun(base, "secrets", "get", "K", "--plain", "--token", renewed).stdout; got != "v\n" {
			t.Fatalf("renewed token: %q", got)
		}
		if r := e.run(base, "token", "renew", "not-a-token"); r.code != ExitError || r.stdout != "" {
			t.Fatalf("renew of garbage: exit %d stdout %q", r.code, r.stdout)
		}
		if r := e.run(base, "token", "renew"); r.code != ExitUsage {
			t.Fatalf("renew without token: exit %d", r.code)
		}

		// A token-auth token (no login call) works as --token and as
		// INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN, which wins over INFISICAL_TOKEN.
		e.must("POST", "/api/v1/auth/token-auth/identities/"+e.identityID, e.adminToken, map[string]any{}, nil)
		var tt struct {
			AccessToken string `json:"accessToken"`
		}
		e.must("POST", "/api/v1/auth/token-auth/identities/"+e.identityID+"/tokens", e.adminToken, map[string]any{"name": "ci"}, &tt)
		if got := e.mustRun(base, "secrets", "get", "K", "--plain", "--token", tt.AccessToken).stdout; got != "v\n" {
			t.Fatalf("token-auth token: %q", got)
		}
		env := e.env("INFISICAL_TOKEN", "garbage", "INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN", tt.AccessToken)
		if got := e.mustRun(env, "secrets", "get", "K", "--plain").stdout; got != "v\n" {
			t.Fatalf("INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN: %q", got)
		}
		// --token wins over the environment.
		if r := e.run(e.env("INFISICAL_TOKEN", tt.AccessToken), "secrets", "--token", "garbage"); r.code == ExitOK {
			t.Fatal("--token did not win over INFISICAL_TOKEN")
		}
		// No token and nobody logged in.
		if r := e.run(base, "secrets"); r.code != ExitError || !strings.Contains(r.stderr, "infisical login") {
			t.Fatalf("no credential: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestLoginMachineMethodFlags checks that each method's flags and
// environment variables reach the login request (against a recording fake;
// the server side of these methods has its own tests).
func TestLoginMachineMethodFlags(t *testing.T) {
	var mu sync.Mutex
	var lastPath string
	var lastBody map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		lastPath, lastBody = r.URL.Path, map[string]string{}
		_ = json.NewDecoder(r.Body).Decode(&lastBody)
		_, _ = io.WriteString(w, `{"accessToken":"the-token","expiresIn":60,"accessTokenMaxTTL":60,"tokenType":"Bearer"}`)
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "sa-token")
	writeFile(t, tokenFile, "pod-jwt\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		path string
		body map[string]string
	}{
		{"kubernetes", map[string]string{"INFISICAL_MACHINE_IDENTITY_ID": "id-1", "INFISICAL_AUTH_ORGANIZATION_SLUG": "child-org"},
			[]string{"--method=kubernetes", "--service-account-token-path", tokenFile},
			"/api/v1/auth/kubernetes-auth/login", map[string]string{"identityId": "id-1", "jwt": "pod-jwt", "organizationSlug": "child-org"}},
		{"kubernetes token path from env", map[string]string{"INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH": tokenFile},
			[]string{"--method=kubernetes", "--machine-identity-id", "id-2"},
			"/api/v1/auth/kubernetes-auth/login", map[string]string{"identityId": "id-2", "jwt": "pod-jwt"}},
		{"oidc from env", map[string]string{"INFISICAL_OIDC_AUTH_JWT": "ci-jwt"},
			[]string{"--method=oidc-auth", "--machine-identity-id", "id-3"},
			"/api/v1/auth/oidc-auth/login", map[string]string{"identityId": "id-3", "jwt": "ci-jwt"}},
		{"jwt", nil, []string{"--method=jwt-auth", "--machine-identity-id", "id-4", "--jwt", "signed"},
			"/api/v1/auth/jwt-auth/login", map[string]string{"identityId": "id-4", "jwt": "signed"}},
		{"ldap from env", map[string]string{"INFISICAL_LDAP_USERNAME": "alice", "INFISICAL_LDAP_PASSWORD": "pw"},
			[]string{"--method=ldap-auth", "--machine-identity-id", "id-5"},
			"/api/v1/auth/ldap-auth/login", map[string]string{"identityId": "id-5", "username": "alice", "password": "pw"}},
		{"flag wins over env", map[string]string{"INFISICAL_MACHINE_IDENTITY_ID": "from-env", "INFISICAL_OIDC_AUTH_JWT": "env-jwt"},
			[]string{"--method=oidc-auth", "--machine-identity-id", "from-flag", "--oidc-jwt", "flag-jwt"},
			"/api/v1/auth/oidc-auth/login", map[string]string{"identityId": "from-flag", "jwt": "flag-jwt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"INFISICAL_API_URL": srv.URL, "INFISICAL_CONFIG_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			r := runCLI(t, env, append([]string{"login", "--plain", "--silent"}, tt.args...)...)
			if r.code != ExitOK || r.stdout != "the-token\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if lastPath != tt.path || len(lastBody) != len(tt.body) {
				t.Fatalf("request %s %v, want %s %v", lastPath, lastBody, tt.path, tt.body)
			}
			for k, v := range tt.body {
				if lastBody[k] != v {
					t.Fatalf("body %v, want %v", lastBody, tt.body)
				}
			}
		})
	}
}
