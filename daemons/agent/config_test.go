package agent

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	full := `
infisical:
  address: "https://infisical.example.com"
  exit-after-auth: true
  revoke-credentials-on-shutdown: true
  retry-strategy:
    max-retries: 5
    base-delay: 500ms
    max-delay: 10s
auth:
  type: universal-auth
  config:
    client-id: ./client-id
    client-secret: ./client-secret
    remove_client_secret_on_read: true
sinks:
  - type: file
    config:
      path: /tmp/token
templates:
  - source-path: my.tmpl
    destination-path: /tmp/out1
    config:
      polling-interval: 60s
      execute:
        command: ./reload.sh
        timeout: 30
  - template-content: "{{ .x }}"
    destination-path: /tmp/out2
  - base64-template-content: ` + base64.StdEncoding.EncodeToString([]byte("{{ .y }}")) + `
    destination-path: /tmp/out3
    config:
      polling-interval: 1w
cache:
  persistent:
    type: kubernetes
`
	cfg, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Infisical.Address != "https://infisical.example.com" || !cfg.Infisical.ExitAfterAuth || !cfg.Infisical.RevokeCredentialsOnShutdown {
		t.Errorf("infisical: %+v", cfg.Infisical)
	}
	if rs := cfg.Infisical.RetryStrategy; rs == nil || rs.MaxRetries != 5 || rs.BaseDelay != "500ms" || rs.MaxDelay != "10s" {
		t.Errorf("retry-strategy: %+v", rs)
	}
	if p := retryFrom(cfg.Infisical.RetryStrategy); p.maxRetries != 5 || p.base != 500*time.Millisecond || p.max != 10*time.Second {
		t.Errorf("retry policy: %+v", p)
	}
	a := cfg.Auth.Settings
	if cfg.Auth.Type != AuthUniversal || a.ClientID != "./client-id" || a.ClientSecret != "./client-secret" || !a.RemoveClientSecretOnRead {
		t.Errorf("auth: %+v", cfg.Auth)
	}
	if len(cfg.Sinks) != 1 || cfg.Sinks[0].Config.Path != "/tmp/token" {
		t.Errorf("sinks: %+v", cfg.Sinks)
	}
	if len(cfg.Templates) != 3 {
		t.Fatalf("templates: %+v", cfg.Templates)
	}
	t0 := cfg.Templates[0]
	if t0.PollingInterval() != time.Minute || t0.Config.Execute.Command != "./reload.sh" || t0.Config.Execute.Timeout != 30 {
		t.Errorf("template 0: %+v", t0)
	}
	if cfg.Templates[1].PollingInterval() != DefaultPollingInterval {
		t.Errorf("default polling interval: %v", cfg.Templates[1].PollingInterval())
	}
	if cfg.Templates[2].PollingInterval() != 7*24*time.Hour {
		t.Errorf("1w: %v", cfg.Templates[2].PollingInterval())
	}

	// Every auth method's keys.
	k8s, err := Parse([]byte("auth:\n  type: kubernetes\n  config:\n    identity-id: /id\n    service-account-token: /sa\n"))
	if err != nil || k8s.Auth.Settings.IdentityID != "/id" || k8s.Auth.Settings.ServiceAccountToken != "/sa" {
		t.Errorf("kubernetes: %+v %v", k8s, err)
	}
	ldap, err := Parse([]byte("auth:\n  type: ldap-auth\n  config:\n    identity-id: /id\n    username: /u\n    password: /p\n    remove-password-on-read: true\n"))
	if err != nil || ldap.Auth.Settings.Username != "/u" || !ldap.Auth.Settings.RemovePasswordOnRead {
		t.Errorf("ldap: %+v %v", ldap, err)
	}
	gcp, err := Parse([]byte("auth:\n  type: gcp-iam\n  config:\n    identity-id: /id\n    service-account-key: /key.json\n"))
	if err != nil || gcp.Auth.Settings.ServiceAccountKey != "/key.json" {
		t.Errorf("gcp-iam: %+v %v", gcp, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	ua := "auth:\n  type: universal-auth\n"
	for _, tc := range []struct {
		name, yaml, field string
	}{
		{"no auth", "", "auth.type"},
		{"unknown auth", "auth:\n  type: magic\n", "auth.type"},
		{"bad address", "infisical:\n  address: infisical.example.com\n" + ua, "infisical.address"},
		{"bad retry delay", "infisical:\n  retry-strategy:\n    base-delay: soon\n" + ua, "infisical.retry-strategy.base-delay"},
		{"negative retries", "infisical:\n  retry-strategy:\n    max-retries: -1\n" + ua, "infisical.retry-strategy.max-retries"},
		{"sink type", ua + "sinks:\n  - type: vault\n    config:\n      path: x\n", "sinks[0].type"},
		{"sink path", ua + "sinks:\n  - type: file\n", "sinks[0].config.path"},
		{"no source", ua + "templates:\n  - destination-path: x\n", "templates[0]"},
		{"two sources", ua + "templates:\n  - source-path: a\n    template-content: b\n    destination-path: x\n", "templates[0]"},
		{"no destination", ua + "templates:\n  - template-content: a\n", "templates[0].destination-path"},
		{"same destination", ua + "templates:\n  - template-content: a\n    destination-path: x\n  - template-content: b\n    destination-path: x\n", "templates[1].destination-path"},
		{"bad interval", ua + "templates:\n  - template-content: a\n    destination-path: x\n    config:\n      polling-interval: often\n", "templates[0].config.polling-interval"},
		{"zero interval", ua + "templates:\n  - template-content: a\n    destination-path: x\n    config:\n      polling-interval: 0s\n", "templates[0].config.polling-interval"},
		{"bad base64", ua + "templates:\n  - base64-template-content: '%%%'\n    destination-path: x\n", "templates[0].base64-template-content"},
		{"negative timeout", ua + "templates:\n  - template-content: a\n    destination-path: x\n    config:\n      execute:\n        timeout: -1\n", "templates[0].config.execute.timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", fe.Field, tc.field, err)
			}
		})
	}
	if _, err := Parse([]byte("auth: [")); err == nil {
		t.Error("invalid YAML accepted")
	}
}

