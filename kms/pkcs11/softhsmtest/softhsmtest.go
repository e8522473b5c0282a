//go:build cgo

// Package softhsmtest gives tests a fresh SoftHSM2 token: a private token
// directory and configuration (SOFTHSM2_CONF) in a temporary directory,
// initialised with softhsm2-util. Tests skip with a clear message when
// SoftHSM2 is not installed, unless INFISICAL_REQUIRE_SOFTHSM=1 (CI sets it),
// which makes its absence a failure.
package softhsmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/infisical-go/engine/kms/pkcs11"
)

// Token is an initialised SoftHSM2 token.
type Token struct {
	LibPath string
	PIN     string
	Label   string
	// Slot is the index of the token in the slot list (HSM_SLOT).
	Slot int
	Conf string
}

// LibraryPaths are where Debian and other distributions install SoftHSM2.
var LibraryPaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// Library returns the SoftHSM2 library path, or "".
func Library() string {
	if v := os.Getenv("SOFTHSM2_LIB"); v != "" {
		return v
	}
	for _, p := range LibraryPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// New creates a token for the test. It sets SOFTHSM2_CONF for the rest of
// the test (so tests using it cannot run in parallel).
func New(t testing.TB) *Token {
	t.Helper()
	lib := Library()
	util, utilErr := exec.LookPath("softhsm2-util")
	if lib == "" || utilErr != nil {
		msg := "SoftHSM2 is not installed (install the Debian package softhsm2: apt-get install -y softhsm2)"
		if os.Getenv("INFISICAL_REQUIRE_SOFTHSM") == "1" {
			t.Fatal(msg + "; INFISICAL_REQUIRE_SOFTHSM=1 makes this a failure")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	tok := &Token{LibPath: lib, PIN: "1234", Label: "infisical-test", Conf: conf}
	cmd := exec.Command(util, "--init-token", "--free", "--label", tok.Label, "--pin", tok.PIN, "--so-pin", "5678")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	tok.Slot = slotIndex(t, lib, tok.Label)
	return tok
}

// slotIndex finds the index of the token labelled label in the slot list
// (SoftHSM2 also lists a free, uninitialised slot, in no fixed order).
func slotIndex(t testing.TB, lib, label string) int {
	t.Helper()
	c := p11.New(lib)
	if c == nil {
		t.Fatalf("cannot load %s", lib)
	}
	defer c.Destroy()
	if err := c.Initialize(); err != nil {
		t.Fatalf("initialize %s: %v", lib, err)
	}
	defer c.Finalize()
	slots, err := c.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range slots {
		info, err := c.GetTokenInfo(s)
		if err == nil && trimLabel(info.Label) == label {
			return i
		}
	}
	t.Fatalf("token %q not found in %d slots", label, len(slots))
	return -1
}

func trimLabel(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == 0) {
		s = s[:len(s)-1]
	}
	return s
}

// Config returns a provider configuration for the token with keyLabel.
func (tok *Token) Config(keyLabel string) pkcs11.Config {
	return pkcs11.Config{LibPath: tok.LibPath, PIN: tok.PIN, Slot: tok.Slot, KeyLabel: keyLabel}
}

// KeyAttrs are the protection attributes of a secret key on the token.
type KeyAttrs struct {
	Token, Private, Sensitive, Extractable bool
}

// KeyAttributes reads the attributes of the secret key labelled label. Call
// it while no provider has the library open (it initialises and finalises
// the library itself).
func (tok *Token) KeyAttributes(t testing.TB, label string) KeyAttrs {
	t.Helper()
	c := p11.New(tok.LibPath)
	if c == nil {
		t.Fatalf("cannot load %s", tok.LibPath)
	}
	defer c.Destroy()
	if err := c.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer c.Finalize()
	slots, err := c.GetSlotList(true)
	if err != nil || tok.Slot >= len(slots) {
		t.Fatalf("slots: %v", err)
	}
	s, err := c.OpenSession(slots[tok.Slot], p11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseSession(s)
	if err := c.Login(s, p11.CKU_USER, tok.PIN); err != nil {
		t.Fatal(err)
	}
	defer c.Logout(s)
	if err := c.FindObjectsInit(s, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, label), p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY)}); err != nil {
		t.Fatal(err)
	}
	objs, _, err := c.FindObjects(s, 2)
	_ = c.FindObjectsFinal(s)
	if err != nil || len(objs) != 1 {
		t.Fatalf("find %s: %v (%d objects)", label, err, len(objs))
	}
	attrs, err := c.GetAttributeValue(s, objs[0], []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, nil), p11.NewAttribute(p11.CKA_PRIVATE, nil),
		p11.NewAttribute(p11.CKA_SENSITIVE, nil), p11.NewAttribute(p11.CKA_EXTRACTABLE, nil)})
	if err != nil {
		t.Fatal(err)
	}
	b := func(i int) bool { return len(attrs[i].Value) > 0 && attrs[i].Value[0] != 0 }
	return KeyAttrs{Token: b(0), Private: b(1), Sensitive: b(2), Extractable: b(3)}
}
