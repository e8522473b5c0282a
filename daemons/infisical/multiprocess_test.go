package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestTwoServerProcessesOnePostgres builds the real binary and runs two
// `infisical server` processes on one PostgreSQL database: what one changes
// the other serves at once, including a token revoked on the other.
func TestTwoServerProcessesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dsn := enginetest.DSN(t, enginetest.Postgres)
	bin := filepath.Join(t.TempDir(), "infisical")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	start := func(name string) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(bin, "server", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", t.TempDir())
		cmd.Env = append(os.Environ(),
			"DB_CONNECTION_URI="+dsn,
			"ENCRYPTION_KEY="+enginetest.TestEncryptionKey,
			"AUTH_SECRET="+enginetest.TestAuthSecret,
		)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			if t.Failed() {
				t.Logf("server %s log:\n%s", name, logs.String())
			}
		})
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get(base + "/api/status")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return base
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %s did not start:\n%s", name, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a, b := start("A"), start("B")

	call := func(base, method, path, token string, body any, out any) int {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if out != nil && resp.StatusCode == 200 {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: %v %s", method, path, err, raw)
			}
		}
		return resp.StatusCode
	}
	var boot struct {
		Organization struct{ ID string } `json:"organization"`
		Identity     struct {
			ID          string                 `json:"id"`
			Credentials struct{ Token string } `json:"credentials"`
		} `json:"identity"`
	}
	if code := call(a, "POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "a@example.com", "password": "long-enough-pw", "organization": "Two"}, &boot); code != 200 {
		t.Fatalf("bootstrap: %d", code)
	}
	admin := boot.Identity.Credentials.Token
	// B sees that A bootstrapped.
	if code := call(b, "POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "b@example.com", "password": "long-enough-pw", "organization": "Other"}, nil); code != 400 {
		t.Fatalf("second bootstrap through B: %d", code)
	}
	var proj struct {
		Project struct{ ID string } `json:"project"`
	}
	if code := call(a, "POST", "/api/v2/workspace", admin, map[string]any{"projectName": "shared"}, &proj); code != 200 {
		t.Fatalf("create project: %d", code)
	}
	pid := proj.Project.ID

	// A token minted through B, used on A.
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	if code := call(b, "POST", "/api/v1/auth/token-auth/identities/"+boot.Identity.ID+"/tokens", admin, map[string]string{"name": "via-b"}, &tok); code != 200 {
		t.Fatalf("create token through B: %d", code)
	}
	body := map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "v1"}
	if code := call(a, "POST", "/api/v3/secrets/raw/SHARED", tok.AccessToken, body, nil); code != 200 {
		t.Fatalf("create secret on A with B's token: %d", code)
	}
	read := func(base string) (int, string) {
		var out struct {
			Secret struct{ SecretValue string } `json:"secret"`
		}
		code := call(base, "GET", "/api/v3/secrets/raw/SHARED?workspaceId="+pid+"&environment=dev", tok.AccessToken, nil, &out)
		return code, out.Secret.SecretValue
	}
	if code, v := read(b); code != 200 || v != "v1" {
		t.Fatalf("B reads A's secret: %d %q", code, v)
	}
	body["secretValue"] = "v2"
	if code := call(b, "PATCH", "/api/v3/secrets/raw/SHARED", tok.AccessToken, body, nil); code != 200 {
		t.Fatalf("update on B: %d", code)
	}
	if code, v := read(a); code != 200 || v != "v2" {
		t.Fatalf("A reads B's update: %d %q", code, v)
	}
	if code := call(a, "POST", "/api/v1/auth/token/revoke", "", map[string]string{"accessToken": tok.AccessToken}, nil); code != 200 {
		t.Fatalf("revoke on A: %d", code)
	}
	if code, _ := read(b); code != http.StatusUnauthorized {
		t.Fatalf("B accepted a token revoked on A: %d", code)
	}
}
