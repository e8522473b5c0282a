package agentsidecar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/infisical-go/engine/daemons/agent"
	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestSidecarExample renders the example's own agent configuration and
// template (from deployment.yaml, with the pod paths moved to a temp dir)
// against an in-process server, and checks that the dotenv it writes holds
// awkward values exactly.
func TestSidecarExample(t *testing.T) {
	raw, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var configMap struct {
		Kind string            `yaml:"kind"`
		Data map[string]string `yaml:"data"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind == "ConfigMap" {
			configMap = doc
		}
	}
	if configMap.Data["agent-config.yaml"] == "" || configMap.Data["app.env.tmpl"] == "" {
		t.Fatal("the ConfigMap of deployment.yaml lacks agent-config.yaml or app.env.tmpl")
	}

	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		eng := enginetest.Open(t, b)
		h, err := api.New(eng, api.Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		call := func(method, path, token string, body, out any) {
			t.Helper()
			buf, _ := json.Marshal(body)
			req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(buf))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
			}
			if out != nil {
				json.Unmarshal(data, out)
			}
		}
		var boot struct {
			Organization struct{ ID string } `json:"organization"`
			Identity     struct {
				Credentials struct{ Token string } `json:"credentials"`
			} `json:"identity"`
		}
		call("POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "a@example.com", "password": "correct-horse-battery", "organization": "Acme"}, &boot)
		admin := boot.Identity.Credentials.Token
		var proj struct {
			Project struct{ ID, Slug string } `json:"project"`
		}
		call("POST", "/api/v2/workspace", admin, map[string]any{"projectName": "Sidecar Demo"}, &proj)
		for k, v := range map[string]string{"PLAIN": "hello", "QUOTED": `say "hi"`, "MULTI": "line1\nline2", "BACKSLASH": `a\b`} {
			call("POST", "/api/v3/secrets/raw/"+k, admin, map[string]any{"workspaceId": proj.Project.ID, "environment": "prod", "secretValue": v}, nil)
		}
		var ident struct {
			Identity struct{ ID string } `json:"identity"`
		}
		call("POST", "/api/v1/identities", admin, map[string]any{"name": "sidecar", "organizationId": boot.Organization.ID, "role": "no-access"}, &ident)
		var ua struct {
			UA struct{ ClientID string } `json:"identityUniversalAuth"`
		}
		call("POST", "/api/v1/auth/universal-auth/identities/"+ident.Identity.ID, admin, map[string]any{}, &ua)
		var cs struct{ ClientSecret string }
		call("POST", "/api/v1/auth/universal-auth/identities/"+ident.Identity.ID+"/client-secrets", admin, map[string]any{}, &cs)
		call("POST", "/api/v2/workspace/"+proj.Project.ID+"/identity-memberships/"+ident.Identity.ID, admin, map[string]any{"role": "viewer"}, nil)

		// The pod's paths, moved under a temp dir.
		root := t.TempDir()
		for _, d := range []string{"etc/infisical/credentials", "etc/infisical/templates", "run/secrets/app"} {
			os.MkdirAll(filepath.Join(root, d), 0o755)
		}
		os.WriteFile(filepath.Join(root, "etc/infisical/credentials/client-id"), []byte(ua.UA.ClientID), 0o400)
		os.WriteFile(filepath.Join(root, "etc/infisical/credentials/client-secret"), []byte(cs.ClientSecret), 0o400)
		tmpl := strings.ReplaceAll(configMap.Data["app.env.tmpl"], "REPLACE_ME_PROJECT_SLUG", proj.Project.Slug)
		os.WriteFile(filepath.Join(root, "etc/infisical/templates/app.env.tmpl"), []byte(tmpl), 0o644)
		cfgText := strings.NewReplacer(
			"https://infisical.example.com", srv.URL,
			"/etc/infisical/", filepath.Join(root, "etc/infisical")+"/",
			"/run/secrets/app/", filepath.Join(root, "run/secrets/app")+"/",
		).Replace(configMap.Data["agent-config.yaml"])
		cfg, err := agent.Parse([]byte(cfgText))
		if err != nil {
			t.Fatalf("the example's agent config does not parse: %v", err)
		}
		cfg.Infisical.ExitAfterAuth = true
		ag, err := agent.New(cfg, agent.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ag.Run(ctx); err != nil {
			t.Fatalf("agent: %v", err)
		}
		got, _ := os.ReadFile(filepath.Join(root, "run/secrets/app/app.env"))
		for _, line := range []string{`PLAIN="hello"`, `QUOTED="say \"hi\""`, `MULTI="line1\nline2"`, `BACKSLASH="a\\b"`} {
			if !strings.Contains(string(got), line+"\n") {
				t.Errorf("app.env lacks %s:\n%s", line, got)
			}
		}
		if tok, _ := os.ReadFile(filepath.Join(root, "run/secrets/app/token")); len(tok) == 0 {
			t.Error("no token in the sink")
		}
	})
}
