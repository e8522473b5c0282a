package jwtpolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/infisical-go/engine/authn"
)

// globRegexp is the reference meaning of a pattern without braces: '*' is
// any run of characters, '?' exactly one character, the rest literal.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// FuzzMatch checks the glob matcher of bound subjects, audiences and claims
// (patterns are configuration, values come from tokens). Properties: no
// panic; a brace-free pattern matches exactly as the reference regular
// expression ('?' is one character, not one byte); "{a,b}" matches what a
// or b matches; every string matches itself once glob characters are
// escaped away; the expansion of braces stays bounded.
func FuzzMatch(f *testing.F) {
	for _, s := range [][4]string{
		{"repo:octo-org/*", "repo:octo-org/app:ref:refs/heads/main", "staging", "prod"},
		{"a?c", "abc", "a*", "b?"},
		{"a?c", "a\u00e9c", "", "x"},
		{"?", "\u4e16", "*", ""},
		{"{staging,prod}-*", "prod-eu", "{x", "y}"},
		{"a*b*c", "aXbYbZc", "*b*", "c*"},
		{"{x}", "{x}", "{", "}"},
		{"{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}", "acegikmoqs", "a", "b"},
		{"**?*", "\xff\xfe", "?", "\xff"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, pattern, s, a, b string) {
		got := Match(pattern, s)
		if n := len(expandBraces(pattern)); n > 1024 {
			t.Fatalf("pattern expands to %d alternatives", n)
		}
		if !strings.ContainsAny(pattern, "{}") && len(pattern) < 200 {
			ref := globRegexp(pattern)
			if strings.ToValidUTF8(s, "\uFFFD") == s && strings.ToValidUTF8(pattern, "\uFFFD") == pattern && got != ref.MatchString(s) {
				t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, s, got, !got)
			}
		}
		if !strings.ContainsAny(s, "*?{}") && !Match(s, s) {
			t.Fatalf("%q does not match itself", s)
		}
		if !strings.ContainsAny(a+b, "{},") {
			alt := "{" + a + "," + b + "}"
			if Match(alt, s) != (Match(a, s) || Match(b, s)) {
				t.Fatalf("Match(%q, %q) = %v, but %q → %v and %q → %v", alt, s, Match(alt, s), a, Match(a, s), b, Match(b, s))
			}
		}
		if !Match("*", s) {
			t.Fatalf("* does not match %q", s)
		}
	})
}

// FuzzCheck runs a policy over arbitrary claims (the JSON of a verified
// token, numbers as json.Number like jwks.Claims). Properties: no panic;
// refusals are *authn.LoginError with a claim, subject or audience reason;
// an accepted bound claim exists and matches; the metadata of a mapped
// claim is its Stringify form; every scalar claim matches its own text.
func FuzzCheck(f *testing.F) {
	for _, s := range [][3]string{
		{`{"sub":"s1","aud":["a","b"],"n":{"deep":"v"},"num":42,"flag":true,"groups":["dev","ops"]}`, "n.deep", "v"},
		{`{"sub":"s1","aud":"a","a.b":"top","a":{"b":"nested"}}`, "a.b", "top"},
		{`{"num":1e400,"f":1.50,"neg":-0}`, "num", "1e400"},
		{`{"x":null,"y":[],"z":{}}`, "x", "*"},
		{`{"x":[[1],{"a":2}]}`, "x", "[1]"},
		{`{"":{"":"e"}}`, ".", "e"},
		{`[]`, "a", "b"},
		{`{"sub":{"a":1}}`, "sub", "*"},
	} {
		f.Add([]byte(s[0]), s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, raw []byte, path, pattern string) {
		var claims map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&claims); err != nil || claims == nil {
			return
		}
		for _, dialect := range []Dialect{DialectOIDC, DialectJWT} {
			p := Policy{BoundSubject: pattern, BoundAudiences: []string{pattern}, BoundClaims: map[string][]string{path: {pattern}},
				ClaimMetadataMapping: map[string]string{"alias": path}, Dialect: dialect}
			md, err := p.Check(claims)
			if err != nil {
				var le *authn.LoginError
				if !errors.As(err, &le) {
					t.Fatalf("refusal is %T: %v", err, err)
				}
				switch le.Reason {
				case authn.ReasonClaim, authn.ReasonSubject, authn.ReasonAudience:
				default:
					t.Fatalf("refusal reason %s", le.Reason)
				}
				continue
			}
			v, ok := Lookup(claims, path)
			if !ok || !MatchValue(v, pattern) || !MatchValue(claims["sub"], pattern) {
				t.Fatalf("accepted claims where %q (%v) does not match %q", path, v, pattern)
			}
			if md["alias"] != Stringify(v) {
				t.Fatalf("mapped %q, want %q", md["alias"], Stringify(v))
			}
		}
		for k, v := range claims {
			if got, ok := Lookup(claims, k); !ok || Stringify(got) != Stringify(v) {
				t.Fatalf("Lookup(%q) = %v, %v", k, got, ok)
			}
			switch v.(type) {
			case string, json.Number, bool:
				if !MatchValue(v, Stringify(v)) {
					t.Fatalf("claim %q = %v does not match its own text %q", k, v, Stringify(v))
				}
			}
		}
		_ = SplitList(pattern)
		for _, e := range SplitList(pattern) {
			if e == "" || e != strings.TrimSpace(e) || strings.Contains(e, ",") {
				t.Fatalf("SplitList(%q) gave %q", pattern, e)
			}
		}
	})
}
