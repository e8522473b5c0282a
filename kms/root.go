package kms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// RootKey protects the instance's root key material. The software provider
// keeps its key in memory; HSM and cloud-KMS providers hold it outside the
// process. Wrap/Unwrap operate on small key blobs, never on bulk data.
type RootKey interface {
	// Strategy names the provider as stored beside the wrapped key
	// ("SOFTWARE", "HSM", "AWS_KMS").
	Strategy() string
	Wrap(ctx context.Context, plaintext []byte) ([]byte, error)
	Unwrap(ctx context.Context, blob []byte) ([]byte, error)
}

// StrategySoftware is the strategy name of the Software provider.
const StrategySoftware = "SOFTWARE"

// ErrNoRootKey is returned when neither ENCRYPTION_KEY nor
// ROOT_ENCRYPTION_KEY is configured.
var ErrNoRootKey = errors.New("kms: no root key configured: set ENCRYPTION_KEY (32 characters) or ROOT_ENCRYPTION_KEY (base64 of 32 bytes)")

// SoftwareConfig configures the software root-key provider.
type SoftwareConfig struct {
	// EncryptionKey is used as raw bytes (its UTF-8 text, e.g. the 32 hex
	// characters of `openssl rand -hex 16`); it must be exactly 32 bytes.
	// It wins over RootEncryptionKey, as in Infisical.
	EncryptionKey string
	// RootEncryptionKey is the base64 encoding of 32 random bytes.
	RootEncryptionKey string
}

// Validate checks that exactly usable key material is present.
func (c SoftwareConfig) Validate() error {
	_, err := c.key()
	return err
}

func (c SoftwareConfig) key() ([]byte, error) {
	if c.EncryptionKey != "" {
		if len(c.EncryptionKey) != KeySize {
			return nil, fmt.Errorf("kms: ENCRYPTION_KEY must be exactly %d bytes, got %d", KeySize, len(c.EncryptionKey))
		}
		return []byte(c.EncryptionKey), nil
	}
	if c.RootEncryptionKey != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.RootEncryptionKey))
		if err != nil {
			return nil, fmt.Errorf("kms: ROOT_ENCRYPTION_KEY is not valid base64: %w", err)
		}
		if len(k) != KeySize {
			return nil, fmt.Errorf("kms: ROOT_ENCRYPTION_KEY must decode to %d bytes, got %d", KeySize, len(k))
		}
		return k, nil
	}
	return nil, ErrNoRootKey
}

// Software is the root-key provider whose key comes from configuration.
type Software struct {
	aead *AEAD
}

// NewSoftware builds the software provider.
func NewSoftware(cfg SoftwareConfig) (*Software, error) {
	k, err := cfg.key()
	if err != nil {
		return nil, err
	}
	a, err := NewAEAD(k)
	if err != nil {
		return nil, err
	}
	return &Software{aead: a}, nil
}

// Strategy implements RootKey.
func (s *Software) Strategy() string { return StrategySoftware }

// Wrap implements RootKey; the blob is the plain AEAD form (no version suffix).
func (s *Software) Wrap(_ context.Context, plaintext []byte) ([]byte, error) {
	return s.aead.Seal(plaintext)
}

// Unwrap implements RootKey.
func (s *Software) Unwrap(_ context.Context, blob []byte) ([]byte, error) {
	return s.aead.Open(blob)
}
