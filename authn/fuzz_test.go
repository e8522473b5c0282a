package authn

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

const fuzzSecret = "0123456789abcdef0123456789abcdef"

var fuzzNow = time.Unix(1_700_000_000, 0)

func fuzzSigner(tb testing.TB, secret string) *Signer {
	tb.Helper()
	s, err := NewSigner([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	s.SetClock(func() time.Time { return fuzzNow })
	return s
}

// signingInput is the part of a compact JWT an HS256 signature covers.
func signingInput(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return tok
	}
	return tok[:i]
}

// FuzzSignerParse feeds arbitrary token strings to Parse and
// ParseUnverifiedExpiry. Properties: no panic; only the three typed errors;
// a token is accepted only when its signed part is one this signer signed
// (the fuzzer cannot forge an HMAC, so anything else is a verification
// bug); Parse never accepts what ParseUnverifiedExpiry refuses, and both
// return the same claims.
func FuzzSignerParse(f *testing.F) {
	s := fuzzSigner(f, fuzzSecret)
	other := fuzzSigner(f, "another-secret-another-secret-xx")
	signed := map[string]bool{}
	sign := func(sg *Signer, c *Claims) string {
		tok, err := sg.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		if sg == s {
			signed[signingInput(tok)] = true
		}
		return tok
	}
	ident := IdentityClaims(IdentityTokenSpec{TokenID: "tok", IdentityID: "id1", OrgID: "org", AuthMethod: "universal-auth",
		TTL: time.Hour, MaxTTL: 2 * time.Hour, CreatedAt: fuzzNow, IssuedAt: fuzzNow,
		Principal: map[string]any{"kubernetes": map[string]any{"namespace": "ns"}}})
	user := UserClaims(UserTokenSpec{UserID: "u1", TokenVersionID: "v1", OrgID: "org", AuthMethod: "email", TTL: time.Hour, IssuedAt: fuzzNow})
	expired := IdentityClaims(IdentityTokenSpec{TokenID: "old", IdentityID: "id1", TTL: time.Minute, IssuedAt: fuzzNow.Add(-time.Hour)})
	future := UserClaims(UserTokenSpec{UserID: "u2", IssuedAt: fuzzNow.Add(time.Hour)})
	noExp := IdentityClaims(IdentityTokenSpec{TokenID: "forever", IdentityID: "id2", IssuedAt: fuzzNow})
	seeds := []string{
		sign(s, ident), sign(s, user), sign(s, expired), sign(s, future), sign(s, noExp),
		sign(other, ident),
		"", "abc", "a.b", "a.b.c", "..", "!!!.e30.x", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.bnVsbA.x",
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, ident)
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	seeds = append(seeds, noneTok)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, ident).SignedString([]byte(fuzzSecret))
	seeds = append(seeds, hs512)
	// The valid token with a padded or re-encoded signature part.
	good := sign(s, ident)
	seeds = append(seeds, good+"=", strings.Replace(good, ".", "=.", 1), good+".x")
	for _, tok := range seeds {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Parse(tok)
		lc, lerr := s.ParseUnverifiedExpiry(tok)
		for _, e := range []error{err, lerr} {
			if e != nil && e != ErrTokenExpired && e != ErrTokenMalformed && e != ErrTokenAlgorithm {
				t.Fatalf("untyped error %v", e)
			}
		}
		if lerr == ErrTokenExpired {
			t.Fatal("ParseUnverifiedExpiry checked the expiry")
		}
		if lerr == nil && !signed[signingInput(tok)] {
			t.Fatalf("accepted a token this signer never signed: %q", tok)
		}
		if err == nil {
			if lerr != nil {
				t.Fatalf("Parse accepted what ParseUnverifiedExpiry refused (%v)", lerr)
			}
			if !reflect.DeepEqual(c, lc) {
				t.Fatalf("claims differ:\n%+v\n%+v", c, lc)
			}
			if c.ExpiresAt != nil && !c.ExpiresAt.After(fuzzNow) {
				t.Fatalf("Parse accepted a token that expired at %v", c.ExpiresAt)
			}
		}
	})
}

