//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestOfflineFallbackAfterServerStops(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "FOO", "bar", nil)
		e.createSecret("dev", "/", "PASSWORD", "hunter2-very-secret", nil)
		env := e.env()
		runArgs := append([]string{"run", "--"}, childArgs("env", "FOO")...)

		online := e.mustRun(env, "export")
		e.mustRun(env, runArgs...)
		e.mustRun(env, "secrets", "get", "FOO", "--plain")

		// The cache is sealed: files are 0600 and hold no plaintext.
		files, _ := filepath.Glob(filepath.Join(e.configDir, "cache", "secrets", "*.bin"))
		if len(files) == 0 {
			t.Fatal("no offline cache written")
		}
		for _, f := range files {
			fi, _ := os.Stat(f)
			raw, _ := os.ReadFile(f)
			if fi.Mode().Perm() != 0o600 || strings.Contains(string(raw), "hunter2") || strings.Contains(string(raw), "PASSWORD") {
				t.Fatalf("cache file %s: mode %v, plaintext visible", f, fi.Mode().Perm())
			}
		}
		if fi, err := os.Stat(filepath.Join(e.configDir, "machine.key")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("machine key: %v %v", fi, err)
		}

		// Tokens obtained before the outage: another token of the same
		// identity, a token of another identity, and a token revoked while
		// the server is still up.
		sameIdentity := e.login(e.clientID, e.secret)
		_, otherID, otherSecret := e.uaIdentity("other-app", "admin")
		otherIdentity := e.login(otherID, otherSecret)
		revoked := e.login(e.clientID, e.secret)
		e.mustRun(e.env("INFISICAL_TOKEN", revoked), "export")
		e.must("POST", "/api/v1/auth/token/revoke", "", map[string]string{"accessToken": revoked}, nil)
		// The server answers 401: no fallback to the cache.
		if r := e.run(e.env("INFISICAL_TOKEN", revoked), "export"); r.code != ExitError || strings.Contains(r.stderr, "offline") || r.stdout != "" {
			t.Fatalf("revoked token: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}

		e.srv.Close()

		r := e.mustRun(env, "export")
		if r.stdout != online.stdout {
			t.Fatalf("offline export:\n%s\nwant:\n%s", r.stdout, online.stdout)
		}
		if !strings.Contains(r.stderr, "Warning: unable to reach") || !strings.Contains(r.stderr, "offline mode") {
			t.Fatalf("no offline warning: %q", r.stderr)
		}
		if r := e.mustRun(env, runArgs...); r.stdout != "FOO=bar\n" {
			t.Fatalf("offline run: %q", r.stdout)
		}
		if r := e.mustRun(e.env("INFISICAL_TOKEN", sameIdentity), "secrets", "get", "FOO", "--plain"); r.stdout != "bar\n" {
			t.Fatalf("offline secrets get with a new token of the same identity: %q", r.stdout)
		}

		tests := []struct {
			name    string
			env     map[string]string
			args    []string
			wantErr string
		}{
			{"another identity", e.env("INFISICAL_TOKEN", otherIdentity), []string{"export"}, "no offline copy"},
			{"never fetched", env, []string{"export", "--path", "/elsewhere"}, "no offline copy"},
			{"other options", env, []string{"export", "--expand=false"}, "no offline copy"},
			{"cache disabled", e.env("INFISICAL_DISABLE_OFFLINE_CACHE", "true"), []string{"export"}, "connect"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.run(tt.env, tt.args...)
				if r.code != ExitError || r.stdout != "" || !strings.Contains(r.stderr, tt.wantErr) {
					t.Fatalf("exit %d, stdout %q, stderr %q (want %q)", r.code, r.stdout, r.stderr, tt.wantErr)
				}
			})
		}

		// A tampered entry is not used (and not shown).
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			raw[len(raw)-1] ^= 1
			if err := os.WriteFile(f, raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if r := e.run(env, "export"); r.code != ExitError || r.stdout != "" {
			t.Fatalf("tampered cache: exit %d, stdout %q", r.code, r.stdout)
		}
	})
}
