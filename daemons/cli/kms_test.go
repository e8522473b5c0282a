package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

const newEncryptionKey = "00112233445566778899aabbccddeeff"

// seedDatabase creates an SQLite database with a secret under the root key
// protected by encKey, and returns its path and a reader of that secret.
func seedDatabase(t *testing.T) (string, func(encKey string) (string, error)) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "infisical.db")
	cfg := enginetest.Config(t, dsn)
	eng, err := infisical.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	org, err := eng.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	admin := infisical.Platform(org.ID)
	p, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	scope := infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}
	if _, err := eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: scope, NewSecret: infisical.NewSecret{Key: "K", Value: "v"}}); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	read := func(encKey string) (string, error) {
		c := enginetest.Config(t, dsn)
		c.EncryptionKey = encKey
		e, err := infisical.Open(ctx, c)
		if err != nil {
			return "", err
		}
		defer e.Close()
		s, err := e.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: scope, Key: "K"})
		if err != nil {
			return "", err
		}
		return s.Value, nil
	}
	return dsn, read
}

func TestKMSRotateRootCommand(t *testing.T) {
	dsn, read := seedDatabase(t)
	env := map[string]string{"ENCRYPTION_KEY": enginetest.TestEncryptionKey, "NEW_ENCRYPTION_KEY": newEncryptionKey}

	// Plain rotation with the same key first.
	r := runCLI(t, map[string]string{"ENCRYPTION_KEY": enginetest.TestEncryptionKey}, "kms", "rotate-root", "--db", dsn, "--grace", "0")
	if r.code != ExitOK || !strings.Contains(r.stdout, "root key rotated: SOFTWARE → SOFTWARE, 1 organization key(s)") {
		t.Fatalf("rotate with same key: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if v, err := read(enginetest.TestEncryptionKey); err != nil || v != "v" {
		t.Fatalf("after plain rotation: %v", err)
	}
	// New ENCRYPTION_KEY.
	r = runCLI(t, env, "kms", "rotate-root", "--db", dsn, "--grace", "0")
	if r.code != ExitOK || !strings.Contains(r.stdout, "root key rotated") {
		t.Fatalf("rotate to new key: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := read(enginetest.TestEncryptionKey); err == nil {
		t.Fatal("old key still opens the database")
	}
	if v, err := read(newEncryptionKey); err != nil || v != "v" {
		t.Fatalf("new key: %v", err)
	}
	// Re-running the same command (as after a crash following the commit)
	// completes without rotating again.
	r = runCLI(t, env, "kms", "rotate-root", "--db", dsn, "--grace", "0")
	if r.code != ExitOK || !strings.Contains(r.stdout, "already protected") {
		t.Fatalf("re-run: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "kms", "rotate-root", "--db", dsn, "--finish"); r.code != ExitOK {
		t.Fatalf("finish: %d %s", r.code, r.stderr)
	}

	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"unknown provider", env, []string{"--to", "vault"}, ExitUsage, "unknown root key provider"},
		{"neither key opens", map[string]string{"ENCRYPTION_KEY": "ffffffffffffffffffffffffffffffff"}, nil, ExitError, "opens with neither"},
		{"hsm without settings", map[string]string{"ENCRYPTION_KEY": newEncryptionKey}, []string{"--to", "hsm"}, ExitError, "HSM_LIB_PATH"},
		{"aws without key", map[string]string{"ENCRYPTION_KEY": newEncryptionKey}, []string{"--to", "awskms"}, ExitError, "AWS_KMS_KEY_ID"},
		{"bad slot", map[string]string{"ENCRYPTION_KEY": newEncryptionKey, "HSM_SLOT": "x", "HSM_LIB_PATH": "/x", "HSM_PIN": "1", "HSM_KEY_LABEL": "l"}, []string{"--to", "hsm"}, ExitError, "HSM_SLOT"},
		{"no key", map[string]string{}, nil, ExitError, "ENCRYPTION_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, append([]string{"kms", "rotate-root", "--db", dsn, "--grace", "0"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("code %d (want %d), stderr %q does not mention %q", r.code, tc.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, newEncryptionKey) {
				t.Fatal("key material in the output")
			}
		})
	}
	if v, err := read(newEncryptionKey); err != nil || v != "v" {
		t.Fatalf("after failed runs: %v", err)
	}
}

func TestServerConfigRootKeyProvider(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    map[string]string
		wantOK bool
	}{
		{"hsm needs no ENCRYPTION_KEY", map[string]string{"ROOT_KEY_PROVIDER": "hsm", "AUTH_SECRET": testAuthSecret}, true},
		{"awskms needs no ENCRYPTION_KEY", map[string]string{"ROOT_KEY_PROVIDER": "awskms", "AUTH_SECRET": testAuthSecret}, true},
		{"software still does", map[string]string{"ROOT_KEY_PROVIDER": "software", "AUTH_SECRET": testAuthSecret}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, _, _ := newTestApp(tc.env)
			cmd, fl := buildServerCommand(app)
			_, err := resolveServerConfig(app, cmd, *fl)
			if (err == nil) != tc.wantOK {
				t.Fatalf("err %v", err)
			}
		})
	}
	// Starting with an unusable HSM fails with a clear error.
	r := runCLI(t, map[string]string{"ROOT_KEY_PROVIDER": "hsm", "HSM_LIB_PATH": "/nonexistent/lib.so", "HSM_PIN": "1", "HSM_KEY_LABEL": "x",
		"AUTH_SECRET": testAuthSecret}, "server", "--port", "0", "--data-dir", t.TempDir())
	if r.code == ExitOK || !strings.Contains(r.stderr, "root key provider hsm") {
		t.Fatalf("server with a missing HSM library: %d %s", r.code, r.stderr)
	}
}