// FuzzSignerRoundTrip signs claims built from fuzzed fields and parses them
// back: the claims must come back unchanged, and a token signed with
// another secret or with its payload swapped must be refused.
func FuzzSignerRoundTrip(f *testing.F) {
	s := fuzzSigner(f, fuzzSecret)
	other := fuzzSigner(f, "another-secret-another-secret-xx")
	f.Add("id1", "my-identity", "org", "universal-auth", "ns", "kubernetes", int64(3600), int64(7200), int64(0), true)
	f.Add("", "", "", "", "", "", int64(0), int64(0), int64(5), false)
	f.Add("\u00e9\u4e16", "a\"b\\c", "</script>", "x\x00y", "\u2028", "k.e.y", int64(1), int64(1<<40), int64(-1), true)
	f.Fuzz(func(t *testing.T, identityID, name, orgID, method, pv, pk string, ttl, maxTTL, uses int64, ipr bool) {
		for _, str := range []string{identityID, name, orgID, method, pv, pk} {
			if !utf8.ValidString(str) {
				// JSON (and so a JWT) cannot carry invalid UTF-8: the
				// encoder replaces it.
				return
			}
		}
		if ttl < 0 || ttl > 10*365*24*3600 || maxTTL < 0 || maxTTL > 10*365*24*3600 {
			return
		}
		spec := IdentityTokenSpec{TokenID: "tok-" + identityID, IdentityID: identityID, IdentityName: name, OrgID: orgID,
			AuthMethod: method, Principal: map[string]any{pk: map[string]any{"v": pv}}, TTL: time.Duration(ttl) * time.Second,
			MaxTTL: time.Duration(maxTTL) * time.Second, NumUsesLimit: uses, IPRestricted: ipr, CreatedAt: fuzzNow, IssuedAt: fuzzNow}
		want := IdentityClaims(spec)
		tok, err := s.Sign(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Parse(tok)
		if err != nil {
			t.Fatalf("own token refused: %v", err)
		}
		// Compare through JSON: decoding turns numbers in identityAuth
		// into float64 and drops sub-second precision, as any reader does.
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Fatalf("claims changed:\n%s\n%s", wj, gj)
		}
		if !got.IsIdentity() || got.IsUser() {
			t.Fatal("identity token not classified as identity")
		}
		foreign, _ := other.Sign(want)
		if _, err := s.Parse(foreign); err == nil {
			t.Fatal("token of another secret accepted")
		}
		// Swap the payload of the signed token for another one.
		parts := strings.Split(tok, ".")
		alt := *want
		alt.IdentityID += "x"
		altJSON, _ := json.Marshal(&alt)
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(altJSON) + "." + parts[2]
		if _, err := s.Parse(forged); err == nil {
			t.Fatal("token with a swapped payload accepted")
		}

		u := UserClaims(UserTokenSpec{UserID: identityID, TokenVersionID: name, OrgID: orgID, AuthMethod: method,
			TTL: time.Duration(ttl) * time.Second, IssuedAt: fuzzNow})
		utok, err := s.Sign(u)
		if err != nil {
			t.Fatal(err)
		}
		ug, err := s.Parse(utok)
		if err != nil {
			t.Fatalf("own user token refused: %v", err)
		}
		if !ug.IsUser() || ug.IsIdentity() || ug.UserID != identityID || ug.OrganizationID != orgID {
			t.Fatalf("user claims %+v", ug)
		}
	})
}

// FuzzParseTrustedIPs checks the trusted-IP list invariants: entries parse
// or fail as a whole; every stored entry compiles; the address of each
// entry (and an address inside its CIDR) is allowed; an entry's type names
// its family; parsing the stored form again is a fixed point.
func FuzzParseTrustedIPs(f *testing.F) {
	for _, s := range []string{
		"10.0.0.0/8\n10.1.2.3", "0.0.0.0/0\n::/0\n10.0.0.1", "192.168.1.5\n192.168.1.5", "2001:db8::/32\n2001:db8::1",
		"127.0.0.1\n127.0.0.1:5555", "::ffff:127.0.0.1\n127.0.0.1", "::ffff:10.0.0.0/104\n10.0.0.7", " 10.0.0.1 \n10.0.0.1",
		"fe80::1%eth0\nfe80::1", "not-an-ip\n1.2.3.4", "10.0.0.0/99\n1.2.3.4", "1.2.3.4/32\n[1.2.3.4]:80", "::/128\n::",
		"10.1.2.3/8\n10.200.0.1", "\n", "1.2.3.4/-1\n", "01.2.3.4\n", "1.2.3.4/0\n2001:db8::1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		probe := lines[len(lines)-1]
		entries := lines[:len(lines)-1]
		list, err := ParseTrustedIPs(entries)
		if err != nil {
			if list != nil {
				t.Fatal("list returned with an error")
			}
			if !strings.Contains(err.Error(), "trusted IP #") {
				t.Fatalf("error does not name the entry: %v", err)
			}
			return
		}
		if len(list) != len(entries) {
			t.Fatalf("%d entries parsed into %d", len(entries), len(list))
		}
		set := CompileIPs(list)
		set.Allows(probe) // must not panic
		for i, e := range list {
			if e.Prefix == nil {
				t.Fatalf("entry %d has no prefix", i)
			}
			a, err := netip.ParseAddr(e.IPAddress)
			if err != nil {
				t.Fatalf("stored address %q does not parse: %v", e.IPAddress, err)
			}
			if want := map[bool]string{true: "ipv4", false: "ipv6"}[a.Is4() || a.Is4In6()]; e.Type != want {
				t.Fatalf("entry %q has type %s, want %s", entries[i], e.Type, want)
			}
			p, err := a.Prefix(*e.Prefix)
			if err != nil || p.Addr() != a {
				t.Fatalf("stored entry %+v is not a masked prefix", e)
			}
			if !set.Allows(a.String()) {
				t.Fatalf("the address of entry %q is not allowed (%+v)", entries[i], e)
			}
			// The last address of the prefix is inside it too.
			if last := lastAddr(p); !set.Allows(last.String()) {
				t.Fatalf("%s inside %s is not allowed", last, p)
			}
			if a.Is4() && !set.Allows(netip.AddrFrom16(a.As16()).String()) {
				t.Fatalf("IPv4-mapped form of %s is not allowed", a)
			}
			// The stored form parses back to itself.
			again, err := ParseTrustedIPs([]string{p.String()})
			if err != nil || len(again) != 1 || again[0].IPAddress != e.IPAddress || *again[0].Prefix != *e.Prefix || again[0].Type != e.Type {
				t.Fatalf("stored form %s does not parse back: %+v %v", p, again, err)
			}
		}
	})
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
