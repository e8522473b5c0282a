package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Keys are assembled at run time so the test file holds no detectable secret.
var (
	scanTestAWSKey = "AKIA" + "QYLPMN5HHHFPZAM2"
	scanTestPAT    = "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"
)

// scanRepo creates a git repository in a temp dir.
func scanRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	scanGit(t, dir, "init", "-q", "-b", "main")
	return dir
}

func scanGitEnv() []string {
	return append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
}

func scanGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = scanGitEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func scanWrite(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanCommand(t *testing.T) {
	dir := scanRepo(t)
	scanWrite(t, dir, "app/config.env", "AWS_ACCESS_KEY_ID="+scanTestAWSKey+"\n")
	scanGit(t, dir, "add", "-A")
	scanGit(t, dir, "commit", "-q", "-m", "one")

	// Findings: exit code 1, a summary on stderr, nothing on stdout.
	r := runCLI(t, nil, "scan", "--source", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "leaks found: 1") || r.stdout != "" {
		t.Fatalf("scan: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "scan", "-s", dir, "--exit-code", "0"); r.code != 0 {
		t.Fatalf("--exit-code 0: exit %d", r.code)
	}
	if r := runCLI(t, nil, "scan", "-s", dir, "--exit-code", "7"); r.code != 7 {
		t.Fatalf("--exit-code 7: exit %d", r.code)
	}

	// --verbose shows the finding; --redact hides the secret everywhere.
	r = runCLI(t, nil, "scan", "-s", dir, "-v", "--redact", "--silent")
	if r.code != 1 || !strings.Contains(r.stdout, "RuleID:      aws-access-token") || strings.Contains(r.stdout+r.stderr, scanTestAWSKey) {
		t.Fatalf("verbose redacted: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "scan", "-s", dir, "-v", "--silent")
	if !strings.Contains(r.stdout, scanTestAWSKey) {
		t.Fatalf("verbose without --redact lacks the secret:\n%s", r.stdout)
	}

	// A JSON report is a baseline: scanning against it finds nothing new.
	report := filepath.Join(t.TempDir(), "leaks.json")
	if r := runCLI(t, nil, "scan", "-s", dir, "--report-path", report); r.code != 1 {
		t.Fatalf("report: exit %d %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var findings []map[string]any
	if err := json.Unmarshal(raw, &findings); err != nil || len(findings) != 1 || findings[0]["RuleID"] != "aws-access-token" {
		t.Fatalf("report: %v %s", err, raw)
	}
	if st, _ := os.Stat(report); st.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v", st.Mode().Perm())
	}
	if r := runCLI(t, nil, "scan", "-s", dir, "-b", report); r.code != 0 || !strings.Contains(r.stderr, "no leaks found") {
		t.Fatalf("baseline: exit %d %s", r.code, r.stderr)
	}
	for _, format := range []string{"csv", "sarif", "junit"} {
		r := runCLI(t, nil, "scan", "-s", dir, "-f", format, "-r", "-", "--silent", "--exit-code", "0")
		if r.code != 0 || r.stdout == "" {
			t.Errorf("report format %s to stdout: exit %d %q", format, r.code, r.stdout)
		}
	}

	// Config from INFISICAL_SCAN_CONFIG: an allowlist silences the path.
	cfg := filepath.Join(t.TempDir(), "scan.toml")
	os.WriteFile(cfg, []byte("[extend]\nuseDefault = true\n[allowlist]\npaths = ['''app/''']\n"), 0o600)
	if r := runCLI(t, map[string]string{"INFISICAL_SCAN_CONFIG": cfg}, "scan", "-s", dir); r.code != 0 {
		t.Fatalf("allowlisted by config: exit %d %s", r.code, r.stderr)
	}

	// --no-git scans files; --pipe scans stdin; git-changes scans the index.
	if r := runCLI(t, nil, "scan", "--no-git", "-s", filepath.Join(dir, "app")); r.code != 1 {
		t.Fatalf("--no-git: exit %d %s", r.code, r.stderr)
	}
	if r := runCLIWith(t, nil, "token="+scanTestPAT+"\n", "scan", "--pipe"); r.code != 1 {
		t.Fatalf("--pipe: exit %d %s", r.code, r.stderr)
	}
	scanWrite(t, dir, "new.go", "var t = \""+scanTestPAT+"\"\n")
	scanGit(t, dir, "add", "new.go")
	if r := runCLI(t, nil, "scan", "git-changes", "--staged", "-s", dir); r.code != 1 || !strings.Contains(r.stderr, "leaks found: 1") {
		t.Fatalf("git-changes --staged: exit %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "scan", "git-changes", "-s", dir); r.code != 0 {
		t.Fatalf("git-changes (nothing unstaged): exit %d %s", r.code, r.stderr)
	}

	// Usage and setup errors.
	for _, args := range [][]string{
		{"scan", "-s", dir, "--report-format", "xml"},
		{"scan", "-s", dir, "--redact=200"},
		{"scan", "install"},
	} {
		if r := runCLI(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, ExitUsage, r.stderr)
		}
	}
	if r := runCLI(t, nil, "scan", "-s", t.TempDir()); r.code != ExitError || !strings.Contains(r.stderr, "not a git repository") {
		t.Errorf("scan of a non-repository: exit %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "scan", "-s", dir, "-c", filepath.Join(dir, "missing.toml")); r.code != ExitError {
		t.Errorf("missing config: exit %d", r.code)
	}
}

// scanAgentBinary builds the infisical binary for tests that run it as a
// process.
func scanAgentBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "infisical")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "../infisical")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the binary: %v\n%s", err, out)
	}
	return bin
}

// TestPreCommitHookBlocksLeaks installs the hook with the real binary and
// commits: a staged key blocks the commit, a clean change goes through,
// and hooks.infisical-scan=false turns the check off.
func TestPreCommitHookBlocksLeaks(t *testing.T) {
	bin := scanAgentBinary(t)
	dir := scanRepo(t)
	scanWrite(t, dir, "README.md", "hello\n")
	scanGit(t, dir, "add", "-A")
	scanGit(t, dir, "commit", "-q", "-m", "init")

	install := exec.Command(bin, "scan", "install", "--pre-commit-hook", "--source", dir)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	env := append(scanGitEnv(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	commit := func(msg string) (string, error) {
		cmd := exec.Command("git", "-C", dir, "-c", "commit.gpgsign=false", "commit", "-q", "-m", msg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	scanWrite(t, dir, "deploy.env", "AWS_ACCESS_KEY_ID="+scanTestAWSKey+"\n")
	scanGit(t, dir, "add", "deploy.env")
	out, err := commit("leak")
	if err == nil || !strings.Contains(out, "Commit blocked") || !strings.Contains(out, "aws-access-token") {
		t.Fatalf("commit with a key: err %v\n%s", err, out)
	}
	if log := scanGit(t, dir, "log", "--oneline"); strings.Count(log, "\n") != 0 {
		t.Fatalf("the leak was committed:\n%s", log)
	}

	scanGit(t, dir, "reset", "-q", "deploy.env")
	scanWrite(t, dir, "README.md", "hello again\n")
	scanGit(t, dir, "add", "README.md")
	if out, err := commit("clean"); err != nil {
		t.Fatalf("clean commit blocked: %v\n%s", err, out)
	}

	scanGit(t, dir, "config", "--bool", "hooks.infisical-scan", "false")
	scanGit(t, dir, "add", "deploy.env")
	if out, err := commit("disabled"); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("commit with the hook disabled: %v\n%s", err, out)
	}
}
