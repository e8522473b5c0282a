package authn

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSignParseIdentity(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s.SetClock(func() time.Time { return now })
	c := IdentityClaims(IdentityTokenSpec{TokenID: "tok", IdentityID: "id1", OrgID: "org", AuthMethod: "universal-auth",
		TTL: time.Hour, MaxTTL: 2 * time.Hour, CreatedAt: now, IssuedAt: now,
		Principal: map[string]any{"kubernetes": map[string]any{"namespace": "ns"}}})
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsIdentity() || got.IdentityAccessTokenID != "tok" || got.ID != "tok" || got.AccessTokenTTL != 3600 || got.RootOrgID != "org" {
		t.Fatalf("claims %+v", got)
	}
	if got.ExpiresAt == nil || !got.ExpiresAt.Time.Equal(now.Add(time.Hour)) {
		t.Fatalf("exp %v", got.ExpiresAt)
	}
	// expiry
	now = now.Add(2 * time.Hour)
	if _, err := s.Parse(tok); err != ErrTokenExpired {
		t.Fatalf("got %v want expired", err)
	}
}

func TestParseRejects(t *testing.T) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	other, _ := NewSigner([]byte("another-secret-another-secret-xx"))
	good, _ := other.Sign(&Claims{AuthTokenType: TokenTypeIdentity})
	none := jwt.NewWithClaims(jwt.SigningMethodNone, &Claims{AuthTokenType: TokenTypeIdentity})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512 := jwt.NewWithClaims(jwt.SigningMethodHS512, &Claims{})
	hs512Tok, _ := hs512.SignedString([]byte("0123456789abcdef0123456789abcdef"))
	cases := []struct {
		name string
		tok  string
		want error
	}{
		{"wrong key", good, ErrTokenMalformed},
		{"garbage", "abc", ErrTokenMalformed},
		{"alg none", noneTok, ErrTokenAlgorithm},
		{"hs512", hs512Tok, ErrTokenAlgorithm},
		{"bad header", "!!!.e30.x", ErrTokenMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Parse(c.tok); err != c.want {
				t.Fatalf("got %v want %v", err, c.want)
			}
		})
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestClientSecret(t *testing.T) {
	sec, prefix, hash, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(sec) != 64 || prefix != sec[:4] || SecretPrefix(sec) != prefix {
		t.Fatalf("secret %q prefix %q", sec, prefix)
	}
	if !SecretMatches(sec, hash) {
		t.Fatal("own secret does not match")
	}
	if SecretMatches(sec[:63]+"x", hash) || SecretMatches("", hash) {
		t.Fatal("wrong secret matches")
	}
	if strings.Contains(string(hash), sec) {
		t.Fatal("hash contains secret")
	}
}

func TestPassword(t *testing.T) {
	p := Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	h, err := HashPassword("correct horse", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash format %q", h)
	}
	ok, err := VerifyPassword("correct horse", h)
	if err != nil || !ok {
		t.Fatalf("verify: %v %v", ok, err)
	}
	ok, _ = VerifyPassword("wrong", h)
	if ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := VerifyPassword("x", "$bcrypt$..."); err != ErrBadPasswordHash {
		t.Fatalf("got %v", err)
	}
}

func TestTrustedIPs(t *testing.T) {
	cases := []struct {
		entries []string
		ip      string
		allow   bool
		wantErr bool
	}{
		{[]string{"0.0.0.0/0", "::/0"}, "10.1.2.3", true, false},
		{[]string{"10.0.0.0/8"}, "10.1.2.3", true, false},
		{[]string{"10.0.0.0/8"}, "11.1.2.3", false, false},
		{[]string{"192.168.1.5"}, "192.168.1.5", true, false},
		{[]string{"192.168.1.5"}, "192.168.1.6", false, false},
		{[]string{"2001:db8::/32"}, "2001:db8::1", true, false},
		{[]string{"127.0.0.1"}, "127.0.0.1:5555", true, false},
		{[]string{"127.0.0.1"}, "::ffff:127.0.0.1", true, false},
		{[]string{"not-an-ip"}, "", false, true},
		{[]string{"10.0.0.0/99"}, "", false, true},
	}
	for _, c := range cases {
		list, err := ParseTrustedIPs(c.entries)
		if (err != nil) != c.wantErr {
			t.Fatalf("%v: err %v", c.entries, err)
		}
		if c.wantErr {
			continue
		}
		if got := CompileIPs(list).Allows(c.ip); got != c.allow {
			t.Errorf("%v allows %s = %v, want %v", c.entries, c.ip, got, c.allow)
		}
	}
	if CompileIPs(AnyIP()).Restricted() {
		t.Fatal("AnyIP restricted")
	}
}
