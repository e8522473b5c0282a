// Package jwtpolicy checks the claims of a verified JWT against bound
// values (subject, audiences, claims) written as glob patterns, and maps
// claims to metadata. OIDC auth and JWT auth share it.
//
// Patterns: '*' matches any run of characters (including '/' and ':', so
// "repo:octo-org/*" covers every repository and ref of octo-org), '?' one
// character, and "{a,b}" either alternative. Anything else is literal.
package jwtpolicy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infisical-go/engine/authn"
)

// Dialect selects the refusal wording (OIDC auth and JWT auth word them
// differently upstream, and clients may show them).
type Dialect int

const (
	DialectOIDC Dialect = iota
	DialectJWT
)

// Policy is what a token's claims must satisfy. Empty fields are not
// checked.
type Policy struct {
	// BoundSubject is a pattern the sub claim must match.
	BoundSubject string
	// BoundAudiences: at least one must match aud (a string or any element
	// of an array).
	BoundAudiences []string
	// BoundClaims maps a dot path ("repository_owner", "nested.claim") to
	// patterns; the claim must exist and match one of them.
	BoundClaims map[string][]string
	// ClaimMetadataMapping maps an alias to a dot path whose value is copied
	// (as a string) into the result.
	ClaimMetadataMapping map[string]string
	Dialect              Dialect
}

// Check checks claims and returns the mapped metadata (nil when no mapping
// is configured). Refusals are *authn.LoginError.
func (p Policy) Check(claims map[string]any) (map[string]string, error) {
	oidc := p.Dialect == DialectOIDC
	if p.BoundSubject != "" {
		sub, ok := claims["sub"]
		if !ok && !oidc {
			return nil, authn.Refuse(authn.ReasonSubject, "Access denied: token has no subject field")
		}
		if !ok || !MatchValue(sub, p.BoundSubject) {
			if oidc {
				return nil, authn.Forbid(authn.ReasonSubject, "Access denied: OIDC subject not allowed.")
			}
			return nil, authn.Forbid(authn.ReasonSubject, "Access denied: subject not allowed")
		}
	}
	if len(p.BoundAudiences) > 0 {
		aud, ok := claims["aud"]
		if !ok && !oidc {
			return nil, authn.Refuse(authn.ReasonAudience, "Access denied: token has no audience field")
		}
		matched := false
		for _, pat := range p.BoundAudiences {
			if ok && MatchValue(aud, pat) {
				matched = true
				break
			}
		}
		if !matched {
			if oidc {
				return nil, authn.Refuse(authn.ReasonAudience, "Access denied: OIDC audience not allowed.")
			}
			return nil, authn.Refuse(authn.ReasonAudience, "Access denied: token audience not allowed")
		}
	}
	for _, path := range sortedKeys(p.BoundClaims) {
		v, ok := Lookup(claims, path)
		if !ok || isEmpty(v) {
			return nil, authn.Refuse(authn.ReasonClaim, "Access denied: token has no %s field", path)
		}
		matched := false
		for _, pat := range p.BoundClaims[path] {
			if MatchValue(v, pat) {
				matched = true
				break
			}
		}
		if !matched {
			if oidc {
				return nil, authn.Refuse(authn.ReasonClaim, "Access denied: OIDC claim not allowed.")
			}
			return nil, authn.Refuse(authn.ReasonClaim, "Access denied: claim mismatch for field %s", path)
		}
	}
	if len(p.ClaimMetadataMapping) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(p.ClaimMetadataMapping))
	for _, alias := range sortedKeys(p.ClaimMetadataMapping) {
		path := p.ClaimMetadataMapping[alias]
		v, ok := Lookup(claims, path)
		if !ok || v == nil {
			return nil, authn.Refuse(authn.ReasonClaim, "Access denied: token has no %s field", path)
		}
		out[alias] = Stringify(v)
	}
	return out, nil
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// Lookup returns the value at a dot path ("a.b.c"). A key containing dots
// is found too when it exists verbatim at the top level.
func Lookup(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// Stringify renders a claim value as text: strings as is, numbers and
// booleans in their JSON form, arrays and objects as JSON.
func Stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// MatchValue reports whether a claim value matches pattern: strings by
// equality or glob, numbers and booleans by their text, arrays when any
// element matches.
func MatchValue(v any, pattern string) bool {
	switch x := v.(type) {
	case string:
		return x == pattern || Match(pattern, x)
	case []any:
		for _, e := range x {
			if MatchValue(e, pattern) {
				return true
			}
		}
		return false
	case []string:
		for _, e := range x {
			if e == pattern || Match(pattern, e) {
				return true
			}
		}
		return false
	case map[string]any, nil:
		return false
	}
	return Stringify(v) == pattern
}

// Match reports whether s matches the glob pattern.
func Match(pattern, s string) bool {
	for _, alt := range expandBraces(pattern) {
		if matchGlob(alt, s) {
			return true
		}
	}
	return false
}

// expandBraces expands the first {a,b,...} group recursively. Unbalanced
// braces are literal.
func expandBraces(p string) []string {
	open := strings.IndexByte(p, '{')
	if open < 0 {
		return []string{p}
	}
	closeIdx := strings.IndexByte(p[open:], '}')
	if closeIdx < 0 {
		return []string{p}
	}
	closeIdx += open
	inner := p[open+1 : closeIdx]
	if !strings.Contains(inner, ",") {
		// Not a group: keep "{" literal and look further.
		rest := expandBraces(p[open+1:])
		out := make([]string, len(rest))
		for i, r := range rest {
			out[i] = p[:open+1] + r
		}
		return out
	}
	var out []string
	for _, alt := range strings.Split(inner, ",") {
		out = append(out, expandBraces(p[:open]+alt+p[closeIdx+1:])...)
		if len(out) > 256 {
			break // bound the expansion of hostile patterns
		}
	}
	return out
}

// matchGlob matches '*' and '?' with the classic linear backtracking
// algorithm (no exponential blow-up). '?' consumes one UTF-8 character (an
// invalid byte counts as one); everything else compares byte by byte.
func matchGlob(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '?':
			_, w := utf8.DecodeRuneInString(s[si:])
			pi++
			si += w
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			// Let the last '*' take one more character and retry.
			_, w := utf8.DecodeRuneInString(s[mark:])
			mark += w
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Deterministic order, so that the first refusal is stable.
	slices.Sort(keys)
	return keys
}

// SplitList splits a comma-separated setting ("a, b,c") into trimmed,
// non-empty entries.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
