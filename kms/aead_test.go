package kms

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAEAD(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("secret"), 1000)} {
		blob, err := a.Seal(pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(blob) != len(pt)+Overhead {
			t.Fatalf("blob len %d, want %d", len(blob), len(pt)+Overhead)
		}
		if len(pt) > 4 && bytes.Contains(blob, pt) {
			t.Fatal("plaintext visible in blob")
		}
		got, err := a.Open(blob)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open: %v %q", err, got)
		}
		vb, _ := a.SealVersioned(pt)
		if string(vb[len(vb)-3:]) != "v01" {
			t.Fatalf("missing v01 suffix")
		}
		got, err = a.OpenVersioned(vb)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open versioned: %v", err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	key, _ := NewKey()
	other, _ := NewKey()
	blob, _ := Seal(key, []byte("hello world"))
	tampered := append([]byte(nil), blob...)
	tampered[NonceSize+1] ^= 1
	cases := map[string]struct {
		key  []byte
		blob []byte
	}{
		"wrong key": {other, blob},
		"tampered":  {key, tampered},
		"truncated": {key, blob[:10]},
		"empty":     {key, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(c.key, c.blob); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("got %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestSoftwareConfig(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	b64 := base64.StdEncoding.EncodeToString(raw)
	cases := []struct {
		name    string
		cfg     SoftwareConfig
		wantErr bool
		wantKey []byte
	}{
		{"none", SoftwareConfig{}, true, nil},
		{"encryption key 32 chars", SoftwareConfig{EncryptionKey: "0123456789abcdef0123456789abcdef"}, false, []byte("0123456789abcdef0123456789abcdef")},
		{"encryption key wrong length", SoftwareConfig{EncryptionKey: "short"}, true, nil},
		{"root key base64", SoftwareConfig{RootEncryptionKey: b64}, false, raw},
		{"root key bad base64", SoftwareConfig{RootEncryptionKey: "!!"}, true, nil},
		{"root key short", SoftwareConfig{RootEncryptionKey: base64.StdEncoding.EncodeToString([]byte("abc"))}, true, nil},
		{"encryption key wins", SoftwareConfig{EncryptionKey: "0123456789abcdef0123456789abcdef", RootEncryptionKey: b64}, false, []byte("0123456789abcdef0123456789abcdef")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if (err != nil) != c.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			sw, err := NewSoftware(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			blob, _ := sw.Wrap(context.Background(), []byte("root"))
			// The wrapped blob must open with the expected raw key.
			pt, err := Open(c.wantKey, blob)
			if err != nil || string(pt) != "root" {
				t.Fatalf("blob not sealed with expected key: %v", err)
			}
		})
	}
}
