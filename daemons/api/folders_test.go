package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"testing"

	sdk "github.com/infisical/go-sdk"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// areaFixture is a server with one organization, one project (default
// environments) and an identity token that administers the project.
type areaFixture struct {
	*testServer
	org     *infisical.Organization
	project *infisical.Project
	token   string
}

func newAreaFixture(t *testing.T, b enginetest.Backend) *areaFixture {
	t.Helper()
	eng := enginetest.Open(t, b)
	org := enginetest.Org(t, eng, "Acme")
	p, err := eng.Projects.Create(context.Background(), infisical.Platform(org.ID), infisical.CreateProjectInput{OrgID: org.ID, Name: "Area"})
	if err != nil {
		t.Fatal(err)
	}
	_, token := enginetest.IdentityToken(t, eng, org.ID, "no-access", p.ID, "admin")
	return &areaFixture{testServer: serve(t, eng), org: org, project: p, token: token}
}

// roleToken returns a token of a new identity holding projectRole.
func (fx *areaFixture) roleToken(t *testing.T, projectRole string) string {
	t.Helper()
	_, token := enginetest.IdentityToken(t, fx.eng, fx.org.ID, "no-access", fx.project.ID, projectRole)
	return token
}

// expectError checks status, error name and, for 422, the field named by
// the first issue.
func expectError(t *testing.T, what string, code int, raw []byte, wantCode int, wantName, wantField string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: status %d, want %d: %s", what, code, wantCode, raw)
	}
	var body struct {
		ReqID      string          `json:"reqId"`
		StatusCode int             `json:"statusCode"`
		Error      string          `json:"error"`
		Message    json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: error body: %v: %s", what, err, raw)
	}
	if body.StatusCode != wantCode || body.Error != wantName || body.ReqID == "" {
		t.Fatalf("%s: error body %s", what, raw)
	}
	if wantField != "" {
		var issues []struct {
			Path []string `json:"path"`
		}
		if err := json.Unmarshal(body.Message, &issues); err != nil || len(issues) == 0 || len(issues[0].Path) == 0 || issues[0].Path[0] != wantField {
			t.Fatalf("%s: want issue on %q: %s", what, wantField, raw)
		}
	}
}

// keysOf returns the sorted keys of a JSON object.
func keysOf(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantKeys(t *testing.T, what string, raw json.RawMessage, want ...string) {
	t.Helper()
	got := keysOf(t, raw)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("%s: keys %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: keys %v, want %v", what, got, want)
		}
	}
}

var folderRowKeys = []string{"id", "name", "version", "createdAt", "updatedAt", "envId", "parentId", "isReserved", "description", "lastSecretModified"}

type folderJSON struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Version     int     `json:"version"`
	EnvID       string  `json:"envId"`
	ParentID    *string `json:"parentId"`
	Description *string `json:"description"`
	CreatedAt   string  `json:"createdAt"`
}

func TestFolderRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newAreaFixture(t, b)
		pid, tok := fx.project.ID, fx.token

		// Create: wrapper and exact field names.
		code, raw, _ := fx.do("POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "apps", "description": "all apps"})
		if code != http.StatusOK {
			t.Fatalf("create: %d %s", code, raw)
		}
		var created struct {
			Folder json.RawMessage `json:"folder"`
		}
		_ = json.Unmarshal(raw, &created)
		wantKeys(t, "create", created.Folder, folderRowKeys...)
		var apps folderJSON
		_ = json.Unmarshal(created.Folder, &apps)
		if apps.Name != "apps" || apps.Version != 1 || apps.ParentID == nil || apps.Description == nil || *apps.Description != "all apps" || len(apps.CreatedAt) != 24 {
			t.Fatalf("created %s", created.Folder)
		}
		// Idempotent create; the CLI's body (path given).
		var again struct{ Folder folderJSON }
		fx.must("POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "apps", "path": "/"}, &again)
		if again.Folder.ID != apps.ID {
			t.Fatalf("idempotent create: %s vs %s", again.Folder.ID, apps.ID)
		}
		// Legacy directory names the parent when path is absent.
		var web struct{ Folder folderJSON }
		fx.must("POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "web", "directory": "/apps"}, &web)
		if web.Folder.ParentID == nil || *web.Folder.ParentID != apps.ID {
			t.Fatalf("directory parent: %+v", web.Folder)
		}
		fx.must("POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "api", "path": "apps"}, nil)

		errs := []struct {
			name, method, path string
			token              string
			body               any
			code               int
			errName, field     string
		}{
			{"no token", "POST", "/api/v1/folders", "", map[string]any{"workspaceId": pid, "environment": "dev", "name": "x"}, 401, "UnauthorizedError", ""},
			{"bad name", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "a.b"}, 422, "ValidationFailure", "name"},
			{"no name", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev"}, 422, "ValidationFailure", "name"},
			{"no workspace", "POST", "/api/v1/folders", tok, map[string]any{"environment": "dev", "name": "x"}, 422, "ValidationFailure", "workspaceId"},
			{"no environment", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "name": "x"}, 422, "ValidationFailure", "environment"},
			{"name type", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": 5}, 422, "ValidationFailure", "name"},
			{"bad path", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "x", "path": "/a/../b"}, 422, "ValidationFailure", "path"},
			{"missing parent", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "x", "path": "/nope"}, 404, "NotFound", ""},
			{"unknown env", "POST", "/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "qa", "name": "x"}, 404, "NotFound", ""},
			{"list no workspace", "GET", "/api/v1/folders?environment=dev", tok, nil, 422, "ValidationFailure", "workspaceId"},
			{"get unknown", "GET", "/api/v1/folders/00000000-0000-4000-8000-000000000000", tok, nil, 404, "NotFound", ""},
			{"rename clash", "PATCH", "/api/v1/folders/" + web.Folder.ID, tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "api", "path": "/apps"}, 400, "BadRequest", ""},
			{"rename bad", "PATCH", "/api/v1/folders/" + web.Folder.ID, tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "a b"}, 422, "ValidationFailure", "name"},
			{"batch no project", "PATCH", "/api/v1/folders/batch", tok, map[string]any{"folders": []any{}}, 422, "ValidationFailure", "projectSlug"},
			{"batch empty", "PATCH", "/api/v1/folders/batch", tok, map[string]any{"projectSlug": fx.project.Slug, "folders": []any{}}, 422, "ValidationFailure", "folders"},
			{"batch bad item", "PATCH", "/api/v1/folders/batch", tok, map[string]any{"projectSlug": fx.project.Slug, "folders": []any{map[string]any{"id": apps.ID, "environment": "dev"}}}, 422, "ValidationFailure", "folders.0.name"},
			{"delete unknown", "DELETE", "/api/v1/folders/nope", tok, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/"}, 404, "NotFound", ""},
		}
		for _, tc := range errs {
			code, raw, _ := fx.do(tc.method, tc.path, tc.token, tc.body)
			expectError(t, tc.name, code, raw, tc.code, tc.errName, tc.field)
		}

		// List: SDK (path) and CLI (directory) spellings; root not listed.
		var list struct {
			Folders []json.RawMessage `json:"folders"`
		}
		fx.must("GET", "/api/v1/folders?workspaceId="+pid+"&environment=dev&path=%2Fapps", tok, nil, &list)
		if len(list.Folders) != 2 {
			t.Fatalf("list /apps: %d", len(list.Folders))
		}
		wantKeys(t, "list row", list.Folders[0], folderRowKeys...)
		var names []string
		for _, r := range list.Folders {
			var f folderJSON
			_ = json.Unmarshal(r, &f)
			names = append(names, f.Name)
		}
		if names[0] != "api" || names[1] != "web" {
			t.Fatalf("list order %v", names)
		}
		fx.must("GET", "/api/v1/folders?workspaceId="+pid+"&environment=dev&directory=/", tok, nil, &list)
		if len(list.Folders) != 1 {
			t.Fatalf("list root via directory: %d", len(list.Folders))
		}
		fx.must("GET", "/api/v1/folders?workspaceId="+pid+"&environment=dev&path=/none", tok, nil, &list)
		if list.Folders == nil || len(list.Folders) != 0 {
			t.Fatalf("list missing path: %+v", list)
		}
		// Deterministic ETag: the same list twice gives 304 on If-None-Match.
		_, _, h := fx.do("GET", "/api/v1/folders?workspaceId="+pid+"&environment=dev", tok, nil)
		if h.Get("ETag") == "" {
			t.Fatal("no ETag")
		}

		// Get by id.
		var got struct {
			Folder json.RawMessage `json:"folder"`
		}
		fx.must("GET", "/api/v1/folders/"+web.Folder.ID, tok, nil, &got)
		wantKeys(t, "get", got.Folder, append(append([]string{}, folderRowKeys...), "environment", "path", "projectId")...)
		var detail struct {
			Path        string `json:"path"`
			ProjectID   string `json:"projectId"`
			Environment struct {
				EnvID   string `json:"envId"`
				EnvName string `json:"envName"`
				EnvSlug string `json:"envSlug"`
			} `json:"environment"`
		}
		_ = json.Unmarshal(got.Folder, &detail)
		if detail.Path != "/apps/web" || detail.ProjectID != pid || detail.Environment.EnvSlug != "dev" || detail.Environment.EnvName != "Development" || detail.Environment.EnvID != apps.EnvID {
			t.Fatalf("detail %s", got.Folder)
		}

		// Rename by id, then by legacy name.
		var upd struct{ Folder folderJSON }
		fx.must("PATCH", "/api/v1/folders/"+web.Folder.ID, tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "web2", "path": "/apps"}, &upd)
		if upd.Folder.Name != "web2" || upd.Folder.Version != 2 {
			t.Fatalf("rename: %+v", upd.Folder)
		}
		fx.must("PATCH", "/api/v1/folders/web2", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "web3", "directory": "/apps"}, &upd)
		if upd.Folder.ID != web.Folder.ID || upd.Folder.Name != "web3" || upd.Folder.Version != 3 {
			t.Fatalf("legacy rename: %+v", upd.Folder)
		}
		// Batch.
		var batch struct {
			Folders []folderJSON `json:"folders"`
		}
		fx.must("PATCH", "/api/v1/folders/batch", tok, map[string]any{"projectSlug": fx.project.Slug, "folders": []any{
			map[string]any{"id": apps.ID, "environment": "dev", "name": "apps2", "path": "/"},
			map[string]any{"id": web.Folder.ID, "environment": "dev", "name": "web4", "path": "/apps", "description": "d"},
		}}, &batch)
		if len(batch.Folders) != 2 || batch.Folders[0].Name != "apps2" || batch.Folders[1].Name != "web4" || batch.Folders[1].Description == nil {
			t.Fatalf("batch %+v", batch)
		}

		// Delete by name with the CLI's body, recursive.
		var del struct{ Folder folderJSON }
		fx.must("DELETE", "/api/v1/folders/apps2", tok, map[string]any{"folderName": "apps2", "workspaceId": pid, "environment": "dev", "directory": "/"}, &del)
		if del.Folder.ID != apps.ID {
			t.Fatalf("delete %+v", del.Folder)
		}
		code, raw, _ = fx.do("GET", "/api/v1/folders/"+web.Folder.ID, tok, nil)
		expectError(t, "child after recursive delete", code, raw, 404, "NotFound", "")

		// A viewer may list but not create.
		viewer := fx.roleToken(t, "viewer")
		fx.must("GET", "/api/v1/folders?workspaceId="+pid+"&environment=dev", viewer, nil, &list)
		code, raw, _ = fx.do("POST", "/api/v1/folders", viewer, map[string]any{"workspaceId": pid, "environment": "dev", "name": "x"})
		expectError(t, "viewer create", code, raw, 403, "PermissionDenied", "")
	})
}

