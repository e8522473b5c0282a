package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestInitWritesWorkspaceFile(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		dir := t.TempDir()
		t.Chdir(dir)
		env := e.env("INFISICAL_PROJECT_ID", "")
		path := filepath.Join(dir, ".infisical.json")
		readWS := func() workspaceFile {
			t.Helper()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var wf workspaceFile
			if err := json.Unmarshal(raw, &wf); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			return wf
		}

		// The identity belongs to one project: it is chosen without asking.
		r := e.mustRun(env, "init")
		if wf := readWS(); wf.WorkspaceID != e.projectID || !strings.Contains(r.stdout, e.projectID) {
			t.Fatalf("init wrote %+v, said %q", wf, r.stdout)
		}

		// A second project: the choice is asked on stdin; an existing file
		// is overwritten only when confirmed.
		var p struct {
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		}
		e.must("POST", "/api/v2/workspace", e.adminToken, map[string]any{"projectName": "second"}, &p)
		e.must("POST", "/api/v2/workspace/"+p.Project.ID+"/identity-memberships/"+e.identityID, e.adminToken, map[string]any{"role": "viewer"}, nil)

		if r := runCLIWith(t, env, "n\n", "init"); r.code != ExitOK || readWS().WorkspaceID != e.projectID {
			t.Fatalf("declined overwrite: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := runCLIWith(t, env, "", "init"); r.code != ExitUsage || !strings.Contains(r.stderr, "--yes") {
			t.Fatalf("no answer to the overwrite question: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := runCLIWith(t, env, "", "init", "--yes"); r.code != ExitUsage || !strings.Contains(r.stderr, "--projectId") {
			t.Fatalf("no answer to the project question: exit %d, stderr %q", r.code, r.stderr)
		}
		// Projects are listed in the server's order; pick the one that is
		// not the first project.
		r = runCLIWith(t, env, "y\n1\n", "init")
		first := readWS().WorkspaceID
		r = runCLIWith(t, env, "y\n2\n", "init")
		second := readWS().WorkspaceID
		if r.code != ExitOK || first == second || (first != e.projectID && second != e.projectID) ||
			(first != p.Project.ID && second != p.Project.ID) {
			t.Fatalf("choices gave %s and %s; stderr %q", first, second, r.stderr)
		}
		e.mustRun(env, "init", "--yes", "--projectId", e.projectID)
		if readWS().WorkspaceID != e.projectID {
			t.Fatal("--projectId not written")
		}
		if r := e.run(env, "init", "--yes", "--projectId", "not-mine"); r.code != ExitError {
			t.Fatalf("unknown --projectId: exit %d", r.code)
		}
	})
}

func TestWorkspaceFilePrecedence(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		for _, env := range []string{"dev", "staging", "prod"} {
			e.createSecret(env, "/", "WHERE", env, nil)
		}
		e.createFolder("staging", "/", "app")
		e.createSecret("staging", "/app", "WHERE", "staging-app", nil)

		root := t.TempDir()
		deep := filepath.Join(root, "sub", "deeper")
		if err := os.MkdirAll(filepath.Join(root, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(deep, 0o755); err != nil {
			t.Fatal(err)
		}
		setBranch := func(b string) { writeFile(t, filepath.Join(root, ".git", "HEAD"), "ref: refs/heads/"+b+"\n") }
		ws, _ := json.Marshal(map[string]any{"workspaceId": e.projectID, "defaultEnvironment": "staging",
			"gitBranchToEnvironmentMapping": map[string]string{"release": "prod"}})
		writeFile(t, filepath.Join(root, ".infisical.json"), string(ws))
		env := e.env("INFISICAL_PROJECT_ID", "")
		get := func(args ...string) string {
			t.Helper()
			return strings.TrimSpace(e.mustRun(env, append([]string{"secrets", "get", "WHERE", "--plain"}, args...)...).stdout)
		}

		setBranch("release")
		if got := get("--project-config-dir", root); got != "prod" {
			t.Fatalf("branch mapping: %q", got)
		}
		setBranch("main")
		if got := get("--project-config-dir", root); got != "staging" {
			t.Fatalf("defaultEnvironment: %q", got)
		}
		if got := get("--project-config-dir", root, "--env", "dev"); got != "dev" {
			t.Fatalf("--env: %q", got)
		}
		// Found from a sub-directory.
		t.Chdir(deep)
		if got := get(); got != "staging" {
			t.Fatalf("from a sub-directory: %q", got)
		}
		// defaultSecretPath applies when --path is not given.
		ws, _ = json.Marshal(map[string]any{"workspaceId": e.projectID, "defaultEnvironment": "staging", "defaultSecretPath": "/app"})
		writeFile(t, filepath.Join(root, ".infisical.json"), string(ws))
		if got := get(); got != "staging-app" {
			t.Fatalf("defaultSecretPath: %q", got)
		}
		if got := get("--path", "/"); got != "staging" {
			t.Fatalf("--path over defaultSecretPath: %q", got)
		}
		// --projectId and INFISICAL_PROJECT_ID win over the file.
		writeFile(t, filepath.Join(root, ".infisical.json"), `{"workspaceId":"00000000-0000-4000-8000-000000000000"}`)
		if got := get("--projectId", e.projectID, "--env", "prod"); got != "prod" {
			t.Fatalf("--projectId: %q", got)
		}
		if r := e.mustRun(e.env(), "secrets", "get", "WHERE", "--plain"); strings.TrimSpace(r.stdout) != "dev" {
			t.Fatalf("INFISICAL_PROJECT_ID: %q", r.stdout)
		}

		// No project anywhere; a --project-config-dir without the file.
		t.Chdir(t.TempDir())
		if r := e.run(env, "secrets"); r.code != ExitUsage || !strings.Contains(r.stderr, "--projectId") {
			t.Fatalf("no project: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := e.run(env, "secrets", "--project-config-dir", t.TempDir()); r.code != ExitUsage || !strings.Contains(r.stderr, ".infisical.json") {
			t.Fatalf("empty --project-config-dir: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
