package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// ClientSecretPrefixLen is how many leading characters of a client secret
// are stored in clear so that login only hash-compares likely candidates.
const ClientSecretPrefixLen = 4

// NewClientSecret returns a fresh universal-auth client secret (64 hex
// characters, 256 bits of entropy), its stored prefix and its hash.
func NewClientSecret() (secret, prefix string, hash []byte, err error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", "", nil, fmt.Errorf("authn: generate client secret: %w", err)
	}
	secret = hex.EncodeToString(buf)
	return secret, secret[:ClientSecretPrefixLen], HashSecret(secret), nil
}

// HashSecret hashes a high-entropy machine secret (client secret, token
// secret) for storage. A fast hash is sufficient here, unlike for passwords:
// these secrets carry 256 random bits, so a stolen hash cannot be brute
// forced, and login throughput stays high.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// SecretMatches compares a presented secret with a stored hash in constant
// time.
func SecretMatches(presented string, storedHash []byte) bool {
	sum := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(sum[:], storedHash) == 1
}

// SecretPrefix returns the lookup prefix of a presented secret ("" if it is
// too short to be valid).
func SecretPrefix(presented string) string {
	if len(presented) < ClientSecretPrefixLen {
		return ""
	}
	return presented[:ClientSecretPrefixLen]
}
