package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestSecretsCommandsAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		env := e.env()

		// set: create, then modify / leave unchanged.
		r := e.mustRun(env, "secrets", "set", "A=1", "B=two")
		if strings.Count(r.stdout, "SECRET CREATED") != 2 {
			t.Fatalf("set output:\n%s", r.stdout)
		}
		r = e.mustRun(env, "secrets", "set", "A=1", "B=three")
		if !strings.Contains(r.stdout, "SECRET VALUE UNCHANGED") || !strings.Contains(r.stdout, "SECRET VALUE MODIFIED") {
			t.Fatalf("second set output:\n%s", r.stdout)
		}
		if got := e.mustRun(env, "secrets", "get", "A", "B", "--plain").stdout; got != "1\nthree\n" {
			t.Fatalf("get --plain: %q", got)
		}
		if got := e.mustRun(env, "secrets", "get", "A", "--raw-value").stdout; got != "1" {
			t.Fatalf("get --raw-value: %q", got)
		}
		r = e.mustRun(env, "secrets", "get", "A", "MISSING")
		if !strings.Contains(r.stdout, "MISSING") || !strings.Contains(r.stdout, notFound) {
			t.Fatalf("get table:\n%s", r.stdout)
		}
		if r := e.run(env, "secrets", "get", "A", "MISSING", "--plain"); r.code != ExitError || r.stdout != "1\n\n" || !strings.Contains(r.stderr, "MISSING") {
			t.Fatalf("get --plain with a missing name: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}

		// Tags: an existing one is reused, a missing one is created.
		backendID := e.createTag("backend")
		e.mustRun(env, "secrets", "set", "C=x", "--tags", "backend, fresh-tag")
		var got struct {
			Secret struct {
				Tags []struct{ ID, Slug string }
			}
		}
		e.must("GET", "/api/v4/secrets/C?projectId="+e.projectID+"&environment=dev", e.adminToken, nil, &got)
		slugs := map[string]string{}
		for _, tg := range got.Secret.Tags {
			slugs[tg.Slug] = tg.ID
		}
		if slugs["backend"] != backendID || slugs["fresh-tag"] == "" || len(slugs) != 2 {
			t.Fatalf("tags of C: %+v", got.Secret.Tags)
		}

		// --file: dotenv and YAML.
		dir := t.TempDir()
		dotenv := filepath.Join(dir, "in.env")
		writeFile(t, dotenv, "# comment\nexport D1=plain # trailing comment\nD2='single $NOT #expanded'\nD3=\"multi\nline \\\"q\\\"\"\n\nD4=\n")
		e.mustRun(env, "secrets", "set", "--file", dotenv)
		if got := e.mustRun(env, "secrets", "get", "D1", "D2", "D3", "D4", "--plain").stdout; got != "plain\nsingle $NOT #expanded\nmulti\nline \"q\"\n\n" {
			t.Fatalf("values from the dotenv file: %q", got)
		}
		yml := filepath.Join(dir, "in.yaml")
		writeFile(t, yml, "Y1: one\nY2: \"2\"\nY3: |\n  a\n  b\n")
		e.mustRun(env, "secrets", "set", "--file", yml)
		if got := e.mustRun(env, "secrets", "get", "Y1", "Y2", "Y3", "--plain").stdout; got != "one\n2\na\nb\n\n" { // a block scalar keeps its final newline
			t.Fatalf("values from the YAML file: %q", got)
		}

		// Listing: table and --plain, sorted by name.
		r = e.mustRun(env, "secrets")
		for _, want := range []string{"SECRET NAME", "SECRET VALUE", "SECRET TYPE", "│ A ", "│ three ", "shared"} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("secrets table lacks %q:\n%s", want, r.stdout)
			}
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "┌─") || !strings.HasPrefix(lines[2], "├─") || !strings.HasPrefix(lines[len(lines)-1], "└─") ||
			!strings.HasPrefix(lines[3], "│ A           │ 1 ") {
			t.Fatalf("table layout:\n%s", r.stdout)
		}

		// Invalid input is refused before any request.
		for _, args := range [][]string{{"secrets", "set", "NOEQUALS"}, {"secrets", "set", "1BAD=x"}, {"secrets", "set", "A/B=x"},
			{"secrets", "set"}, {"secrets", "set", "X=1", "--type", "weird"}, {"secrets", "get"}, {"secrets", "get", "A", "B", "--raw-value"}} {
			if r := e.run(env, args...); r.code != ExitUsage {
				t.Errorf("%v: exit %d, want %d (stderr %q)", args, r.code, ExitUsage, r.stderr)
			}
		}
		// Personal secrets belong to users; the server refuses an identity.
		if r := e.run(env, "secrets", "set", "A=mine", "--type", "personal"); r.code != ExitError {
			t.Fatalf("personal set by an identity: exit %d", r.code)
		}

		// delete.
		r = e.mustRun(env, "secrets", "delete", "A", "B")
		if r.stdout != "secret name(s) [A, B] have been deleted from your project\n" {
			t.Fatalf("delete output %q", r.stdout)
		}
		if r := e.run(env, "secrets", "get", "A", "--plain"); r.code != ExitError {
			t.Fatalf("A still exists: %q", r.stdout)
		}
		if r := e.run(env, "secrets", "delete", "A"); r.code != ExitError || !strings.Contains(r.stderr, "404") {
			t.Fatalf("deleting a missing secret: exit %d %q", r.code, r.stderr)
		}

		// Folders, --path and --recursive.
		r = e.mustRun(env, "secrets", "folders", "create", "--name", "api")
		if !strings.Contains(r.stdout, "folder named [api] created in path [/]") {
			t.Fatalf("folder create: %q", r.stdout)
		}
		e.mustRun(env, "secrets", "folders", "create", "--path", "/api", "--name", "v2")
		if got := e.mustRun(env, "secrets", "folders", "get").stdout; !strings.Contains(got, "│ api ") || strings.Contains(got, "v2") {
			t.Fatalf("folders get /:\n%s", got)
		}
		if got := e.mustRun(env, "secrets", "folders", "get", "--path", "/api").stdout; !strings.Contains(got, "│ v2 ") {
			t.Fatalf("folders get /api:\n%s", got)
		}
		e.mustRun(env, "secrets", "set", "--path", "api/v2", "DEEP=down")
		if got := e.mustRun(env, "secrets", "get", "DEEP", "--path", "/api/v2/", "--plain").stdout; got != "down\n" {
			t.Fatalf("secret in a folder: %q", got)
		}
		if got := e.mustRun(env, "secrets", "--plain").stdout; strings.Contains(got, "down") {
			t.Fatalf("root listing includes a sub-folder secret: %q", got)
		}
		if got := e.mustRun(env, "secrets", "--plain", "--recursive").stdout; !strings.Contains(got, "down\n") {
			t.Fatalf("--recursive misses the sub-folder secret: %q", got)
		}
		if r := e.run(env, "secrets", "folders", "create"); r.code != ExitUsage {
			t.Fatalf("folder create without --name: exit %d", r.code)
		}
		e.mustRun(env, "secrets", "folders", "delete", "--name", "api")
		if got := e.mustRun(env, "secrets", "folders", "get").stdout; strings.Contains(got, "api") {
			t.Fatalf("folder still listed:\n%s", got)
		}

		// Other environments.
		e.mustRun(env, "secrets", "set", "--env", "prod", "P=prod-only")
		if got := e.mustRun(env, "secrets", "get", "P", "--env", "prod", "--plain").stdout; got != "prod-only\n" {
			t.Fatalf("prod: %q", got)
		}
		if r := e.run(env, "secrets", "--env", "nope"); r.code != ExitError {
			t.Fatalf("unknown environment: exit %d", r.code)
		}
	})
}

func TestGenerateExampleEnvAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		dbTag := e.createTag("database")
		apiTag := e.createTag("api")
		e.createSecret("dev", "/", "DB_URL", "postgres://prod-host/db", map[string]any{"secretComment": "Connection string DEFAULT:postgres://localhost/dev", "tagIds": []string{dbTag}})
		e.createSecret("dev", "/", "DB_POOL", "20", map[string]any{"secretComment": "DEFAULT: 5", "tagIds": []string{dbTag}})
		e.createSecret("dev", "/", "API_KEY", "secret-value", map[string]any{"secretComment": "Ask the team\nfor a key", "tagIds": []string{dbTag, apiTag}})
		e.createSecret("dev", "/", "PLAIN", "no-tags", nil)
		r := e.mustRun(e.env(), "secrets", "generate-example-env")
		if strings.Contains(r.stdout, "prod-host") || strings.Contains(r.stdout, "secret-value") || strings.Contains(r.stdout, "no-tags") {
			t.Fatalf("example env leaks values:\n%s", r.stdout)
		}
		golden(t, "generate_example_env", []byte(r.stdout))
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
