package scanner_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/infisical-go/engine/daemons/cli/scanner"
)

// Keys are assembled at run time so this file itself holds no detectable
// secret (the repository may be scanned too).
var (
	awsKey    = "AKIA" + "QYLPMN5HHHFPZAM2"
	githubPAT = "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"
	stripeKey = "sk_live_" + "51HaBcDeFgHiJkLmNoPqRsTu"
	acmeToken = "acme_" + "k3j5h7g9f1d3s5a7q9w1e3r5t7y9u1i3"
)

// repo is a scratch git repository.
type repo struct {
	t   *testing.T
	dir string
}

func gitEnv() []string {
	return append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = gitEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func scan(t *testing.T, cfg config.Config, opt scanner.Options) []report.Finding {
	t.Helper()
	res, err := scanner.Scan(context.Background(), cfg, opt)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return res.Findings
}

func defaultCfg(t *testing.T) config.Config {
	t.Helper()
	c, err := scanner.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rules maps rule id to the files it was found in.
func rules(fs []report.Finding) map[string][]string {
	out := map[string][]string{}
	for _, f := range fs {
		out[f.RuleID] = append(out[f.RuleID], f.File)
	}
	return out
}

func TestScanGitHistory(t *testing.T) {
	r := newRepo(t)
	r.write("config/aws.env", "AWS_ACCESS_KEY_ID="+awsKey+"\n")
	first := r.commit("add aws")
	r.write("src/gh.go", "package main\n\nconst token = \""+githubPAT+"\"\n")
	r.write("src/ok.go", "package main\n\nconst pat = \""+githubPAT+"\" // infisical-scan:ignore\n")
	second := r.commit("add github")
	// Removing the key does not hide it: history is scanned.
	r.write("config/aws.env", "AWS_ACCESS_KEY_ID=\n")
	r.commit("remove aws")

	fs := scan(t, defaultCfg(t), scanner.Options{Source: r.dir, Mode: scanner.ModeGit})
	got := rules(fs)
	if files := got["aws-access-token"]; len(files) != 1 || files[0] != "config/aws.env" {
		t.Errorf("aws-access-token in %v, want [config/aws.env]", files)
	}
	if files := got["github-pat"]; len(files) != 1 || files[0] != "src/gh.go" {
		t.Errorf("github-pat in %v, want only src/gh.go (ok.go has an inline ignore)", files)
	}
	for _, f := range fs {
		want := map[string]string{"config/aws.env": first, "src/gh.go": second}[f.File]
		if f.Commit != want {
			t.Errorf("%s: commit %s, want %s", f.File, f.Commit, want)
		}
		if wantFP := f.Commit + ":" + f.File + ":" + f.RuleID + ":" + strconv.Itoa(f.StartLine); f.Fingerprint != wantFP {
			t.Errorf("fingerprint %q, want %q", f.Fingerprint, wantFP)
		}
	}

	// .infisicalignore drops exactly the listed fingerprint.
	var gh report.Finding
	for _, f := range fs {
		if f.RuleID == "github-pat" {
			gh = f
		}
	}
	r.write(scanner.IgnoreFileName, "# known test token\n"+gh.Fingerprint+"\n")
	fs2 := scan(t, defaultCfg(t), scanner.Options{Source: r.dir, Mode: scanner.ModeGit})
	got2 := rules(fs2)
	if len(got2["github-pat"]) != 0 {
		t.Errorf(".infisicalignore not honoured: %v", got2)
	}
	if len(got2["aws-access-token"]) != 1 {
		t.Errorf(".infisicalignore dropped other findings: %v", got2)
	}

	// --log-opts restricts the commit range.
	os.Remove(filepath.Join(r.dir, scanner.IgnoreFileName))
	fs3 := scan(t, defaultCfg(t), scanner.Options{Source: r.dir, Mode: scanner.ModeGit, LogOpts: first + ".." + second})
	if g := rules(fs3); len(g["aws-access-token"]) != 0 || len(g["github-pat"]) != 1 {
		t.Errorf("log-opts %s..%s: %v", first, second, g)
	}
}

func TestScanBaseline(t *testing.T) {
	r := newRepo(t)
	r.write("a.env", "AWS_ACCESS_KEY_ID="+awsKey+"\n")
	r.commit("one")
	cfg := defaultCfg(t)
	fs := scan(t, cfg, scanner.Options{Source: r.dir, Mode: scanner.ModeGit})
	if len(fs) == 0 {
		t.Fatal("no finding to baseline")
	}
	baseline := filepath.Join(t.TempDir(), "leaks-report.json")
	if err := scanner.WriteReportFile(baseline, nil, "json", fs, cfg); err != nil {
		t.Fatal(err)
	}
	r.write("b.go", "var s = \""+stripeKey+"\"\n")
	r.commit("two")
	fs2 := scan(t, cfg, scanner.Options{Source: r.dir, Mode: scanner.ModeGit, BaselinePath: baseline})
	got := rules(fs2)
	if len(got["aws-access-token"]) != 0 {
		t.Errorf("baselined finding reported again: %v", got)
	}
	if len(got["stripe-access-token"]) != 1 {
		t.Errorf("new finding missing with baseline: %v", got)
	}
	// A baseline that is not a report is an error, not an empty baseline.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o600)
	if _, err := scanner.Scan(context.Background(), cfg, scanner.Options{Source: r.dir, Mode: scanner.ModeGit, BaselinePath: bad}); err == nil {
		t.Error("a broken baseline was accepted")
	}
}

func TestScanGitChanges(t *testing.T) {
	r := newRepo(t)
	r.write("README.md", "hello\n")
	r.commit("init")
	r.write("staged.env", "KEY="+awsKey+"\n")
	r.git("add", "staged.env")
	r.write("README.md", "hello\ntoken: "+githubPAT+"\n") // unstaged

	staged := rules(scan(t, defaultCfg(t), scanner.Options{Source: r.dir, Mode: scanner.ModeGitStaged}))
	if len(staged["aws-access-token"]) != 1 || len(staged["github-pat"]) != 0 {
		t.Errorf("staged scan: %v", staged)
	}
	unstaged := rules(scan(t, defaultCfg(t), scanner.Options{Source: r.dir, Mode: scanner.ModeGitChanges}))
	if len(unstaged["github-pat"]) != 1 || len(unstaged["aws-access-token"]) != 0 {
		t.Errorf("unstaged scan: %v", unstaged)
	}

	// Not a repository: a clear error.
	_, err := scanner.Scan(context.Background(), defaultCfg(t), scanner.Options{Source: t.TempDir(), Mode: scanner.ModeGitStaged})
	if err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("scan of a plain directory as git: %v", err)
	}
}

func TestScanDirectoryAndPipe(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "nested"), 0o755)
	os.WriteFile(filepath.Join(dir, "nested", "keys.txt"), []byte("aws="+awsKey+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "clean.txt"), []byte("nothing to see\n"), 0o644)
	fs := scan(t, defaultCfg(t), scanner.Options{Source: dir, Mode: scanner.ModeDir, Redact: 100})
	if len(fs) != 1 || fs[0].RuleID != "aws-access-token" || fs[0].File != filepath.Join(dir, "nested", "keys.txt") {
		t.Fatalf("directory scan: %+v", fs)
	}
	if fs[0].Commit != "" || fs[0].Fingerprint != fs[0].File+":aws-access-token:1" {
		t.Errorf("directory fingerprint %q", fs[0].Fingerprint)
	}
	if strings.Contains(fs[0].Secret+fs[0].Match+fs[0].Line, awsKey) || fs[0].Secret != "REDACTED" {
		t.Errorf("redact 100 left the secret: %+v", fs[0])
	}

	// Partial redaction keeps a prefix only.
	fs = scan(t, defaultCfg(t), scanner.Options{Source: dir, Mode: scanner.ModeDir, Redact: 50})
	if len(fs) != 1 || strings.Contains(fs[0].Secret, awsKey) || !strings.HasSuffix(fs[0].Secret, "...") {
		t.Errorf("redact 50: %+v", fs)
	}

	fs = scan(t, defaultCfg(t), scanner.Options{Mode: scanner.ModePipe, Stdin: strings.NewReader("x\ny = " + githubPAT + "\n")})
	if len(fs) != 1 || fs[0].RuleID != "github-pat" || fs[0].StartLine != 2 {
		t.Errorf("pipe scan: %+v", fs)
	}
}

func TestScanConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("src/app.go", "a := \""+acmeToken+"\"\nb := \""+awsKey+"\"\n")
	write("fixtures/keys.go", "b := \""+awsKey+"\"\n")
	write("src/stop.go", "c := \"acme_"+"clientk3j5h7g9f1d3s5a7q9w1e3r5t7y9\"\n")

	base := `title = "acme"
[extend]
useDefault = true

[[rules]]
id = "acme-token"
description = "Acme API token"
regex = '''acme_[a-z0-9]{32}'''
keywords = ["acme_"]
tags = ["acme"]
[rules.allowlist]
stopwords = ["client"]

[allowlist]
description = "test fixtures"
paths = ['''fixtures/''']
`
	cfgPath := write(scanner.ConfigFileName, base)
	if got := scanner.ResolveConfigPath("", "", dir); got != cfgPath {
		t.Fatalf("ResolveConfigPath = %q, want %q", got, cfgPath)
	}
	if got := scanner.ResolveConfigPath("", "/env.toml", dir); got != "/env.toml" {
		t.Fatalf("env precedence: %q", got)
	}
	if got := scanner.ResolveConfigPath("/flag.toml", "/env.toml", dir); got != "/flag.toml" {
		t.Fatalf("flag precedence: %q", got)
	}
	cfg, err := scanner.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fs := scan(t, cfg, scanner.Options{Source: dir, Mode: scanner.ModeDir})
	got := map[string]bool{}
	for _, f := range fs {
		rel, _ := filepath.Rel(dir, f.File)
		got[f.RuleID+" "+rel] = true
	}
	want := map[string]bool{"acme-token src/app.go": true, "aws-access-token src/app.go": true}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing %q in %v", k, got)
		}
	}

	// extend.path chains (relative paths resolve from the working
	// directory, so an absolute one is used here), the current file wins
	// on overlapping rules.
	child := write("child.toml", `[extend]
path = "`+cfgPath+`"
[[rules]]
id = "acme-token"
description = "overridden"
[allowlist]
regexes = ['''^AKIA''']
`)
	cfg2, err := scanner.LoadConfig(child)
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg2.Rules["acme-token"].Description; d != "overridden" {
		t.Errorf("overlapping rule description %q", d)
	}
	if _, ok := cfg2.Rules["aws-access-token"]; !ok {
		t.Error("depth-2 extension (useDefault of the parent) lost")
	}
	fs2 := scan(t, cfg2, scanner.Options{Source: dir, Mode: scanner.ModeDir})
	for _, f := range fs2 {
		if f.RuleID == "aws-access-token" {
			t.Errorf("global regex allowlist not applied: %+v", f.File)
		}
	}

	for name, body := range map[string]string{
		"both extends":   "[extend]\nuseDefault = true\npath = \"x.toml\"\n",
		"bad regex":      "[[rules]]\nid = \"x\"\nregex = '''(['''\n",
		"no id":          "[[rules]]\nregex = '''x'''\n",
		"no effect":      "[[rules]]\nid = \"x\"\n",
		"bad target":     "[[rules]]\nid = \"x\"\nregex = '''x'''\n[rules.allowlist]\nregexTarget = \"nope\"\nregexes=['''a''']\n",
		"bad toml":       "[[rules]\n",
		"missing extend": "[extend]\npath = \"/does/not/exist.toml\"\n",
	} {
		p := write("bad-"+strings.ReplaceAll(name, " ", "-")+".toml", body)
		_, err := scanner.LoadConfig(p)
		var ce *scanner.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err %v, want a ConfigError", name, err)
		}
	}
}

