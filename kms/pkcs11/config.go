// Package pkcs11 is the HSM root-key provider: the instance root key is
// wrapped by an AES-256 key that never leaves a PKCS#11 token, and
// authenticated with an HMAC-SHA256 key on the same token, exactly as
// Infisical's HSM strategy does (spec §2.4):
//
//	blob = IV(16, from the HSM) ‖ AES-256-CBC-PAD(ciphertext) ‖ HMAC-SHA256(IV ‖ ciphertext)(32)
//
// The real provider needs cgo (it loads the vendor's PKCS#11 library); a
// build without cgo gets a stub whose Open explains that.
package pkcs11

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config configures the HSM provider (HSM_LIB_PATH, HSM_PIN, HSM_SLOT,
// HSM_KEY_LABEL).
type Config struct {
	// LibPath is the vendor's PKCS#11 shared library.
	LibPath string
	// PIN is the user PIN of the token.
	PIN string
	// Slot is an index into the list of slots with a token present (not a
	// slot id), as in Infisical.
	Slot int
	// KeyLabel labels the AES key; the HMAC key is labelled KeyLabel+"_HMAC".
	// Both are created on the token when missing.
	KeyLabel string

	// RetryInterval and RetryTimeout bound the session/login retries
	// (default 200ms and 90s). A wrong PIN aborts at once.
	RetryInterval time.Duration
	RetryTimeout  time.Duration
}

// Configured reports whether every HSM setting is present (Infisical's
// definition of "HSM configured").
func (c Config) Configured() bool {
	return c.LibPath != "" && c.PIN != "" && c.KeyLabel != "" && c.Slot >= 0
}

// Validate checks the settings and fills defaults.
func (c *Config) Validate() error {
	var missing []string
	if c.LibPath == "" {
		missing = append(missing, "HSM_LIB_PATH")
	}
	if c.PIN == "" {
		missing = append(missing, "HSM_PIN")
	}
	if c.KeyLabel == "" {
		missing = append(missing, "HSM_KEY_LABEL")
	}
	if len(missing) > 0 {
		return fmt.Errorf("pkcs11: %s must be set", strings.Join(missing, ", "))
	}
	if c.Slot < 0 {
		return errors.New("pkcs11: HSM_SLOT must be a non-negative slot index")
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 200 * time.Millisecond
	}
	if c.RetryTimeout <= 0 {
		c.RetryTimeout = 90 * time.Second
	}
	return nil
}

// Blob layout.
const (
	ivSize  = 16
	macSize = 32
	// SelfTestSize is how many random bytes the start-up self-test wraps.
	SelfTestSize = 500
)

// hmacLabel is the label of the HMAC key that goes with label.
func hmacLabel(label string) string { return label + "_HMAC" }
