package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// update rewrites the golden files of the client command tests:
//
//	go test ./daemons/cli -run 'TestExport' -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// apiEnv is an in-process API server with an organization, a project and a
// universal-auth identity that is an admin of the project.
type apiEnv struct {
	t          testing.TB
	srv        *httptest.Server
	url        string
	orgID      string
	adminToken string // instance admin identity (org admin)
	projectID  string
	identityID string
	clientID   string
	secret     string // the identity's client secret
	token      string // an access token of the identity
	configDir  string
}

func newAPIEnv(t testing.TB, b enginetest.Backend, mod ...func(*infisical.Config)) *apiEnv {
	t.Helper()
	eng := enginetest.Open(t, b, mod...)
	h, err := api.New(eng, api.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &apiEnv{t: t, srv: srv, url: srv.URL, configDir: t.TempDir()}

	var boot struct {
		Organization struct {
			ID string `json:"id"`
		} `json:"organization"`
		Identity struct {
			Credentials struct {
				Token string `json:"token"`
			} `json:"credentials"`
		} `json:"identity"`
	}
	e.must("POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "admin@example.com", "password": "correct-horse-battery", "organization": "Acme"}, &boot)
	e.orgID, e.adminToken = boot.Organization.ID, boot.Identity.Credentials.Token

	var p struct {
		Project struct {
			ID string `json:"id"`
		} `json:"project"`
	}
	e.must("POST", "/api/v2/workspace", e.adminToken, map[string]any{"projectName": "cli"}, &p)
	e.projectID = p.Project.ID

	e.identityID, e.clientID, e.secret = e.uaIdentity("cli-app", "admin")
	e.token = e.login(e.clientID, e.secret)
	return e
}

// uaIdentity creates an identity with universal auth and a client secret,
// a member of the project with role.
func (e *apiEnv) uaIdentity(name, role string) (id, clientID, clientSecret string) {
	e.t.Helper()
	var ident struct {
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	}
	e.must("POST", "/api/v1/identities", e.adminToken, map[string]any{"name": name, "organizationId": e.orgID, "role": "no-access"}, &ident)
	id = ident.Identity.ID
	var ua struct {
		UA struct {
			ClientID string `json:"clientId"`
		} `json:"identityUniversalAuth"`
	}
	e.must("POST", "/api/v1/auth/universal-auth/identities/"+id, e.adminToken, map[string]any{"accessTokenTTL": 3600, "accessTokenMaxTTL": 86400}, &ua)
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	e.must("POST", "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", e.adminToken, map[string]any{"description": "cli test"}, &cs)
	if role != "" {
		e.must("POST", "/api/v2/workspace/"+e.projectID+"/identity-memberships/"+id, e.adminToken, map[string]any{"role": role}, nil)
	}
	return id, ua.UA.ClientID, cs.ClientSecret
}

func (e *apiEnv) login(clientID, clientSecret string) string {
	e.t.Helper()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	e.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": clientSecret}, &out)
	return out.AccessToken
}

// do sends a JSON request and returns the status and body.
func (e *apiEnv) do(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (e *apiEnv) must(method, path, token string, body, out any) {
	e.t.Helper()
	code, raw := e.do(method, path, token, body)
	if code != http.StatusOK {
		e.t.Fatalf("%s %s: status %d: %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decode: %v: %s", method, path, err, raw)
		}
	}
}

// createSecret creates a secret through the API (extra: more body fields).
func (e *apiEnv) createSecret(env, path, key, value string, extra map[string]any) {
	e.t.Helper()
	body := map[string]any{"workspaceId": e.projectID, "environment": env, "secretPath": path, "secretValue": value}
	for k, v := range extra {
		body[k] = v
	}
	e.must("POST", "/api/v3/secrets/raw/"+key, e.adminToken, body, nil)
}

func (e *apiEnv) updateSecret(env, path, key, value string) {
	e.t.Helper()
	e.must("PATCH", "/api/v3/secrets/raw/"+key, e.adminToken, map[string]any{"workspaceId": e.projectID, "environment": env, "secretPath": path, "secretValue": value}, nil)
}

func (e *apiEnv) createFolder(env, parent, name string) {
	e.t.Helper()
	e.must("POST", "/api/v1/folders", e.adminToken, map[string]any{"workspaceId": e.projectID, "environment": env, "path": parent, "name": name}, nil)
}

func (e *apiEnv) createTag(slug string) string {
	e.t.Helper()
	var out struct {
		Tag struct {
			ID string `json:"id"`
		} `json:"tag"`
	}
	e.must("POST", "/api/v1/projects/"+e.projectID+"/tags", e.adminToken, map[string]any{"slug": slug, "color": "#00ff00"}, &out)
	return out.Tag.ID
}

// env is the environment of a CLI run against this server, authenticated
// with the identity's token (kv adds or overrides variables; an empty
// value removes one).
func (e *apiEnv) env(kv ...string) map[string]string {
	m := map[string]string{
		"INFISICAL_API_URL":    e.url,
		"INFISICAL_CONFIG_DIR": e.configDir,
		"INFISICAL_TOKEN":      e.token,
		"INFISICAL_PROJECT_ID": e.projectID,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

// run runs the CLI in-process.
func (e *apiEnv) run(env map[string]string, args ...string) result {
	e.t.Helper()
	return runCLIWith(e.t, env, "", args...)
}

// mustRun runs the CLI and fails the test unless it exits 0.
func (e *apiEnv) mustRun(env map[string]string, args ...string) result {
	e.t.Helper()
	r := runCLIWith(e.t, env, "", args...)
	if r.code != ExitOK {
		e.t.Fatalf("infisical %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// runCLIWith runs one command with stdin.
func runCLIWith(t testing.TB, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	out, errb := &syncBuffer{}, &syncBuffer{}
	app := NewApp(Options{Stdout: out, Stderr: errb, Stdin: strings.NewReader(stdin), LookupEnv: envMap(env)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := execute(ctx, app, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// golden compares got with testdata/<name>.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// scrubIDs replaces UUIDs (which differ per run) with a placeholder.
func scrubIDs(b []byte) []byte { return uuidRE.ReplaceAll(b, []byte("<id>")) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
