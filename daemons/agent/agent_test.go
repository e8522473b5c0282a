package agent_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/daemons/agent"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestAgentRendersAndReRendersOnChange: the files are rendered with every
// template function, the sink holds a working token, nothing is rewritten
// while nothing changes (ETag), a change re-renders only the affected
// template and runs its command once.
func TestAgentRendersAndReRendersOnChange(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newFixture(t, b, nil)
		f.setSecret("dev", "/", "DB_PASSWORD", "hunter2")
		f.setSecret("dev", "/", "API_KEY", "k-1")
		f.setSecret("dev", "/", "REF", "${DB_PASSWORD}-suffix")
		f.setSecret("prod", "/", "UNUSED", "x")

		src := f.write("env.tmpl", `{{- range listSecrets "`+f.projectID+`" "dev" "/" }}{{ .Key }}={{ .Value }}
{{ end -}}`)
		marker := f.path("commands.log")
		cfg := f.config(fmt.Sprintf(`sinks:
  - type: file
    config:
      path: %s
templates:
  - source-path: %s
    destination-path: %s
    config:
      polling-interval: 50ms
      execute:
        command: echo changed >> %s
        timeout: 5
  - template-content: |
      {{- with getSecretByName "%s" "dev" "/" "API_KEY" }}api={{ .Value }}{{ end }}
      {{- with listSecretsByProjectSlug "%s" "dev" "/" `+"`"+`{"expandSecretReferences": false}`+"`"+` }}
      {{- range . }}{{ if eq .Key "REF" }} raw={{ .Value }}{{ end }}{{ end }}{{ end }}
      {{ "upper" | upper }} {{ minus 5 2 }}
    destination-path: %s
    config:
      polling-interval: 50ms
`, f.path("token"), src, f.path("app.env"), marker, f.projectID, f.projectSlug, f.path("inline.txt")))

		r := f.start(cfg)
		eventually(t, 10*time.Second, "first render", func() bool {
			return readFile(t, f.path("app.env")) != "" && readFile(t, f.path("inline.txt")) != ""
		})
		env := readFile(t, f.path("app.env"))
		for _, want := range []string{"DB_PASSWORD=hunter2\n", "API_KEY=k-1\n", "REF=hunter2-suffix\n"} {
			if !strings.Contains(env, want) {
				t.Errorf("app.env lacks %q:\n%s", want, env)
			}
		}
		if strings.Contains(env, "UNUSED") {
			t.Errorf("app.env holds a secret of another environment:\n%s", env)
		}
		inline := readFile(t, f.path("inline.txt"))
		if want := "api=k-1 raw=${DB_PASSWORD}-suffix\nUPPER 3\n"; inline != want {
			t.Errorf("inline.txt = %q, want %q", inline, want)
		}
		for _, p := range []string{f.path("app.env"), f.path("inline.txt"), f.path("token")} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
			}
		}
		// The sink's token reads secrets.
		tok := strings.TrimSpace(readFile(t, f.path("token")))
		if code, _ := f.do("GET", "/api/v4/secrets?projectId="+f.projectID+"&environment=dev", tok, nil); code != http.StatusOK {
			t.Fatalf("sink token rejected: %d", code)
		}

		// No change: polls continue, nothing is rewritten, no command.
		st0, _ := os.Stat(f.path("app.env"))
		renders := r.ag.Stats().Renders
		polls := r.ag.Stats().Polls
		eventually(t, 10*time.Second, "more polls", func() bool { return r.ag.Stats().Polls >= polls+10 })
		f.setSecret("prod", "/", "UNUSED", "y") // another environment: not an input
		p2 := r.ag.Stats().Polls
		eventually(t, 10*time.Second, "more polls", func() bool { return r.ag.Stats().Polls >= p2+6 })
		if got := r.ag.Stats().Renders; got != renders {
			t.Fatalf("re-rendered without a change: renders %d -> %d", renders, got)
		}
		if st1, _ := os.Stat(f.path("app.env")); !st1.ModTime().Equal(st0.ModTime()) {
			t.Fatal("app.env was rewritten without a change")
		}
		if readFile(t, marker) != "" {
			t.Fatal("the command ran without a change")
		}

		// A change re-renders the file and runs the command once; the
		// inline template does not use DB_PASSWORD's value... but its
		// list read changed (REF), so it re-renders too with equal text.
		f.setSecret("dev", "/", "DB_PASSWORD", "correct-horse")
		eventually(t, 10*time.Second, "re-render", func() bool {
			return strings.Contains(readFile(t, f.path("app.env")), "DB_PASSWORD=correct-horse\n")
		})
		if !strings.Contains(readFile(t, f.path("app.env")), "REF=correct-horse-suffix\n") {
			t.Errorf("expanded reference not updated:\n%s", readFile(t, f.path("app.env")))
		}
		eventually(t, 10*time.Second, "command", func() bool { return readFile(t, marker) == "changed\n" })
		settled := r.ag.Stats().Polls
		eventually(t, 10*time.Second, "more polls", func() bool { return r.ag.Stats().Polls >= settled+6 })
		if got := readFile(t, marker); got != "changed\n" {
			t.Fatalf("command log %q, want exactly one run", got)
		}
		if s := r.ag.Stats(); s.Failures != 0 {
			t.Errorf("%d failed polls", s.Failures)
		}
		if err := r.stop(t); err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

// TestAgentSurvivesServerRestart: while the server is down the files stay
// as they were and the agent keeps retrying; once it is back on the same
// address the agent picks up changes again.
func TestAgentSurvivesServerRestart(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newFixture(t, b, nil)
		f.setSecret("dev", "/", "A", "1")
		cfg := f.config(`templates:
  - template-content: '{{ range listSecrets "` + f.projectID + `" "dev" "/" }}{{ .Key }}={{ .Value }};{{ end }}'
    destination-path: ` + f.path("out") + `
    config:
      polling-interval: 30ms
`)
		r := f.start(cfg)
		eventually(t, 10*time.Second, "first render", func() bool { return readFile(t, f.path("out")) == "A=1;" })

		f.stop()
		fails := r.ag.Stats().Failures
		eventually(t, 10*time.Second, "failed polls while down", func() bool { return r.ag.Stats().Failures >= fails+3 })
		if got := readFile(t, f.path("out")); got != "A=1;" {
			t.Fatalf("file changed while the server was down: %q", got)
		}
		if !strings.Contains(r.logs.String(), "keeping the last good file") {
			t.Error("no warning logged while the server was down")
		}

		f.restart()
		f.setSecret("dev", "/", "A", "2")
		eventually(t, 15*time.Second, "render after restart", func() bool { return readFile(t, f.path("out")) == "A=2;" })
	})
}

// TestAgentRenewsAndRelogins: with a 2 s token and a 5 s max TTL the agent
// renews before expiry, logs in again near the max TTL, writes each new
// token to the sink and never fails a poll.
func TestAgentRenewsAndRelogins(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for token expiry")
	}
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newFixture(t, b, map[string]any{"accessTokenTTL": 2, "accessTokenMaxTTL": 5})
		f.setSecret("dev", "/", "A", "1")
		cfg := f.config(`sinks:
  - type: file
    config:
      path: ` + f.path("token") + `
templates:
  - template-content: '{{ range listSecrets "` + f.projectID + `" "dev" "/" }}{{ .Key }}={{ .Value }};{{ end }}'
    destination-path: ` + f.path("out") + `
    config:
      polling-interval: 100ms
`)
		r := f.start(cfg)
		eventually(t, 10*time.Second, "first render", func() bool { return readFile(t, f.path("out")) == "A=1;" })
		first := readFile(t, f.path("token"))
		eventually(t, 20*time.Second, "a renewal and a second login", func() bool {
			s := r.ag.Stats()
			return s.Renewals >= 1 && s.Logins >= 2
		})
		if readFile(t, f.path("token")) == first {
			t.Error("the sink still holds the first token")
		}
		// Past the first token's max TTL, changes still arrive.
		f.setSecret("dev", "/", "A", "2")
		eventually(t, 10*time.Second, "render with a later token", func() bool { return readFile(t, f.path("out")) == "A=2;" })
		if s := r.ag.Stats(); s.Failures != 0 {
			t.Errorf("%d failed polls across renewals", s.Failures)
		}
		if code, _ := f.do("GET", "/api/v4/secrets?projectId="+f.projectID+"&environment=dev", strings.TrimSpace(first), nil); code == http.StatusOK {
			t.Errorf("the first token still works past its max TTL: %d", code)
		}
	})
}

