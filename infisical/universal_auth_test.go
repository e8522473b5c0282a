package infisical_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func i64(v int64) *int64 { return &v }
func iptr(v int) *int    { return &v }
func bptr(v bool) *bool  { return &v }

// uaFixture is an identity with universal auth and one client secret.
type uaFixture struct {
	eng      *infisical.Engine
	clock    *testClock
	org      *infisical.Organization
	project  *infisical.Project
	admin    infisical.Actor
	identity string
	ua       *infisical.UniversalAuthConfig
	secret   string
}

func newUAFixture(t *testing.T, b enginetest.Backend, settings infisical.UniversalAuthSettings, cs infisical.CreateClientSecretInput) *uaFixture {
	t.Helper()
	ctx := context.Background()
	clock := newTestClock()
	eng, org, p := idSetup(t, b, clock.use)
	f := &uaFixture{eng: eng, clock: clock, org: org, project: p, admin: infisical.Platform(org.ID)}
	ident, err := eng.Identities.Create(ctx, f.admin, infisical.CreateIdentityInput{OrgID: org.ID, Name: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	f.identity = ident.IdentityID
	if _, err := eng.Memberships.AddIdentity(ctx, f.admin, p.ID, f.identity, []infisical.RoleAssignment{{Role: "viewer"}}); err != nil {
		t.Fatal(err)
	}
	if f.ua, err = eng.UniversalAuth.Attach(ctx, f.admin, f.identity, settings); err != nil {
		t.Fatal(err)
	}
	created, err := eng.UniversalAuth.CreateClientSecret(ctx, f.admin, f.identity, cs)
	if err != nil {
		t.Fatal(err)
	}
	f.secret = created.Secret
	return f
}

func (f *uaFixture) login(secret string) (*infisical.LoginResult, error) {
	return f.eng.UniversalAuth.Login(context.Background(), infisical.UniversalAuthLoginInput{ClientID: f.ua.ClientID, ClientSecret: secret, IP: "127.0.0.1"})
}

func (f *uaFixture) mustLogin(t *testing.T) *infisical.LoginResult {
	t.Helper()
	res, err := f.login(f.secret)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return res
}

func TestUniversalAuthConfig(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{}, infisical.CreateClientSecretInput{})
		ua := f.ua
		if ua.ClientID == "" || ua.AccessTokenTTL != 2592000 || ua.AccessTokenMaxTTL != 2592000 || ua.AccessTokenNumUsesLimit != 0 ||
			len(ua.AccessTokenTrustedIPs) != 2 || len(ua.ClientSecretTrustedIPs) != 2 || !ua.LockoutEnabled || ua.LockoutThreshold != 3 ||
			ua.LockoutDurationSeconds != 300 || ua.LockoutCounterResetSeconds != 30 {
			t.Fatalf("defaults %+v", ua)
		}
		_, err := f.eng.UniversalAuth.Attach(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{})
		wantErrKind(t, "attach twice", err, infisical.KindBadRequest, "already configured")

		other, err := f.eng.Identities.Create(ctx, f.admin, infisical.CreateIdentityInput{OrgID: f.org.ID, Name: "other"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			in    infisical.UniversalAuthSettings
			field string
		}{
			{"ttl > max", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTTL: i64(100), AccessTokenMaxTTL: i64(50)}}, "Access Token TTL cannot be greater than Access Token Max TTL."},
			{"ttl > default max", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTTL: i64(2592001)}}, "Access Token TTL cannot be greater"},
			{"ttl negative", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTTL: i64(-1)}}, "accessTokenTTL"},
			{"max too large", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenMaxTTL: i64(315360001)}}, "accessTokenMaxTTL"},
			{"uses negative", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenNumUsesLimit: i64(-1)}}, "accessTokenNumUsesLimit"},
			{"period negative", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenPeriod: i64(-5)}}, "accessTokenPeriod"},
			{"bad token ip", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTrustedIPs: []string{"10.0.0.0/8", "nope"}}}, "nope"},
			{"empty token ips", infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTrustedIPs: []string{}}}, "accessTokenTrustedIps"},
			{"bad secret ip", infisical.UniversalAuthSettings{ClientSecretTrustedIPs: []string{"1.2.3.4/40"}}, "clientSecretTrustedIps"},
			{"threshold", infisical.UniversalAuthSettings{LockoutThreshold: iptr(31)}, "lockoutThreshold"},
			{"duration", infisical.UniversalAuthSettings{LockoutDurationSeconds: iptr(29)}, "lockoutDurationSeconds"},
			{"reset", infisical.UniversalAuthSettings{LockoutCounterResetSeconds: iptr(3601)}, "lockoutCounterResetSeconds"},
		} {
			_, err := f.eng.UniversalAuth.Attach(ctx, f.admin, other.IdentityID, tc.in)
			wantErrKind(t, tc.name, err, infisical.KindValidation, tc.field)
		}

		upd, err := f.eng.UniversalAuth.Update(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{
			TokenSettings:  infisical.TokenSettings{AccessTokenTTL: i64(60), AccessTokenMaxTTL: i64(120), AccessTokenTrustedIPs: []string{"10.1.2.3", "2001:db8::/32"}},
			LockoutEnabled: bptr(false), LockoutThreshold: iptr(5)})
		if err != nil {
			t.Fatal(err)
		}
		if upd.AccessTokenTTL != 60 || upd.AccessTokenMaxTTL != 120 || upd.LockoutEnabled || upd.LockoutThreshold != 5 || upd.ClientID != ua.ClientID ||
			len(upd.AccessTokenTrustedIPs) != 2 || upd.AccessTokenTrustedIPs[0].IPAddress != "10.1.2.3" || *upd.AccessTokenTrustedIPs[0].Prefix != 32 ||
			upd.AccessTokenTrustedIPs[1].Type != "ipv6" {
			t.Fatalf("updated %+v", upd)
		}
		// Update compares TTL with max TTL only when both are sent.
		if _, err := f.eng.UniversalAuth.Update(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTTL: i64(500)}}); err != nil {
			t.Fatalf("ttl only: %v", err)
		}
		got, err := f.eng.UniversalAuth.Get(ctx, f.admin, f.identity)
		if err != nil || got.AccessTokenTTL != 500 || got.ClientID != ua.ClientID {
			t.Fatalf("get %v %+v", err, got)
		}
		_, err = f.eng.UniversalAuth.Get(ctx, f.admin, other.IdentityID)
		wantErrKind(t, "get unconfigured", err, infisical.KindNotFound, "Universal Auth")
	})
}

