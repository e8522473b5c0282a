package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// FuzzParse feeds arbitrary agent configuration files to Parse.
// Properties: no panic; errors are YAML errors or *FieldError; an accepted
// configuration is valid (a known auth method, file sinks with paths, each
// template with exactly one source, a destination used once and a positive
// polling interval) and reads back identically once written out again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"infisical:\n  address: https://infisical.example.com\n  retry-strategy:\n    max-retries: 5\n    base-delay: 500ms\n    max-delay: 10s\n" +
			"auth:\n  type: universal-auth\n  config:\n    client-id: ./id\n    client-secret: ./secret\n    remove_client_secret_on_read: true\n" +
			"sinks:\n  - type: file\n    config:\n      path: /tmp/token\n" +
			"templates:\n  - source-path: my.tmpl\n    destination-path: /tmp/out1\n    config:\n      polling-interval: 60s\n      execute:\n        command: ./reload.sh\n        timeout: 30\n" +
			"  - template-content: \"{{ range listSecrets \\\"p\\\" \\\"dev\\\" \\\"/\\\" }}{{ .Key }}{{ end }}\"\n    destination-path: /tmp/out2\n    config:\n      polling-interval: 1d\n",
		"auth:\n  type: kubernetes\n  config:\n    identity-id: ./id\ntemplates:\n  - base64-template-content: e3sgLiB9fQ==\n    destination-path: out\n",
		"auth:\n  type: ldap-auth\n  config:\n    username: ./u\n    password: ./p\n",
		"auth: {type: aws-iam}\ntemplates: [{template-content: x, destination-path: a}, {template-content: y, destination-path: a}]\n",
		"auth: {type: gcp-iam}\ntemplates: [{template-content: x, source-path: y, destination-path: a}]\n",
		"auth: {type: azure}\ninfisical: {address: 'ftp://x'}\n", "auth: {type: nope}\n", "", "---\n", "[]", "auth: &a {type: azure}\nx: *a\n",
		"auth: {type: azure}\ntemplates: [{template-content: x, destination-path: a, config: {polling-interval: 0s}}]\n",
		"auth: {type: azure}\ntemplates: [{template-content: x, destination-path: a, config: {polling-interval: 9223372036854775807w}}]\n",
		"auth: {type: azure}\ntemplates: [{base64-template-content: '!!', destination-path: a}]\n",
		"auth: {type: azure}\nsinks: [{type: file, config: {path: ' '}}]\n",
		"auth: {type: azure}\ninfisical: {retry-strategy: {max-retries: -1}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) && !strings.HasPrefix(err.Error(), "parse agent config:") {
				t.Fatalf("error %v", err)
			}
			return
		}
		checkValid(t, cfg)
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("written configuration does not parse: %v\n%s", err, out)
		}
		// Compare written forms: an empty list may come back as nil.
		out2, _ := yaml.Marshal(again)
		if string(out) != string(out2) || len(again.Templates) != len(cfg.Templates) {
			t.Fatalf("configuration changed through a write:\n%s\n%s", out, out2)
		}
		for i := range cfg.Templates {
			if cfg.Templates[i].PollingInterval() != again.Templates[i].PollingInterval() {
				t.Fatalf("template %d: polling interval %v became %v", i, cfg.Templates[i].PollingInterval(), again.Templates[i].PollingInterval())
			}
		}
	})
}

func checkValid(t *testing.T, cfg *Config) {
	t.Helper()
	switch cfg.Auth.Type {
	case AuthUniversal, AuthKubernetes, AuthAzure, AuthGCPIDToken, AuthGCPIAM, AuthAWSIAM, AuthLDAP:
	default:
		t.Fatalf("auth type %q accepted", cfg.Auth.Type)
	}
	if cfg.Infisical.Address != "" {
		if _, err := apiclient.NormalizeBaseURL(cfg.Infisical.Address); err != nil {
			t.Fatalf("address %q accepted: %v", cfg.Infisical.Address, err)
		}
	}
	for _, s := range cfg.Sinks {
		if s.Type != "file" || strings.TrimSpace(s.Config.Path) == "" {
			t.Fatalf("sink %+v accepted", s)
		}
	}
	dests := map[string]bool{}
	for _, tp := range cfg.Templates {
		n := 0
		for _, s := range []string{tp.SourcePath, tp.TemplateContent, tp.Base64TemplateContent} {
			if s != "" {
				n++
			}
		}
		if n != 1 || strings.TrimSpace(tp.DestinationPath) == "" || dests[tp.DestinationPath] || tp.PollingInterval() <= 0 ||
			tp.Config.Execute.Timeout < 0 {
			t.Fatalf("template %+v accepted", tp)
		}
		dests[tp.DestinationPath] = true
	}
}

// FuzzParseInterval checks polling intervals and delays ("60s", "5m",
// "1d", "2w", "1000ms", Go durations). Properties: no panic; an accepted
// interval is positive; "<n><unit>" means n units whenever that fits in a
// Duration, and is refused when it does not.
func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"60s", "5m", "1d", "2w", "1000ms", "1m30s", "0s", "-5s", "+5s", " 7h ", "1.5h", "9223372036854775807ms",
		"106751d", "106752d", "1e3s", "s", "", "5 m", "0x10s"} {
		f.Add(s, int64(5), uint8(0))
	}
	units := []struct {
		s string
		d time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	f.Fuzz(func(t *testing.T, s string, n int64, unit uint8) {
		if d, err := ParseInterval(s); err == nil && d <= 0 {
			t.Fatalf("ParseInterval(%q) = %v", s, d)
		}
		u := units[int(unit)%len(units)]
		d, err := ParseInterval(fmt.Sprintf("%d%s", n, u.s))
		switch {
		case n <= 0:
			if err == nil {
				t.Fatalf("%d%s accepted as %v", n, u.s, d)
			}
		case n > int64(1<<63-1)/int64(u.d):
			if err == nil {
				t.Fatalf("%d%s overflows but was accepted as %v", n, u.s, d)
			}
		case n <= int64(1<<62)/int64(u.d):
			if err != nil || d != time.Duration(n)*u.d {
				t.Fatalf("%d%s parsed as %v, %v", n, u.s, d, err)
			}
		}
	})
}

