package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/infisical-go/engine/authn"
)

func TestKeyTypesRoundTrip(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	keys := []struct {
		kid, alg string
		method   jwt.SigningMethod
		priv     any
		pub      any
	}{
		{"r", "RS256", jwt.SigningMethodRS256, rk, &rk.PublicKey},
		{"e", "ES256", jwt.SigningMethodES256, ek, &ek.PublicKey},
		{"d", "EdDSA", jwt.SigningMethodEdDSA, edk, edk.Public()},
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	for _, k := range keys {
		j, err := EncodeJWK(k.kid, k.alg, k.pub)
		if err != nil {
			t.Fatal(err)
		}
		doc.Keys = append(doc.Keys, j)
	}
	doc.Keys = append(doc.Keys, map[string]any{"kid": "enc", "kty": "RSA", "use": "enc"}, map[string]any{"kid": "odd", "kty": "oct", "k": "AAAA"})
	raw, _ := json.Marshal(doc)
	set, err := Parse(raw)
	if err != nil || len(set.Keys) != 3 {
		t.Fatalf("parse: %d keys, %v", len(set.Keys), err)
	}
	for _, k := range keys {
		tok := jwt.NewWithClaims(k.method, jwt.MapClaims{"sub": k.kid, "exp": time.Now().Add(time.Minute).Unix()})
		tok.Header["kid"] = k.kid
		s, err := tok.SignedString(k.priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := VerifySet(s, set, nil, Options{})
		if err != nil || c.String("sub") != k.kid {
			t.Fatalf("%s: %v %v", k.kid, c, err)
		}
	}
}

// TestAlgorithmConfusion: a token "signed" with HS256 using the public key
// as the HMAC secret must never verify.
func TestAlgorithmConfusion(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "exp": time.Now().Add(time.Minute).Unix()})
	s, _ := tok.SignedString(pemKey)
	if _, err := Verify(s, &rk.PublicKey, Options{}); authn.ReasonOf(err) == "" {
		t.Fatalf("HS256 token accepted or error untyped: %v", err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x"})
	ns, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := Verify(ns, &rk.PublicKey, Options{}); err == nil {
		t.Fatal("alg none accepted")
	}
}

func TestParseRejectsWeakRSA(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	j, _ := EncodeJWK("weak", "RS256", &rk.PublicKey)
	raw, _ := json.Marshal(map[string]any{"keys": []any{j}})
	set, err := Parse(raw)
	if err != nil || len(set.Keys) != 0 {
		t.Fatalf("1024-bit key accepted: %v %v", set, err)
	}
}
