// Package jwks reads JSON Web Key Sets and PEM public keys, caches the key
// sets (and discovery documents) of issuers, and verifies asymmetric JWTs
// with them. It is what the OIDC, JWT, GCP and Azure login verifiers share.
package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Key is one public key of a key set.
type Key struct {
	ID     string
	Alg    string
	Use    string
	Public crypto.PublicKey
	// Cert is the first x5c certificate when the key carries one (Azure);
	// its public key is then Public.
	Cert *x509.Certificate
}

// Set is a parsed key set. Keys that cannot be used (unknown kty, private
// or encryption keys) are skipped, not fatal: issuers publish all sorts.
type Set struct {
	Keys []Key
}

// Lookup returns the key with id kid.
func (s *Set) Lookup(kid string) (Key, bool) {
	for _, k := range s.Keys {
		if k.ID == kid {
			return k, true
		}
	}
	return Key{}, false
}

type jwk struct {
	Kid string   `json:"kid"`
	Kty string   `json:"kty"`
	Alg string   `json:"alg"`
	Use string   `json:"use"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	Crv string   `json:"crv"`
	X   string   `json:"x"`
	Y   string   `json:"y"`
	X5c []string `json:"x5c"`
}

// Parse reads a JWKS document ({"keys": [...]}).
func Parse(data []byte) (*Set, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("jwks: decode key set: %w", err)
	}
	out := &Set{}
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		key, err := parseJWK(k)
		if err != nil {
			continue
		}
		out.Keys = append(out.Keys, key)
	}
	return out, nil
}

func parseJWK(k jwk) (Key, error) {
	out := Key{ID: k.Kid, Alg: k.Alg, Use: k.Use}
	if len(k.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			return out, fmt.Errorf("jwks: x5c: %w", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return out, fmt.Errorf("jwks: x5c: %w", err)
		}
		// The certificate's key obeys the rules of a bare JWK.
		if err := checkVerifyKey(cert.PublicKey); err != nil {
			return out, fmt.Errorf("jwks: x5c: %w", err)
		}
		out.Cert, out.Public = cert, cert.PublicKey
		return out, nil
	}
	switch k.Kty {
	case "RSA":
		n, err := b64int(k.N)
		if err != nil {
			return out, err
		}
		e, err := b64int(k.E)
		if err != nil {
			return out, err
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return out, errors.New("jwks: bad RSA exponent")
		}
		pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
		if err := checkVerifyKey(pub); err != nil {
			return out, err
		}
		out.Public = pub
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return out, fmt.Errorf("jwks: unsupported curve %q", k.Crv)
		}
		x, err := b64int(k.X)
		if err != nil {
			return out, err
		}
		y, err := b64int(k.Y)
		if err != nil {
			return out, err
		}
		pub := &ecdsa.PublicKey{Curve: curve, X: x, Y: y}
		if !curve.IsOnCurve(x, y) { //nolint:staticcheck // validity check of untrusted input
			return out, errors.New("jwks: EC point not on curve")
		}
		out.Public = pub
	case "OKP":
		if k.Crv != "Ed25519" {
			return out, fmt.Errorf("jwks: unsupported OKP curve %q", k.Crv)
		}
		x, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.X, "="))
		if err != nil || len(x) != ed25519.PublicKeySize {
			return out, errors.New("jwks: bad Ed25519 key")
		}
		out.Public = ed25519.PublicKey(x)
	default:
		return out, fmt.Errorf("jwks: unsupported kty %q", k.Kty)
	}
	return out, nil
}

// MinRSABits is the shortest RSA key accepted from a key set.
const MinRSABits = 2048

// checkVerifyKey refuses keys a JWT cannot be verified with under this
// package's rules: other key types (X25519, DSA, ...) and short RSA keys.
func checkVerifyKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("jwks: RSA key shorter than %d bits", MinRSABits)
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return fmt.Errorf("jwks: %T keys cannot verify signatures", pub)
	}
	return nil
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		return nil, errors.New("jwks: bad base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}

// ParsePEM reads a public key from PEM: a PUBLIC KEY (PKIX), an RSA PUBLIC
// KEY (PKCS#1) or a CERTIFICATE block.
func ParsePEM(s string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, errors.New("jwks: not a PEM block")
	}
	var pub crypto.PublicKey
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("jwks: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	// Only signature keys: an X25519 or DSA key would be accepted in a
	// configuration and then fail every login.
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return pub, nil
	}
	return nil, fmt.Errorf("jwks: %T keys cannot verify signatures", pub)
}

// EncodeJWK returns the JWK form of a public key (RSA, EC or Ed25519), for
// tests and tools that publish key sets.
func EncodeJWK(kid, alg string, pub crypto.PublicKey) (map[string]any, error) {
	enc := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(k.N.Bytes()), enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", k.Curve.Params().Name
		m["x"], m["y"] = enc(k.X.FillBytes(make([]byte, size))), enc(k.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(k)
	default:
		return nil, fmt.Errorf("jwks: unsupported key type %T", pub)
	}
	return m, nil
}
