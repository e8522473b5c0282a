package kms

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Key-versioned blobs.
//
// A key that was never rotated (version 1) produces the spec's KMS blob,
// byte for byte: nonce(12) ‖ ciphertext ‖ tag(16) ‖ "v01". Once a key has
// been rotated, its newer versions produce
//
//	nonce(12) ‖ ciphertext ‖ tag(16) ‖ version(4, big-endian) ‖ "v02"
//
// so that decryption knows which version of the key material to use from the
// blob alone. Blobs that do not end in "v02" are read as version 1: the spec
// says the "v01" suffix is stripped without being checked, and every blob a
// never-rotated key ever made stays readable after rotations.
const (
	suffixV2 = "v02"
	// versionLen is the size of the big-endian key version in a v02 blob.
	versionLen = 4
	// VersionedOverheadV2 is what a v02 blob adds to a plaintext.
	VersionedOverheadV2 = Overhead + versionLen + len(suffixV2)
	// MaxKeyVersion bounds key versions (rotation count) so a forged blob
	// cannot name an absurd version.
	MaxKeyVersion = 10_000_000
)

// ErrKeyVersion is returned when a blob names a key version that is not
// valid (0, or above MaxKeyVersion).
var ErrKeyVersion = errors.New("kms: invalid key version in ciphertext")

// SealKeyVersion encrypts plaintext with a, the material of key version
// version: a v01 blob for version 1, a v02 blob naming the version otherwise.
func (a *AEAD) SealKeyVersion(version int, plaintext []byte) ([]byte, error) {
	if version < 1 || version > MaxKeyVersion {
		return nil, fmt.Errorf("kms: key version %d out of range", version)
	}
	if version == 1 {
		return a.SealVersioned(plaintext)
	}
	blob, err := a.Seal(plaintext)
	if err != nil {
		return nil, err
	}
	blob = binary.BigEndian.AppendUint32(blob, uint32(version))
	return append(blob, suffixV2...), nil
}

// BlobKeyVersion returns the key version a key-versioned blob names and the
// inner AEAD blob (nonce ‖ ciphertext ‖ tag) to open with that version's
// material. It checks only the framing; authenticity is checked by Open.
func BlobKeyVersion(blob []byte) (int, []byte, error) {
	n := len(blob)
	if n >= VersionedOverheadV2 && string(blob[n-len(suffixV2):]) == suffixV2 {
		v := binary.BigEndian.Uint32(blob[n-len(suffixV2)-versionLen : n-len(suffixV2)])
		if v < 2 || v > MaxKeyVersion {
			return 0, nil, ErrKeyVersion
		}
		return int(v), blob[:n-len(suffixV2)-versionLen], nil
	}
	if n < VersionedOverhead {
		return 0, nil, ErrDecrypt
	}
	return 1, blob[:n-len(versionSuffix)], nil
}
