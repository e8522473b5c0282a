package jwtauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/jwtauth"
	"github.com/infisical-go/engine/authn/jwtpolicy"
)

// FuzzVerify feeds arbitrary tokens to a static-key verifier (two keys)
// with issuer, subject, audience and claim bindings. Properties: no panic;
// refusals are *authn.LoginError; a token is accepted only when its signed
// part is one the test signed with a configured key and its claims satisfy
// every binding.
func FuzzVerify(f *testing.F) {
	k1 := authntest.NewSigningKey(f, "")
	k2 := authntest.NewSigningKey(f, "k2")
	outsider := authntest.NewSigningKey(f, "")
	signed := map[string]bool{}
	sign := func(k authntest.SigningKey, c authntest.Claims) string {
		tok := k.Sign(c)
		if k.Key != outsider.Key {
			signed[tok[:strings.LastIndexByte(tok, '.')]] = true
		}
		return tok
	}
	claims := func() authntest.Claims {
		return authntest.Claims{"iss": "https://issuer.example", "sub": "svc:billing", "aud": []string{"infisical", "other"},
			"team": "payments", "exp": time.Now().Add(time.Hour).Unix()}
	}
	f.Add(sign(k1, claims()))
	f.Add(sign(k2, claims()))
	f.Add(sign(outsider, claims()))
	for _, mod := range []func(authntest.Claims){
		func(c authntest.Claims) { c["iss"] = "https://other" },
		func(c authntest.Claims) { c["sub"] = "user:x" },
		func(c authntest.Claims) { delete(c, "sub") },
		func(c authntest.Claims) { c["aud"] = "infisical" },
		func(c authntest.Claims) { c["team"] = []any{"ops", "payments"} },
		func(c authntest.Claims) { c["team"] = 7 },
		func(c authntest.Claims) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
		func(c authntest.Claims) { c["nbf"] = time.Now().Add(time.Hour).Unix() },
	} {
		c := claims()
		mod(c)
		f.Add(sign(k1, c))
	}
	for _, s := range []string{"", ".", "a.b.c", "e30.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.x"} {
		f.Add(s)
	}
	v, err := jwtauth.New(jwtauth.Config{Type: jwtauth.TypeStatic, PublicKeys: []string{k1.PublicPEM(), k2.CertPEM("k2")},
		BoundIssuer: "https://issuer.example", BoundSubject: "svc:*", BoundAudiences: []string{"infisical"},
		BoundClaims: map[string][]string{"team": {"payments", "ops"}}})
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
			return
		}
		tok = strings.TrimSpace(tok)
		if !signed[tok[:strings.LastIndexByte(tok, '.')]] {
			t.Fatalf("accepted a token no configured key signed: %q", tok)
		}
		if pr.Issuer != "https://issuer.example" || !jwtpolicy.Match("svc:*", pr.Subject) ||
			!jwtpolicy.MatchValue(pr.All["aud"], "infisical") ||
			!(jwtpolicy.MatchValue(pr.All["team"], "payments") || jwtpolicy.MatchValue(pr.All["team"], "ops")) {
			t.Fatalf("accepted claims outside the bindings: %v", pr.All)
		}
	})
}
