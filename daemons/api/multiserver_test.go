package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestTwoServersOnePostgres runs two independent engines (two pools, two
// caches, two invalidation listeners — everything a second `infisical
// server` process has) on one PostgreSQL database and checks that what one
// changes the other serves at once.
func TestTwoServersOnePostgres(t *testing.T) {
	dsn := enginetest.DSN(t, enginetest.Postgres)
	open := func() *testServer {
		cfg := enginetest.Config(t, dsn)
		eng, err := infisical.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		return serve(t, eng)
	}
	a, b := open(), open()

	boot := a.bootstrap()
	projectID := a.createProject(boot.AdminToken, "shared")
	_, clientID, clientSecret := a.uaIdentity(boot.AdminToken, boot.OrgID, "app", projectID, "viewer", nil)

	// Log in through B with what A created.
	var login struct {
		AccessToken string `json:"accessToken"`
	}
	b.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": clientSecret}, &login)
	tok := login.AccessToken

	read := func(ts *testServer, key, path string) (int, string) {
		var out struct {
			Secret struct {
				SecretValue string `json:"secretValue"`
			} `json:"secret"`
		}
		code, raw, _ := ts.do("GET", "/api/v3/secrets/raw/"+key+"?workspaceId="+projectID+"&environment=dev&secretPath="+path, tok, nil)
		if code == 200 {
			if err := jsonUnmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
		}
		return code, out.Secret.SecretValue
	}
	body := func(key, value, path string) map[string]any {
		return map[string]any{"workspaceId": projectID, "environment": "dev", "secretPath": path, "secretValue": value}
	}

	// Warm B's caches (project structure, permissions) before changing
	// things through A.
	if code, _ := read(b, "NOPE", "/"); code != http.StatusNotFound {
		t.Fatalf("warm-up read: %d", code)
	}

	// A secret written through A is read through B at once, and back.
	a.must("POST", "/api/v3/secrets/raw/API_KEY", boot.AdminToken, body("API_KEY", "one", "/"), nil)
	if code, v := read(b, "API_KEY", "/"); code != 200 || v != "one" {
		t.Fatalf("B after A's create: %d %q", code, v)
	}
	b.must("PATCH", "/api/v3/secrets/raw/API_KEY", boot.AdminToken, map[string]any{"workspaceId": projectID, "environment": "dev", "secretValue": "two"}, nil)
	if code, v := read(a, "API_KEY", "/"); code != 200 || v != "two" {
		t.Fatalf("A after B's update: %d %q", code, v)
	}

	// A folder created through A is usable through B immediately, although
	// B cached the folder tree before.
	a.must("POST", "/api/v1/folders", boot.AdminToken, map[string]any{"workspaceId": projectID, "environment": "dev", "name": "svc", "path": "/"}, nil)
	b.must("POST", "/api/v3/secrets/raw/IN_FOLDER", boot.AdminToken, body("IN_FOLDER", "f", "/svc"), nil)
	if code, v := read(a, "IN_FOLDER", "/svc"); code != 200 || v != "f" {
		t.Fatalf("A reading B's secret in A's folder: %d %q", code, v)
	}

	// A new environment created through A is usable through B.
	a.must("POST", "/api/v1/workspace/"+projectID+"/environments", boot.AdminToken, map[string]any{"name": "QA", "slug": "qa"}, nil)
	b.must("POST", "/api/v3/secrets/raw/QA_ONLY", boot.AdminToken, map[string]any{"workspaceId": projectID, "environment": "qa", "secretValue": "q"}, nil)

	// A role change made through A reaches B's permission cache (by
	// PostgreSQL NOTIFY); the viewer could not write before.
	if code, _, _ := b.do("POST", "/api/v3/secrets/raw/BY_APP", tok, body("BY_APP", "x", "/")); code != http.StatusForbidden {
		t.Fatalf("viewer write through B: %d", code)
	}
	var ident struct {
		IdentityMemberships []struct {
			IdentityID string `json:"identityId"`
			Identity   struct {
				Name string `json:"name"`
			} `json:"identity"`
		} `json:"identityMemberships"`
	}
	a.must("GET", "/api/v2/workspace/"+projectID+"/identity-memberships", boot.AdminToken, nil, &ident)
	var appID string
	for _, m := range ident.IdentityMemberships {
		if m.Identity.Name == "app" {
			appID = m.IdentityID
		}
	}
	a.must("PATCH", "/api/v2/workspace/"+projectID+"/identity-memberships/"+appID, boot.AdminToken,
		map[string]any{"roles": []map[string]any{{"role": "member", "isTemporary": false}}}, nil)
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, raw, _ := b.do("POST", "/api/v3/secrets/raw/BY_APP", tok, body("BY_APP", "x", "/"))
		if code == 200 {
			break
		}
		if code != http.StatusForbidden || time.Now().After(deadline) {
			t.Fatalf("member write through B after A's role change: %d %s", code, raw)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A token revoked through A is refused by B on the very next request.
	a.must("POST", "/api/v1/auth/token/revoke", "", map[string]string{"accessToken": tok}, nil)
	if code, _ := read(b, "API_KEY", "/"); code != http.StatusUnauthorized {
		t.Fatalf("B accepted a token revoked through A: %d", code)
	}
}
