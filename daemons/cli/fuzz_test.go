package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
	"github.com/infisical-go/engine/infisical/secretpath"
)

// dotenvSeeds are .env texts for the dotenv fuzz targets.
var dotenvSeeds = []string{
	"A=1\nB=two words # comment\n# full comment\n\nexport C=3\n",
	"A='single # not comment'\nB=\"double\\n\\t\\\"q\\\" \\\\\"\nC=\"multi\nline\"\n",
	"PEM='-----BEGIN-----\nabc\n-----END-----'\nNEXT=1\n",
	"A='it's'\nB=\"x\" trailing\nC=a=b=c\r\nD=\n",
	"A='unterminated\n", "A=\"unterminated\nB=1\n", "no equals\n", "=empty key\n", " export  K = v \n",
	"A=\"ends with backslash\\\\\"\nB=\"esc \\\" quote\n\"\n", "A='first \nsecond'\n", "A=\"first \nsecond\"\n",
	"\xff=\xfe\n", "A='x'\x00\n",
}

// FuzzParseDotenv feeds arbitrary files to the .env parser of `secrets
// set --file`. Properties: no panic; errors name the file and line; keys
// are trimmed single-line strings; and the pairs it reads, written back as
// a dotenv export (the default format of `infisical export`), read back
// unchanged whenever the format can represent them.
func FuzzParseDotenv(f *testing.F) {
	for _, s := range dotenvSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		pairs, err := parseDotenv(raw, "fuzz.env")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.env:") && !strings.HasPrefix(err.Error(), "read fuzz.env") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var secrets []apiclient.Secret
		seen := map[string]bool{}
		for _, p := range pairs {
			if p.key != strings.TrimSpace(p.key) || strings.ContainsAny(p.key, "\n") {
				t.Fatalf("key %q", p.key)
			}
			if exportable(p.key, p.value, '\'') && !seen[p.key] {
				seen[p.key] = true
				secrets = append(secrets, apiclient.Secret{SecretKey: p.key, SecretValue: p.value})
			}
		}
		checkDotenvRoundTrip(t, secrets, "'")
	})
}

