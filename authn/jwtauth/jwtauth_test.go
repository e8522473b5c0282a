package jwtauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/jwtauth"
)

func TestVerify(t *testing.T) {
	p := authntest.NewOIDC(t) // serves the JWKS
	static := authntest.NewSigningKey(t, "")
	second := authntest.NewSigningKey(t, "")
	claims := func() authntest.Claims {
		return authntest.Claims{"iss": "https://issuer.example", "sub": "svc:billing", "aud": []string{"infisical", "other"},
			"team": "payments", "exp": time.Now().Add(time.Minute).Unix()}
	}
	jwksCfg := jwtauth.Config{Type: jwtauth.TypeJWKS, JWKSURL: p.JWKSURL(), JWKSCACert: p.CAPEM}
	staticCfg := jwtauth.Config{Type: jwtauth.TypeStatic, PublicKeys: []string{second.PublicPEM(), static.PublicPEM()}}
	tests := []struct {
		name   string
		cfg    jwtauth.Config
		mod    func(*jwtauth.Config)
		token  func() string
		reason authn.Reason
	}{
		{name: "jwks", cfg: jwksCfg, token: func() string { return p.Key.Sign(claims()) }},
		{name: "static, second key", cfg: staticCfg, token: func() string { return static.Sign(claims()) }},
		{name: "bound issuer, subject, audience and claims", cfg: staticCfg, mod: func(c *jwtauth.Config) {
			c.BoundIssuer, c.BoundSubject = "https://issuer.example", "svc:*"
			c.BoundAudiences, c.BoundClaims = []string{"infisical"}, map[string][]string{"team": {"payments", "ops"}}
		}, token: func() string { return static.Sign(claims()) }},
		{name: "wrong issuer", cfg: staticCfg, mod: func(c *jwtauth.Config) { c.BoundIssuer = "https://other" },
			token: func() string { return static.Sign(claims()) }, reason: authn.ReasonIssuer},
		{name: "wrong audience", cfg: staticCfg, mod: func(c *jwtauth.Config) { c.BoundAudiences = []string{"nope"} },
			token: func() string { return static.Sign(claims()) }, reason: authn.ReasonAudience},
		{name: "wrong subject", cfg: staticCfg, mod: func(c *jwtauth.Config) { c.BoundSubject = "svc:ledger" },
			token: func() string { return static.Sign(claims()) }, reason: authn.ReasonSubject},
		{name: "claim mismatch", cfg: staticCfg, mod: func(c *jwtauth.Config) { c.BoundClaims = map[string][]string{"team": {"ops"}} },
			token: func() string { return static.Sign(claims()) }, reason: authn.ReasonClaim},
		{name: "expired", cfg: jwksCfg, token: func() string {
			c := claims()
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			return p.Key.Sign(c)
		}, reason: authn.ReasonExpired},
		{name: "bad signature, static", cfg: jwtauth.Config{Type: jwtauth.TypeStatic, PublicKeys: []string{second.PublicPEM()}},
			token: func() string { return static.Sign(claims()) }, reason: authn.ReasonBadSignature},
		{name: "unknown kid, jwks", cfg: jwksCfg, token: func() string {
			return authntest.NewSigningKey(t, "unknown").Sign(claims())
		}, reason: authn.ReasonUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			v, err := jwtauth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), tc.token())
			if got := authn.ReasonOf(err); got != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v (reason %q), want reason %q", err, got, tc.reason)
			}
		})
	}
	for _, bad := range []jwtauth.Config{{Type: "x"}, {Type: jwtauth.TypeStatic}, {Type: jwtauth.TypeStatic, PublicKeys: []string{"junk"}}, {Type: jwtauth.TypeJWKS, JWKSURL: "nope"}} {
		if _, err := jwtauth.New(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
