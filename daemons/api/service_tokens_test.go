package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestServiceTokensHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		clock := newUsrClock()
		ts := newTestServer(t, b, usrFast, clock.use)
		boot := ts.bootstrap()
		admin := ts.usrLogin("admin@example.com", "correct-horse-battery", boot.OrgID)
		pid := ts.createProject(admin, "Legacy")
		ts.usrStatus(200, "POST", "/api/v1/folders", admin, map[string]any{"workspaceId": pid, "environment": "dev", "name": "app", "path": "/"})
		for _, s := range []struct{ path, key, value string }{{"/", "ROOT", "root-value"}, {"/app", "APP", "app-value"}} {
			ts.usrStatus(200, "POST", "/api/v3/secrets/raw/"+s.key, admin, map[string]any{"workspaceId": pid, "environment": "dev",
				"secretPath": s.path, "secretValue": s.value})
		}
		create := func(tok string, body map[string]any) map[string]any {
			t.Helper()
			return ts.usrStatus(200, "POST", "/api/v2/service-token", tok, body)
		}
		body := map[string]any{"name": "ci", "workspaceId": pid, "scopes": []map[string]string{{"environment": "dev", "secretPath": "/app"}},
			"encryptedKey": "legacy", "iv": "legacy", "tag": "legacy", "expiresIn": 3600, "permissions": []string{"read"}}
		// Users only; identities and bad bodies are refused.
		ts.usrStatus(403, "POST", "/api/v2/service-token", boot.AdminToken, body)
		ts.usrStatus(422, "POST", "/api/v2/service-token", admin, map[string]any{"name": "x", "workspaceId": pid, "permissions": []string{"read"}})
		ts.usrStatus(422, "POST", "/api/v2/service-token", admin, map[string]any{"name": "x", "workspaceId": pid,
			"scopes": []map[string]string{{"environment": "dev", "secretPath": "/"}}, "permissions": []string{"delete"}})
		ts.usrStatus(404, "POST", "/api/v2/service-token", admin, map[string]any{"name": "x", "workspaceId": pid,
			"scopes": []map[string]string{{"environment": "nope", "secretPath": "/"}}, "permissions": []string{"read"}})

		res := create(admin, body)
		st := res["serviceToken"].(string)
		data := res["serviceTokenData"].(map[string]any)
		if !strings.HasPrefix(st, "st."+data["id"].(string)+".") || data["_id"] != data["id"] {
			t.Fatalf("created %v", res)
		}
		for _, k := range []string{"secretHash", "encryptedKey", "iv", "tag"} {
			if _, ok := data[k]; ok {
				t.Fatalf("serviceTokenData exposes %s: %v", k, data)
			}
		}
		if strings.Contains(usrJSON(t, res["serviceTokenData"]), strings.Split(st, ".")[2]) {
			t.Fatal("token data contains the secret")
		}
		// Clients send st.<id>.<secret>.<key>; the key part is ignored.
		withKey := st + ".0123456789abcdef"
		row := ts.usrStatus(200, "GET", "/api/v2/service-token", withKey, nil)
		if row["_id"] != data["id"] || row["workspace"] != pid || row["projectId"] != pid || row["__v"] != float64(0) || row["name"] != "ci" ||
			row["expiresAt"] == nil || row["secretHash"] != "" || row["encryptedKey"] != "" {
			t.Fatalf("token row %v", row)
		}
		scopes := row["scopes"].([]any)
		if len(scopes) != 1 || scopes[0].(map[string]any)["environment"] != "dev" || scopes[0].(map[string]any)["secretPath"] != "/app" {
			t.Fatalf("scopes %v", scopes)
		}
		if u := row["user"].(map[string]any); u["email"] != "admin@example.com" || u["_id"] != u["id"] {
			t.Fatalf("token user %v", u)
		}
		ts.usrStatus(403, "GET", "/api/v2/service-token", admin, nil)
		ts.usrStatus(401, "GET", "/api/v2/service-token", st[:len(st)-2]+"00", nil)

		// The single non-glob scope overrides environment, path and
		// project on reads (older CLIs send whatever they have).
		for _, path := range []string{
			"/api/v3/secrets/raw?workspaceId=" + pid + "&environment=prod&secretPath=/",
			"/api/v3/secrets/raw",
			"/api/v4/secrets?projectId=" + pid + "&environment=staging&secretPath=/other",
		} {
			list := ts.usrStatus(200, "GET", path, withKey, nil)["secrets"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["secretKey"] != "APP" || list[0].(map[string]any)["secretValue"] != "app-value" {
				t.Fatalf("GET %s: %v", path, list)
			}
		}
		one := ts.usrStatus(200, "GET", "/api/v4/secrets/APP?projectId="+pid+"&environment=prod", st, nil)["secret"].(map[string]any)
		if one["secretValue"] != "app-value" {
			t.Fatalf("get one %v", one)
		}
		// Read-only tokens cannot write.
		if body := ts.usrStatus(403, "POST", "/api/v3/secrets/raw/NEW", st, map[string]any{"workspaceId": pid, "environment": "dev",
			"secretPath": "/app", "secretValue": "v"}); body["error"] != "PermissionDenied" {
			t.Fatalf("read-only write: %v", body)
		}
		// Service tokens are no user: no user routes.
		ts.usrStatus(403, "GET", "/api/v2/users/me", st, nil)

		rw := create(admin, map[string]any{"name": "rw", "workspaceId": pid, "scopes": []map[string]string{{"environment": "dev", "secretPath": "/app"}},
			"expiresIn": nil, "permissions": []string{"read", "write"}})
		rwTok := rw["serviceToken"].(string)
		if rw["serviceTokenData"].(map[string]any)["expiresAt"] != nil {
			t.Fatalf("token without expiry: %v", rw)
		}
		ts.usrStatus(200, "POST", "/api/v3/secrets/raw/WRITTEN", rwTok, map[string]any{"workspaceId": pid, "environment": "dev",
			"secretPath": "/app", "secretValue": "v"})
		ts.usrStatus(403, "POST", "/api/v3/secrets/raw/OUTSIDE", rwTok, map[string]any{"workspaceId": pid, "environment": "dev",
			"secretPath": "/", "secretValue": "v"})

		listed := ts.usrStatus(200, "GET", "/api/v1/workspace/"+pid+"/service-token-data", admin, nil)["serviceTokenData"].([]any)
		if len(listed) != 2 {
			t.Fatalf("listed %v", listed)
		}
		ts.usrStatus(403, "GET", "/api/v1/workspace/"+pid+"/service-token-data", boot.AdminToken, nil)

		del := ts.usrStatus(200, "DELETE", "/api/v2/service-token/"+rw["serviceTokenData"].(map[string]any)["id"].(string), admin, nil)
		if del["serviceTokenData"].(map[string]any)["name"] != "rw" {
			t.Fatalf("deleted %v", del)
		}
		if body := ts.usrStatus(401, "GET", "/api/v2/service-token", rwTok, nil); body["message"] != "Invalid service token" {
			t.Fatalf("deleted token: %v", body)
		}

		// Expiry: 403 with Infisical's message, then the token is gone.
		clock.advance(time.Hour + time.Second)
		if body := ts.usrStatus(403, "GET", "/api/v3/secrets/raw", st, nil); body["message"] != "Service token has expired" {
			t.Fatalf("expired: %v", body)
		}
		ts.usrStatus(401, "GET", "/api/v2/service-token", st, nil)
	})
}

func usrJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
