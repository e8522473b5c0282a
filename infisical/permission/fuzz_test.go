package permission

import (
	"strings"
	"testing"
)

func FuzzParseRules(f *testing.F) {
	seeds := []string{
		`[]`,
		`null`,
		`[{"subject":"secrets","action":"read"}]`,
		`[{"subject":"secrets","action":["read","edit"],"inverted":true,"conditions":{"environment":"dev","secretPath":{"$glob":"/a/**"}}}]`,
		`[{"subject":"secrets","action":["readValue"],"conditions":{"secretName":{"$eq":"A","$ne":"B","$in":["A"],"$glob":"{A,B}*"},"secretTags":{"$in":["t"]}}}]`,
		`[{"subject":"identity","action":["grant-privileges"],"conditions":{"identityId":{"$in":["x"]}}}]`,
		`[{"subject":"secrets","action":[],"conditions":{"environment":{"$regex":"."}}}]`,
		`[{"subject":"secrets","action":"read","conditions":{"secretPath":{"$glob":"/[z-a]"}}}]`,
		`[1,"x",{},[]]`,
		`{"subject":"secrets"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(data)
		if err != nil {
			if _, ok := err.(*ValidationError); !ok {
				t.Fatalf("error is %T, want *ValidationError", err)
			}
			return
		}
		// Whatever parses must compile and be safe to evaluate.
		s, err := Compile(rules)
		if err != nil {
			t.Fatalf("parsed rules do not compile: %v", err)
		}
		attrs := Attributes{FieldEnvironment: "dev", FieldSecretPath: "/a/b", FieldSecretName: "A", FieldSecretTags: []string{"t"}}
		for _, r := range rules {
			for _, a := range r.Action {
				s.Can(a, r.Subject, attrs)
				s.Can(a, r.Subject, nil)
				s.Explain(a, r.Subject)
			}
		}
		// Placeholder substitution (empty values included) must keep the
		// rules compilable.
		applied := Placeholders{IdentityID: "", Username: "u", Metadata: map[string]string{"k": "*{a,b}"}}.Apply(rules)
		if _, err := Compile(applied); err != nil {
			t.Fatalf("rules do not compile after Apply: %v", err)
		}
	})
}

func FuzzGlob(f *testing.F) {
	seeds := [][2]string{
		{"/**", "/a/b"},
		{"/a/*/c", "/a/b/c"},
		{"/{a,b}/**", "/b"},
		{"/v[0-9]?", "/v1x"},
		{`/a\*b\`, "/a*b\\"},
		{"{{a,b},{c,{d,e}}}", "e"},
		{"[!]", "!"},
		{"/a/", "/a"},
		{"", ""},
		{"**/**/x", "x"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		g, err := CompileGlob(pattern)
		if err == nil {
			g.Match(value)
			g.Match(pattern)
		}
		// A pattern with no special character is a literal: it must compile
		// and match itself (trailing slashes aside, which both sides drop).
		if len(pattern) <= maxGlobLen && !strings.ContainsAny(pattern, `*?[]{}\`) {
			if err != nil {
				t.Fatalf("literal %q does not compile: %v", pattern, err)
			}
			if !g.Match(pattern) {
				t.Fatalf("literal %q does not match itself", pattern)
			}
			if trimTrailingSlashes(value) != trimTrailingSlashes(pattern) && g.Match(value) {
				t.Fatalf("literal %q matches different value %q", pattern, value)
			}
		}
		// An escaped value is a literal too.
		if len(value) <= maxGlobLen/2 {
			eg, err := CompileGlob(escapeGlob(value))
			if err != nil {
				t.Fatalf("escaped %q does not compile: %v", value, err)
			}
			if !eg.Match(value) {
				t.Fatalf("escaped %q does not match itself", value)
			}
		}
	})
}