func TestReports(t *testing.T) {
	r := newRepo(t)
	r.write("a.env", "AWS_ACCESS_KEY_ID="+awsKey+"\n")
	r.commit("one")
	cfg := defaultCfg(t)
	fs := scan(t, cfg, scanner.Options{Source: r.dir, Mode: scanner.ModeGit})
	for _, format := range scanner.ReportFormats {
		var buf bytes.Buffer
		if err := scanner.WriteReport(&buf, format, fs, cfg); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		switch format {
		case "json":
			var back []report.Finding
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back) != len(fs) || back[0].Fingerprint != fs[0].Fingerprint {
				t.Errorf("json report: %v %d", err, len(back))
			}
		case "csv":
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(rows) != len(fs)+1 {
				t.Errorf("csv report: %v %d rows", err, len(rows))
			}
		case "sarif":
			var s struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []any `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(buf.Bytes(), &s); err != nil || s.Version != "2.1.0" || len(s.Runs[0].Results) != len(fs) {
				t.Errorf("sarif report: %v %+v", err, s)
			}
		case "junit":
			var x struct {
				XMLName xml.Name
			}
			if err := xml.Unmarshal(buf.Bytes(), &x); err != nil || x.XMLName.Local != "testsuites" {
				t.Errorf("junit report: %v %v", err, x.XMLName)
			}
		}
	}
	var empty bytes.Buffer
	if err := scanner.WriteReport(&empty, "json", nil, cfg); err != nil || strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("empty json report %q (%v)", empty.String(), err)
	}
	if err := scanner.WriteReport(&empty, "xml", fs, cfg); err == nil {
		t.Error("unknown format accepted")
	}
	var v bytes.Buffer
	scanner.PrintFinding(&v, fs[0], false)
	for _, want := range []string{"RuleID:      aws-access-token", "Fingerprint: " + fs[0].Fingerprint, "File:        a.env"} {
		if !strings.Contains(v.String(), want) {
			t.Errorf("verbose output lacks %q:\n%s", want, v.String())
		}
	}
}

func TestInstallPreCommitHook(t *testing.T) {
	r := newRepo(t)
	ctx := context.Background()
	res, err := scanner.InstallPreCommitHook(ctx, r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Path != filepath.Join(r.dir, ".git", "hooks", "pre-commit") {
		t.Fatalf("install: %+v", res)
	}
	st, _ := os.Stat(res.Path)
	if st.Mode().Perm() != 0o755 {
		t.Errorf("hook mode %v", st.Mode().Perm())
	}
	body, _ := os.ReadFile(res.Path)
	if !strings.HasPrefix(string(body), "#!/bin/sh\n") || !strings.Contains(string(body), scanner.HookCommand) {
		t.Errorf("hook body:\n%s", body)
	}
	again, err := scanner.InstallPreCommitHook(ctx, filepath.Join(r.dir, "."))
	if err != nil || !again.Unchanged {
		t.Fatalf("second install: %+v %v", again, err)
	}
	if b2, _ := os.ReadFile(res.Path); !bytes.Equal(b2, body) {
		t.Error("second install changed the hook")
	}

	// An existing hook keeps its content and gets the block appended.
	r2 := newRepo(t)
	hook := filepath.Join(r2.dir, ".git", "hooks", "pre-commit")
	os.MkdirAll(filepath.Dir(hook), 0o755)
	os.WriteFile(hook, []byte("#!/bin/sh\necho lint"), 0o755)
	res2, err := scanner.InstallPreCommitHook(ctx, r2.dir)
	if err != nil || res2.Created || res2.Unchanged {
		t.Fatalf("append: %+v %v", res2, err)
	}
	b, _ := os.ReadFile(hook)
	if !strings.HasPrefix(string(b), "#!/bin/sh\necho lint\n") || strings.Count(string(b), scanner.HookCommand) != 1 || strings.Count(string(b), "#!/bin/sh") != 1 {
		t.Errorf("appended hook:\n%s", b)
	}

	// A hook manager's hooksPath is left alone.
	r3 := newRepo(t)
	r3.git("config", "core.hooksPath", ".husky")
	if _, err := scanner.InstallPreCommitHook(ctx, r3.dir); !errors.Is(err, scanner.ErrHooksPath) {
		t.Errorf("hooksPath: %v", err)
	}
	if _, err := scanner.InstallPreCommitHook(ctx, t.TempDir()); err == nil {
		t.Error("install outside a repository succeeded")
	}
}