// TestAgentExitAfterAuth: the agent renders once and returns; a template
// that fails makes Run fail and leaves no file.
func TestAgentExitAfterAuth(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newFixture(t, b, nil)
		f.setSecret("dev", "/", "A", "1")
		good := f.config(`sinks:
  - type: file
    config:
      path: ` + f.path("token") + `
templates:
  - template-content: '{{ (getSecretByName "` + f.projectID + `" "dev" "/" "A").Value }}'
    destination-path: ` + f.path("out") + `
`)
		good.Infisical.ExitAfterAuth = true
		r := f.start(good)
		select {
		case err := <-r.done:
			r.done <- err
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("exit-after-auth did not exit")
		}
		if got := readFile(t, f.path("out")); got != "1" {
			t.Fatalf("out = %q", got)
		}
		if readFile(t, f.path("token")) == "" {
			t.Fatal("no token in the sink")
		}

		bad := f.config(`templates:
  - template-content: '{{ (getSecretByName "` + f.projectID + `" "dev" "/" "MISSING").Value }}'
    destination-path: ` + f.path("bad") + `
`)
		bad.Infisical.ExitAfterAuth = true
		r2 := f.start(bad)
		select {
		case err := <-r2.done:
			r2.done <- err
			if !errors.Is(err, agent.ErrTemplateFailed) {
				t.Fatalf("Run = %v, want ErrTemplateFailed", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("exit-after-auth did not exit on a failing template")
		}
		if _, err := os.Stat(f.path("bad")); err == nil {
			t.Fatal("a failing template left a file")
		}
	})
}

// TestAgentRevokesOnShutdown: with revoke-credentials-on-shutdown the token
// is revoked and the sink emptied when the agent stops.
func TestAgentRevokesOnShutdown(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newFixture(t, b, nil)
		cfg := f.config(`sinks:
  - type: file
    config:
      path: ` + f.path("token") + `
`)
		cfg.Infisical.RevokeCredentialsOnShutdown = true
		r := f.start(cfg)
		eventually(t, 10*time.Second, "token", func() bool { return readFile(t, f.path("token")) != "" })
		tok := r.ag.Token()
		if code, _ := f.do("GET", "/api/v4/secrets?projectId="+f.projectID+"&environment=dev", tok, nil); code != http.StatusOK {
			t.Fatalf("token rejected before shutdown: %d", code)
		}
		if err := r.stop(t); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if code, _ := f.do("GET", "/api/v4/secrets?projectId="+f.projectID+"&environment=dev", tok, nil); code != http.StatusUnauthorized {
			t.Fatalf("token still valid after shutdown: %d", code)
		}
		if got := readFile(t, f.path("token")); got != "" {
			t.Fatalf("sink not emptied: %d bytes", len(got))
		}
	})
}

// TestAgentReusesSinkTokenAndRemovesSecret: remove_client_secret_on_read
// deletes the secret file; a restarted agent reuses the sink's token
// instead of needing the (gone) secret.
func TestAgentReusesSinkTokenAndRemovesSecret(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		// Renewable: a token whose TTL equals its max TTL cannot be
		// renewed (the server refuses renewals past the max TTL).
		f := newFixture(t, b, map[string]any{"accessTokenTTL": 3600, "accessTokenMaxTTL": 86400})
		f.setSecret("dev", "/", "A", "1")
		y := `sinks:
  - type: file
    config:
      path: ` + f.path("token") + `
templates:
  - template-content: '{{ range listSecrets "` + f.projectID + `" "dev" "/" }}{{ .Value }}{{ end }}'
    destination-path: ` + f.path("out") + `
    config:
      polling-interval: 50ms
`
		cfg := f.config(y)
		cfg.Auth.Settings.RemoveClientSecretOnRead = true
		r := f.start(cfg)
		eventually(t, 10*time.Second, "render", func() bool { return readFile(t, f.path("out")) == "1" })
		if _, err := os.Stat(f.path("client-secret")); !os.IsNotExist(err) {
			t.Fatalf("client secret file not removed: %v", err)
		}
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}

		f.setSecret("dev", "/", "A", "2")
		cfg2 := f.config(y)
		r2 := f.start(cfg2)
		eventually(t, 10*time.Second, "render after restart", func() bool { return readFile(t, f.path("out")) == "2" })
		if s := r2.ag.Stats(); s.Logins != 0 {
			t.Fatalf("restarted agent logged in %d times instead of reusing the sink token", s.Logins)
		}
	})
}
