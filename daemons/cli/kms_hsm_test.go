//go:build cgo

package cli

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/kms/pkcs11/softhsmtest"
)

// TestKMSRotateRootToHSM moves the root key into a SoftHSM2 token with the
// command, then reads the data with a server configured for the HSM.
func TestKMSRotateRootToHSM(t *testing.T) {
	tok := softhsmtest.New(t)
	dsn, read := seedDatabase(t)
	hsmEnv := map[string]string{"HSM_LIB_PATH": tok.LibPath, "HSM_PIN": tok.PIN, "HSM_SLOT": strconv.Itoa(tok.Slot), "HSM_KEY_LABEL": "cli-root"}
	env := map[string]string{"ENCRYPTION_KEY": enginetest.TestEncryptionKey}
	for k, v := range hsmEnv {
		env[k] = v
	}
	r := runCLI(t, env, "kms", "rotate-root", "--db", dsn, "--to", "hsm", "--grace", "0")
	if r.code != ExitOK || !strings.Contains(r.stdout, "SOFTWARE → HSM") || !strings.Contains(r.stdout, "ROOT_KEY_PROVIDER=hsm") {
		t.Fatalf("rotate to hsm: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, tok.PIN+" ") {
		t.Fatal("PIN in the output")
	}
	if _, err := read(enginetest.TestEncryptionKey); err == nil || !strings.Contains(err.Error(), "HSM") {
		t.Fatalf("software key after moving to the HSM: %v", err)
	}
	hsmEnv["ROOT_KEY_PROVIDER"] = "hsm"
	app, _, _ := newTestApp(hsmEnv)
	rk, name, err := serverRootKey(context.Background(), app)
	if err != nil || name != "hsm" {
		t.Fatalf("server root key: %v", err)
	}
	defer infisical.CloseRootKey(rk)
	cfg := enginetest.Config(t, dsn)
	cfg.RootKey = rk
	eng, err := infisical.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open with the HSM: %v", err)
	}
	eng.Close()

	// And back out of the HSM with a new software key.
	back := map[string]string{"ROOT_KEY_PROVIDER": "hsm", "NEW_ENCRYPTION_KEY": newEncryptionKey}
	for k, v := range hsmEnv {
		back[k] = v
	}
	if r := runCLI(t, back, "kms", "rotate-root", "--db", dsn, "--to", "software", "--grace", "0"); r.code != ExitOK {
		t.Fatalf("back to software: %d %s", r.code, r.stderr)
	}
	if v, err := read(newEncryptionKey); err != nil || v != "v" {
		t.Fatalf("after leaving the HSM: %v", err)
	}
}