// exportable reports whether a secret can be written in the dotenv format
// with quote q and read back: a key a server accepts that has no '=' and
// does not start a comment, and a value (valid UTF-8, as every stored
// value) without CR, whose quote characters cannot end the value early.
func exportable(key, value string, q byte) bool {
	if k, err := secretpath.ValidateSecretKey(key); err != nil || k != key || strings.Contains(key, "=") ||
		strings.HasPrefix(key, "#") {
		return false
	}
	if !utf8.ValidString(value) || strings.Contains(value, "\r") {
		return false
	}
	switch q {
	case '"':
		// Double quotes unescape \n, \t, \" and \\: a raw value with a
		// backslash or a double quote cannot be written without escaping.
		return !strings.ContainsAny(value, `"\`)
	default:
		// Single quotes are literal: the value ends at the last quote of
		// the line that closes it, so only its last line may hold quotes.
		if i := strings.LastIndexByte(value, '\n'); i >= 0 {
			return !strings.Contains(value[:i], "'")
		}
		return true
	}
}

// checkDotenvRoundTrip writes secrets as dotenv with quote and reads them
// back.
func checkDotenvRoundTrip(t *testing.T, secrets []apiclient.Secret, quote string) {
	t.Helper()
	out, err := formatSecrets(secrets, formatDotenv, quote)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseDotenv(out, "export.env")
	if err != nil {
		t.Fatalf("export does not parse back: %v\n%s", err, out)
	}
	if len(back) != len(secrets) {
		t.Fatalf("%d secrets exported, %d read back:\n%q", len(secrets), len(back), out)
	}
	for i, s := range secrets {
		if back[i].key != s.SecretKey || back[i].value != escapeNewlines(s) {
			t.Fatalf("secret %q=%q read back as %q=%q from\n%q", s.SecretKey, s.SecretValue, back[i].key, back[i].value, out)
		}
	}
}

// FuzzDotenvExportRoundTrip exports two secrets in every dotenv variant
// (single quotes, double quotes, dotenv-export, multi-line encoding on and
// off) and in YAML, and reads the result with the parser of `secrets set
// --file`. Property: whatever the format can represent reads back as the
// same keys and values (dotenv values with encoded newlines read back as
// written, with literal \n).
func FuzzDotenvExportRoundTrip(f *testing.F) {
	f.Add("API_URL", "https://api.example.com", "DB_PASSWORD", `it's "quoted" $HOME, \n`, false)
	f.Add("PEM", "-----BEGIN-----\nabc\n-----END-----", "MULTILINE", "line1\nline2", true)
	f.Add("A", "first \n second ", "B", " padded ", false)
	f.Add("A", "x'\ny'", "B", "'", false)
	f.Add("K", "", "L", "# not a comment", false)
	f.Add("K", "null", "L", "- [yaml] {x: 1} &a *a", false)
	f.Add("K", "\u00e9\u2028\t", "L", "a \\\" b", false)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, skipMultiline bool) {
		if k1 == k2 {
			return
		}
		pair := []apiclient.Secret{{SecretKey: k1, SecretValue: v1, SkipMultilineEncoding: skipMultiline},
			{SecretKey: k2, SecretValue: v2}}
		for _, q := range []byte{'\'', '"'} {
			var ok []apiclient.Secret
			for _, s := range pair {
				if exportable(s.SecretKey, escapeNewlines(s), q) {
					ok = append(ok, s)
				}
			}
			checkDotenvRoundTrip(t, ok, string(q))
		}
		// dotenv-export escapes quotes for a shell; the .env reader does
		// not undo that escaping, so only quote-free values round-trip.
		var shell []apiclient.Secret
		for _, s := range pair {
			if shellName.MatchString(s.SecretKey) && exportable(s.SecretKey, escapeNewlines(s), '\'') && !strings.Contains(s.SecretValue, "'") {
				shell = append(shell, s)
			}
		}
		out, err := formatSecrets(shell, formatDotenvExport, "'")
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseDotenv(out, "export.env")
		if err != nil || len(back) != len(shell) {
			t.Fatalf("dotenv-export does not parse back: %v\n%q", err, out)
		}
		for i, s := range shell {
			if back[i].key != s.SecretKey || back[i].value != escapeNewlines(s) {
				t.Fatalf("%q=%q read back as %q=%q from %q", s.SecretKey, s.SecretValue, back[i].key, back[i].value, out)
			}
		}
		// YAML: any valid key and UTF-8 value.
		var yml []apiclient.Secret
		for _, s := range pair {
			if k, err := secretpath.ValidateSecretKey(s.SecretKey); err == nil && k == s.SecretKey && utf8.ValidString(s.SecretValue) {
				yml = append(yml, s)
			}
		}
		out, err = formatSecrets(yml, formatYAML, "'")
		if err != nil {
			t.Fatal(err)
		}
		kv, err := parseSecretsYAML(out, "export.yaml")
		if err != nil || len(kv) != len(yml) {
			t.Fatalf("YAML export does not parse back: %v\n%s", err, out)
		}
		got := map[string]string{}
		for _, p := range kv {
			got[p.key] = p.value
		}
		for _, s := range yml {
			if got[s.SecretKey] != escapeNewlines(s) {
				t.Fatalf("YAML %q=%q read back as %q from\n%s", s.SecretKey, escapeNewlines(s), got[s.SecretKey], out)
			}
		}
	})
}

// FuzzParseSecretsYAML feeds arbitrary YAML to the reader of `secrets set
// --file x.yaml`. Properties: no panic, errors name the file.
func FuzzParseSecretsYAML(f *testing.F) {
	for _, s := range []string{"A: 1\nB: two\n", "A: [1]\n", "- a\n", "A: &x v\nB: *x\n", "A: !!binary aGVsbG8=\n", "? [k]\n: v\n",
		"A: |\n  multi\n  line\n", "{}", "", "a: b: c", "A: null\nB: ~\n", "<<: {A: 1}\n", "A: 'x'\nA: 'y'\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := parseSecretsYAML(raw, "fuzz.yaml"); err != nil && !strings.Contains(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzWorkspaceFile feeds arbitrary .infisical.json files to
// findWorkspaceFile. Properties: no panic; an error names the file; what it
// reads survives a write/read cycle.
func FuzzWorkspaceFile(f *testing.F) {
	for _, s := range []string{
		`{"workspaceId":"p1","defaultEnvironment":"dev","gitBranchToEnvironmentMapping":{"main":"prod"}}`,
		`{"workspaceId":"p1","defaultSecretPath":"/a"}`, `{"gitBranchToEnvironmentMapping":null}`, `{}`, `[]`, `null`, ``,
		`{"workspaceId":1}`, "\xef\xbb\xbf{}", `{"workspaceId":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := filepath.Join(dir, workspaceFileName)
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		wf, path, err := findWorkspaceFile(dir)
		if err != nil {
			if !strings.Contains(err.Error(), workspaceFileName) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if path != p || wf == nil {
			t.Fatalf("found %v at %q", wf, path)
		}
		again, _ := json.Marshal(wf)
		if err := os.WriteFile(p, again, 0o600); err != nil {
			t.Fatal(err)
		}
		wf2, _, err := findWorkspaceFile(dir)
		if err != nil || !reflect.DeepEqual(wf, wf2) {
			t.Fatalf("workspace file changed through a write: %+v → %+v (%v)", wf, wf2, err)
		}
	})
}

// FuzzCredential feeds arbitrary tokens to the CLI's token classification
// (unverified JWT decoding, service-token detection). Properties: no
// panic; every credential has a kind and a cache identity; a JWT built from
// claims is classified by them.
func FuzzCredential(f *testing.F) {
	jwt := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(claims)) + ".sig"
	}
	for _, s := range []string{
		jwt(`{"authTokenType":"identityAccessToken","identityId":"i1","exp":1}`), jwt(`{"authTokenType":"accessToken","userId":"u1"}`),
		jwt(`{"userId":"u1","identityId":"i1"}`), jwt(`{"exp":1e99}`), jwt(`[]`), "st.a.b.c", "st.abc", "", "a.b.c", "..", "x.!!!.y",
	} {
		f.Add(s, "u1", "i1", int64(time.Now().Unix()))
	}
	f.Fuzz(func(t *testing.T, tok, userID, identityID string, exp int64) {
		c := newCredential(tok, "fuzz")
		if c.identity == "" || c.token != strings.TrimSpace(tok) {
			t.Fatalf("credential %+v", c)
		}
		if _, err := decodeJWT(tok); err != nil && c.kind == tokenUser {
			t.Fatalf("undecodable token classified as a user")
		}
		if !utf8.ValidString(userID) || !utf8.ValidString(identityID) {
			return
		}
		claims, _ := json.Marshal(map[string]any{"authTokenType": "identityAccessToken", "identityId": identityID, "userId": userID, "exp": exp})
		c = newCredential(jwt(string(claims)), "fuzz")
		if c.kind != tokenIdentity || (identityID != "" && c.identity != "identity:"+identityID) {
			t.Fatalf("identity token classified as %v %q", c.kind, c.identity)
		}
		d, err := decodeJWT(jwt(string(claims)))
		if err != nil || d.IdentityID != identityID || d.UserID != userID || d.Exp != exp {
			t.Fatalf("claims decoded as %+v, %v", d, err)
		}
		claims, _ = json.Marshal(map[string]any{"authTokenType": "accessToken", "userId": userID})
		if c = newCredential(jwt(string(claims)), "fuzz"); c.kind != tokenUser || c.identity != "user:"+userID {
			t.Fatalf("user token classified as %v %q", c.kind, c.identity)
		}
	})
}

// FuzzFlagNormalizers checks the normalizers of --path and --tags:
// idempotent, and their output has the documented shape.
func FuzzFlagNormalizers(f *testing.F) {
	for _, s := range []string{"", "/", "a/b/", " /a// ", "///", "a, b,,c ", " , "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := cleanSecretPath(s)
		if !strings.HasPrefix(p, "/") || (len(p) > 1 && strings.HasSuffix(p, "/")) || cleanSecretPath(p) != p {
			t.Fatalf("cleanSecretPath(%q) = %q, again %q", s, p, cleanSecretPath(p))
		}
		tags := normalizeTags(s)
		if normalizeTags(tags) != tags || strings.Contains(tags, ",,") || strings.HasPrefix(tags, ",") || strings.HasSuffix(tags, ",") {
			t.Fatalf("normalizeTags(%q) = %q", s, tags)
		}
	})
}
