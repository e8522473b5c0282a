package kms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Asymmetric key specs of sign-verify keys. The wire names follow
// Infisical's AsymmetricKeySignVerify enum ("rsa-4096", "ecc-nist-p256");
// RSA 2048 and P-384 are added in the same spelling.
const (
	RSA2048     = "rsa-2048"
	RSA4096     = "rsa-4096"
	ECCNistP256 = "ecc-nist-p256"
	ECCNistP384 = "ecc-nist-p384"
)

// SigningKeySpecs lists the supported asymmetric key specs.
func SigningKeySpecs() []string { return []string{RSA2048, RSA4096, ECCNistP256, ECCNistP384} }

// NormalizeKeySpec maps the accepted spellings of a key algorithm to its
// canonical wire name ("RSA_4096" → "rsa-4096", "AES-256-GCM" →
// "aes-256-gcm"); it returns "" for unknown algorithms.
func NormalizeKeySpec(alg string) string {
	a := strings.ToLower(strings.TrimSpace(alg))
	a = strings.ReplaceAll(a, "_", "-")
	switch a {
	case AES256GCM, "aes-gcm-256":
		return AES256GCM
	case AES128GCM, "aes-gcm-128":
		return AES128GCM
	case RSA2048, RSA4096, ECCNistP256, ECCNistP384:
		return a
	}
	return ""
}

// IsSigningKeySpec reports whether spec is an asymmetric key spec.
func IsSigningKeySpec(spec string) bool {
	switch spec {
	case RSA2048, RSA4096, ECCNistP256, ECCNistP384:
		return true
	}
	return false
}

// Signing algorithms (Infisical's SigningAlgorithm enum, AWS KMS names).
const (
	RSASSA_PSS_SHA_256        = "RSASSA_PSS_SHA_256"
	RSASSA_PSS_SHA_384        = "RSASSA_PSS_SHA_384"
	RSASSA_PSS_SHA_512        = "RSASSA_PSS_SHA_512"
	RSASSA_PKCS1_V1_5_SHA_256 = "RSASSA_PKCS1_V1_5_SHA_256"
	RSASSA_PKCS1_V1_5_SHA_384 = "RSASSA_PKCS1_V1_5_SHA_384"
	RSASSA_PKCS1_V1_5_SHA_512 = "RSASSA_PKCS1_V1_5_SHA_512"
	ECDSA_SHA_256             = "ECDSA_SHA_256"
	ECDSA_SHA_384             = "ECDSA_SHA_384"
	ECDSA_SHA_512             = "ECDSA_SHA_512"
)

var (
	rsaAlgorithms = []string{RSASSA_PSS_SHA_512, RSASSA_PSS_SHA_384, RSASSA_PSS_SHA_256,
		RSASSA_PKCS1_V1_5_SHA_512, RSASSA_PKCS1_V1_5_SHA_384, RSASSA_PKCS1_V1_5_SHA_256}
	ecdsaAlgorithms = []string{ECDSA_SHA_512, ECDSA_SHA_384, ECDSA_SHA_256}
)

// SigningAlgorithms returns the signing algorithms a key spec supports, in
// Infisical's order.
func SigningAlgorithms(spec string) []string {
	switch {
	case strings.HasPrefix(spec, "rsa-"):
		return append([]string(nil), rsaAlgorithms...)
	case strings.HasPrefix(spec, "ecc-"):
		return append([]string(nil), ecdsaAlgorithms...)
	}
	return nil
}

// ErrSigningAlgorithm is returned (wrapped, with a caller-safe message) for
// an unknown signing algorithm, one that does not fit the key, or a digest
// of the wrong length.
var ErrSigningAlgorithm = errors.New("kms: unsupported signing algorithm")

type sigParams struct {
	hash crypto.Hash
	pss  bool
	rsa  bool
}

func signingParams(alg string) (sigParams, bool) {
	switch alg {
	case RSASSA_PSS_SHA_256:
		return sigParams{crypto.SHA256, true, true}, true
	case RSASSA_PSS_SHA_384:
		return sigParams{crypto.SHA384, true, true}, true
	case RSASSA_PSS_SHA_512:
		return sigParams{crypto.SHA512, true, true}, true
	case RSASSA_PKCS1_V1_5_SHA_256:
		return sigParams{crypto.SHA256, false, true}, true
	case RSASSA_PKCS1_V1_5_SHA_384:
		return sigParams{crypto.SHA384, false, true}, true
	case RSASSA_PKCS1_V1_5_SHA_512:
		return sigParams{crypto.SHA512, false, true}, true
	case ECDSA_SHA_256:
		return sigParams{hash: crypto.SHA256}, true
	case ECDSA_SHA_384:
		return sigParams{hash: crypto.SHA384}, true
	case ECDSA_SHA_512:
		return sigParams{hash: crypto.SHA512}, true
	}
	return sigParams{}, false
}

// IsSigningAlgorithm reports whether alg is a known signing algorithm.
func IsSigningAlgorithm(alg string) bool { _, ok := signingParams(alg); return ok }

