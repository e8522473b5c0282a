package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestServiceTokenAgainstServer uses a legacy service token: the project
// and (single-scope) environment come from GET /api/v2/service-token, and
// both that answer and the secrets are kept for offline use.
func TestServiceTokenAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		if code, _ := e.do("GET", "/api/v2/service-token", "st.x.y", nil); code == http.StatusNotFound {
			t.Skip("the server has no service tokens yet")
		}
		e.createSecret("staging", "/", "K", "staging-value", nil)
		e.createSecret("dev", "/", "K", "dev-value", nil)
		var login struct {
			AccessToken string `json:"accessToken"`
		}
		e.must("POST", "/api/v3/auth/login", "", map[string]string{"email": "admin@example.com", "password": "correct-horse-battery"}, &login)
		var sel struct {
			Token string `json:"token"`
		}
		e.must("POST", "/api/v3/auth/select-organization", login.AccessToken, map[string]string{"organizationId": e.orgID}, &sel)
		var st struct {
			ServiceToken string `json:"serviceToken"`
		}
		e.must("POST", "/api/v2/service-token", sel.Token, map[string]any{"name": "ci", "workspaceId": e.projectID,
			"scopes": []map[string]string{{"environment": "staging", "secretPath": "/"}}, "encryptedKey": "", "iv": "", "tag": "",
			"expiresIn": nil, "permissions": []string{"read"}}, &st)
		if !strings.HasPrefix(st.ServiceToken, "st.") {
			t.Fatalf("service token %q", st.ServiceToken)
		}
		// The legacy fourth part (a key) is dropped before sending.
		env := e.env("INFISICAL_TOKEN", st.ServiceToken+".legacy-key-part", "INFISICAL_PROJECT_ID", "")
		if got := e.mustRun(env, "secrets", "get", "K", "--plain").stdout; got != "staging-value\n" {
			t.Fatalf("service token read: %q", got)
		}
		e.srv.Close()
		r := e.mustRun(env, "secrets", "get", "K", "--plain")
		if r.stdout != "staging-value\n" || !strings.Contains(r.stderr, "offline mode") {
			t.Fatalf("offline service token read: %q %q", r.stdout, r.stderr)
		}
	})
}
