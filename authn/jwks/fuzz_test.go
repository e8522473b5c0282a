package jwks

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/infisical-go/engine/authn"
)

// fuzzKeys are the keys of the fuzz targets: one of each supported type,
// plus keys that must be refused (short RSA, X25519).
type fuzzKeys struct {
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	short   *rsa.PrivateKey
	x25519  *ecdh.PrivateKey
	rsaCert []byte // self-signed certificate of rsa
	ecCert  []byte
	short1k []byte // self-signed certificate of the short RSA key
}

func newFuzzKeys(tb testing.TB) *fuzzKeys {
	tb.Helper()
	k := &fuzzKeys{}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		tb.Fatal(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		tb.Fatal(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		tb.Fatal(err)
	}
	if k.short, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		tb.Fatal(err)
	}
	if k.x25519, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		tb.Fatal(err)
	}
	cert := func(priv crypto.Signer) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
		if err != nil {
			tb.Fatal(err)
		}
		return der
	}
	k.rsaCert, k.ecCert, k.short1k = cert(k.rsa), cert(k.ec), cert(k.short)
	return k
}

// checkUsable fails when a parsed key could not verify a JWT under this
// package's rules.
func checkUsable(t *testing.T, what string, pub crypto.PublicKey) {
	t.Helper()
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 || p.E < 3 {
			t.Fatalf("%s: RSA key of %d bits, exponent %d accepted", what, p.N.BitLen(), p.E)
		}
	case *ecdsa.PublicKey:
		if !p.Curve.IsOnCurve(p.X, p.Y) { //nolint:staticcheck // validity of parsed input
			t.Fatalf("%s: EC point not on its curve", what)
		}
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			t.Fatalf("%s: Ed25519 key of %d bytes", what, len(p))
		}
	default:
		t.Fatalf("%s: key of type %T accepted", what, pub)
	}
}

