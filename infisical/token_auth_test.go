package infisical_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestTokenAuth(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		clock := newTestClock()
		eng, org, _ := idSetup(t, b, clock.use)
		admin := infisical.Platform(org.ID)
		ident, err := eng.Identities.Create(ctx, admin, infisical.CreateIdentityInput{OrgID: org.ID, Name: "bot"})
		if err != nil {
			t.Fatal(err)
		}
		id := ident.IdentityID
		_, err = eng.TokenAuth.CreateToken(ctx, admin, id, infisical.CreateTokenInput{})
		wantErrKind(t, "token without token auth", err, infisical.KindNotFound, "Token Auth")
		_, err = eng.TokenAuth.Attach(ctx, admin, id, infisical.TokenSettings{AccessTokenTTL: i64(10), AccessTokenMaxTTL: i64(5)})
		wantErrKind(t, "ttl > max", err, infisical.KindValidation, "Access Token TTL cannot be greater than Access Token Max TTL.")
		cfg, err := eng.TokenAuth.Attach(ctx, admin, id, infisical.TokenSettings{AccessTokenTTL: i64(3600), AccessTokenMaxTTL: i64(7200)})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.IdentityID != id || cfg.AccessTokenTTL != 3600 || len(cfg.AccessTokenTrustedIPs) != 2 {
			t.Fatalf("config %+v", cfg)
		}
		_, err = eng.TokenAuth.Attach(ctx, admin, id, infisical.TokenSettings{})
		wantErrKind(t, "attach twice", err, infisical.KindBadRequest, "Failed to add Token Auth to already configured identity")
		if cfg, err = eng.TokenAuth.Update(ctx, admin, id, infisical.TokenSettings{AccessTokenNumUsesLimit: i64(5)}); err != nil || cfg.AccessTokenNumUsesLimit != 5 {
			t.Fatalf("update %v %+v", err, cfg)
		}
		if got, err := eng.TokenAuth.Get(ctx, admin, id); err != nil || got.AccessTokenNumUsesLimit != 5 || got.AccessTokenMaxTTL != 7200 {
			t.Fatalf("get %v %+v", err, got)
		}

		t1, err := eng.TokenAuth.CreateToken(ctx, admin, id, infisical.CreateTokenInput{Name: "first"})
		if err != nil {
			t.Fatal(err)
		}
		if t1.ExpiresIn != 3600 || t1.AccessTokenMaxTTL != 7200 || t1.Token.Name == nil || *t1.Token.Name != "first" ||
			t1.Token.AuthMethod != "token-auth" || t1.Token.AccessTokenNumUsesLimit != 5 || t1.Token.IdentityID != id {
			t.Fatalf("token %+v", t1)
		}
		clock.Advance(time.Second)
		t2, err := eng.TokenAuth.CreateToken(ctx, admin, id, infisical.CreateTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		list, err := eng.TokenAuth.ListTokens(ctx, admin, id, 0, 20)
		if err != nil || len(list) != 2 || list[0].ID != t2.Token.ID {
			t.Fatalf("list %v %+v", err, list)
		}
		if page, _ := eng.TokenAuth.ListTokens(ctx, admin, id, 1, 1); len(page) != 1 || page[0].ID != t1.Token.ID {
			t.Fatalf("page %+v", page)
		}
		name := "renamed"
		upd, err := eng.TokenAuth.UpdateToken(ctx, admin, t1.Token.ID, &name)
		if err != nil || *upd.Name != "renamed" {
			t.Fatalf("rename %v %+v", err, upd)
		}
		got, err := eng.TokenAuth.GetToken(ctx, admin, t1.Token.ID)
		if err != nil || *got.Name != "renamed" {
			t.Fatalf("get token %v %+v", err, got)
		}
		if _, err := eng.TokenAuth.GetIdentityToken(ctx, admin, id, t1.Token.ID); err != nil {
			t.Fatal(err)
		}
		other, _ := enginetest.IdentityToken(t, eng, org.ID, "no-access", "", "")
		_, err = eng.TokenAuth.GetIdentityToken(ctx, admin, other, t1.Token.ID)
		wantErrKind(t, "token of another identity", err, infisical.KindNotFound, "")

		idAuth(t, eng, t1.AccessToken)
		if err := eng.TokenAuth.RevokeToken(ctx, admin, t1.Token.ID); err != nil {
			t.Fatal(err)
		}
		_, err = eng.Authenticate(ctx, t1.AccessToken, "127.0.0.1")
		wantErrKind(t, "revoked by id", err, infisical.KindUnauthorized, "revoked")
		if list, _ := eng.TokenAuth.ListTokens(ctx, admin, id, 0, 20); len(list) != 1 {
			t.Fatalf("revoked token listed: %+v", list)
		}

		// Another organization's admin sees nothing.
		org2 := enginetest.Org(t, eng, "Two")
		_, tok2 := enginetest.IdentityToken(t, eng, org2.ID, "admin", "", "")
		stranger := idAuth(t, eng, tok2)
		_, err = eng.TokenAuth.GetToken(ctx, stranger, t2.Token.ID)
		wantErrKind(t, "foreign token", err, infisical.KindNotFound, "")
		err = eng.TokenAuth.RevokeToken(ctx, stranger, t2.Token.ID)
		wantErrKind(t, "foreign revoke", err, infisical.KindNotFound, "")

		removed, err := eng.TokenAuth.Revoke(ctx, admin, id)
		if err != nil || removed.ID != cfg.ID {
			t.Fatalf("revoke config %v %+v", err, removed)
		}
		_, err = eng.Authenticate(ctx, t2.AccessToken, "127.0.0.1")
		wantErrKind(t, "token after config removal", err, infisical.KindUnauthorized, "revoked")
		_, err = eng.TokenAuth.Get(ctx, admin, id)
		wantErrKind(t, "get removed", err, infisical.KindNotFound, "")
	})
}
