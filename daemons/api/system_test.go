package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// errorEnvelope is Infisical's error body.
type errorEnvelope struct {
	ReqID      string          `json:"reqId"`
	StatusCode int             `json:"statusCode"`
	Error      string          `json:"error"`
	Message    json.RawMessage `json:"message"`
}

var reqIDRE = regexp.MustCompile(`^req-[A-Za-z0-9]{14}$`)

func decodeError(t *testing.T, raw []byte) errorEnvelope {
	t.Helper()
	var e errorEnvelope
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", raw)
	}
	if !reqIDRE.MatchString(e.ReqID) {
		t.Fatalf("reqId %q does not look like req-XXXXXXXXXXXXXX", e.ReqID)
	}
	return e
}

func TestSystemRoutesAndConventions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		eng := enginetest.Open(t, b)
		h, err := api.New(eng, api.Config{Logger: eng.Logger(), MaxBodyBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		ts := serveHandler(t, eng, h)
		boot := ts.bootstrap()

		t.Run("status", func(t *testing.T) {
			var st struct {
				Message string `json:"message"`
				Date    string `json:"date"`
			}
			ts.must("GET", "/api/status", "", nil, &st)
			if st.Message != "Ok" || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(st.Date) {
				t.Fatalf("status %+v", st)
			}
		})

		t.Run("trailing slash", func(t *testing.T) {
			code, raw, _ := ts.do("GET", "/api/status/", "", nil)
			if code != 200 {
				t.Fatalf("GET /api/status/: %d %s", code, raw)
			}
		})

		t.Run("unknown route", func(t *testing.T) {
			code, raw, _ := ts.do("GET", "/api/v9/nothing", "", nil)
			e := decodeError(t, raw)
			if code != 404 || e.StatusCode != 404 || e.Error != "NotFound" {
				t.Fatalf("unknown route: %d %s", code, raw)
			}
		})

		t.Run("missing token", func(t *testing.T) {
			code, raw, _ := ts.do("GET", "/api/v1/workspace", "", nil)
			if e := decodeError(t, raw); code != 401 || e.Error != "UnauthorizedError" {
				t.Fatalf("no token: %d %s", code, raw)
			}
		})

		t.Run("malformed token", func(t *testing.T) {
			code, raw, _ := ts.do("GET", "/api/v1/workspace", "not.a.jwt", nil)
			if e := decodeError(t, raw); code != 403 || e.Error != "TokenError" {
				t.Fatalf("bad token: %d %s", code, raw)
			}
		})

		t.Run("body too large", func(t *testing.T) {
			big := map[string]string{"projectName": strings.Repeat("x", 8000)}
			code, raw, _ := ts.do("POST", "/api/v2/workspace", boot.AdminToken, big)
			if e := decodeError(t, raw); code != http.StatusRequestEntityTooLarge || e.StatusCode != 413 {
				t.Fatalf("large body: %d %s", code, raw)
			}
			// Without Content-Length (chunked) the limit still holds.
			pr, pw := io.Pipe()
			go func() {
				b, _ := json.Marshal(big)
				pw.Write(b)
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", ts.srv.URL+"/api/v2/workspace", pr)
			req.Header.Set("Authorization", "Bearer "+boot.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("chunked large body: %d %s", resp.StatusCode, raw)
			}
		})

		t.Run("invalid JSON and wrong types", func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.srv.URL+"/api/v2/workspace", bytes.NewReader([]byte("{not json")))
			req.Header.Set("Authorization", "Bearer "+boot.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Fatalf("invalid JSON: %d %s", resp.StatusCode, raw)
			}
			code, raw, _ := ts.do("POST", "/api/v2/workspace", boot.AdminToken, map[string]any{"projectName": 42})
			e := decodeError(t, raw)
			if code != 422 || e.Error != "ValidationFailure" || !bytes.Contains(e.Message, []byte(`"projectName"`)) || e.Message[0] != '[' {
				t.Fatalf("wrong type: %d %s", code, raw)
			}
		})

		t.Run("query booleans", func(t *testing.T) {
			code, raw, _ := ts.do("GET", "/api/v1/workspace?includeRoles=maybe", boot.AdminToken, nil)
			if e := decodeError(t, raw); code != 422 || !bytes.Contains(e.Message, []byte("includeRoles")) {
				t.Fatalf("bad boolean: %d %s", code, raw)
			}
		})

		t.Run("openapi lists every route", func(t *testing.T) {
			var doc struct {
				OpenAPI string                    `json:"openapi"`
				Paths   map[string]map[string]any `json:"paths"`
			}
			ts.must("GET", "/api/docs/openapi.json", "", nil, &doc)
			if doc.OpenAPI == "" || len(doc.Paths) < 60 {
				t.Fatalf("openapi: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
			}
			for _, want := range []string{
				"/api/v3/secrets/raw", "/api/v4/secrets", "/api/v3/secrets/batch/raw", "/api/v2/workspace",
				"/api/v1/folders", "/api/v1/secret-imports", "/api/v1/auth/universal-auth/login", "/api/v1/auth/token/renew",
				"/api/v1/admin/bootstrap", "/api/v1/projects/slug/{slug}", "/api/v2/workspace/identity-memberships/{identityMembershipId}",
				"/api/status", "/metrics",
			} {
				if _, ok := doc.Paths[want]; !ok {
					t.Errorf("openapi lacks %s", want)
				}
			}
			// Every documented path answers something other than the
			// catch-all 404 "Route ... not found".
			for p, ops := range doc.Paths {
				for method := range ops {
					path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(p, "00000000-0000-0000-0000-000000000000")
					code, raw, _ := ts.do(strings.ToUpper(method), path, boot.AdminToken, nil)
					if code == 404 && bytes.Contains(raw, []byte("Route ")) {
						t.Errorf("%s %s is documented but not routed", method, p)
					}
				}
			}
		})

		t.Run("metrics", func(t *testing.T) {
			resp, err := http.Get(ts.srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(raw, []byte(`infisical_http_requests_total{code="200",method="GET",route="/api/status"}`)) {
				t.Fatalf("metrics: %d\n%s", resp.StatusCode, raw)
			}
		})
	})
}
