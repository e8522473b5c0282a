//go:build !cgo

package pkcs11

import (
	"context"
	"errors"
)

// ErrNoCgo is returned by Open in builds without cgo.
var ErrNoCgo = errors.New("pkcs11: HSM support needs a cgo-enabled build of infisical (CGO_ENABLED=1); this binary was built without cgo")

// Provider is unavailable without cgo.
type Provider struct{}

// Open always fails without cgo.
func Open(_ context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Strategy implements kms.RootKey.
func (*Provider) Strategy() string { return "HSM" }

// Wrap implements kms.RootKey.
func (*Provider) Wrap(context.Context, []byte) ([]byte, error) { return nil, ErrNoCgo }

// Unwrap implements kms.RootKey.
func (*Provider) Unwrap(context.Context, []byte) ([]byte, error) { return nil, ErrNoCgo }

// Close implements io.Closer.
func (*Provider) Close() error { return nil }