func TestUniversalAuthLogin(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenTTL: i64(600), AccessTokenMaxTTL: i64(1800)}},
			infisical.CreateClientSecretInput{Description: "ci"})
		if len(f.secret) != 64 || strings.Trim(f.secret, "0123456789abcdef") != "" {
			t.Fatalf("client secret %d chars", len(f.secret))
		}
		res := f.mustLogin(t)
		if res.TokenType != "Bearer" || res.ExpiresIn != 600 || res.AccessTokenMaxTTL != 1800 {
			t.Fatalf("login %+v", res)
		}
		a := idAuth(t, f.eng, res.AccessToken)
		if a.ID != f.identity || a.AuthMethod != "universal-auth" || a.OrgID != f.org.ID {
			t.Fatalf("actor %+v", a)
		}
		if _, err := f.eng.Projects.Get(ctx, a, infisical.ProjectRef{ID: f.project.ID}); err != nil {
			t.Fatalf("viewer reads: %v", err)
		}
		got, _ := f.eng.Identities.Get(ctx, f.admin, f.identity)
		if got.LastLoginAuthMethod == nil || *got.LastLoginAuthMethod != "universal-auth" || got.LastLoginTime == nil {
			t.Fatalf("last login %+v", got)
		}
		secrets, err := f.eng.UniversalAuth.ListClientSecrets(ctx, f.admin, f.identity)
		if err != nil || len(secrets) != 1 || secrets[0].NumUses != 1 || secrets[0].Prefix != f.secret[:4] || secrets[0].Description != "ci" {
			t.Fatalf("secrets %v %+v", err, secrets)
		}

		for _, tc := range []struct {
			name     string
			clientID string
			secret   string
			kind     infisical.Kind
			msg      string
		}{
			{"wrong secret", f.ua.ClientID, f.secret[:60] + "0000", infisical.KindUnauthorized, "Invalid credentials"},
			{"short secret", f.ua.ClientID, "ab", infisical.KindUnauthorized, "Invalid credentials"},
			{"unknown client", "00000000-0000-0000-0000-000000000000", f.secret, infisical.KindUnauthorized, "Invalid credentials"},
			{"missing secret", f.ua.ClientID, "", infisical.KindValidation, "clientSecret"},
			{"missing client", "", f.secret, infisical.KindValidation, "clientId"},
		} {
			_, err := f.eng.UniversalAuth.Login(ctx, infisical.UniversalAuthLoginInput{ClientID: tc.clientID, ClientSecret: tc.secret, IP: "127.0.0.1"})
			wantErrKind(t, tc.name, err, tc.kind, tc.msg)
			if err != nil && strings.Contains(err.Error(), f.secret) {
				t.Fatalf("%s: error contains the secret", tc.name)
			}
		}
		if _, err := f.eng.UniversalAuth.ClearLockouts(ctx, f.admin, f.identity); err != nil {
			t.Fatal(err)
		}

		// Renew within max TTL, refuse past it.
		f.clock.Advance(500 * time.Second)
		ren, err := f.eng.RenewToken(ctx, res.AccessToken)
		if err != nil {
			t.Fatalf("renew: %v", err)
		}
		if ren.ExpiresIn != 600 || ren.AccessToken == res.AccessToken {
			t.Fatalf("renewed %+v", ren)
		}
		idAuth(t, f.eng, ren.AccessToken)
		f.clock.Advance(500 * time.Second) // 1000 s after issue: 1000+600 ≤ 1800
		if ren, err = f.eng.RenewToken(ctx, ren.AccessToken); err != nil {
			t.Fatalf("second renew: %v", err)
		}
		f.clock.Advance(500 * time.Second) // 1500 s after issue: 1500+600 > 1800
		_, err = f.eng.RenewToken(ctx, ren.AccessToken)
		wantErrKind(t, "renew past max", err, infisical.KindUnauthorized, "past its Max TTL")
		idAuth(t, f.eng, ren.AccessToken) // still valid until its own expiry
		f.clock.Advance(301 * time.Second)
		if _, err = f.eng.Authenticate(ctx, ren.AccessToken, "127.0.0.1"); err == nil {
			t.Fatal("token valid past max TTL")
		}

		// Revoke ⇒ 401 on next use.
		res2 := f.mustLogin(t)
		idAuth(t, f.eng, res2.AccessToken)
		if err := f.eng.RevokeToken(ctx, res2.AccessToken); err != nil {
			t.Fatal(err)
		}
		_, err = f.eng.Authenticate(ctx, res2.AccessToken, "127.0.0.1")
		wantErrKind(t, "revoked token", err, infisical.KindUnauthorized, "revoked")

		// Revoking the client secret stops logins with it.
		if _, err := f.eng.UniversalAuth.RevokeClientSecret(ctx, f.admin, f.identity, secrets[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.login(f.secret)
		wantErrKind(t, "revoked secret", err, infisical.KindUnauthorized, "Invalid credentials")
		if list, _ := f.eng.UniversalAuth.ListClientSecrets(ctx, f.admin, f.identity); len(list) != 0 {
			t.Fatalf("revoked secret still listed: %+v", list)
		}
		cs, err := f.eng.UniversalAuth.GetClientSecret(ctx, f.admin, f.identity, secrets[0].ID)
		if err != nil || !cs.IsRevoked {
			t.Fatalf("get revoked %v %+v", err, cs)
		}
	})
}

