package cli

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

const (
	testEncryptionKey = "0123456789abcdef0123456789abcdef"
	testAuthSecret    = "a-test-auth-secret-of-enough-length"
)

func getStatus(t *testing.T, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/api/status")
	if err != nil {
		t.Fatalf("GET /api/status: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode /api/status: %v", err)
	}
	if resp.StatusCode != http.StatusOK || body.Message != "Ok" {
		t.Fatalf("GET /api/status = %d %q, want 200 Ok", resp.StatusCode, body.Message)
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Mode().Perm()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.TrimSpace(string(b))
}

// TestServerDevMode starts the server twice on one data directory (and, for
// PostgreSQL, one database): the first start generates the development keys,
// the second reuses them, which the engine proves by unwrapping the root key
// stored by the first start.
func TestServerDevMode(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		dataDir := filepath.Join(t.TempDir(), "data")
		args := []string{"server", "--dev", "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0"}
		if b == enginetest.Postgres {
			args = append(args, "--db", enginetest.DSN(t, b))
		}
		keyPath := filepath.Join(dataDir, DevRootKeyFile)
		secretPath := filepath.Join(dataDir, DevAuthSecretFile)

		srv := startServer(t, nil, args...)
		getStatus(t, srv.addr)
		for _, p := range []string{keyPath, secretPath} {
			if m := fileMode(t, p); m != 0o600 {
				t.Errorf("%s has mode %o, want 600", p, m)
			}
		}
		if m := fileMode(t, dataDir); m != 0o700 {
			t.Errorf("data dir has mode %o, want 700", m)
		}
		if b == enginetest.SQLite {
			if _, err := os.Stat(defaultSQLitePath(dataDir)); err != nil {
				t.Errorf("default SQLite database not in the data dir: %v", err)
			}
		}
		key, secret := readFile(t, keyPath), readFile(t, secretPath)
		if code := srv.stop(); code != ExitOK {
			t.Fatalf("server exit code %d:\n%s", code, srv.stderr)
		}
		log := srv.stderr.String()
		for _, want := range []string{"DEVELOPMENT MODE", keyPath, secretPath, "generated=true", "msg=serving", "msg=stopped"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
		for _, v := range []string{key, secret} {
			if strings.Contains(log, v) {
				t.Fatalf("log contains key material:\n%s", log)
			}
		}

		again := startServer(t, nil, args...)
		getStatus(t, again.addr)
		if code := again.stop(); code != ExitOK {
			t.Fatalf("second start exit code %d:\n%s", code, again.stderr)
		}
		if readFile(t, keyPath) != key || readFile(t, secretPath) != secret {
			t.Fatal("dev key files changed on the second start")
		}
		if log := again.stderr.String(); !strings.Contains(log, "generated=false") {
			t.Errorf("second start should reuse the key files:\n%s", log)
		}
	})
}

func TestServerJSONLogsAndEnvKeys(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret, "HOST": "127.0.0.1", "PORT": "0"}
	srv := startServer(t, env, "server", "--data-dir", dataDir, "--log-format", "json")
	getStatus(t, srv.addr)
	if code := srv.stop(); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, srv.stderr)
	}
	log := srv.stderr.String()
	var sawServing bool
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "serving" {
			sawServing = true
			if rec["addr"] != "http://"+srv.addr || rec["startup"] == nil {
				t.Errorf("serving line lacks addr/startup: %v", rec)
			}
		}
	}
	if !sawServing {
		t.Errorf("no serving line:\n%s", log)
	}
	for _, v := range []string{testEncryptionKey, testAuthSecret} {
		if strings.Contains(log, v) {
			t.Fatalf("log contains key material:\n%s", log)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, DevRootKeyFile)); !os.IsNotExist(err) {
		t.Errorf("dev key file written without --dev: %v", err)
	}
}

