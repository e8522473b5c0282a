package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// agentConfig writes an agent config for e's identity into dir.
func agentConfig(t *testing.T, e *apiEnv, dir, extra string) string {
	t.Helper()
	id := filepath.Join(dir, "client-id")
	secret := filepath.Join(dir, "client-secret")
	os.WriteFile(id, []byte(e.clientID), 0o600)
	os.WriteFile(secret, []byte(e.secret), 0o600)
	cfg := filepath.Join(dir, "agent-config.yaml")
	y := fmt.Sprintf(`infisical:
  address: %s
auth:
  type: universal-auth
  config:
    client-id: %s
    client-secret: %s
sinks:
  - type: file
    config:
      path: %s
templates:
  - template-content: |
      {{- range listSecrets "%s" "dev" "/" }}{{ .Key }}={{ .Value }}
      {{ end -}}
    destination-path: %s
    config:
      polling-interval: 1s
%s`, e.url, id, secret, filepath.Join(dir, "token"), e.projectID, filepath.Join(dir, "app.env"), extra)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestAgentCommand(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "DB_URL", "postgres://db", nil)
		dir := t.TempDir()
		cfg := agentConfig(t, e, dir, "")
		// exit-after-auth through the YAML.
		raw, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, bytes.Replace(raw, []byte("infisical:\n"), []byte("infisical:\n  exit-after-auth: true\n"), 1), 0o600)

		r := runCLI(t, nil, "agent", "--config", cfg)
		if r.code != 0 {
			t.Fatalf("agent: exit %d\n%s", r.code, r.stderr)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "app.env")); string(got) != "DB_URL=postgres://db\n" {
			t.Fatalf("app.env = %q", got)
		}
		if tok, _ := os.ReadFile(filepath.Join(dir, "token")); len(tok) == 0 {
			t.Fatal("no token in the sink")
		}
		if strings.Contains(r.stderr, e.secret) {
			t.Fatal("the agent logged the client secret")
		}

		// Without infisical.address the agent uses INFISICAL_API_URL
		// (not Infisical Cloud).
		e.updateSecret("dev", "/", "DB_URL", "postgres://other")
		raw, _ = os.ReadFile(cfg)
		os.WriteFile(cfg, bytes.Replace(raw, []byte("  address: "+e.url+"\n"), nil, 1), 0o600)
		if r := runCLI(t, map[string]string{"INFISICAL_API_URL": e.url}, "agent", "--config", cfg); r.code != 0 {
			t.Fatalf("agent with INFISICAL_API_URL: exit %d\n%s", r.code, r.stderr)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "app.env")); string(got) != "DB_URL=postgres://other\n" {
			t.Fatalf("app.env = %q", got)
		}
	})
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("auth:\n  type: magic\n"), 0o600)
	if r := runCLI(t, nil, "agent", "--config", bad); r.code != ExitUsage || !strings.Contains(r.stderr, "auth.type") {
		t.Errorf("invalid config: exit %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "agent", "--config", filepath.Join(t.TempDir(), "missing.yaml")); r.code != ExitError {
		t.Errorf("missing config: exit %d %s", r.code, r.stderr)
	}
}

// agentProcStatus reads fields (kB) of /proc/<pid>/status.
func agentProcStatus(pid int, fields ...string) (map[string]int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, want := range fields {
			if name == want {
				v, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				out[name] = v
			}
		}
	}
	return out, sc.Err()
}

// maxAgentIdleRSSKB is the budget of an idle agent's resident memory.
const maxAgentIdleRSSKB = 25 * 1024

// TestAgentIdleRSS runs the real binary as `infisical agent` against a
// local server, lets it render and then idle through a few polls, and
// reads its resident set size from /proc: the target is under 25 MB.
func TestAgentIdleRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := scanAgentBinary(t)
	e := newAPIEnv(t, enginetest.SQLite)
	for i := 0; i < 25; i++ {
		e.createSecret("dev", "/", fmt.Sprintf("SECRET_%02d", i), fmt.Sprintf("value-%02d", i), nil)
	}
	dir := t.TempDir()
	cfg := agentConfig(t, e, dir, "")
	cmd := exec.Command(bin, "agent", "--config", cfg)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, "app.env")); bytes.Contains(b, []byte("SECRET_24=")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not render")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Idle: a few 1 s polls, each answered 304 by the server.
	time.Sleep(5 * time.Second)
	st, err := agentProcStatus(cmd.Process.Pid, "VmRSS", "VmHWM", "RssAnon", "RssFile")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent idle: VmRSS %d kB (anon %d kB, file %d kB), peak VmHWM %d kB", st["VmRSS"], st["RssAnon"], st["RssFile"], st["VmHWM"])
	if st["VmRSS"] == 0 || st["VmRSS"] >= maxAgentIdleRSSKB {
		t.Errorf("agent idle RSS %d kB, want < %d kB", st["VmRSS"], maxAgentIdleRSSKB)
	}
	// SIGTERM stops it cleanly.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("agent exit on SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("agent did not stop on SIGTERM")
	}
}
