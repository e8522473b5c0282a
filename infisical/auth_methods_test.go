package infisical_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func strp(s string) *string { return &s }

// TestAuthMethodRegistry drives the registry through the engine's public
// API, as an embedding program would: attach, partial update, get, login
// with an issuer of its own, revoke.
func TestAuthMethodRegistry(t *testing.T) {
	p := authntest.NewOIDC(t)
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng := enginetest.Open(t, b, func(c *infisical.Config) { c.AuthIssuers.HTTPClient = p.Server.Client() })
		if got := len(eng.AuthMethods.Methods()); got != 7 {
			t.Fatalf("registered methods %v", eng.AuthMethods.Methods())
		}
		org := enginetest.Org(t, eng, "registry")
		admin := infisical.Platform(org.ID)
		ident, err := eng.Identities.Create(ctx, admin, infisical.CreateIdentityInput{Name: "ci", OrgID: org.ID, Role: "no-access"})
		if err != nil {
			t.Fatal(err)
		}
		id := ident.IdentityID
		ttl := int64(60)
		d, err := eng.AuthMethods.Attach(ctx, admin, id, infisical.TokenSettings{AccessTokenTTL: &ttl},
			&infisical.OIDCAuthSettings{OIDCDiscoveryURL: strp(p.URL + "/"), BoundIssuer: strp(p.URL), CACert: strp(p.CAPEM),
				BoundAudiences: strp(" a ,b,, "), ClaimMetadataMapping: &map[string]string{"who": "sub"}})
		if err != nil {
			t.Fatal(err)
		}
		f := d.Fields.(*infisical.OIDCAuthFields)
		if d.Method != infisical.AuthMethodOIDC || d.AccessTokenTTL != 60 || f.OIDCDiscoveryURL != p.URL || f.BoundAudiences != "a, b" || f.CACert == "" {
			t.Fatalf("attach %+v %+v", d, f)
		}
		// A partial update keeps what it does not name.
		d, err = eng.AuthMethods.Update(ctx, admin, id, infisical.TokenSettings{}, infisical.OIDCAuthSettings{BoundSubject: strp("svc-*")})
		if err != nil {
			t.Fatal(err)
		}
		f = d.Fields.(*infisical.OIDCAuthFields)
		if f.BoundSubject != "svc-*" || f.BoundAudiences != "a, b" || f.CACert == "" || f.ClaimMetadataMapping["who"] != "sub" || d.AccessTokenTTL != 60 {
			t.Fatalf("update %+v", f)
		}
		// Settings of another method are refused.
		if _, err := eng.AuthMethods.Update(ctx, admin, id, infisical.TokenSettings{}, &infisical.AWSAuthSettings{}); infisical.KindOf(err) != infisical.KindNotFound {
			t.Fatalf("aws update of an identity without aws auth: %v", err)
		}
		res, err := eng.AuthMethods.Login(ctx, infisical.MachineLogin{Method: infisical.AuthMethodOIDC, IdentityID: id, IP: "127.0.0.1",
			JWT: p.Token(authntest.Claims{"sub": "svc-build", "aud": "b"})})
		if err != nil || res.ExpiresIn != 60 {
			t.Fatalf("login %+v %v", res, err)
		}
		actor, err := eng.Authenticate(ctx, res.AccessToken, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		claims := actor.Principal["oidc"].(map[string]any)["claims"].(map[string]any)
		if claims["who"] != "svc-build" || actor.AuthMethod != infisical.AuthMethodOIDC {
			t.Fatalf("principal %v", actor.Principal)
		}
		if _, err := eng.AuthMethods.Login(ctx, infisical.MachineLogin{Method: infisical.AuthMethodOIDC, IdentityID: id,
			JWT: p.Token(authntest.Claims{"sub": "human", "aud": "b"})}); infisical.KindOf(err) != infisical.KindForbidden {
			t.Fatalf("subject refusal: %v", err)
		}
		if _, err := eng.AuthMethods.Revoke(ctx, admin, id, infisical.AuthMethodOIDC); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Authenticate(ctx, res.AccessToken, "127.0.0.1"); infisical.KindOf(err) != infisical.KindUnauthorized {
			t.Fatalf("token of a revoked method: %v", err)
		}
	})
}

func TestAuthIssuersFromEnv(t *testing.T) {
	env := map[string]string{infisical.EnvAuthAWSSTSEndpoint: "https://sts.{region}.vpce.example/", infisical.EnvAuthKeyCacheTTL: "90s"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := infisical.AuthIssuersFromEnv(lookup)
	if err != nil || got.AWSRegionalSTSEndpoint != "https://sts.{region}.vpce.example/" || got.KeyCacheTTL != 90*time.Second || got.GoogleCertsURL != "" {
		t.Fatalf("%+v %v", got, err)
	}
	env[infisical.EnvAuthLDAPTimeout] = "soon"
	if _, err := infisical.AuthIssuersFromEnv(lookup); err == nil {
		t.Fatal("bad duration accepted")
	}
}