func TestUniversalAuthLockout(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{LockoutThreshold: iptr(3), LockoutDurationSeconds: iptr(60), LockoutCounterResetSeconds: iptr(30)},
			infisical.CreateClientSecretInput{})
		wrong := strings.Repeat("0", 64)
		// Failures spread beyond the counter window do not lock.
		for i := 0; i < 4; i++ {
			_, err := f.login(wrong)
			wantErrKind(t, "wrong", err, infisical.KindUnauthorized, "Invalid credentials")
			f.clock.Advance(31 * time.Second)
		}
		f.mustLogin(t)
		for i := 0; i < 3; i++ {
			_, err := f.login(wrong)
			wantErrKind(t, "wrong", err, infisical.KindUnauthorized, "Invalid credentials")
		}
		_, err := f.login(f.secret)
		wantErrKind(t, "locked", err, infisical.KindUnauthorized, "temporarily locked")
		f.clock.Advance(59 * time.Second)
		_, err = f.login(f.secret)
		wantErrKind(t, "still locked", err, infisical.KindUnauthorized, "temporarily locked")
		f.clock.Advance(2 * time.Second)
		f.mustLogin(t)

		// Lock again, then clear the lockouts explicitly.
		for i := 0; i < 3; i++ {
			_, _ = f.login(wrong)
		}
		_, err = f.login(f.secret)
		wantErrKind(t, "locked again", err, infisical.KindUnauthorized, "temporarily locked")
		n, err := f.eng.UniversalAuth.ClearLockouts(ctx, f.admin, f.identity)
		if err != nil || n != 1 {
			t.Fatalf("clear lockouts: %d %v", n, err)
		}
		f.mustLogin(t)

		// Concurrent failures are all counted (row lock on PostgreSQL).
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = f.login(wrong) }()
		}
		wg.Wait()
		_, err = f.login(f.secret)
		wantErrKind(t, "locked after concurrent failures", err, infisical.KindUnauthorized, "temporarily locked")

		// Lockout disabled: no lock.
		if _, err := f.eng.UniversalAuth.ClearLockouts(ctx, f.admin, f.identity); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.UniversalAuth.Update(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{LockoutEnabled: bptr(false)}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			_, _ = f.login(wrong)
		}
		f.mustLogin(t)
	})
}

