package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/daemons/agent"
	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// server is an in-process API server that can be stopped and restarted on
// the same address (the database stays).
type server struct {
	t       *testing.T
	handler http.Handler
	addr    string

	mu  sync.Mutex
	srv *httptest.Server
}

func newServer(t *testing.T, b enginetest.Backend) *server {
	t.Helper()
	eng := enginetest.Open(t, b)
	h, err := api.New(eng, api.Config{Logger: eng.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, handler: h}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	s.startOn(l)
	t.Cleanup(s.stop)
	return s
}

func (s *server) startOn(l net.Listener) {
	srv := httptest.NewUnstartedServer(s.handler)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

func (s *server) url() string { return "http://" + s.addr }

// stop closes the listener and every connection.
func (s *server) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// restart listens again on the same address.
func (s *server) restart() {
	s.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.startOn(l)
}

func (s *server) do(method, path, token string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url()+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func (s *server) must(method, path, token string, body, out any) {
	s.t.Helper()
	code, raw := s.do(method, path, token, body)
	if code != http.StatusOK {
		s.t.Fatalf("%s %s: status %d: %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode: %v: %s", method, path, err, raw)
		}
	}
}

// fixture is a bootstrapped server with a project and a UA identity that
// can read it.
type fixture struct {
	*server
	admin                  string
	orgID                  string
	projectID, projectSlug string
	identityID             string
	clientID, clientSecret string
	dir                    string
}

func newFixture(t *testing.T, b enginetest.Backend, uaBody map[string]any) *fixture {
	t.Helper()
	s := newServer(t, b)
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
	s.must("POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "admin@example.com", "password": "correct-horse-battery", "organization": "Acme"}, &boot)
	f := &fixture{server: s, admin: boot.Identity.Credentials.Token, orgID: boot.Organization.ID, dir: t.TempDir()}
	var p struct {
		Project struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"project"`
	}
	s.must("POST", "/api/v2/workspace", f.admin, map[string]any{"projectName": "Agent Test"}, &p)
	f.projectID, f.projectSlug = p.Project.ID, p.Project.Slug

	var ident struct {
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	}
	s.must("POST", "/api/v1/identities", f.admin, map[string]any{"name": "agent", "organizationId": f.orgID, "role": "no-access"}, &ident)
	f.identityID = ident.Identity.ID
	if uaBody == nil {
		uaBody = map[string]any{}
	}
	var ua struct {
		UA struct {
			ClientID string `json:"clientId"`
		} `json:"identityUniversalAuth"`
	}
	s.must("POST", "/api/v1/auth/universal-auth/identities/"+f.identityID, f.admin, uaBody, &ua)
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	s.must("POST", "/api/v1/auth/universal-auth/identities/"+f.identityID+"/client-secrets", f.admin, map[string]any{"description": "agent"}, &cs)
	s.must("POST", "/api/v2/workspace/"+f.projectID+"/identity-memberships/"+f.identityID, f.admin, map[string]any{"role": "viewer"}, nil)
	f.clientID, f.clientSecret = ua.UA.ClientID, cs.ClientSecret
	f.write("client-id", f.clientID)
	f.write("client-secret", f.clientSecret)
	return f
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

func (f *fixture) write(name, content string) string {
	f.t.Helper()
	p := f.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) setSecret(env, path, key, value string) {
	f.t.Helper()
	body := map[string]any{"workspaceId": f.projectID, "environment": env, "secretPath": path, "secretValue": value}
	code, _ := f.do("PATCH", "/api/v3/secrets/raw/"+key, f.admin, body)
	if code == http.StatusNotFound {
		f.must("POST", "/api/v3/secrets/raw/"+key, f.admin, body, nil)
		return
	}
	if code != http.StatusOK {
		f.t.Fatalf("update secret %s: status %d", key, code)
	}
}

// config builds an agent config for the fixture (UA with the credential
// files) around the given sinks/templates YAML.
func (f *fixture) config(extra string) *agent.Config {
	f.t.Helper()
	y := "infisical:\n  address: " + f.url() + "\n" +
		"auth:\n  type: universal-auth\n  config:\n    client-id: " + f.path("client-id") + "\n    client-secret: " + f.path("client-secret") + "\n" +
		extra
	cfg, err := agent.Parse([]byte(y))
	if err != nil {
		f.t.Fatalf("parse config: %v\n%s", err, y)
	}
	return cfg
}

// logBuffer collects the agent's logs for failure messages and leak checks.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// running is an agent started in the background.
type running struct {
	ag     *agent.Agent
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

func (f *fixture) start(cfg *agent.Config, mod ...func(*agent.Options)) *running {
	f.t.Helper()
	logs := &logBuffer{}
	opt := agent.Options{
		Logger:             slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LookupEnv:          func(string) (string, bool) { return "", false },
		Stdout:             logs,
		Stderr:             logs,
		RetryBase:          20 * time.Millisecond,
		RetryMax:           100 * time.Millisecond,
		MinPollingInterval: 10 * time.Millisecond,
	}
	for _, m := range mod {
		m(&opt)
	}
	ag, err := agent.New(cfg, opt)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{ag: ag, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- ag.Run(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			f.t.Error("agent did not stop")
		}
		if f.t.Failed() {
			f.t.Logf("agent log:\n%s", logs.String())
		}
		for _, secret := range []string{f.clientSecret} {
			if secret != "" && strings.Contains(logs.String(), secret) {
				f.t.Errorf("the agent logged a credential")
			}
		}
	})
	return r
}

// stop cancels the agent and returns Run's result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not stop")
		return nil
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return string(b)
}
