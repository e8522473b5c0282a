package api_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAuthSecretsNeverLogged drives every credential-bearing flow (bootstrap,
// client secrets, logins good and bad, lockout, renew, revoke, token auth)
// with the engine and API logging at debug level into a buffer, then checks
// that no password, client secret or access token appears in it.
func TestAuthSecretsNeverLogged(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		logs := &syncBuffer{}
		ts := newTestServer(t, b, cheapArgon, func(c *infisical.Config) {
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		const password = "correct-horse-battery-staple"
		var boot struct {
			Organization struct{ ID string } `json:"organization"`
			Identity     struct {
				Credentials struct{ Token string } `json:"credentials"`
			} `json:"identity"`
		}
		ts.must("POST", "/api/v1/admin/bootstrap", "", map[string]any{"email": "root@example.com", "password": password, "organization": "Acme"}, &boot)
		admin := boot.Identity.Credentials.Token
		secrets := []string{password, admin}

		id, clientID, secret := ts.uaIdentity(admin, boot.Organization.ID, "svc", "", "", map[string]any{"lockoutThreshold": 2, "accessTokenTTL": 60})
		secrets = append(secrets, secret)
		var login loginJSON
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": secret}, &login)
		secrets = append(secrets, login.AccessToken)
		wrong := strings.Repeat("c", 64)
		for i := 0; i < 3; i++ {
			ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": wrong})
		}
		ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": secret})
		var renewed loginJSON
		ts.must("POST", "/api/v1/auth/token/renew", "", map[string]string{"accessToken": login.AccessToken}, &renewed)
		secrets = append(secrets, renewed.AccessToken)
		ts.must("POST", "/api/v1/auth/token/revoke", "", map[string]string{"accessToken": renewed.AccessToken}, nil)
		ts.do("GET", "/api/v1/identities/details", renewed.AccessToken, nil)
		ts.do("POST", "/api/v1/auth/token/renew", "", map[string]string{"accessToken": renewed.AccessToken})
		ts.do("POST", "/api/v1/auth/token/renew", "", map[string]string{"accessToken": renewed.AccessToken + "x"})

		ts.must("POST", "/api/v1/auth/token-auth/identities/"+id, admin, map[string]any{}, nil)
		var tok struct {
			AccessToken string `json:"accessToken"`
		}
		ts.must("POST", "/api/v1/auth/token-auth/identities/"+id+"/tokens", admin, map[string]any{"name": "t"}, &tok)
		secrets = append(secrets, tok.AccessToken)
		ts.do("GET", "/api/v1/identities/details", tok.AccessToken, nil)
		ts.do("POST", "/api/v1/admin/bootstrap", "", map[string]any{"email": "root@example.com", "password": password, "organization": "Acme"})

		out := logs.String()
		if !strings.Contains(out, "instance bootstrapped") {
			t.Fatalf("log capture is not wired: %q", out)
		}
		for i, s := range secrets {
			if s == "" {
				t.Fatalf("secret %d is empty", i)
			}
			// A JWT's signature part alone would already be a leak.
			probe := s
			if j := strings.LastIndexByte(s, '.'); j > 0 {
				probe = s[j+1:]
			}
			if strings.Contains(out, probe) {
				t.Fatalf("secret %d appears in the logs", i)
			}
		}
	})
}