func TestServerConfigErrors(t *testing.T) {
	shortSecret := "short-secret"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     []string
		dontWant []string
	}{
		{
			name:     "no keys",
			wantCode: ExitError,
			want:     []string{"ENCRYPTION_KEY", "ROOT_ENCRYPTION_KEY", "`openssl rand -hex 16`", "AUTH_SECRET is not set", "`openssl rand -base64 32`", "--dev"},
		},
		{
			name:     "no auth secret",
			env:      map[string]string{"ENCRYPTION_KEY": testEncryptionKey},
			wantCode: ExitError,
			want:     []string{"AUTH_SECRET is not set", "openssl rand -base64 32"},
			dontWant: []string{"ENCRYPTION_KEY (or", testEncryptionKey},
		},
		{
			name:     "no root key",
			env:      map[string]string{"AUTH_SECRET": testAuthSecret},
			wantCode: ExitError,
			want:     []string{"ENCRYPTION_KEY (or ROOT_ENCRYPTION_KEY) is not set", "openssl rand -hex 16"},
			dontWant: []string{"AUTH_SECRET is", testAuthSecret},
		},
		{
			name:     "encryption key of wrong length",
			env:      map[string]string{"ENCRYPTION_KEY": "0123456789abcdef", "AUTH_SECRET": testAuthSecret},
			wantCode: ExitError,
			want:     []string{"ENCRYPTION_KEY must be exactly 32"},
			dontWant: []string{"0123456789abcdef\n"},
		},
		{
			name:     "root key not base64",
			env:      map[string]string{"ROOT_ENCRYPTION_KEY": "%%%not-base64%%%", "AUTH_SECRET": testAuthSecret},
			wantCode: ExitError,
			want:     []string{"ROOT_ENCRYPTION_KEY is not valid base64"},
		},
		{
			name:     "auth secret too short",
			env:      map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": shortSecret},
			wantCode: ExitError,
			want:     []string{"AUTH_SECRET is too short"},
			dontWant: []string{shortSecret},
		},
		{
			name:     "bad PORT",
			env:      map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret, "PORT": "http"},
			wantCode: ExitError,
			want:     []string{"invalid PORT"},
		},
		{
			name:     "port out of range",
			env:      map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret},
			args:     []string{"--port", "70000"},
			wantCode: ExitUsage,
			want:     []string{"invalid port 70000"},
		},
		{
			name:     "bad SITE_URL",
			env:      map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret, "SITE_URL": "example.com"},
			wantCode: ExitError,
			want:     []string{"invalid SITE_URL"},
		},
		{
			name:     "bad ALLOW_INTERNAL_IP_CONNECTIONS",
			env:      map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret, "ALLOW_INTERNAL_IP_CONNECTIONS": "sometimes"},
			wantCode: ExitError,
			want:     []string{"invalid ALLOW_INTERNAL_IP_CONNECTIONS \"sometimes\""},
		},
		{
			name:     "dev key file corrupted",
			env:      map[string]string{"AUTH_SECRET": testAuthSecret},
			args:     []string{"--dev"},
			wantCode: ExitError,
			want:     []string{DevRootKeyFile, "is invalid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			if tt.name == "dev key file corrupted" {
				if err := os.MkdirAll(dataDir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dataDir, DevRootKeyFile), []byte("garbage\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"server", "--data-dir", dataDir, "--host", "127.0.0.1"}
			if _, ok := tt.env["PORT"]; !ok && !containsFlag(tt.args, "--port") {
				args = append(args, "--port", "0")
			}
			args = append(args, tt.args...)
			r := runCLI(t, tt.env, args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", r.code, tt.wantCode, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(r.stderr, w) {
					t.Errorf("stderr contains %q:\n%s", w, r.stderr)
				}
			}
			if tt.name != "dev key file corrupted" {
				if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
					t.Errorf("a failed start created the data directory")
				}
			}
		})
	}
}

func TestServerPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	env := map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret}
	r := runCLI(t, env, "server", "--data-dir", t.TempDir(), "--host", "127.0.0.1", "--port", port)
	if r.code != ExitError || !strings.Contains(r.stderr, "listen on 127.0.0.1:"+port) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestResolveServerConfig(t *testing.T) {
	keys := map[string]string{"ENCRYPTION_KEY": testEncryptionKey, "AUTH_SECRET": testAuthSecret}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range keys {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c *serverConfig)
	}{
		{name: "defaults", env: keys, check: func(t *testing.T, c *serverConfig) {
			if c.host != DefaultHost || c.port != DefaultPort || c.dataDir != DefaultDataDir || c.db != "" ||
				c.maxBodyBytes != DefaultMaxBodyBytes || c.trustProxy || c.shutdownTimeout != DefaultShutdownTimeout || c.allowInternalIPs {
				t.Errorf("unexpected defaults: %+v", c)
			}
			if c.rootKeySource != "ENCRYPTION_KEY" || c.authSecretSource != "AUTH_SECRET" {
				t.Errorf("sources %q %q", c.rootKeySource, c.authSecretSource)
			}
		}},
		{name: "environment", env: with(map[string]string{"HOST": "0.0.0.0", "PORT": "9090", "INFISICAL_DATA_DIR": "/srv/x",
			"DB_CONNECTION_URI": "postgres://u:p@db/x", "SITE_URL": "https://i.example.com"}), check: func(t *testing.T, c *serverConfig) {
			if c.host != "0.0.0.0" || c.port != 9090 || c.dataDir != "/srv/x" || c.db != "postgres://u:p@db/x" || c.siteURL != "https://i.example.com" {
				t.Errorf("environment not applied: %+v", c)
			}
		}},
		{name: "flags win over environment", env: with(map[string]string{"HOST": "0.0.0.0", "PORT": "9090", "INFISICAL_DATA_DIR": "/srv/x", "DB_CONNECTION_URI": "postgres://db/x"}),
			args: []string{"--host", "127.0.0.1", "--port", "7000", "--data-dir", "/tmp/d", "--db", "/tmp/d/x.db", "--max-body-bytes", "1024", "--trust-proxy"},
			check: func(t *testing.T, c *serverConfig) {
				if c.host != "127.0.0.1" || c.port != 7000 || c.dataDir != "/tmp/d" || c.db != "/tmp/d/x.db" || c.maxBodyBytes != 1024 || !c.trustProxy {
					t.Errorf("flags not applied: %+v", c)
				}
			}},
		{name: "ENCRYPTION_KEY wins over ROOT_ENCRYPTION_KEY", env: with(map[string]string{"ROOT_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}),
			check: func(t *testing.T, c *serverConfig) {
				if c.rootKeySource != "ENCRYPTION_KEY" {
					t.Errorf("source %q", c.rootKeySource)
				}
			}},
		{name: "internal IP connections allowed by the environment", env: with(map[string]string{"ALLOW_INTERNAL_IP_CONNECTIONS": "true"}),
			check: func(t *testing.T, c *serverConfig) {
				if !c.allowInternalIPs {
					t.Error("ALLOW_INTERNAL_IP_CONNECTIONS=true not applied")
				}
			}},
		{name: "dev allows internal IP connections unless told not to", env: with(map[string]string{"ALLOW_INTERNAL_IP_CONNECTIONS": "false"}), args: []string{"--dev"},
			check: func(t *testing.T, c *serverConfig) {
				if c.allowInternalIPs {
					t.Error("ALLOW_INTERNAL_IP_CONNECTIONS=false ignored with --dev")
				}
			}},
		{name: "dev with keys in the environment writes no files", env: keys, args: []string{"--dev"}, check: func(t *testing.T, c *serverConfig) {
			if !c.allowInternalIPs {
				t.Error("--dev does not allow internal IP connections")
			}
			if len(c.devFilesCreated) != 0 || c.rootKeySource != "ENCRYPTION_KEY" || c.authSecretSource != "AUTH_SECRET" {
				t.Errorf("dev files created although keys are set: %+v", c)
			}
		}},
		{name: "dev generates only what is missing", env: map[string]string{"AUTH_SECRET": testAuthSecret}, args: []string{"--dev"},
			check: func(t *testing.T, c *serverConfig) {
				if len(c.devFilesCreated) != 1 || !strings.HasSuffix(c.devFilesCreated[0], DevRootKeyFile) || c.authSecretSource != "AUTH_SECRET" {
					t.Errorf("unexpected dev files: %+v", c.devFilesCreated)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _, _ := newTestApp(tt.env)
			cmd, fl := buildServerCommand(app)
			args := tt.args
			if containsFlag(args, "--dev") && !containsFlag(args, "--data-dir") {
				args = append(args, "--data-dir", t.TempDir())
			}
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			c, err := resolveServerConfig(app, cmd, *fl)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func containsFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f {
			return true
		}
	}
	return false
}

func TestDatabaseLabelHidesPassword(t *testing.T) {
	tests := []struct{ db, want string }{
		{db: "", want: "sqlite:" + filepath.Join("d", "infisical.db")},
		{db: "/var/lib/x.db", want: "sqlite:/var/lib/x.db"},
		{db: "postgres://u:hunter2@db:5432/x?sslmode=disable", want: "postgres://u:xxxxx@db:5432/x?sslmode=disable"},
		{db: "postgres://db/x?password=hunter2", want: "postgres://db/x?password=xxxxx"},
	}
	for _, tt := range tests {
		c := &serverConfig{dataDir: "d", db: tt.db}
		if got := c.databaseLabel(); got != tt.want {
			t.Errorf("databaseLabel(%q) = %q, want %q", tt.db, got, tt.want)
		}
	}
}