// fakeInfisical answers the three reads templates make with fixed data.
func fakeInfisical(tb testing.TB) *api {
	tb.Helper()
	secrets := []map[string]any{
		{"id": "s1", "secretKey": "API_URL", "secretValue": "https://api.example.com", "type": "shared", "workspace": "p1", "environment": "dev",
			"secretPath": "/", "secretComment": "c", "tags": []map[string]any{{"id": "t1", "slug": "web", "name": "web", "color": "#fff"}}},
		{"id": "s2", "secretKey": "DB_PASSWORD", "secretValue": "it's \"quoted\"\n{{ not a template }}", "type": "shared", "workspace": "p1",
			"environment": "dev", "secretPath": "/"},
		{"id": "s3", "secretKey": "EMPTY", "secretValue": "", "type": "shared", "workspace": "p1", "environment": "dev", "secretPath": "/"},
	}
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"fixed"`)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /api/v4/secrets", func(w http.ResponseWriter, r *http.Request) {
		write(w, map[string]any{"secrets": secrets, "imports": []any{}})
	})
	mux.HandleFunc("GET /api/v4/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		for _, s := range secrets {
			if s["secretKey"] == r.PathValue("name") {
				write(w, map[string]any{"secret": s})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		write(w, map[string]any{"statusCode": 404, "error": "NotFound", "message": "Secret not found"})
	})
	mux.HandleFunc("GET /api/v1/projects/slug/{slug}", func(w http.ResponseWriter, r *http.Request) {
		write(w, map[string]any{"id": "p1", "slug": r.PathValue("slug"), "name": "P"})
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	c, err := apiclient.New(apiclient.Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		tb.Fatal(err)
	}
	return &api{c: c, retry: retryPolicy{}}
}

// FuzzRender renders arbitrary template text (Go text/template with
// Sprig and Infisical's functions) against a fake server. Properties: no
// panic; parse and execution errors are returned, not thrown; rendering is
// bounded — it ends within the render time limit whatever the template
// does, and its output never exceeds MaxRenderedBytes; a template whose
// inputs did not change is reported unchanged.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{{ range listSecrets "p1" "dev" "/" }}{{ .Key }}={{ .Value }}` + "\n" + `{{ end }}`,
		`{{- $s := secret "p1" "dev" "/" ` + "`" + `{"recursive": true, "expandSecretReferences": false}` + "`" + ` -}}{{ len $s }}`,
		`{{ with getSecretByName "p1" "dev" "/" "API_URL" }}{{ .Value | upper }}{{ end }}`,
		`{{ (getSecretByName "p1" "dev" "/" "MISSING").Value }}`,
		`{{ range listSecretsByProjectSlug "proj" "dev" "/" }}{{ .Key | quote }}: {{ .Value | b64enc }}{{ end }}`,
		`{{ range $i, $s := listSecrets "p1" "dev" "/" }}{{ if lt $i (minus 3 1) }}{{ $s.Key }},{{ end }}{{ end }}`,
		`{{ toJson (listSecrets "p1" "dev" "/") }}`, `{{ dynamicSecret "x" }}`, `{{ env "HOME" }}`, `{{ listSecrets "p1" "dev" "/" "{" }}`,
		`{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`, `{{ range until 5 }}{{ . }}{{ end }}`, `{{ repeat 3 "ab" }}`,
		`{{ range $i := until 3 }}{{ range $j := until 3 }}{{ $i }}{{ $j }}{{ end }}{{ end }}`, `{{ printf "%05d" 42 }}`,
		`{{ .Foo }}`, `{{`, `{{ end }}`, `{{ range 3 }}x{{ end }}`, `{{ $x := "a" }}{{ range until 4 }}{{ $x = cat $x $x }}{{ end }}{{ $x }}`,
	} {
		f.Add(s)
	}
	ap := fakeInfisical(f)
	funcs := baseFuncs()
	// The fuzzer must not resolve names over the network.
	funcs["getHostByName"] = func(string) string { return "127.0.0.1" }
	f.Fuzz(func(t *testing.T, text string) {
		r := &renderer{tpl: &Template{TemplateContent: text}, name: "fuzz", api: ap, slugs: &slugCache{ids: map[string]string{}}, funcs: funcs}
		type result struct {
			res *renderResult
			err error
		}
		done := make(chan result, 1)
		start := time.Now()
		go func() {
			res, err := r.render(context.Background(), "token")
			done <- result{res, err}
		}()
		var got result
		select {
		case got = <-done:
		case <-time.After(maxRenderTime + 10*time.Second):
			t.Fatalf("render of %q still running after %v", text, time.Since(start))
		}
		if got.err != nil {
			return
		}
		if len(got.res.output) > MaxRenderedBytes {
			t.Fatalf("rendered %d bytes", len(got.res.output))
		}
		if got.res.fingerprint == "" || got.res.unchanged {
			t.Fatalf("first render %+v", got.res)
		}
		if len(r.calls) == 0 {
			return // nothing to poll: every poll renders again
		}
		again, err := r.render(context.Background(), "token")
		if err != nil || !again.unchanged {
			t.Fatalf("second render with unchanged inputs: %+v, %v", again, err)
		}
	})
}
