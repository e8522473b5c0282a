// Package authntest runs local stand-ins for the issuers machine logins
// are verified against — an STS that checks SigV4 signatures, Google's
// certificate and IAM metadata endpoints, an Entra ID key set, a
// Kubernetes TokenReview API over TLS, an OpenID Connect provider and an
// OpenLDAP slapd — so that tests exercise the real protocols and real
// signatures without any outside network.
//
// Every server is an httptest TLS server; they share the httptest
// certificate, so the client of any of them (Client) trusts all of them,
// and CAPEM is its certificate for code that takes a CA in PEM.
package authntest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// keyBits is the RSA size of test keys: the smallest the verifiers accept.
const keyBits = 2048

// SigningKey is an RSA key with a key id, for minting tokens.
type SigningKey struct {
	ID  string
	Key *rsa.PrivateKey
}

// NewSigningKey returns a fresh RSA key named kid.
func NewSigningKey(t testing.TB, kid string) SigningKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		t.Fatalf("authntest: generate key: %v", err)
	}
	return SigningKey{ID: kid, Key: k}
}

// Sign returns an RS256 JWT of claims with the key's kid in the header
// (no kid when ID is empty).
func (k SigningKey) Sign(claims map[string]any) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	if k.ID != "" {
		tok.Header["kid"] = k.ID
	}
	s, err := tok.SignedString(k.Key)
	if err != nil {
		panic(fmt.Sprintf("authntest: sign: %v", err))
	}
	return s
}

// PublicPEM returns the public key as a PKIX "PUBLIC KEY" PEM block.
func (k SigningKey) PublicPEM() string {
	der, err := x509.MarshalPKIXPublicKey(&k.Key.PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// SelfSignedCert returns a self-signed certificate (DER) for the key, as
// published in x5c entries and x509 metadata.
func (k SigningKey) SelfSignedCert(cn string) []byte {
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	tmpl.Subject.CommonName = cn
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.Key.PublicKey, k.Key)
	if err != nil {
		panic(err)
	}
	return der
}

// CertPEM returns SelfSignedCert as PEM.
func (k SigningKey) CertPEM(cn string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.SelfSignedCert(cn)}))
}

func newSerial() *big.Int {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return new(big.Int).SetBytes(b[:])
}

// tlsServer starts an httptest TLS server and registers its shutdown.
func tlsServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// CAPEM returns the PEM certificate of an httptest TLS server (the same for
// every httptest TLS server).
func CAPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

// Claims is a shorthand for a claim set.
type Claims = map[string]any

// stamp fills iat and exp (ttl from now) unless present.
func stamp(c Claims, ttl time.Duration) Claims {
	now := time.Now()
	if _, ok := c["iat"]; !ok {
		c["iat"] = now.Unix()
	}
	if _, ok := c["exp"]; !ok && ttl != 0 {
		c["exp"] = now.Add(ttl).Unix()
	}
	return c
}