// GenerateSigningKey creates a private key for spec and returns it as
// PKCS#8 DER. RSA 4096 takes seconds: callers generate outside database
// transactions.
func GenerateSigningKey(spec string) ([]byte, error) {
	var key any
	var err error
	switch spec {
	case RSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case RSA4096:
		key, err = rsa.GenerateKey(rand.Reader, 4096)
	case ECCNistP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECCNistP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		return nil, fmt.Errorf("kms: %q is not a signing key spec", spec)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: generate %s key: %w", spec, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("kms: encode %s key: %w", spec, err)
	}
	return der, nil
}

// SigningKey is a parsed private key of a sign-verify key. It is safe for
// concurrent use.
type SigningKey struct {
	spec   string
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	pubDER []byte
}

// ParseSigningKey parses PKCS#8 DER made by GenerateSigningKey.
func ParseSigningKey(spec string, pkcs8 []byte) (*SigningKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("kms: parse signing key: %w", err)
	}
	sk := &SigningKey{spec: spec}
	var pub any
	switch key := k.(type) {
	case *rsa.PrivateKey:
		if !strings.HasPrefix(spec, "rsa-") {
			return nil, fmt.Errorf("kms: key material is RSA but spec is %s", spec)
		}
		key.Precompute()
		sk.rsa, pub = key, &key.PublicKey
	case *ecdsa.PrivateKey:
		if !strings.HasPrefix(spec, "ecc-") {
			return nil, fmt.Errorf("kms: key material is ECDSA but spec is %s", spec)
		}
		sk.ec, pub = key, &key.PublicKey
	default:
		return nil, fmt.Errorf("kms: unsupported private key type %T", k)
	}
	if sk.pubDER, err = x509.MarshalPKIXPublicKey(pub); err != nil {
		return nil, fmt.Errorf("kms: encode public key: %w", err)
	}
	return sk, nil
}

// Spec returns the key spec.
func (k *SigningKey) Spec() string { return k.spec }

// PublicKeyDER returns the public key as DER SubjectPublicKeyInfo (what
// Infisical returns, base64-encoded, from the public-key endpoint).
func (k *SigningKey) PublicKeyDER() []byte { return append([]byte(nil), k.pubDER...) }

// digest returns the message digest for alg: the hash of data, or data
// itself when isDigest (it must then have the hash's length).
func (k *SigningKey) digest(alg string, data []byte, isDigest bool) (sigParams, []byte, error) {
	p, ok := signingParams(alg)
	if !ok {
		return p, nil, fmt.Errorf("%w: %q", ErrSigningAlgorithm, alg)
	}
	if p.rsa != (k.rsa != nil) {
		return p, nil, fmt.Errorf("%w: a %s key cannot be used with %s", ErrSigningAlgorithm, k.spec, alg)
	}
	if isDigest {
		if len(data) != p.hash.Size() {
			return p, nil, fmt.Errorf("%w: %s expects a %d-byte digest, got %d bytes", ErrSigningAlgorithm, alg, p.hash.Size(), len(data))
		}
		return p, data, nil
	}
	return p, hashOf(p.hash, data), nil
}

func hashOf(h crypto.Hash, data []byte) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384(data)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(data)
		return s[:]
	default:
		s := sha256.Sum256(data)
		return s[:]
	}
}

// Sign signs data (or a precomputed digest when isDigest) with alg. PSS uses
// a salt as long as the hash, ECDSA signatures are ASN.1 DER, as in
// Infisical.
func (k *SigningKey) Sign(alg string, data []byte, isDigest bool) ([]byte, error) {
	p, d, err := k.digest(alg, data, isDigest)
	if err != nil {
		return nil, err
	}
	switch {
	case p.rsa && p.pss:
		return rsa.SignPSS(rand.Reader, k.rsa, p.hash, d, &rsa.PSSOptions{SaltLength: p.hash.Size()})
	case p.rsa:
		return rsa.SignPKCS1v15(rand.Reader, k.rsa, p.hash, d)
	default:
		return ecdsa.SignASN1(rand.Reader, k.ec, d)
	}
}

// Verify reports whether sig is a valid signature of data with alg. A
// malformed signature is simply invalid; errors are reserved for requests
// that cannot be evaluated (wrong algorithm for the key, bad digest size).
func (k *SigningKey) Verify(alg string, data, sig []byte, isDigest bool) (bool, error) {
	p, d, err := k.digest(alg, data, isDigest)
	if err != nil {
		return false, err
	}
	switch {
	case p.rsa && p.pss:
		return rsa.VerifyPSS(&k.rsa.PublicKey, p.hash, d, sig, &rsa.PSSOptions{SaltLength: p.hash.Size()}) == nil, nil
	case p.rsa:
		return rsa.VerifyPKCS1v15(&k.rsa.PublicKey, p.hash, d, sig) == nil, nil
	default:
		return ecdsa.VerifyASN1(&k.ec.PublicKey, d, sig), nil
	}
}
