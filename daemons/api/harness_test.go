package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// testServer is an in-process API server on a fresh database.
type testServer struct {
	t   testing.TB
	eng *infisical.Engine
	srv *httptest.Server
}

func newTestServer(t testing.TB, b enginetest.Backend, mod ...func(*infisical.Config)) *testServer {
	t.Helper()
	eng := enginetest.Open(t, b, mod...)
	return serve(t, eng)
}

func serve(t testing.TB, eng *infisical.Engine) *testServer {
	t.Helper()
	h, err := api.New(eng, api.Config{Logger: eng.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return serveHandler(t, eng, h)
}

func serveHandler(t testing.TB, eng *infisical.Engine, h http.Handler) *testServer {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{t: t, eng: eng, srv: srv}
}

// do sends a JSON request and returns the status and raw body.
func (ts *testServer) do(method, path, token string, body any) (int, []byte, http.Header) {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.srv.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

// must sends a request that must answer 200 and decodes the body into out.
func (ts *testServer) must(method, path, token string, body, out any) {
	ts.t.Helper()
	code, raw, _ := ts.do(method, path, token, body)
	if code != http.StatusOK {
		ts.t.Fatalf("%s %s: status %d: %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			ts.t.Fatalf("%s %s: decode: %v: %s", method, path, err, raw)
		}
	}
}

// bootstrapped holds what the bootstrap returns.
type bootstrapped struct {
	OrgID      string
	AdminToken string
}

func (ts *testServer) bootstrap() bootstrapped {
	ts.t.Helper()
	var out struct {
		Organization struct {
			ID string `json:"id"`
		} `json:"organization"`
		Identity struct {
			Credentials struct {
				Token string `json:"token"`
			} `json:"credentials"`
		} `json:"identity"`
	}
	ts.must("POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "admin@example.com", "password": "correct-horse-battery", "organization": "Acme"}, &out)
	if out.Identity.Credentials.Token == "" || out.Organization.ID == "" {
		ts.t.Fatal("bootstrap returned no token or organization")
	}
	return bootstrapped{OrgID: out.Organization.ID, AdminToken: out.Identity.Credentials.Token}
}

// uaIdentity creates a machine identity with universal auth and a client
// secret, optionally a member of projectID with projectRole.
func (ts *testServer) uaIdentity(adminToken, orgID, name, projectID, projectRole string, uaBody map[string]any) (identityID, clientID, clientSecret string) {
	ts.t.Helper()
	var ident struct {
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	}
	ts.must("POST", "/api/v1/identities", adminToken, map[string]any{"name": name, "organizationId": orgID, "role": "no-access"}, &ident)
	identityID = ident.Identity.ID
	if uaBody == nil {
		uaBody = map[string]any{}
	}
	var ua struct {
		UA struct {
			ClientID string `json:"clientId"`
		} `json:"identityUniversalAuth"`
	}
	ts.must("POST", "/api/v1/auth/universal-auth/identities/"+identityID, adminToken, uaBody, &ua)
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	ts.must("POST", "/api/v1/auth/universal-auth/identities/"+identityID+"/client-secrets", adminToken, map[string]any{"description": "test"}, &cs)
	if projectID != "" {
		ts.must("POST", "/api/v2/workspace/"+projectID+"/identity-memberships/"+identityID, adminToken, map[string]any{"role": projectRole}, nil)
	}
	return identityID, ua.UA.ClientID, cs.ClientSecret
}

func (ts *testServer) createProject(token, name string) string {
	ts.t.Helper()
	var p struct {
		Project struct {
			ID string `json:"id"`
		} `json:"project"`
	}
	ts.must("POST", "/api/v2/workspace", token, map[string]any{"projectName": name}, &p)
	return p.Project.ID
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
