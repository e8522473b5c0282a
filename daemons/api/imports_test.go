package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

var importRowKeys = []string{"id", "version", "importPath", "importEnv", "position", "createdAt", "updatedAt", "folderId",
	"isReplication", "isReplicationSuccess", "replicationStatus", "lastReplicated", "isReserved"}

type importJSON struct {
	ID         string `json:"id"`
	Version    int    `json:"version"`
	ImportPath string `json:"importPath"`
	ImportEnv  struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"importEnv"`
	Position             int     `json:"position"`
	FolderID             string  `json:"folderId"`
	IsReplication        bool    `json:"isReplication"`
	IsReplicationSuccess *bool   `json:"isReplicationSuccess"`
	ReplicationStatus    *string `json:"replicationStatus"`
	LastReplicated       *string `json:"lastReplicated"`
}

type importEnvelope struct {
	Message      string          `json:"message"`
	SecretImport json.RawMessage `json:"secretImport"`
}

func TestImportRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newAreaFixture(t, b)
		pid, tok := fx.project.ID, fx.token
		for _, f := range []struct{ env, name string }{{"dev", "app"}, {"staging", "s1"}, {"staging", "s2"}, {"prod", "p"}} {
			fx.must("POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": f.env, "name": f.name}, nil)
		}
		create := func(srcEnv, srcPath string) importJSON {
			t.Helper()
			var env importEnvelope
			fx.must("POST", "/api/v1/secret-imports", tok, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/app",
				"import": map[string]any{"environment": srcEnv, "path": srcPath}, "isReplication": false}, &env)
			if env.Message != "Successfully created secret import" {
				t.Fatalf("create message %q", env.Message)
			}
			wantKeys(t, "create", env.SecretImport, importRowKeys...)
			var row importJSON
			_ = json.Unmarshal(env.SecretImport, &row)
			return row
		}
		first := create("staging", "/s1")
		if first.ImportPath != "/s1" || first.ImportEnv.Slug != "staging" || first.ImportEnv.Name != "Staging" || first.Position != 1 ||
			first.Version != 1 || first.IsReplication || first.IsReplicationSuccess != nil || first.ReplicationStatus != nil || first.LastReplicated != nil {
			t.Fatalf("created %+v", first)
		}
		second := create("staging", "/s2")
		third := create("prod", "/p")

		order := func(want ...string) {
			t.Helper()
			var out struct {
				Message       string            `json:"message"`
				SecretImports []json.RawMessage `json:"secretImports"`
			}
			fx.must("GET", "/api/v1/secret-imports?workspaceId="+pid+"&environment=dev&path=/app", tok, nil, &out)
			if out.Message != "Successfully fetched secret imports" || len(out.SecretImports) != len(want) {
				t.Fatalf("list: %q %d, want %v", out.Message, len(out.SecretImports), want)
			}
			for i, raw := range out.SecretImports {
				wantKeys(t, "list row", raw, importRowKeys...)
				var r importJSON
				_ = json.Unmarshal(raw, &r)
				if r.ID != want[i] || r.Position != i+1 {
					t.Fatalf("list[%d] = %s (position %d), want %s", i, r.ID, r.Position, want[i])
				}
			}
		}
		order(first.ID, second.ID, third.ID)

		// Reorder: move the third to the top.
		var env importEnvelope
		fx.must("PATCH", "/api/v1/secret-imports/"+third.ID, tok, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/app",
			"import": map[string]any{"position": 1}}, &env)
		if env.Message != "Successfully updated secret import" {
			t.Fatalf("update message %q", env.Message)
		}
		order(third.ID, first.ID, second.ID)

		// Get by id carries the importing folder's location too.
		var got struct {
			SecretImport json.RawMessage `json:"secretImport"`
		}
		fx.must("GET", "/api/v1/secret-imports/"+first.ID, tok, nil, &got)
		wantKeys(t, "get", got.SecretImport, append(append([]string{}, importRowKeys...), "projectId", "secretPath", "environment")...)
		var loc struct {
			ProjectID   string `json:"projectId"`
			SecretPath  string `json:"secretPath"`
			Environment struct {
				Slug string `json:"slug"`
			} `json:"environment"`
			Position int `json:"position"`
		}
		_ = json.Unmarshal(got.SecretImport, &loc)
		if loc.ProjectID != pid || loc.SecretPath != "/app" || loc.Environment.Slug != "dev" || loc.Position != 2 {
			t.Fatalf("get %s", got.SecretImport)
		}

		errs := []struct {
			name, method, path string
			body               any
			code               int
			errName, field     string
		}{
			{"self import", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "path": "/app", "import": map[string]any{"environment": "dev", "path": "/app"}}, 400, "BadRequest", ""},
			{"duplicate", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "path": "/app", "import": map[string]any{"environment": "staging", "path": "/s1"}}, 400, "BadRequest", ""},
			{"cycle", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "staging", "path": "/s1", "import": map[string]any{"environment": "dev", "path": "/app"}}, 400, "BadRequest", ""},
			{"replication", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "path": "/", "import": map[string]any{"environment": "prod", "path": "/"}, "isReplication": true}, 400, "BadRequest", ""},
			{"no import", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev"}, 422, "ValidationFailure", "import"},
			{"no import env", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"path": "/"}}, 422, "ValidationFailure", "import.environment"},
			{"no workspace", "POST", "/api/v1/secret-imports", map[string]any{"environment": "dev", "import": map[string]any{"environment": "prod", "path": "/"}}, 422, "ValidationFailure", "workspaceId"},
			{"unknown source env", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"environment": "qa", "path": "/"}}, 404, "NotFound", ""},
			{"missing source folder", "POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"environment": "prod", "path": "/zzz"}}, 404, "NotFound", ""},
			{"position type", "PATCH", "/api/v1/secret-imports/" + first.ID, map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"position": "top"}}, 422, "ValidationFailure", "import.position"},
			{"position zero", "PATCH", "/api/v1/secret-imports/" + first.ID, map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"position": 0}}, 422, "ValidationFailure", "import.position"},
			{"list missing folder", "GET", "/api/v1/secret-imports?workspaceId=" + pid + "&environment=dev&path=/none", nil, 404, "NotFound", ""},
			{"list no env", "GET", "/api/v1/secret-imports?workspaceId=" + pid, nil, 422, "ValidationFailure", "environment"},
			{"get unknown", "GET", "/api/v1/secret-imports/00000000-0000-4000-8000-000000000000", nil, 404, "NotFound", ""},
		}
		for _, tc := range errs {
			code, raw, _ := fx.do(tc.method, tc.path, tok, tc.body)
			expectError(t, tc.name, code, raw, tc.code, tc.errName, tc.field)
		}
		code, raw, _ := fx.do("POST", "/api/v1/secret-imports", tok, map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"environment": "prod", "path": "/"}, "isReplication": true})
		if code != http.StatusBadRequest || !strings.Contains(string(raw), "Secret replication is not supported on this server") {
			t.Fatalf("replication message: %s", raw)
		}

		// Re-source an import.
		fx.must("PATCH", "/api/v1/secret-imports/"+second.ID, tok, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/app",
			"import": map[string]any{"environment": "prod", "path": "/"}}, &env)
		var row importJSON
		_ = json.Unmarshal(env.SecretImport, &row)
		if row.ImportEnv.Slug != "prod" || row.ImportPath != "/" || row.Version != 2 || row.Position != 3 {
			t.Fatalf("re-sourced %+v", row)
		}

		// Delete (JSON body) renumbers the rest.
		fx.must("DELETE", "/api/v1/secret-imports/"+third.ID, tok, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/app"}, &env)
		if env.Message != "Successfully deleted secret import" {
			t.Fatalf("delete message %q", env.Message)
		}
		order(first.ID, second.ID)

		// A viewer may list but not create.
		viewer := fx.roleToken(t, "viewer")
		fx.must("GET", "/api/v1/secret-imports?workspaceId="+pid+"&environment=dev&path=/app", viewer, nil, nil)
		code, raw, _ = fx.do("POST", "/api/v1/secret-imports", viewer, map[string]any{"workspaceId": pid, "environment": "dev", "import": map[string]any{"environment": "prod", "path": "/"}})
		expectError(t, "viewer create", code, raw, 403, "PermissionDenied", "")
	})
}