func TestLoadFromBase64Env(t *testing.T) {
	y := "auth:\n  type: kubernetes\n"
	env := map[string]string{ConfigBase64Env: base64.StdEncoding.EncodeToString([]byte(y))}
	cfg, err := Load("/does/not/exist.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || cfg.Auth.Type != AuthKubernetes {
		t.Fatalf("Load from env: %+v %v", cfg, err)
	}
	p := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(p, []byte("auth:\n  type: azure\n"), 0o600)
	cfg, err = Load(p, func(string) (string, bool) { return "", false })
	if err != nil || cfg.Auth.Type != AuthAzure {
		t.Fatalf("Load from file: %+v %v", cfg, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), func(string) (string, bool) { return "", false }); err == nil {
		t.Error("missing file accepted")
	}
}

func TestParseInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"60s": time.Minute, "5m": 5 * time.Minute, "2h": 2 * time.Hour, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour,
		"1000ms": time.Second, "1m30s": 90 * time.Second, " 10s ": 10 * time.Second,
	} {
		got, err := ParseInterval(in)
		if err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "-5s", "0m", "ten seconds", "5x", "99999999999999999w"} {
		if _, err := ParseInterval(bad); err == nil {
			t.Errorf("ParseInterval(%q) accepted", bad)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	changed, err := writeFileAtomic(p, []byte("one"))
	if err != nil || !changed {
		t.Fatalf("create: %v %v", changed, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", st.Mode().Perm())
	}
	// An existing mode is kept.
	os.Chmod(p, 0o640)
	if changed, err := writeFileAtomic(p, []byte("two")); err != nil || !changed {
		t.Fatalf("replace: %v %v", changed, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("replaced file mode %v, want 0640", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	// Identical content is not rewritten.
	st0, _ := os.Stat(p)
	time.Sleep(10 * time.Millisecond)
	if changed, err := writeFileAtomic(p, []byte("two")); err != nil || changed {
		t.Fatalf("same content: %v %v", changed, err)
	}
	if st1, _ := os.Stat(p); !st1.ModTime().Equal(st0.ModTime()) {
		t.Error("identical content rewrote the file")
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries", len(entries))
	}
	// A missing directory or a directory in the way is an error.
	if _, err := writeFileAtomic(filepath.Join(dir, "nope", "out"), []byte("x")); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	if _, err := writeFileAtomic(filepath.Join(dir, "d"), []byte("x")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("write over a directory: %v", err)
	}
}

func TestTokenSchedule(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tok := &token{ttl: 30 * time.Second, maxTTL: 100 * time.Second, issuedAt: t0, refreshedAt: t0, expiresAt: t0.Add(30 * time.Second)}
	if got := nextRefresh(tok); !got.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("next refresh %v", got.Sub(t0))
	}
	if mustRelogin(tok, t0.Add(20*time.Second)) {
		t.Error("relogin at 20 s of a 100 s budget")
	}
	if !mustRelogin(tok, t0.Add(70*time.Second)) {
		t.Error("renewal at 70 s would end past the 100 s budget")
	}
	if (&token{}).expired(t0) || nextRefresh(&token{refreshedAt: t0}) != (time.Time{}) {
		t.Error("a token without expiry expires")
	}
	unlimited := &token{ttl: time.Hour, refreshedAt: t0, expiresAt: t0.Add(time.Hour)}
	if mustRelogin(unlimited, t0.Add(100*time.Hour)) {
		t.Error("relogin without a max TTL")
	}
	b := backoff{base: time.Second, max: 30 * time.Second}
	for fails, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := b.delay(fails); got != want {
			t.Errorf("delay(%d) = %v, want %v", fails, got, want)
		}
	}
	// A JWT exp earlier than now+ttl wins.
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1700000010,"creationEpoch":1699999990}`))
	jwt := "x." + payload + ".y"
	if got := jwtClaims(jwt).exp(); !got.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("exp %v", got)
	}
	if got := creationEpoch(jwt); !got.Equal(t0.Add(-10 * time.Second)) {
		t.Errorf("creationEpoch %v", got)
	}
	if !jwtClaims("garbage").exp().IsZero() {
		t.Error("exp of garbage")
	}
}

func TestSecretOptions(t *testing.T) {
	for _, tc := range []struct {
		args              []string
		recursive, expand bool
		bad               bool
	}{
		{nil, false, true, false},
		{[]string{`{"recursive": true}`}, true, true, false},
		{[]string{`{"expandSecretReferences": false}`}, false, false, false},
		{[]string{`{`}, false, false, true},
		{[]string{"{}", "{}"}, false, false, true},
	} {
		r, e, err := parseSecretOptions(tc.args)
		if (err != nil) != tc.bad || (!tc.bad && (r != tc.recursive || e != tc.expand)) {
			t.Errorf("%v: %v %v %v", tc.args, r, e, err)
		}
	}
	f := baseFuncs()
	for _, gone := range []string{"env", "expandenv"} {
		if _, ok := f[gone]; ok {
			t.Errorf("template function %s is available", gone)
		}
	}
	for _, want := range []string{"upper", "replace", "fail", "b64enc", "minus", "add"} {
		if _, ok := f[want]; !ok {
			t.Errorf("template function %s is missing", want)
		}
	}
}
