package scanner

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// fuzzAWSKey is a fake AWS access key id (split so that scanners of this
// repository do not flag it).
const fuzzAWSKey = "AKIA" + "QYLPMN5HHHFPZAM2"

// FuzzParseConfig feeds arbitrary .infisical-scan.toml files to the
// configuration parser. Properties: no panic; refusals are *ConfigError;
// an accepted configuration is consistent (rule ids match their keys and
// are listed once in order, rule keywords are lower-case and indexed) and
// usable: a detector built on it scans text without panicking.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`title = "custom"
[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[[rules]]
id = "internal-token"
description = "Internal token"
regex = '''itk_[a-z0-9]{32}'''
keywords = ["ITK_"]
tags = ["internal"]
[rules.allowlist]
regexes = ['''itk_test''']

[[rules]]
id = "aws-access-token"
entropy = 4.0

[allowlist]
description = "global"
paths = ['''vendor/''']
stopwords = ["example"]
`,
		`[[rules]]
id = "a"
regex = "x(?P<s>y+)"
secretGroup = 1
[[rules.required]]
id = "b"
withinLines = 2
[[rules]]
id = "b"
regex = "z"
path = '''\.env$'''
`,
		`[[rules]]
id = "a"
regex = "("`,
		`[[rules]]
id = ""`,
		`[[rules]]
id = "a"
regex = "x"
[[rules]]
id = "a"
regex = "y"`,
		`[[allowlists]]
targetRules = ["missing"]
regexes = ["x"]`,
		`[[allowlists]]
condition = "AND"
regexTarget = "line"
regexes = ["x"]
paths = ["y"]`,
		`[[allowlists]]
condition = "XOR"`,
		`[[rules]]
id = "a"
regex = "x"
[rules.allowlist]
[[rules.allowlists]]
regexes = ["y"]`,
		`[[rules]]
id = "a"
secretGroup = 9
regex = "x"`,
		`[extend]
useDefault = true
path = "other.toml"`,
		``, `title = 1`, `[[rules]]`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var probe struct {
			Extend struct {
				Path string `toml:"path"`
			} `toml:"extend"`
		}
		if decodeTOML(raw, &probe) == nil && probe.Extend.Path != "" {
			// [extend] path reads another file: not the parser under test.
			return
		}
		c, err := parse(raw, "fuzz.toml", 0)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Path != "fuzz.toml" {
				t.Fatalf("refusal %T: %v", err, err)
			}
			return
		}
		if len(c.OrderedRules) != len(c.Rules) {
			t.Fatalf("%d ordered rules for %d rules", len(c.OrderedRules), len(c.Rules))
		}
		for _, id := range c.OrderedRules {
			r, ok := c.Rules[id]
			if !ok || r.RuleID != id {
				t.Fatalf("ordered rule %q is %+v", id, r.RuleID)
			}
			for _, k := range r.Keywords {
				if _, ok := c.Keywords[k]; !ok || k != strings.ToLower(k) {
					t.Fatalf("keyword %q of %q is not indexed in lower case", k, id)
				}
			}
			for _, a := range r.Allowlists {
				if a == nil {
					t.Fatalf("rule %q has a nil allowlist", id)
				}
			}
		}
		sorted := slices.Clone(c.OrderedRules)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(c.OrderedRules) {
			t.Fatal("a rule is listed twice")
		}
		d := detect.NewDetector(c)
		d.DetectString("aws=" + fuzzAWSKey + "\nitk_0123456789abcdef0123456789abcdef x yyy z\n")
	})
}

// FuzzIgnoreFile scans a directory holding one leaked key and a fuzzed
// .infisicalignore. Properties: the scan never fails or panics whatever
// the ignore file says; the finding is dropped when (and only when) a line
// of the file is its fingerprint.
func FuzzIgnoreFile(f *testing.F) {
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte("aws="+fuzzAWSKey+"\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	cfg, err := DefaultConfig()
	if err != nil {
		f.Fatal(err)
	}
	// Only the rule of the planted key: keeps each scan fast.
	rule := cfg.Rules["aws-access-token"]
	cfg.Rules = map[string]config.Rule{"aws-access-token": rule}
	cfg.OrderedRules = []string{"aws-access-token"}
	res, err := Scan(f.Context(), cfg, Options{Source: dir, Mode: ModeDir})
	if err != nil || len(res.Findings) != 1 {
		f.Fatalf("baseline scan: %v %+v", err, res)
	}
	fp := res.Findings[0].Fingerprint
	for _, s := range []string{
		"", "# comment\n" + fp + "\n", "  " + fp + "  \r\n", fp, "#" + fp, strings.ReplaceAll(fp, "/", `\`), "a:b:c\nx:y:z:w\n" + fp,
		fp + ":extra", "\x00\n:::\n" + strings.Repeat("x", 70000) + "\n" + fp, strings.ToUpper(fp),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		// "{fp}" stands for the fingerprint, whose path changes per run
		// (testdata corpus entries use it).
		content = bytes.ReplaceAll(content, []byte("{fp}"), []byte(fp))
		if err := os.WriteFile(filepath.Join(dir, IgnoreFileName), content, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Scan(t.Context(), cfg, Options{Source: dir, Mode: ModeDir})
		if err != nil {
			t.Fatalf("scan failed: %v", err)
		}
		want := 1
		for _, line := range strings.Split(string(content), "\n") {
			// gitleaks turns backslashes of the file part into slashes.
			file, rest, _ := strings.Cut(strings.TrimSpace(line), ":")
			if strings.ReplaceAll(file, `\`, "/")+":"+rest == fp {
				want = 0
			}
		}
		var got int
		for _, fd := range res.Findings {
			if fd.RuleID == "aws-access-token" {
				got++
			}
		}
		if got != want {
			shown := string(content)
			if len(shown) > 300 {
				shown = shown[:150] + "..." + shown[len(shown)-150:]
			}
			t.Fatalf("%d findings, want %d, with .infisicalignore %q", got, want, shown)
		}
	})
}