// FuzzParse feeds arbitrary documents to Parse (issuers' JWKS endpoints are
// remote input). Properties: no panic; every returned key can verify
// signatures (supported type, RSA ≥ 2048 bits, EC point on the curve,
// Ed25519 of 32 bytes), whether it came from n/e, x/y or an x5c
// certificate; a key re-encoded with EncodeJWK parses back to the same key.
func FuzzParse(f *testing.F) {
	k := newFuzzKeys(f)
	doc := func(keys ...map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"keys": keys})
		return b
	}
	jwk := func(kid string, pub crypto.PublicKey) map[string]any {
		m, err := EncodeJWK(kid, "", pub)
		if err != nil {
			f.Fatal(err)
		}
		return m
	}
	b64 := base64.StdEncoding.EncodeToString
	f.Add(doc(jwk("r", &k.rsa.PublicKey), jwk("e", &k.ec.PublicKey), jwk("d", k.ed.Public())))
	f.Add(doc(jwk("short", &k.short.PublicKey)))
	f.Add(doc(map[string]any{"kid": "c", "kty": "RSA", "x5c": []string{b64(k.rsaCert)}}))
	f.Add(doc(map[string]any{"kid": "c", "kty": "EC", "x5c": []string{b64(k.ecCert)}}))
	f.Add(doc(map[string]any{"kid": "c1k", "kty": "RSA", "x5c": []string{b64(k.short1k)}}))
	f.Add(doc(map[string]any{"kid": "bad", "kty": "RSA", "x5c": []string{"!!"}}))
	f.Add(doc(map[string]any{"kid": "e", "kty": "RSA", "n": "AQAB", "e": "AQAB"}))
	f.Add(doc(map[string]any{"kid": "e", "kty": "RSA", "n": jwk("r", &k.rsa.PublicKey)["n"], "e": "Ag"}))
	f.Add(doc(map[string]any{"kid": "p", "kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"}))
	f.Add(doc(map[string]any{"kid": "o", "kty": "OKP", "crv": "X25519", "x": base64.RawURLEncoding.EncodeToString(k.x25519.PublicKey().Bytes())}))
	f.Add(doc(map[string]any{"kid": "o", "kty": "OKP", "crv": "Ed25519", "x": "AA=="}))
	f.Add(doc(map[string]any{"kid": "enc", "kty": "RSA", "use": "enc"}, map[string]any{"kty": "oct", "k": "AAAA"}))
	for _, s := range []string{`{}`, `{"keys":null}`, `{"keys":{}}`, `[]`, `null`, `{"keys":[null,1,"x"]}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse(data)
		if err != nil {
			if set != nil {
				t.Fatal("set returned with an error")
			}
			return
		}
		for i, key := range set.Keys {
			checkUsable(t, "key "+key.ID, key.Public)
			if key.Cert != nil && !reflect.DeepEqual(key.Cert.PublicKey, key.Public) {
				t.Fatalf("key %d: certificate and public key differ", i)
			}
			m, err := EncodeJWK(key.ID, key.Alg, key.Public)
			if err != nil {
				t.Fatalf("key %d (%T) does not encode: %v", i, key.Public, err)
			}
			again, err := Parse(doc(m))
			if err != nil || len(again.Keys) != 1 {
				t.Fatalf("key %d does not parse back: %v", i, err)
			}
			type equaler interface{ Equal(crypto.PublicKey) bool }
			if !key.Public.(equaler).Equal(again.Keys[0].Public) || again.Keys[0].ID != key.ID {
				t.Fatalf("key %d changed through EncodeJWK", i)
			}
		}
	})
}

// FuzzParsePEM feeds arbitrary text to ParsePEM (static keys of JWT auth,
// Google's certificate maps). Properties: no panic; an accepted key is of
// a type a JWT can be verified with.
func FuzzParsePEM(f *testing.F) {
	k := newFuzzKeys(f)
	enc := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	pkix := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			f.Fatal(err)
		}
		return der
	}
	f.Add(enc("PUBLIC KEY", pkix(&k.rsa.PublicKey)))
	f.Add(enc("PUBLIC KEY", pkix(&k.ec.PublicKey)))
	f.Add(enc("PUBLIC KEY", pkix(k.ed.Public())))
	f.Add(enc("PUBLIC KEY", pkix(k.x25519.PublicKey())))
	f.Add(enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)))
	f.Add(enc("CERTIFICATE", k.ecCert))
	f.Add(enc("CERTIFICATE", k.rsaCert))
	f.Add(enc("PRIVATE KEY", []byte{1, 2, 3}))
	f.Add("  \n" + enc("PUBLIC KEY", []byte{0x30, 0}) + "trailing")
	f.Add("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePEM(s)
		if err != nil {
			if pub != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		switch pub.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			t.Fatalf("ParsePEM accepted a %T, which cannot verify a JWT", pub)
		}
	})
}

// FuzzVerifySet feeds arbitrary tokens to VerifySet over a set with one key
// of each type. Properties: no panic; refusals are *authn.LoginError; a
// token is accepted only when its signed part is one the test signed (the
// fuzzer cannot forge RSA, ECDSA or Ed25519 signatures, so anything else is
// a verification bug); the claims returned are those of the token;
// expired tokens and tokens of another issuer are refused.
func FuzzVerifySet(f *testing.F) {
	k := newFuzzKeys(f)
	now := time.Unix(1_700_000_000, 0)
	var keys []map[string]any
	for kid, pub := range map[string]crypto.PublicKey{"r": &k.rsa.PublicKey, "e": &k.ec.PublicKey, "d": k.ed.Public()} {
		m, _ := EncodeJWK(kid, "", pub)
		keys = append(keys, m)
	}
	raw, _ := json.Marshal(map[string]any{"keys": keys})
	set, err := Parse(raw)
	if err != nil || len(set.Keys) != 3 {
		f.Fatalf("set: %v", err)
	}
	signed := map[string]bool{}
	sign := func(m jwt.SigningMethod, kid string, priv any, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(m, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(priv)
		if err != nil {
			f.Fatal(err)
		}
		signed[s[:strings.LastIndexByte(s, '.')]] = true
		return s
	}
	good := jwt.MapClaims{"iss": "https://issuer", "sub": "s", "aud": []string{"a"}, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	expired := jwt.MapClaims{"iss": "https://issuer", "exp": now.Add(-time.Hour).Unix()}
	foreign := jwt.MapClaims{"iss": "https://other", "exp": now.Add(time.Hour).Unix()}
	for _, tok := range []string{
		sign(jwt.SigningMethodRS256, "r", k.rsa, good), sign(jwt.SigningMethodPS384, "r", k.rsa, good),
		sign(jwt.SigningMethodES256, "e", k.ec, good), sign(jwt.SigningMethodEdDSA, "d", k.ed, good),
		sign(jwt.SigningMethodEdDSA, "", k.ed, good), sign(jwt.SigningMethodES256, "e", k.ec, expired),
		sign(jwt.SigningMethodRS256, "r", k.rsa, foreign), sign(jwt.SigningMethodRS256, "unknown", k.rsa, good),
		sign(jwt.SigningMethodES256, "r", k.ec, good),
	} {
		f.Add(tok)
	}
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good).SignedString(raw)
	f.Add(hs)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	f.Add(none)
	for _, s := range []string{"", "a.b.c", "e30.e30.", "eyJraWQiOiJyIn0.e30.AA", "..", "a.b.c.d"} {
		f.Add(s)
	}
	opts := Options{Issuer: "https://issuer", Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, tok string) {
		refetched := false
		claims, err := VerifySet(tok, set, func() (*Set, error) { refetched = true; return set, nil }, opts)
		if err != nil {
			var le *authn.LoginError
			if !errors.As(err, &le) {
				t.Fatalf("refusal is %T: %v", err, err)
			}
			if claims != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		if !signed[tok[:strings.LastIndexByte(tok, '.')]] {
			t.Fatalf("accepted a token nobody signed: %q", tok)
		}
		if refetched {
			t.Fatal("a known kid triggered a refetch")
		}
		if claims.String("iss") != "https://issuer" {
			t.Fatalf("accepted issuer %q", claims.String("iss"))
		}
		un, err := Unverified(tok)
		if err != nil || !reflect.DeepEqual(un, claims) {
			t.Fatalf("verified claims differ from the token's: %v", err)
		}
		if _, _, err := Header(tok); err != nil {
			t.Fatalf("verified token has no readable header: %v", err)
		}
	})
}
