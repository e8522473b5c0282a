package kms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"testing"
)

func TestKeyVersionedBlobs(t *testing.T) {
	key, _ := NewKey()
	a, _ := NewAEAD(key)
	pt := []byte("customer data")
	cases := []struct {
		version int
		suffix  string
		extra   int
	}{{1, "v01", 0}, {2, "v02", 4}, {70000, "v02", 4}}
	for _, c := range cases {
		blob, err := a.SealKeyVersion(c.version, pt)
		if err != nil {
			t.Fatal(err)
		}
		if string(blob[len(blob)-3:]) != c.suffix || len(blob) != len(pt)+VersionedOverhead+c.extra {
			t.Fatalf("version %d: blob %d bytes ending %q", c.version, len(blob), blob[len(blob)-3:])
		}
		v, inner, err := BlobKeyVersion(blob)
		if err != nil || v != c.version {
			t.Fatalf("version %d parsed as %d: %v", c.version, v, err)
		}
		got, err := a.Open(inner)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open: %v", err)
		}
	}
	// A version-1 blob is exactly the spec's KMS blob: OpenVersioned reads it.
	blob, _ := a.SealKeyVersion(1, pt)
	if got, err := a.OpenVersioned(blob); err != nil || !bytes.Equal(got, pt) {
		t.Fatal("v01 blob not readable by OpenVersioned")
	}
	// Any 3-byte suffix other than v02 is read as version 1 (the spec
	// strips it unchecked).
	other := append(append([]byte(nil), blob[:len(blob)-3]...), "zzz"...)
	if v, _, err := BlobKeyVersion(other); err != nil || v != 1 {
		t.Fatalf("foreign suffix: %d %v", v, err)
	}
	for name, b := range map[string][]byte{
		"short":     []byte("v02"),
		"version 0": append(append(bytes.Repeat([]byte{1}, 28), 0, 0, 0, 0), "v02"...),
		"version 1": append(append(bytes.Repeat([]byte{1}, 28), 0, 0, 0, 1), "v02"...),
		"huge":      append(append(bytes.Repeat([]byte{1}, 28), 0xff, 0xff, 0xff, 0xff), "v02"...),
	} {
		if _, _, err := BlobKeyVersion(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := a.SealKeyVersion(0, pt); err == nil {
		t.Fatal("version 0 sealed")
	}
}

func FuzzBlobKeyVersion(f *testing.F) {
	key, _ := NewKey()
	a, _ := NewAEAD(key)
	b1, _ := a.SealKeyVersion(1, []byte("x"))
	b2, _ := a.SealKeyVersion(3, []byte("x"))
	f.Add(b1)
	f.Add(b2)
	f.Fuzz(func(t *testing.T, blob []byte) {
		v, inner, err := BlobKeyVersion(blob)
		if err != nil {
			return
		}
		if v < 1 || v > MaxKeyVersion || len(inner) > len(blob) {
			t.Fatalf("version %d inner %d of %d", v, len(inner), len(blob))
		}
		if _, err := a.Open(inner); err != nil && !errors.Is(err, ErrDecrypt) {
			t.Fatal(err)
		}
	})
}

func TestSigningKeys(t *testing.T) {
	msg := []byte("message")
	for _, spec := range []string{RSA2048, ECCNistP256, ECCNistP384} {
		der, err := GenerateSigningKey(spec)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseSigningKey(spec, der)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(k.PublicKeyDER())
		if err != nil {
			t.Fatal(err)
		}
		for _, alg := range SigningAlgorithms(spec) {
			sig, err := k.Sign(alg, msg, false)
			if err != nil {
				t.Fatalf("%s %s: %v", spec, alg, err)
			}
			if ok, _ := k.Verify(alg, msg, sig, false); !ok {
				t.Fatalf("%s %s: own signature invalid", spec, alg)
			}
			if ok, _ := k.Verify(alg, msg, append([]byte{0}, sig...), false); ok {
				t.Fatalf("%s %s: mangled signature valid", spec, alg)
			}
		}
		// Interoperability: SHA-512 signatures check with the standard
		// library and the parameters Infisical uses (PSS salt = hash size).
		d := sha512.Sum512(msg)
		switch p := pub.(type) {
		case *rsa.PublicKey:
			sig, _ := k.Sign(RSASSA_PSS_SHA_512, msg, false)
			if rsa.VerifyPSS(p, crypto.SHA512, d[:], sig, &rsa.PSSOptions{SaltLength: 64}) != nil {
				t.Fatal("PSS signature not interoperable")
			}
		case *ecdsa.PublicKey:
			sig, _ := k.Sign(ECDSA_SHA_512, msg, false)
			if !ecdsa.VerifyASN1(p, d[:], sig) {
				t.Fatal("ECDSA signature not interoperable")
			}
		}
		other := RSASSA_PSS_SHA_256
		if spec == RSA2048 {
			other = ECDSA_SHA_256
		}
		if _, err := k.Sign(other, msg, false); !errors.Is(err, ErrSigningAlgorithm) {
			t.Fatalf("%s accepted %s: %v", spec, other, err)
		}
	}
	if _, err := ParseSigningKey(RSA2048, []byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
	if NormalizeKeySpec("RSA_4096") != RSA4096 || NormalizeKeySpec("AES-256-GCM") != AES256GCM || NormalizeKeySpec("des") != "" {
		t.Fatal("NormalizeKeySpec")
	}
}
