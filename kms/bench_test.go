package kms

import (
	"crypto/rand"
	"testing"
)

// BenchmarkAESGCM measures sealing and opening 1 KiB (the cmek blob format).
func BenchmarkAESGCM(b *testing.B) {
	for _, alg := range []string{AES256GCM, AES128GCM} {
		key, _ := NewSymmetricKey(alg)
		a, _ := NewAEAD(key)
		pt := make([]byte, 1024)
		_, _ = rand.Read(pt)
		blob, _ := a.SealKeyVersion(1, pt)
		b.Run(alg+"/seal-1KiB", func(b *testing.B) {
			b.SetBytes(1024)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := a.SealKeyVersion(1, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/open-1KiB", func(b *testing.B) {
			b.SetBytes(1024)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v, inner, err := BlobKeyVersion(blob)
				if err != nil || v != 1 {
					b.Fatal(err)
				}
				if _, err := a.Open(inner); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSigning measures sign and verify of a 1 KiB message for every
// key spec and signing algorithm.
func BenchmarkSigning(b *testing.B) {
	msg := make([]byte, 1024)
	_, _ = rand.Read(msg)
	for _, spec := range SigningKeySpecs() {
		der, err := GenerateSigningKey(spec)
		if err != nil {
			b.Fatal(err)
		}
		k, err := ParseSigningKey(spec, der)
		if err != nil {
			b.Fatal(err)
		}
		for _, alg := range SigningAlgorithms(spec) {
			sig, err := k.Sign(alg, msg, false)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(spec+"/"+alg+"/sign", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := k.Sign(alg, msg, false); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(spec+"/"+alg+"/verify", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if ok, err := k.Verify(alg, msg, sig, false); err != nil || !ok {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
