package kms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzNormalizeKeySpec checks the parsing of key algorithm names
// (encryptionAlgorithm of a KMS key, any spelling). Properties: no panic;
// the result is empty or a canonical spec, normalizing it again changes
// nothing; signing specs list only known signing algorithms, others none.
func FuzzNormalizeKeySpec(f *testing.F) {
	for _, s := range []string{"aes-256-gcm", "AES_256_GCM", "aes-gcm-128", " RSA_4096 ", "rsa-2048", "ECC_NIST_P256", "ecc-nist-p384",
		"ecc-nist-p521", "rsa", "", "RSASSA_PSS_SHA_256", "\u0130"} {
		f.Add(s)
	}
	canonical := append([]string{AES256GCM, AES128GCM}, SigningKeySpecs()...)
	f.Fuzz(func(t *testing.T, alg string) {
		spec := NormalizeKeySpec(alg)
		if spec == "" {
			if IsSigningAlgorithm(alg) && IsSigningKeySpec(alg) {
				t.Fatalf("%q is both an algorithm and a spec", alg)
			}
			return
		}
		if !slices.Contains(canonical, spec) || NormalizeKeySpec(spec) != spec {
			t.Fatalf("NormalizeKeySpec(%q) = %q", alg, spec)
		}
		algs := SigningAlgorithms(spec)
		if IsSigningKeySpec(spec) != (len(algs) > 0) {
			t.Fatalf("spec %q: signing %v with algorithms %v", spec, IsSigningKeySpec(spec), algs)
		}
		for _, a := range algs {
			if !IsSigningAlgorithm(a) {
				t.Fatalf("spec %q lists unknown algorithm %q", spec, a)
			}
		}
	})
}

// fuzzSigningKeys are one parsed key per spec (RSA 4096 is skipped: its
// generation takes seconds and behaves as RSA 2048).
func fuzzSigningKeys(tb testing.TB) map[string]*SigningKey {
	tb.Helper()
	out := map[string]*SigningKey{}
	for _, spec := range []string{RSA2048, ECCNistP256, ECCNistP384} {
		der, err := GenerateSigningKey(spec)
		if err != nil {
			tb.Fatal(err)
		}
		k, err := ParseSigningKey(spec, der)
		if err != nil {
			tb.Fatal(err)
		}
		out[spec] = k
	}
	return out
}

// FuzzSignVerify feeds arbitrary algorithm names, data, digests and
// signatures to sign-verify keys (the body of the sign and verify routes).
// Properties: no panic; unusable requests (unknown algorithm, algorithm of
// another key type, digest of the wrong size) fail with
// ErrSigningAlgorithm; a signature made by Sign verifies, and the same
// signature does not verify other data; a fuzzed signature never verifies
// (nobody can forge one); the public key in DER is the key's own.
func FuzzSignVerify(f *testing.F) {
	keys := fuzzSigningKeys(f)
	specs := []string{RSA2048, ECCNistP256, ECCNistP384}
	for _, alg := range append(SigningAlgorithms(RSA2048), append(SigningAlgorithms(ECCNistP256), "HS256", "", "ecdsa_sha_256")...) {
		f.Add(uint8(0), alg, []byte("hello"), []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, false)
		f.Add(uint8(1), alg, bytes.Repeat([]byte{7}, 32), []byte{}, true)
		f.Add(uint8(2), alg, bytes.Repeat([]byte{7}, 48), bytes.Repeat([]byte{0xff}, 256), true)
	}
	for spec, k := range keys {
		pub, err := x509.ParsePKIXPublicKey(k.PublicKeyDER())
		if err != nil {
			f.Fatalf("%s: public key DER: %v", spec, err)
		}
		var same bool
		switch p := pub.(type) {
		case *rsa.PublicKey:
			same = k.rsa != nil && p.Equal(&k.rsa.PublicKey)
		case *ecdsa.PublicKey:
			same = k.ec != nil && p.Equal(&k.ec.PublicKey)
		}
		if !same || k.Spec() != spec {
			f.Fatalf("%s: public key DER is not the key's", spec)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, alg string, data, sig []byte, isDigest bool) {
		k := keys[specs[int(which)%len(specs)]]
		ok, err := k.Verify(alg, data, sig, isDigest)
		if err != nil {
			if !errors.Is(err, ErrSigningAlgorithm) {
				t.Fatalf("verify error %v", err)
			}
		} else if ok {
			t.Fatalf("a fuzzed signature verified: %s %x %x", alg, data, sig)
		}
		s, err := k.Sign(alg, data, isDigest)
		if err != nil {
			if !errors.Is(err, ErrSigningAlgorithm) {
				t.Fatalf("sign error %v", err)
			}
			p, known := signingParams(alg)
			if known && p.rsa == (k.rsa != nil) && (!isDigest || len(data) == p.hash.Size()) {
				t.Fatalf("usable request refused: %s on %s (%d bytes, digest %v): %v", alg, k.Spec(), len(data), isDigest, err)
			}
			return
		}
		if !slices.Contains(SigningAlgorithms(k.Spec()), alg) {
			t.Fatalf("%s signed with %q", k.Spec(), alg)
		}
		if ok, err := k.Verify(alg, data, s, isDigest); err != nil || !ok {
			t.Fatalf("own signature does not verify: %v", err)
		}
		other := append(bytes.Clone(data), 1)
		if isDigest {
			other = bytes.Clone(data)
			other[0] ^= 1
		}
		if ok, _ := k.Verify(alg, other, s, isDigest); ok {
			t.Fatal("signature verifies other data")
		}
	})
}

// FuzzParseSigningKey feeds arbitrary key material to ParseSigningKey.
// Properties: no panic; an accepted key matches the family of its spec,
// publishes a DER public key that parses, and signs and verifies with the
// first algorithm of its spec.
func FuzzParseSigningKey(f *testing.F) {
	for _, spec := range []string{RSA2048, ECCNistP256, ECCNistP384} {
		der, err := GenerateSigningKey(spec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(spec, der)
		f.Add(ECCNistP256, der)
		f.Add(RSA4096, der[:len(der)/2])
	}
	f.Add("", []byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, spec string, der []byte) {
		k, err := ParseSigningKey(spec, der)
		if err != nil {
			return
		}
		if strings.HasPrefix(spec, "rsa-") != (k.rsa != nil) || strings.HasPrefix(spec, "ecc-") != (k.ec != nil) {
			t.Fatalf("spec %q accepted a key of the other family", spec)
		}
		if _, err := x509.ParsePKIXPublicKey(k.PublicKeyDER()); err != nil {
			t.Fatalf("public key DER: %v", err)
		}
		algs := SigningAlgorithms(spec)
		if len(algs) == 0 {
			t.Fatalf("accepted spec %q has no algorithm", spec)
		}
		s, err := k.Sign(algs[0], []byte("data"), false)
		if err != nil {
			return // a key the library refuses to use (e.g. too short)
		}
		if ok, err := k.Verify(algs[0], []byte("data"), s, false); err != nil || !ok {
			t.Fatalf("own signature does not verify: %v", err)
		}
	})
}
