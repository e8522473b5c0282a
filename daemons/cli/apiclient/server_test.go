package apiclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/daemons/cli/apiclient"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestAgainstServer drives the client against the real API handler: the
// calls the CLI and the agent make, on SQLite and PostgreSQL.
func TestAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		eng := enginetest.Open(t, b)
		h, err := api.New(eng, api.Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		ctx := context.Background()
		post := func(path, token string, body, out any) {
			t.Helper()
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("POST %s: %d", path, resp.StatusCode)
			}
			if out != nil {
				if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
					t.Fatal(err)
				}
			}
		}
		var boot struct {
			Organization struct{ ID string }
			Identity     struct{ Credentials struct{ Token string } }
		}
		post("/api/v1/admin/bootstrap", "", map[string]string{"email": "a@example.com", "password": "correct-horse-battery", "organization": "Acme"}, &boot)
		admin := boot.Identity.Credentials.Token
		var proj struct{ Project struct{ ID, Slug string } }
		post("/api/v2/workspace", admin, map[string]any{"projectName": "Client Test"}, &proj)
		pid := proj.Project.ID
		var ident struct{ Identity struct{ ID string } }
		post("/api/v1/identities", admin, map[string]any{"name": "agent", "organizationId": boot.Organization.ID, "role": "no-access"}, &ident)
		var ua struct {
			UA struct{ ClientID string } `json:"identityUniversalAuth"`
		}
		post("/api/v1/auth/universal-auth/identities/"+ident.Identity.ID, admin, map[string]any{"accessTokenTTL": 3600, "accessTokenMaxTTL": 86400}, &ua)
		var cs struct{ ClientSecret string }
		post("/api/v1/auth/universal-auth/identities/"+ident.Identity.ID+"/client-secrets", admin, map[string]any{}, &cs)
		post("/api/v2/workspace/"+pid+"/identity-memberships/"+ident.Identity.ID, admin, map[string]any{"role": "admin"}, nil)

		anon, err := apiclient.New(apiclient.Config{BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := anon.Login(ctx, apiclient.LoginRequest{Method: apiclient.MethodUniversalAuth, ClientID: ua.UA.ClientID, ClientSecret: cs.ClientSecret})
		if err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 {
			t.Fatalf("login: %+v %v", tok, err)
		}
		c := anon.WithToken(tok.AccessToken)
		if org, err := c.IdentityDetails(ctx); err != nil || org.ID != boot.Organization.ID {
			t.Fatalf("identity details: %+v %v", org, err)
		}

		// Writes, tags and folders.
		tag, err := c.EnsureTag(ctx, pid, "backend")
		if err != nil || tag.ID == "" {
			t.Fatalf("ensure tag: %+v %v", tag, err)
		}
		again, err := c.EnsureTag(ctx, pid, "backend")
		if err != nil || again.ID != tag.ID {
			t.Fatalf("second ensure tag: %+v %v", again, err)
		}
		if err := c.CreateSecret(ctx, apiclient.SecretWrite{ProjectID: pid, Environment: "dev", Name: "HOST", Value: "db.internal", TagIDs: []string{tag.ID}}); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateSecret(ctx, apiclient.SecretWrite{ProjectID: pid, Environment: "dev", Name: "URL", Value: "postgres://${HOST}/app"}); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateSecret(ctx, apiclient.SecretWrite{ProjectID: pid, Environment: "staging", Name: "URL", Value: "staging-url"}); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateSecret(ctx, apiclient.SecretWrite{ProjectID: pid, Environment: "staging", Name: "ONLY_STAGING", Value: "s"}); err != nil {
			t.Fatal(err)
		}
		post("/api/v1/secret-imports", admin, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/", "import": map[string]any{"environment": "staging", "path": "/"}}, nil)
		if _, err := c.CreateFolder(ctx, pid, "dev", "/", "api"); err != nil {
			t.Fatal(err)
		}
		if folders, err := c.ListFolders(ctx, pid, "dev", "/"); err != nil || len(folders) != 1 || folders[0].Name != "api" {
			t.Fatalf("folders: %+v %v", folders, err)
		}

		// List with ETag: 304 until something changes.
		opts := apiclient.ListSecretsOptions{ProjectID: pid, Environment: "dev", IncludeImports: true, ExpandSecretReferences: true}
		list, err := c.ListSecrets(ctx, opts)
		if err != nil || list.ETag == "" || list.NotModified {
			t.Fatalf("list: %+v %v", list, err)
		}
		merged := list.Merged()
		got := map[string]string{}
		for _, s := range merged {
			got[s.SecretKey] = s.SecretValue
		}
		if len(merged) != 3 || got["URL"] != "postgres://db.internal/app" || got["ONLY_STAGING"] != "s" || got["HOST"] != "db.internal" {
			t.Fatalf("merged: %+v", merged)
		}
		opts.ETag = list.ETag
		if again, err := c.ListSecrets(ctx, opts); err != nil || !again.NotModified || again.ETag != list.ETag || len(again.Secrets) != 0 {
			t.Fatalf("conditional list: %+v %v", again, err)
		}
		if err := c.UpdateSecret(ctx, apiclient.SecretWrite{ProjectID: pid, Environment: "dev", Name: "HOST", Value: "db2.internal"}); err != nil {
			t.Fatal(err)
		}
		changed, err := c.ListSecrets(ctx, opts)
		if err != nil || changed.NotModified || changed.ETag == list.ETag {
			t.Fatalf("list after a change: %+v %v", changed, err)
		}

		one, err := c.GetSecret(ctx, apiclient.GetSecretOptions{ProjectID: pid, Environment: "dev", Name: "URL", IncludeImports: true, ExpandSecretReferences: true})
		if err != nil || one.Secret.SecretValue != "postgres://db2.internal/app" || one.ETag == "" {
			t.Fatalf("get: %+v %v", one, err)
		}
		if same, err := c.GetSecret(ctx, apiclient.GetSecretOptions{ProjectID: pid, Environment: "dev", Name: "URL", IncludeImports: true, ExpandSecretReferences: true, ETag: one.ETag}); err != nil || !same.NotModified {
			t.Fatalf("conditional get: %+v %v", same, err)
		}
		if _, err := c.GetSecret(ctx, apiclient.GetSecretOptions{ProjectID: pid, Environment: "dev", Name: "NOPE"}); !apiclient.IsNotFound(err) {
			t.Fatalf("missing secret: %v", err)
		}
		if err := c.DeleteSecret(ctx, pid, "dev", "/", "URL", "shared"); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteFolder(ctx, pid, "dev", "/", "api"); err != nil {
			t.Fatal(err)
		}

		// Projects.
		ps, err := c.Projects(ctx)
		if err != nil || len(ps) != 1 || ps[0].Identifier() != pid || ps[0].OrgID != boot.Organization.ID {
			t.Fatalf("projects: %+v %v", ps, err)
		}
		if p, err := c.ProjectBySlug(ctx, ps[0].Slug); err != nil || p.Identifier() != pid {
			t.Fatalf("project by slug %q: %+v %v", ps[0].Slug, p, err)
		}

		// Renew, then revoke: the revoked token is refused (not "unreachable").
		renewed, err := anon.RenewToken(ctx, tok.AccessToken)
		if err != nil || renewed.AccessToken == "" {
			t.Fatalf("renew: %+v %v", renewed, err)
		}
		if err := anon.RevokeToken(ctx, renewed.AccessToken); err != nil {
			t.Fatal(err)
		}
		_, err = anon.WithToken(renewed.AccessToken).ListSecrets(ctx, apiclient.ListSecretsOptions{ProjectID: pid, Environment: "dev"})
		if code := apiclient.StatusCode(err); (code != 401 && code != 403) || apiclient.IsUnreachable(err) {
			t.Fatalf("revoked token: %v", err)
		}
	})
}
