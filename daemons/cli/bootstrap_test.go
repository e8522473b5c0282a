package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

const bootstrapAnswer = `{"message":"Successfully bootstrapped instance","user":{"id":"u1","email":"admin@example.com"},` +
	`"organization":{"id":"o1","name":"acme","slug":"acme"},"identity":{"id":"i1","name":"Instance Admin Identity","credentials":{"token":"tok-123"}}}`

// fakeBootstrap answers like the bootstrap endpoint and checks the request.
func fakeBootstrap(t *testing.T, status int, answer string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/admin/bootstrap" {
			t.Errorf("request %s %s, want POST /api/v1/admin/bootstrap", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("body is not JSON: %s", raw)
		}
		want := map[string]any{"email": "admin@example.com", "password": "  s3cret pass ", "organization": "acme"}
		if len(body) != len(want) {
			t.Errorf("body %v, want %v", body, want)
		}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("body[%q] = %v, want %q", k, body[k], v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestBootstrap(t *testing.T) {
	flags := []string{"--email", "admin@example.com", "--password", "  s3cret pass ", "--organization", "acme"}
	adminEnv := map[string]string{"INFISICAL_ADMIN_EMAIL": "admin@example.com", "INFISICAL_ADMIN_PASSWORD": "  s3cret pass ", "INFISICAL_ADMIN_ORGANIZATION": "acme"}
	tests := []struct {
		name       string
		status     int
		answer     string
		domain     func(url string) string // --domain value; "" = use INFISICAL_API_URL
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string
		wantStderr string
		wantCalls  int32
	}{
		{name: "success", status: 200, answer: bootstrapAnswer, domain: func(u string) string { return u }, args: flags,
			wantCode: ExitOK, wantStdout: `"token": "tok-123"`, wantCalls: 1},
		{name: "domain with /api", status: 200, answer: bootstrapAnswer, domain: func(u string) string { return u + "/api/" }, args: flags,
			wantCode: ExitOK, wantStdout: `"organization": {`, wantCalls: 1},
		{name: "everything from the environment", status: 200, answer: bootstrapAnswer, env: adminEnv,
			wantCode: ExitOK, wantStdout: `"identity": {`, wantCalls: 1},
		{name: "error body", status: 400, answer: `{"reqId":"req-1","statusCode":400,"error":"BadRequest","message":"Instance has already been set up"}`,
			domain: func(u string) string { return u }, args: flags, wantCode: ExitError, wantStderr: "Instance has already been set up", wantCalls: 1},
		{name: "already bootstrapped ignored", status: 400, answer: `{"reqId":"req-1","statusCode":400,"error":"BadRequest","message":"Instance has already been set up"}`,
			domain: func(u string) string { return u }, args: append([]string{"--ignore-if-bootstrapped"}, flags...),
			wantCode: ExitOK, wantStderr: "already bootstrapped", wantCalls: 1},
		{name: "other errors are not ignored", status: 500, answer: `{"reqId":"req-1","statusCode":500,"error":"InternalServerError","message":"Something went wrong"}`,
			domain: func(u string) string { return u }, args: append([]string{"--ignore-if-bootstrapped"}, flags...),
			wantCode: ExitError, wantStderr: "Something went wrong", wantCalls: 1},
		{name: "validation error array", status: 422, answer: `{"statusCode":422,"error":"ValidationFailure","message":[{"path":["email"],"message":"Invalid email"}]}`,
			domain: func(u string) string { return u }, args: flags, wantCode: ExitError, wantStderr: "Invalid email", wantCalls: 1},
		{name: "missing fields", domain: func(u string) string { return u },
			wantCode: ExitUsage, wantStderr: "--email (or INFISICAL_ADMIN_EMAIL), --password (or INFISICAL_ADMIN_PASSWORD), --organization"},
		{name: "unsupported output", domain: func(u string) string { return u }, args: append([]string{"--output", "k8-secret"}, flags...),
			wantCode: ExitUsage, wantStderr: "only json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := fakeBootstrap(t, tt.status, tt.answer)
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			args := []string{"bootstrap"}
			if tt.domain != nil {
				args = append(args, "--domain", tt.domain(srv.URL))
			} else {
				env["INFISICAL_API_URL"] = srv.URL
			}
			args = append(args, tt.args...)
			r := runCLI(t, env, args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) {
				t.Errorf("stdout %q lacks %q", r.stdout, tt.wantStdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.wantStderr)
			}
			if tt.wantCode == ExitOK && tt.wantStdout != "" {
				var v map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
					t.Errorf("stdout is not JSON: %v", err)
				}
			}
			if tt.wantCode != ExitOK && r.stdout != "" {
				t.Errorf("stdout not empty on failure: %q", r.stdout)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestBootstrapUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := runCLI(t, nil, "bootstrap", "--domain", url, "--email", "a@b.c", "--password", "p", "--organization", "o")
	if r.code != ExitError || !strings.Contains(r.stderr, "/api/v1/admin/bootstrap") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestBootstrapSilent(t *testing.T) {
	srv, _ := fakeBootstrap(t, 400, `{"statusCode":400,"error":"BadRequest","message":"Instance has already been set up"}`)
	r := runCLI(t, nil, "--silent", "bootstrap", "--ignore-if-bootstrapped", "--domain", srv.URL,
		"--email", "admin@example.com", "--password", "  s3cret pass ", "--organization", "acme")
	if r.code != ExitOK || r.stderr != "" || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
