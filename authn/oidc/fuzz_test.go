package oidc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/jwtpolicy"
	"github.com/infisical-go/engine/authn/oidc"
)

// FuzzVerify feeds arbitrary ID tokens to a verifier of a local provider
// bound to a subject glob, an audience and a claim. Properties: no panic;
// refusals are *authn.LoginError; a token is accepted only when its signed
// part is one the provider signed and its claims satisfy every binding
// (issuer, subject, audience, claim), and the mapped claim is the token's.
func FuzzVerify(f *testing.F) {
	p := authntest.NewOIDC(f)
	other := authntest.NewSigningKey(f, p.Key.ID) // same kid, another key
	signed := map[string]bool{}
	sign := func(c authntest.Claims) string {
		tok := p.Token(c)
		signed[tok[:strings.LastIndexByte(tok, '.')]] = true
		return tok
	}
	gh := func() authntest.Claims {
		return authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/octo-org")
	}
	f.Add(sign(gh()))
	c := gh()
	c["sub"] = "repo:other/app:ref:refs/heads/main"
	f.Add(sign(c))
	c = gh()
	c["aud"] = []string{"x", "https://github.com/octo-org"}
	f.Add(sign(c))
	c = gh()
	c["repository_owner"] = []any{"octo-org"}
	f.Add(sign(c))
	c = gh()
	c["iss"] = "https://evil.example"
	f.Add(sign(c))
	c = gh()
	c["exp"] = time.Now().Add(-time.Hour).Unix()
	f.Add(sign(c))
	f.Add(other.Sign(gh()))
	f.Add(authntest.NewSigningKey(f, "").Sign(gh()))
	for _, s := range []string{"", "a.b.c", " x ", "e30.e30.e30", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	v, err := oidc.New(oidc.Config{DiscoveryURL: p.URL, BoundIssuer: p.URL, CACert: p.CAPEM,
		BoundSubject: "repo:octo-org/*", BoundAudiences: []string{"https://github.com/octo-org"},
		BoundClaims: map[string][]string{"repository_owner": {"octo-org"}}, ClaimMetadataMapping: map[string]string{"repo": "repository"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		pr, err := v.Verify(context.Background(), tok)
		if err != nil {
			var le *authn.LoginError
			if !errors.As(err, &le) {
				t.Fatalf("refusal is %T: %v", err, err)
			}
			if le.Reason == authn.ReasonIssuerUnavailable {
				t.Fatalf("the local provider is reachable: %v", err)
			}
			return
		}
		tok = strings.TrimSpace(tok)
		if !signed[tok[:strings.LastIndexByte(tok, '.')]] {
			t.Fatalf("accepted a token the provider never signed: %q", tok)
		}
		if pr.Issuer != p.URL || !jwtpolicy.Match("repo:octo-org/*", pr.Subject) ||
			!jwtpolicy.MatchValue(pr.All["aud"], "https://github.com/octo-org") || !jwtpolicy.MatchValue(pr.All["repository_owner"], "octo-org") {
			t.Fatalf("accepted claims outside the bindings: %v", pr.All)
		}
		if pr.Claims["repo"] != jwtpolicy.Stringify(pr.All["repository"]) {
			t.Fatalf("mapped %q from %v", pr.Claims["repo"], pr.All["repository"])
		}
	})
}