func TestUniversalAuthClientSecretLimits(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{}, infisical.CreateClientSecretInput{TTL: 100})
		f.mustLogin(t)
		f.clock.Advance(100 * time.Second)
		_, err := f.login(f.secret)
		wantErrKind(t, "expired secret", err, infisical.KindUnauthorized, "Access denied due to expired client secret")
		// The expired secret is now revoked for good.
		_, err = f.login(f.secret)
		wantErrKind(t, "expired secret again", err, infisical.KindUnauthorized, "Invalid credentials")

		limited, err := f.eng.UniversalAuth.CreateClientSecret(ctx, f.admin, f.identity, infisical.CreateClientSecretInput{NumUsesLimit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if _, err := f.login(limited.Secret); err != nil {
				t.Fatalf("use %d: %v", i+1, err)
			}
		}
		_, err = f.login(limited.Secret)
		wantErrKind(t, "uses exhausted", err, infisical.KindUnauthorized, "Access denied due to client secret usage limit reached")
		cs, err := f.eng.UniversalAuth.GetClientSecret(ctx, f.admin, f.identity, limited.Data.ID)
		if err != nil || !cs.IsRevoked || cs.NumUses != 2 {
			t.Fatalf("exhausted secret %v %+v", err, cs)
		}

		for _, tc := range []struct {
			name  string
			in    infisical.CreateClientSecretInput
			field string
		}{
			{"negative uses", infisical.CreateClientSecretInput{NumUsesLimit: -1}, "numUsesLimit"},
			{"ttl too large", infisical.CreateClientSecretInput{TTL: 315360001}, "ttl"},
			{"negative ttl", infisical.CreateClientSecretInput{TTL: -1}, "ttl"},
		} {
			_, err := f.eng.UniversalAuth.CreateClientSecret(ctx, f.admin, f.identity, tc.in)
			wantErrKind(t, tc.name, err, infisical.KindValidation, tc.field)
		}
	})
}

func TestUniversalAuthTrustedIPs(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{ClientSecretTrustedIPs: []string{"10.0.0.0/8"}}, infisical.CreateClientSecretInput{})
		_, err := f.login(f.secret)
		wantErrKind(t, "client secret from untrusted ip", err, infisical.KindForbidden, "127.0.0.1")
		res, err := f.eng.UniversalAuth.Login(ctx, infisical.UniversalAuthLoginInput{ClientID: f.ua.ClientID, ClientSecret: f.secret, IP: "10.2.3.4"})
		if err != nil {
			t.Fatalf("login from trusted ip: %v", err)
		}
		idAuth(t, f.eng, res.AccessToken) // access token IPs: any

		if _, err := f.eng.UniversalAuth.Update(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{ClientSecretTrustedIPs: []string{"0.0.0.0/0", "::/0"},
			TokenSettings: infisical.TokenSettings{AccessTokenTrustedIPs: []string{"10.0.0.0/8"}}}); err != nil {
			t.Fatal(err)
		}
		res = f.mustLogin(t)
		_, err = f.eng.Authenticate(ctx, res.AccessToken, "127.0.0.1")
		wantErrKind(t, "token from untrusted ip", err, infisical.KindForbidden, "127.0.0.1")
		if _, err := f.eng.Authenticate(ctx, res.AccessToken, "10.9.9.9"); err != nil {
			t.Fatalf("token from trusted ip: %v", err)
		}
	})
}

