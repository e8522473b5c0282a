package jwtpolicy

import (
	"encoding/json"
	"testing"

	"github.com/infisical-go/engine/authn"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"repo:octo-org/*", "repo:octo-org/app:ref:refs/heads/main", true},
		{"repo:octo-org/app:ref:refs/heads/main", "repo:octo-org/app:ref:refs/heads/main", true},
		{"repo:octo-org/app:*", "repo:octo-org/other:ref:x", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"{staging,prod}-*", "prod-eu", true},
		{"{staging,prod}-*", "dev-eu", false},
		{"*", "", true},
		{"", "x", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"{x}", "{x}", true},
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestPolicy(t *testing.T) {
	var claims map[string]any
	_ = json.Unmarshal([]byte(`{"sub":"s1","aud":["a","b"],"n":{"deep":"v"},"num":42,"flag":true,"groups":["dev","ops"]}`), &claims)
	tests := []struct {
		name   string
		p      Policy
		reason authn.Reason
	}{
		{"all match", Policy{BoundSubject: "s*", BoundAudiences: []string{"x", "b"},
			BoundClaims: map[string][]string{"n.deep": {"v"}, "num": {"42"}, "flag": {"true"}, "groups": {"ops"}}}, ""},
		{"audience", Policy{BoundAudiences: []string{"c"}}, authn.ReasonAudience},
		{"subject", Policy{BoundSubject: "t*"}, authn.ReasonSubject},
		{"missing claim", Policy{BoundClaims: map[string][]string{"n.other": {"*"}}}, authn.ReasonClaim},
		{"claim value", Policy{BoundClaims: map[string][]string{"groups": {"admin"}}}, authn.ReasonClaim},
		{"mapping of a missing claim", Policy{ClaimMetadataMapping: map[string]string{"x": "absent"}}, authn.ReasonClaim},
	}
	for _, tc := range tests {
		_, err := tc.p.Check(claims)
		if got := authn.ReasonOf(err); got != tc.reason || (tc.reason == "" && err != nil) {
			t.Errorf("%s: err %v, want reason %q", tc.name, err, tc.reason)
		}
	}
	m, err := Policy{ClaimMetadataMapping: map[string]string{"d": "n.deep", "n": "num", "g": "groups"}}.Check(claims)
	if err != nil || m["d"] != "v" || m["n"] != "42" || m["g"] != `["dev","ops"]` {
		t.Fatalf("mapping %v %v", m, err)
	}
	if e := new(authn.LoginError); (Policy{BoundSubject: "x"}).Dialect == DialectOIDC {
		_, err := Policy{BoundSubject: "x"}.Check(claims)
		if !errorsAs(err, &e) || e.Class != authn.RefusedForbidden || e.Message != "Access denied: OIDC subject not allowed." {
			t.Fatalf("subject refusal %v", err)
		}
	}
}

func errorsAs(err error, target **authn.LoginError) bool {
	le, ok := err.(*authn.LoginError)
	if ok {
		*target = le
	}
	return ok
}