// TestFolderRoutesGoSDK drives the folder routes with the official Go SDK.
func TestFolderRoutesGoSDK(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newAreaFixture(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		client := sdk.NewInfisicalClient(ctx, sdk.Config{SiteUrl: fx.srv.URL, SilentMode: true})
		client.Auth().SetAccessToken(fx.token)
		pid := fx.project.ID

		top, err := client.Folders().Create(sdk.CreateFolderOptions{ProjectID: pid, Environment: "staging", Name: "top"})
		if err != nil || top.Name != "top" || top.ID == "" || top.CreatedAt.IsZero() || top.ParentID == "" || top.EnvironmentID == "" || top.Version != 1 {
			t.Fatalf("create: %+v %v", top, err)
		}
		sub, err := client.Folders().Create(sdk.CreateFolderOptions{ProjectID: pid, Environment: "staging", Name: "sub", Path: "/top"})
		if err != nil || sub.ParentID != top.ID {
			t.Fatalf("create nested: %+v %v", sub, err)
		}
		list, err := client.Folders().List(sdk.ListFoldersOptions{ProjectID: pid, Environment: "staging", Path: "/top"})
		if err != nil || len(list) != 1 || list[0].ID != sub.ID {
			t.Fatalf("list: %+v %v", list, err)
		}
		upd, err := client.Folders().Update(sdk.UpdateFolderOptions{FolderID: sub.ID, ProjectID: pid, Environment: "staging", NewName: "renamed", Path: "/top"})
		if err != nil || upd.Name != "renamed" || upd.Version != 2 || !upd.UpdatedAt.After(upd.CreatedAt.Add(-1)) {
			t.Fatalf("update: %+v %v", upd, err)
		}
		del, err := client.Folders().Delete(sdk.DeleteFolderOptions{FolderName: "top", ProjectID: pid, Environment: "staging"})
		if err != nil || del.ID != top.ID {
			t.Fatalf("delete by name: %+v %v", del, err)
		}
		list, err = client.Folders().List(sdk.ListFoldersOptions{ProjectID: pid, Environment: "staging"})
		if err != nil || len(list) != 0 {
			t.Fatalf("list after delete: %+v %v", list, err)
		}
		if _, err := client.Folders().Create(sdk.CreateFolderOptions{ProjectID: pid, Environment: "staging", Name: "bad name"}); err == nil {
			t.Fatal("invalid name accepted")
		}
	})
}
