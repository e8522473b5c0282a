package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// exportFixture fills dev:/ with secrets that exercise quoting, multi-line
// values, references, tags and an import from staging.
func exportFixture(e *apiEnv) {
	tag := e.createTag("web")
	e.createSecret("dev", "/", "API_URL", "https://api.example.com", map[string]any{"secretComment": "public endpoint", "tagIds": []string{tag}})
	e.createSecret("dev", "/", "DB_PASSWORD", `it's "quoted" $HOME, \n`, nil)
	e.createSecret("dev", "/", "MULTILINE", "line1\nline2", map[string]any{"skipMultilineEncoding": true})
	e.createSecret("dev", "/", "PEM", "-----BEGIN-----\nabc\n-----END-----", nil)
	e.createSecret("dev", "/", "REF", "${API_URL}/v1", nil)
	e.createSecret("staging", "/", "API_URL", "https://staging.example.com", nil)
	e.createSecret("staging", "/", "SHARED_ONLY", "from-staging", nil)
	e.must("POST", "/api/v1/secret-imports", e.adminToken, map[string]any{"workspaceId": e.projectID, "environment": "dev", "path": "/",
		"import": map[string]any{"environment": "staging", "path": "/"}}, nil)
}

func TestExportFormatsGolden(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		exportFixture(e)
		env := e.env()
		tmpl := filepath.Join(t.TempDir(), "config.tmpl")
		writeFile(t, tmpl, `{{- $secrets := secret "" "dev" "/" -}}
{{- $length := len $secrets -}}
{
{{- range $index, $secret := $secrets }}
  "{{ $secret.Key }}": {{ quote $secret.Value }}{{ if lt $index (minus $length 1) }},{{ end }}
{{- end }}
}
one: {{ (getSecretByName "" "dev" "/" "REF").Value }}
flags: {{ range .Secrets }}{{ .Key }} {{ end }}
`)
		tests := []struct {
			golden string
			args   []string
		}{
			{"export_dotenv", []string{"export"}},
			{"export_dotenv_double_quote", []string{"export", "--dotenv-quote-char", `"`}},
			{"export_dotenv_export", []string{"export", "--format=dotenv-export"}},
			{"export_csv", []string{"export", "--format", "csv"}},
			{"export_json", []string{"export", "-f", "json"}},
			{"export_yaml", []string{"export", "--format=yaml"}},
			{"export_no_expand_no_imports", []string{"export", "--expand=false", "--include-imports=false"}},
			{"export_tags", []string{"export", "--tags", "web"}},
			{"export_template", []string{"export", "--template", tmpl}},
		}
		for _, tt := range tests {
			t.Run(tt.golden, func(t *testing.T) {
				r := e.mustRun(env, tt.args...)
				if r.stderr != "" {
					t.Errorf("stderr: %q", r.stderr)
				}
				golden(t, tt.golden, scrubIDs([]byte(r.stdout)))
			})
		}

		// JSON is an array of Infisical's export objects.
		var list []map[string]any
		if err := json.Unmarshal([]byte(e.mustRun(env, "export", "--format=json").stdout), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 6 || list[0]["key"] != "API_URL" || list[0]["workspace"] != e.projectID || list[0]["_id"] == "" {
			t.Fatalf("json export: %v", list)
		}

		// --output-file: a directory gets the format's default name, a name
		// without extension gets the format's extension; files are 0600.
		dir := t.TempDir()
		r := e.mustRun(env, "export", "--output-file", dir+"/")
		if !strings.Contains(r.stderr, filepath.Join(dir, ".env")) {
			t.Fatalf("output-file message: %q", r.stderr)
		}
		checkFile(t, filepath.Join(dir, ".env"), "API_URL='https://api.example.com'\n")
		e.mustRun(env, "export", "--format=json", "-o", filepath.Join(dir, "out"))
		checkFile(t, filepath.Join(dir, "out.json"), `[{"key":"API_URL"`)

		for _, args := range [][]string{{"export", "--format=xml"}, {"export", "--dotenv-quote-char", "`"}, {"export", "extra"}} {
			if r := e.run(env, args...); r.code != ExitUsage {
				t.Errorf("%v: exit %d, want %d", args, r.code, ExitUsage)
			}
		}
		// A name a shell cannot bind is refused by dotenv-export only.
		e.createSecret("dev", "/", "my-key", "v", nil)
		if r := e.run(env, "export", "--format=dotenv-export"); r.code != ExitError || !strings.Contains(r.stderr, "my-key") {
			t.Fatalf("dotenv-export of my-key: exit %d, %q", r.code, r.stderr)
		}
	})
}

func checkFile(t *testing.T, path, prefix string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), prefix) {
		t.Errorf("%s starts with %q, want %q", path, b, prefix)
	}
}
