package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"errors"
	"fmt"
	"github.com/infisical-go/engine/daemons/api"
	"net/http"
	"sort"
	"testing"

	"github.com/go-resty/resty/v2"
	sdk "github.com/infisical/go-sdk"
	sdkauth "github.com/infisical/go-sdk/packages/api/auth"
	sdkerrors "github.com/infisical/go-sdk/packages/errors"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestOfficialGoSDK drives the server with Infisical's own Go SDK (v0.8.0)
// for everyday secret work, on SQLite and PostgreSQL.
func TestOfficialGoSDK(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		projectID := ts.createProject(boot.AdminToken, "sdk e2e")
		_, clientID, clientSecret := ts.uaIdentity(boot.AdminToken, boot.OrgID, "app", projectID, "member",
			map[string]any{"accessTokenTTL": 7, "accessTokenMaxTTL": 3600})

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		client := sdk.NewInfisicalClient(ctx, sdk.Config{SiteUrl: ts.srv.URL, SilentMode: true, AutoTokenRefresh: sdk.BoolPtr(false)})

		// A wrong client secret is refused.
		if _, err := client.Auth().UniversalAuthLogin(clientID, "0000"+clientSecret[4:]); !isStatus(err, http.StatusUnauthorized) {
			t.Fatalf("wrong secret: got %v, want 401", err)
		}
		cred, err := client.Auth().UniversalAuthLogin(clientID, clientSecret)
		if err != nil {
			t.Fatalf("universal auth login: %v", err)
		}
		if cred.ExpiresIn != 7 || cred.AccessTokenMaxTTL != 3600 || cred.TokenType != "Bearer" {
			t.Fatalf("login response %+v", cred)
		}
		firstToken := client.Auth().GetAccessToken()

		// Create, retrieve, update, delete.
		created, err := client.Secrets().Create(sdk.CreateSecretOptions{SecretKey: "DB_URL", ProjectID: projectID, Environment: "dev",
			SecretValue: "postgres://u:p@db/app", SecretComment: "primary"})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.SecretKey != "DB_URL" || created.SecretValue != "postgres://u:p@db/app" || created.Version != 1 || created.Workspace != projectID || created.Environment != "dev" {
			t.Fatalf("created %+v", created)
		}
		if _, err := client.Secrets().Create(sdk.CreateSecretOptions{SecretKey: "DB_URL", ProjectID: projectID, Environment: "dev", SecretValue: "x"}); !isStatus(err, http.StatusBadRequest) {
			t.Fatalf("duplicate create: got %v, want 400", err)
		}
		got, err := client.Secrets().Retrieve(sdk.RetrieveSecretOptions{SecretKey: "DB_URL", ProjectID: projectID, Environment: "dev"})
		if err != nil || got.SecretValue != "postgres://u:p@db/app" || got.SecretComment != "primary" {
			t.Fatalf("retrieve: %+v %v", got, err)
		}
		upd, err := client.Secrets().Update(sdk.UpdateSecretOptions{SecretKey: "DB_URL", ProjectID: projectID, Environment: "dev", NewSecretValue: "postgres://u:p@db2/app"})
		if err != nil || upd.SecretValue != "postgres://u:p@db2/app" || upd.Version != 2 {
			t.Fatalf("update: %+v %v", upd, err)
		}
		del, err := client.Secrets().Delete(sdk.DeleteSecretOptions{SecretKey: "DB_URL", ProjectID: projectID, Environment: "dev"})
		if err != nil || del.SecretKey != "DB_URL" {
			t.Fatalf("delete: %+v %v", del, err)
		}
		if _, err := client.Secrets().Retrieve(sdk.RetrieveSecretOptions{SecretKey: "DB_URL", ProjectID: projectID, Environment: "dev"}); !isStatus(err, http.StatusNotFound) {
			t.Fatalf("retrieve deleted: got %v, want 404", err)
		}

		// Folders: create, list, update, delete.
		folder, err := client.Folders().Create(sdk.CreateFolderOptions{ProjectID: projectID, Environment: "dev", Name: "batch"})
		if err != nil || folder.Name != "batch" || folder.ID == "" || folder.CreatedAt.IsZero() {
			t.Fatalf("create folder: %+v %v", folder, err)
		}
		// Batch create of 100.
		items := make([]sdk.BatchCreateSecret, 100)
		for i := range items {
			items[i] = sdk.BatchCreateSecret{SecretKey: fmt.Sprintf("K%03d", i), SecretValue: fmt.Sprintf("v%d", i)}
		}
		batch, err := client.Secrets().Batch().Create(sdk.BatchCreateSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch", Secrets: items})
		if err != nil || len(batch) != 100 {
			t.Fatalf("batch create: %d %v", len(batch), err)
		}
		// A batch containing one existing key writes nothing.
		bad := []sdk.BatchCreateSecret{{SecretKey: "NEW_ONE", SecretValue: "1"}, {SecretKey: "K007", SecretValue: "dup"}}
		if _, err := client.Secrets().Batch().Create(sdk.BatchCreateSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch", Secrets: bad}); !isStatus(err, http.StatusBadRequest) {
			t.Fatalf("batch with duplicate: got %v, want 400", err)
		}
		if _, err := client.Secrets().Retrieve(sdk.RetrieveSecretOptions{SecretKey: "NEW_ONE", ProjectID: projectID, Environment: "dev", SecretPath: "/batch"}); !isStatus(err, http.StatusNotFound) {
			t.Fatalf("failed batch left NEW_ONE behind: %v", err)
		}
		listed, err := client.Secrets().List(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch"})
		if err != nil || len(listed) != 100 || listed[7].SecretValue != "v7" {
			t.Fatalf("list batch folder: %d %v", len(listed), err)
		}

		// Imports, references and recursion.
		mustCreate := func(env, path, key, value string) {
			t.Helper()
			if _, err := client.Secrets().Create(sdk.CreateSecretOptions{SecretKey: key, ProjectID: projectID, Environment: env, SecretPath: path, SecretValue: value}); err != nil {
				t.Fatalf("create %s %s %s: %v", env, path, key, err)
			}
		}
		mustCreate("staging", "/", "SHARED_HOST", "db.staging")
		mustCreate("staging", "/", "ONLY_IMPORTED", "from-staging")
		mustCreate("dev", "/", "SHARED_HOST", "db.dev")
		mustCreate("dev", "/", "DSN", "postgres://${SHARED_HOST}/${staging.ONLY_IMPORTED}")
		if _, err := client.Folders().Create(sdk.CreateFolderOptions{ProjectID: projectID, Environment: "dev", Name: "nested", Path: "/batch"}); err != nil {
			t.Fatalf("nested folder: %v", err)
		}
		mustCreate("dev", "/batch/nested", "DEEP", "deep-value")
		ts.must("POST", "/api/v1/secret-imports", boot.AdminToken, map[string]any{"workspaceId": projectID, "environment": "dev", "path": "/",
			"import": map[string]any{"environment": "staging", "path": "/"}}, nil)

		withImports, err := client.Secrets().ListSecrets(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/",
			IncludeImports: true, ExpandSecretReferences: true})
		if err != nil {
			t.Fatalf("list with imports: %v", err)
		}
		vals := map[string]string{}
		for _, s := range withImports.Secrets {
			vals[s.SecretKey] = s.SecretValue
		}
		if vals["SHARED_HOST"] != "db.dev" || vals["ONLY_IMPORTED"] != "from-staging" || vals["DSN"] != "postgres://db.dev/from-staging" {
			t.Fatalf("imports/references: %v", vals)
		}
		recursive, err := client.Secrets().List(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch", Recursive: true})
		if err != nil {
			t.Fatalf("recursive list: %v", err)
		}
		paths := map[string]int{}
		for _, s := range recursive {
			paths[s.SecretPath]++
		}
		if paths["/batch"] != 100 || paths["/batch/nested"] != 1 {
			t.Fatalf("recursive paths: %v", paths)
		}

		// ETag, then 304.
		first, err := client.Secrets().ListSecrets(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch"})
		if err != nil || first.ETag == "" {
			t.Fatalf("etag list: %q %v", first.ETag, err)
		}
		_, err = client.Secrets().ListSecrets(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch", IfNoneMatch: first.ETag})
		var nm *sdkerrors.NotModifiedError
		if !errors.As(err, &nm) {
			t.Fatalf("If-None-Match: got %v, want NotModifiedError", err)
		}
		mustCreate("dev", "/batch", "CHANGED", "yes")
		changed, err := client.Secrets().ListSecrets(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev", SecretPath: "/batch", IfNoneMatch: first.ETag})
		if err != nil || changed.ETag == first.ETag || len(changed.Secrets) != 101 {
			t.Fatalf("after change: etag %q (was %q), %d secrets, %v", changed.ETag, first.ETag, len(changed.Secrets), err)
		}

		// Folders: list, update, delete.
		fl, err := client.Folders().List(sdk.ListFoldersOptions{ProjectID: projectID, Environment: "dev"})
		if err != nil || len(fl) != 1 || fl[0].Name != "batch" {
			t.Fatalf("list folders: %+v %v", fl, err)
		}
		renamed, err := client.Folders().Update(sdk.UpdateFolderOptions{FolderID: folder.ID, ProjectID: projectID, Environment: "dev", NewName: "renamed"})
		if err != nil || renamed.Name != "renamed" {
			t.Fatalf("rename folder: %+v %v", renamed, err)
		}
		if _, err := client.Folders().Delete(sdk.DeleteFolderOptions{FolderID: folder.ID, ProjectID: projectID, Environment: "dev"}); err != nil {
			t.Fatalf("delete folder: %v", err)
		}
		fl, err = client.Folders().List(sdk.ListFoldersOptions{ProjectID: projectID, Environment: "dev"})
		if err != nil || len(fl) != 0 {
			t.Fatalf("folders after delete: %+v %v", fl, err)
		}

		// Renew through the SDK's own renew call, then use and revoke the
		// renewed token. (The client runs without the SDK's background
		// refresher: its GetAccessToken/RevokeAccessToken read the token
		// without a lock, which the race detector reports; the automatic
		// renewal is covered by TestOfficialGoSDKAutoRenewal.)
		renewed, err := sdkauth.CallRenewAccessToken(resty.New().SetBaseURL(ts.srv.URL+"/api"), sdkauth.RenewAccessTokenRequest{AccessToken: firstToken})
		if err != nil || renewed.AccessToken == "" || renewed.ExpiresIn != 7 {
			t.Fatalf("renew: %+v %v", renewed, err)
		}
		client.Auth().SetAccessToken(renewed.AccessToken)
		if _, err := client.Secrets().List(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev"}); err != nil {
			t.Fatalf("list with renewed token: %v", err)
		}

		// Revoke: the token stops working at once.
		if err := client.Auth().RevokeAccessToken(); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		for _, tok := range []string{renewed.AccessToken, firstToken} {
			if code, body, _ := ts.do("GET", "/api/v3/secrets/raw?workspaceId="+projectID+"&environment=dev", tok, nil); code != http.StatusUnauthorized {
				t.Fatalf("revoked token: status %d %s", code, body)
			}
		}

		// A viewer identity reads but cannot write.
		_, vID, vSecret := ts.uaIdentity(boot.AdminToken, boot.OrgID, "viewer", projectID, "viewer", nil)
		viewer := sdk.NewInfisicalClient(ctx, sdk.Config{SiteUrl: ts.srv.URL, SilentMode: true})
		if _, err := viewer.Auth().UniversalAuthLogin(vID, vSecret); err != nil {
			t.Fatalf("viewer login: %v", err)
		}
		vs, err := viewer.Secrets().List(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev"})
		if err != nil || len(vs) == 0 {
			t.Fatalf("viewer list: %d %v", len(vs), err)
		}
		keys := make([]string, 0, len(vs))
		for _, s := range vs {
			keys = append(keys, s.SecretKey)
		}
		sort.Strings(keys)
		if _, err := viewer.Secrets().Create(sdk.CreateSecretOptions{SecretKey: "NOPE", ProjectID: projectID, Environment: "dev", SecretValue: "x"}); !isStatus(err, http.StatusForbidden) {
			t.Fatalf("viewer create: got %v, want 403", err)
		}
		if _, err := viewer.Secrets().Update(sdk.UpdateSecretOptions{SecretKey: keys[0], ProjectID: projectID, Environment: "dev", NewSecretValue: "x"}); !isStatus(err, http.StatusForbidden) {
			t.Fatalf("viewer update: got %v, want 403", err)
		}
	})
}

func isStatus(err error, code int) bool {
	var apiErr *sdkerrors.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == code
}

// TestOfficialGoSDKAutoRenewal lets the SDK's background refresher renew
// its token by itself (5 s before expiry of a 7 s token) and checks that the
// server answered the renewal and accepts the renewed token.
func TestOfficialGoSDKAutoRenewal(t *testing.T) {
	eng := enginetest.Open(t, enginetest.SQLite)
	rec := &renewRecorder{}
	h, err := api.New(eng, api.Config{Logger: eng.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rec.wrap(h))
	t.Cleanup(srv.Close)
	ts := &testServer{t: t, eng: eng, srv: srv}
	boot := ts.bootstrap()
	projectID := ts.createProject(boot.AdminToken, "renewal")
	_, clientID, clientSecret := ts.uaIdentity(boot.AdminToken, boot.OrgID, "app", projectID, "member",
		map[string]any{"accessTokenTTL": 7, "accessTokenMaxTTL": 3600})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := sdk.NewInfisicalClient(ctx, sdk.Config{SiteUrl: srv.URL, SilentMode: true})
	if _, err := client.Auth().UniversalAuthLogin(clientID, clientSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Secrets().List(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev"}); err != nil {
		t.Fatal(err)
	}
	first := rec.lastAuth()
	deadline := time.Now().Add(10 * time.Second)
	for rec.renewals() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the SDK did not renew its access token")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // stop the refresher before using the client again
	time.Sleep(100 * time.Millisecond)
	if _, err := client.Secrets().List(sdk.ListSecretsOptions{ProjectID: projectID, Environment: "dev"}); err != nil {
		t.Fatalf("list after automatic renewal: %v", err)
	}
	if after := rec.lastAuth(); after == first || after == "" {
		t.Fatal("the client did not switch to the renewed token")
	}
}

// renewRecorder watches renew calls and the bearer tokens of secret reads.
type renewRecorder struct {
	mu      sync.Mutex
	renewed int
	auth    string
}

func (r *renewRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rw := &statusWriter{ResponseWriter: w, code: 200}
		h.ServeHTTP(rw, req)
		r.mu.Lock()
		defer r.mu.Unlock()
		if strings.HasPrefix(req.URL.Path, "/api/v1/auth/token/renew") && rw.code == 200 {
			r.renewed++
		}
		if strings.HasPrefix(req.URL.Path, "/api/v3/secrets/raw") {
			r.auth = req.Header.Get("Authorization")
		}
	})
}

func (r *renewRecorder) renewals() int    { r.mu.Lock(); defer r.mu.Unlock(); return r.renewed }
func (r *renewRecorder) lastAuth() string { r.mu.Lock(); defer r.mu.Unlock(); return r.auth }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }
