//go:build cgo

package pkcs11_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/pkcs11"
	"github.com/infisical-go/engine/kms/pkcs11/softhsmtest"
)

func TestSoftHSMWrapUnwrap(t *testing.T) {
	tok := softhsmtest.New(t)
	ctx := context.Background()
	p, err := pkcs11.Open(ctx, tok.Config("root-key"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	if p.Strategy() != kms.StrategyHSM {
		t.Fatalf("strategy %q", p.Strategy())
	}
	root, err := kms.NewRootKeyMaterial(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := p.Wrap(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	// IV(16) ‖ CBC-PAD(32 bytes → 48) ‖ HMAC(32)
	if len(blob) != 16+48+32 {
		t.Fatalf("blob length %d, want %d", len(blob), 16+48+32)
	}
	if bytes.Contains(blob, root) {
		t.Fatal("plaintext visible in blob")
	}
	got, err := p.Unwrap(ctx, blob)
	if err != nil || !bytes.Equal(got, root) {
		t.Fatalf("unwrap: %v", err)
	}
	blob2, _ := p.Wrap(ctx, root)
	if bytes.Equal(blob[:16], blob2[:16]) {
		t.Fatal("IV reused")
	}

	// Every way of damaging the blob is the same generic failure.
	cases := map[string][]byte{
		"flipped ciphertext": flip(blob, 20),
		"flipped iv":         flip(blob, 0),
		"flipped mac":        flip(blob, len(blob)-1),
		"truncated":          blob[:len(blob)-1],
		"too short":          blob[:40],
		"empty":              nil,
	}
	for name, b := range cases {
		if _, err := p.Unwrap(ctx, b); !errors.Is(err, kms.ErrDecrypt) {
			t.Errorf("%s: err %v, want ErrDecrypt", name, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	// A second provider on the same label finds the same keys (they were
	// created on the token, not in the process).
	p2, err := pkcs11.Open(ctx, tok.Config("root-key"))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer p2.Close()
	if got, err := p2.Unwrap(ctx, blob); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("unwrap after reopen: %v", err)
	}
	// Another label means other keys: the blob does not open.
	p3, err := pkcs11.Open(ctx, tok.Config("other-label"))
	if err != nil {
		t.Fatalf("open other label: %v", err)
	}
	defer p3.Close()
	if _, err := p3.Unwrap(ctx, blob); !errors.Is(err, kms.ErrDecrypt) {
		t.Fatalf("other label unwrapped the blob: %v", err)
	}
	p2.Close()
	p3.Close()

	// The keys are on the token, sensitive and never extractable.
	for _, label := range []string{"root-key", "root-key_HMAC"} {
		attrs := tok.KeyAttributes(t, label)
		if !attrs.Sensitive || attrs.Extractable || !attrs.Token || !attrs.Private {
			t.Fatalf("key %s attributes %+v", label, attrs)
		}
	}
}

func TestSoftHSMConfigErrors(t *testing.T) {
	tok := softhsmtest.New(t)
	ctx := context.Background()
	cases := []struct {
		name string
		mod  func(*pkcs11.Config)
		want string
	}{
		{"wrong pin aborts at once", func(c *pkcs11.Config) { c.PIN = "9999"; c.RetryTimeout = time.Minute }, "HSM_PIN"},
		{"slot out of range", func(c *pkcs11.Config) { c.Slot = 7 }, "out of range"},
		{"missing library", func(c *pkcs11.Config) { c.LibPath = filepath.Join(t.TempDir(), "nope.so") }, "cannot load"},
		{"missing label", func(c *pkcs11.Config) { c.KeyLabel = "" }, "HSM_KEY_LABEL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tok.Config("root-key")
			tc.mod(&cfg)
			start := time.Now()
			p, err := pkcs11.Open(ctx, cfg)
			if err == nil {
				p.Close()
				t.Fatal("open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tok.PIN) {
				t.Fatal("error contains the PIN")
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("took %s: a wrong PIN must not be retried", time.Since(start))
			}
		})
	}
}

func TestSoftHSMConcurrent(t *testing.T) {
	tok := softhsmtest.New(t)
	ctx := context.Background()
	p, err := pkcs11.Open(ctx, tok.Config("root-key"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 20; j++ {
				pt := []byte(strings.Repeat("k", 32))
				b, err := p.Wrap(ctx, pt)
				if err == nil {
					var got []byte
					got, err = p.Unwrap(ctx, b)
					if err == nil && !bytes.Equal(got, pt) {
						err = errors.New("mismatch")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}
