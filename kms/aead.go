// Package kms holds the envelope-encryption primitives of the engine: the
// AES-GCM blob formats, root-key providers and the helpers that wrap one key
// with another. It has no knowledge of projects or databases; the engine
// supplies storage and decides which key wraps which.
package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

const (
	// KeySize is the size of every AES-256 key handled here.
	KeySize = 32
	// NonceSize is the AES-GCM nonce size used in every blob (96 bits).
	NonceSize = 12
	// TagSize is the AES-GCM authentication tag size.
	TagSize = 16
	// Overhead is what Seal adds to a plaintext.
	Overhead = NonceSize + TagSize
	// VersionedOverhead is what SealVersioned adds to a plaintext.
	VersionedOverhead = Overhead + len(versionSuffix)
)

// versionSuffix marks blobs produced by KMS keys (Infisical's "KMS-versioned
// blob"); decryption strips it without interpreting it, as upstream does.
const versionSuffix = "v01"

// ErrDecrypt is returned for every failure to open a blob: wrong key,
// truncated or tampered data. The cause is deliberately not detailed so that
// the error cannot serve as an oracle.
var ErrDecrypt = errors.New("kms: decryption failed")

// AEAD is an AES-GCM cipher bound to one key. Building the cipher costs more
// than using it, so callers keep an AEAD per key instead of a raw key.
// An AEAD is safe for concurrent use.
type AEAD struct {
	gcm cipher.AEAD
}

// NewAEAD returns an AEAD for a 16- or 32-byte key.
func NewAEAD(key []byte) (*AEAD, error) {
	if len(key) != 32 && len(key) != 16 {
		return nil, fmt.Errorf("kms: key must be 16 or 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("kms: new cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("kms: new gcm: %w", err)
	}
	return &AEAD{gcm: gcm}, nil
}

// Seal encrypts plaintext into nonce‖ciphertext‖tag.
func (a *AEAD) Seal(plaintext []byte) ([]byte, error) {
	out := make([]byte, NonceSize, NonceSize+len(plaintext)+TagSize+len(versionSuffix))
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("kms: read nonce: %w", err)
	}
	return a.gcm.Seal(out, out[:NonceSize], plaintext, nil), nil
}

// Open decrypts a blob made by Seal.
func (a *AEAD) Open(blob []byte) ([]byte, error) {
	if len(blob) < Overhead {
		return nil, ErrDecrypt
	}
	pt, err := a.gcm.Open(nil, blob[:NonceSize], blob[NonceSize:], nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// SealVersioned encrypts into the KMS-versioned blob nonce‖ciphertext‖tag‖"v01".
func (a *AEAD) SealVersioned(plaintext []byte) ([]byte, error) {
	blob, err := a.Seal(plaintext)
	if err != nil {
		return nil, err
	}
	return append(blob, versionSuffix...), nil
}

// OpenVersioned decrypts a KMS-versioned blob.
func (a *AEAD) OpenVersioned(blob []byte) ([]byte, error) {
	if len(blob) < VersionedOverhead {
		return nil, ErrDecrypt
	}
	return a.Open(blob[:len(blob)-len(versionSuffix)])
}

// Seal encrypts plaintext with key (see AEAD.Seal).
func Seal(key, plaintext []byte) ([]byte, error) {
	a, err := NewAEAD(key)
	if err != nil {
		return nil, err
	}
	return a.Seal(plaintext)
}

// Open decrypts a blob made by Seal with key.
func Open(key, blob []byte) ([]byte, error) {
	a, err := NewAEAD(key)
	if err != nil {
		return nil, err
	}
	return a.Open(blob)
}

// NewKey returns a fresh random 32-byte key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("kms: generate key: %w", err)
	}
	return k, nil
}
