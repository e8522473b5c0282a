//go:build !cgo

package pkcs11

import (
	"context"
	"errors"
	"testing"
)

func TestStubExplainsCgo(t *testing.T) {
	_, err := Open(context.Background(), Config{LibPath: "/x.so", PIN: "1", KeyLabel: "k"})
	if !errors.Is(err, ErrNoCgo) {
		t.Fatalf("err %v", err)
	}
	if _, err := Open(context.Background(), Config{}); err == nil || errors.Is(err, ErrNoCgo) {
		t.Fatalf("missing settings must be reported first: %v", err)
	}
}
