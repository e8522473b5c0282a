package kms

import (
	"crypto/rand"
	"fmt"
)

// Key usages of customer-managed keys (Infisical's KmsKeyUsage).
const (
	UsageEncryptDecrypt = "encrypt-decrypt"
	UsageSignVerify     = "sign-verify"
)

// Symmetric algorithms (Infisical's SymmetricEncryption enum).
const (
	AES256GCM = "aes-256-gcm"
	AES128GCM = "aes-128-gcm"
)

// SymmetricKeySize returns the key size of a symmetric algorithm, or 0 when
// alg is not one.
func SymmetricKeySize(alg string) int {
	switch alg {
	case AES256GCM:
		return 32
	case AES128GCM:
		return 16
	}
	return 0
}

// NewSymmetricKey returns fresh random material for a symmetric algorithm.
func NewSymmetricKey(alg string) ([]byte, error) {
	n := SymmetricKeySize(alg)
	if n == 0 {
		return nil, fmt.Errorf("kms: %q is not a symmetric algorithm", alg)
	}
	k := make([]byte, n)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("kms: generate key: %w", err)
	}
	return k, nil
}

// Wrapper is a key that wraps other keys (a root key, an organization key,
// or a provider); the key hierarchy is a chain of Wrappers.
//
//	root key ─wraps→ organization key ─wraps→ project data key / customer key
//
// *AEAD is the in-process Wrapper: it wraps with the KMS-versioned blob
// ("v01"), the format the spec prescribes for everything produced by a KMS
// key.
type Wrapper interface {
	WrapKey(material []byte) ([]byte, error)
	UnwrapKey(blob []byte) ([]byte, error)
}

// WrapKey implements Wrapper with the KMS-versioned blob.
func (a *AEAD) WrapKey(material []byte) ([]byte, error) { return a.SealVersioned(material) }

// UnwrapKey implements Wrapper.
func (a *AEAD) UnwrapKey(blob []byte) ([]byte, error) { return a.OpenVersioned(blob) }

// NewWrappedKey generates a symmetric key for alg and returns it with its
// wrapped form. The caller clears the material when done.
func NewWrappedKey(w Wrapper, alg string) (material, wrapped []byte, err error) {
	material, err = NewSymmetricKey(alg)
	if err != nil {
		return nil, nil, err
	}
	wrapped, err = w.WrapKey(material)
	if err != nil {
		clear(material)
		return nil, nil, err
	}
	return material, wrapped, nil
}

// Rewrap unwraps blob with from and wraps the material with to, clearing the
// plaintext material afterwards (root-key rotation, KMS switches).
func Rewrap(from, to Wrapper, blob []byte) ([]byte, error) {
	material, err := from.UnwrapKey(blob)
	if err != nil {
		return nil, err
	}
	defer clear(material)
	return to.WrapKey(material)
}