func TestUniversalAuthTokenUseLimitAndRevokeConfig(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenNumUsesLimit: i64(2)}}, infisical.CreateClientSecretInput{})
		res := f.mustLogin(t)
		idAuth(t, f.eng, res.AccessToken)
		idAuth(t, f.eng, res.AccessToken)
		_, err := f.eng.Authenticate(ctx, res.AccessToken, "127.0.0.1")
		wantErrKind(t, "third use", err, infisical.KindUnauthorized, "usage limit")
		_, err = f.eng.RenewToken(ctx, res.AccessToken)
		wantErrKind(t, "renew exhausted", err, infisical.KindUnauthorized, "uses limit")

		if _, err := f.eng.UniversalAuth.Update(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenNumUsesLimit: i64(0)}}); err != nil {
			t.Fatal(err)
		}
		live := f.mustLogin(t)
		idAuth(t, f.eng, live.AccessToken)
		removed, err := f.eng.UniversalAuth.Revoke(ctx, f.admin, f.identity)
		if err != nil || removed.ClientID != f.ua.ClientID {
			t.Fatalf("revoke config: %v %+v", err, removed)
		}
		_, err = f.eng.Authenticate(ctx, live.AccessToken, "127.0.0.1")
		wantErrKind(t, "token of removed config", err, infisical.KindUnauthorized, "revoked")
		_, err = f.login(f.secret)
		wantErrKind(t, "login after removal", err, infisical.KindUnauthorized, "Invalid credentials")
		_, err = f.eng.UniversalAuth.ListClientSecrets(ctx, f.admin, f.identity)
		wantErrKind(t, "secrets after removal", err, infisical.KindNotFound, "")
		// It can be attached afresh, with a new client id.
		again, err := f.eng.UniversalAuth.Attach(ctx, f.admin, f.identity, infisical.UniversalAuthSettings{})
		if err != nil || again.ClientID == f.ua.ClientID {
			t.Fatalf("re-attach %v %+v", err, again)
		}
	})
}

func TestUniversalAuthOrganizationSlug(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{}, infisical.CreateClientSecretInput{})
		login := func(slug string) (*infisical.LoginResult, error) {
			return f.eng.UniversalAuth.Login(ctx, infisical.UniversalAuthLoginInput{ClientID: f.ua.ClientID, ClientSecret: f.secret, OrganizationSlug: slug, IP: "127.0.0.1"})
		}
		res, err := login(f.org.Slug)
		if err != nil {
			t.Fatalf("own slug: %v", err)
		}
		if a := idAuth(t, f.eng, res.AccessToken); a.OrgID != f.org.ID {
			t.Fatalf("org %s", a.OrgID)
		}
		_, err = login("no-such-org")
		wantErrKind(t, "unknown slug", err, infisical.KindNotFound, "no-such-org")
		other := enginetest.Org(t, f.eng, "Elsewhere")
		_, err = login(other.Slug)
		wantErrKind(t, "foreign org", err, infisical.KindUnauthorized, "not authorized")
	})
}

func TestPeriodicToken(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newUAFixture(t, b, infisical.UniversalAuthSettings{TokenSettings: infisical.TokenSettings{AccessTokenPeriod: i64(60), AccessTokenTTL: i64(0), AccessTokenMaxTTL: i64(0)}},
			infisical.CreateClientSecretInput{})
		res := f.mustLogin(t)
		if res.ExpiresIn != 60 || res.AccessTokenMaxTTL != 1000000000 {
			t.Fatalf("periodic %+v", res)
		}
		tok := res.AccessToken
		for i := 0; i < 3; i++ {
			f.clock.Advance(50 * time.Second)
			r, err := f.eng.RenewToken(ctx, tok)
			if err != nil {
				t.Fatalf("renew %d: %v", i, err)
			}
			tok = r.AccessToken
		}
		idAuth(t, f.eng, tok)
	})
}
