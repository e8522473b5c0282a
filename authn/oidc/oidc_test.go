package oidc_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/jwks"
	"github.com/infisical-go/engine/authn/oidc"
)

func TestProviders(t *testing.T) {
	gh := authntest.NewOIDC(t)
	circle := authntest.NewOIDCPath(t, "/org/7f0c3a")
	other := authntest.NewSigningKey(t, gh.Key.ID) // same kid, different key: a forgery

	cfgFor := func(p *authntest.OIDCProvider, mod func(*oidc.Config)) oidc.Config {
		c := oidc.Config{DiscoveryURL: p.URL, BoundIssuer: p.URL, CACert: p.CAPEM}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	ghClaims := func() authntest.Claims {
		return authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/octo-org")
	}
	tests := []struct {
		name   string
		p      *authntest.OIDCProvider
		cfg    func(*oidc.Config)
		token  func() string
		reason authn.Reason
		check  func(t *testing.T, pr oidc.Principal)
	}{
		{name: "GitHub Actions with subject glob, audience, claims and mapping", p: gh,
			cfg: func(c *oidc.Config) {
				c.BoundSubject = "repo:octo-org/app:ref:refs/heads/*"
				c.BoundAudiences = []string{"https://github.com/octo-org"}
				c.BoundClaims = map[string][]string{"repository_owner": {"octo-org"}, "environment": {"staging", "prod*"}}
				c.ClaimMetadataMapping = map[string]string{"repo": "repository", "env": "environment"}
			},
			token: func() string { return gh.Token(ghClaims()) },
			check: func(t *testing.T, pr oidc.Principal) {
				if pr.Claims["repo"] != "octo-org/app" || pr.Claims["env"] != "production" {
					t.Fatalf("mapped claims %v", pr.Claims)
				}
				ia := pr.IdentityAuth()["oidc"].(map[string]any)["claims"].(map[string]any)
				if ia["repo"] != "octo-org/app" {
					t.Fatalf("identityAuth %v", ia)
				}
			}},
		{name: "GitLab CI", p: gh,
			cfg: func(c *oidc.Config) {
				c.BoundSubject = "project_path:platform/api:ref_type:branch:ref:main"
				c.BoundAudiences = []string{"https://infisical.example.com"}
				c.BoundClaims = map[string][]string{"namespace_path": {"platform"}, "ref_protected": {"true"}}
			},
			token: func() string {
				return gh.Token(authntest.GitLabClaims("platform", "api", "main", "https://infisical.example.com"))
			}},
		{name: "CircleCI issuer with a path", p: circle,
			cfg: func(c *oidc.Config) {
				c.BoundAudiences = []string{"7f0c3a"}
				c.BoundSubject = "org/7f0c3a/project/*"
				c.BoundClaims = map[string][]string{"oidc.circleci.com/project-id": {"p-42"}}
			},
			token: func() string { return circle.Token(authntest.CircleCIClaims("7f0c3a", "p-42", "u-1")) }},
		{name: "wrong audience", p: gh, cfg: func(c *oidc.Config) { c.BoundAudiences = []string{"https://github.com/other-org"} },
			token: func() string { return gh.Token(ghClaims()) }, reason: authn.ReasonAudience},
		{name: "wrong issuer", p: gh, cfg: func(c *oidc.Config) { c.BoundIssuer = "https://token.actions.githubusercontent.com" },
			token: func() string { return gh.Token(ghClaims()) }, reason: authn.ReasonIssuer},
		{name: "subject not allowed", p: gh, cfg: func(c *oidc.Config) { c.BoundSubject = "repo:octo-org/app:ref:refs/heads/release" },
			token: func() string { return gh.Token(ghClaims()) }, reason: authn.ReasonSubject},
		{name: "claim mismatch", p: gh, cfg: func(c *oidc.Config) { c.BoundClaims = map[string][]string{"repository_owner": {"evil-org"}} },
			token: func() string { return gh.Token(ghClaims()) }, reason: authn.ReasonClaim},
		{name: "claim missing", p: gh, cfg: func(c *oidc.Config) { c.BoundClaims = map[string][]string{"nope": {"*"}} },
			token: func() string { return gh.Token(ghClaims()) }, reason: authn.ReasonClaim},
		{name: "expired", p: gh, token: func() string {
			c := ghClaims()
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			return gh.Token(c)
		}, reason: authn.ReasonExpired},
		{name: "bad signature", p: gh, token: func() string {
			c := ghClaims()
			c["iss"] = gh.URL
			c["iat"], c["exp"] = time.Now().Unix(), time.Now().Add(time.Minute).Unix()
			return other.Sign(c)
		}, reason: authn.ReasonBadSignature},
		{name: "unknown kid", p: gh, token: func() string {
			k := authntest.NewSigningKey(t, "rotated-away")
			c := ghClaims()
			c["iss"], c["exp"] = gh.URL, time.Now().Add(time.Minute).Unix()
			return k.Sign(c)
		}, reason: authn.ReasonUnknownKey},
		{name: "not a JWT", p: gh, token: func() string { return "abc.def" }, reason: authn.ReasonMalformed},
		{name: "untrusted CA", p: gh, cfg: func(c *oidc.Config) { c.CACert = authntest.NewSigningKey(t, "x").CertPEM("other-ca") },
			token: func() string { return gh.Token(ghClaims()) }, reason: authn.ReasonIssuerUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := oidc.New(cfgFor(tc.p, tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			pr, err := v.Verify(context.Background(), tc.token())
			if tc.reason != "" {
				if got := authn.ReasonOf(err); got != tc.reason {
					t.Fatalf("reason %q (err %v), want %q", got, err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tc.check != nil {
				tc.check(t, pr)
			}
		})
	}
}

// TestCachedKeys checks that a shared cache fetches discovery and JWKS
// once for many logins, and again (once) when a new kid shows up.
func TestCachedKeys(t *testing.T) {
	p := authntest.NewOIDC(t)
	cache := jwks.NewCache(jwks.CacheConfig{MinRefresh: time.Nanosecond})
	cfg := oidc.Config{DiscoveryURL: p.URL, BoundIssuer: p.URL, CACert: p.CAPEM, Cache: cache}
	for i := 0; i < 20; i++ {
		v, err := oidc.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), p.Token(authntest.Claims{"sub": "s"})); err != nil {
			t.Fatal(err)
		}
	}
	if d, j := p.DiscoveryFetches.Load(), p.JWKSFetches.Load(); d != 1 || j != 1 {
		t.Fatalf("fetches: discovery %d, jwks %d; want 1 and 1", d, j)
	}
	rotated := authntest.NewSigningKey(t, "oidc-key-2")
	p.AddKey(rotated)
	v, _ := oidc.New(cfg)
	tok := rotated.Sign(authntest.Claims{"iss": p.URL, "sub": "s", "exp": time.Now().Add(time.Minute).Unix()})
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if j := p.JWKSFetches.Load(); j != 2 {
		t.Fatalf("jwks fetches after rotation %d, want 2", j)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []oidc.Config{{}, {DiscoveryURL: "ftp://x", BoundIssuer: "x"}, {DiscoveryURL: "https://x"}, {DiscoveryURL: "https://x", BoundIssuer: "x", CACert: "junk"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
