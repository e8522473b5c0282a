//go:build cgo

package infisical_test

import (
	"context"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/pkcs11/softhsmtest"
)

// TestRootKeyProviderHSM moves the root key from software into a SoftHSM2
// token, rotates it to another HSM key label, and back to software, with a
// server running throughout.
func TestRootKeyProviderHSM(t *testing.T) {
	tok := softhsmtest.New(t)
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		dsn := enginetest.DSN(t, b)
		w := &rotationWorld{t: t, dsn: dsn}
		running := mustOpenEngine(t, dsn, nil, "")
		w.populate(running, 2)

		open := func(label string) kms.RootKey {
			p, err := infisical.OpenRootKey(ctx, infisical.RootKeyConfig{Provider: "hsm", HSM: tok.Config(label)})
			if err != nil {
				t.Fatalf("open HSM %s: %v", label, err)
			}
			t.Cleanup(func() { infisical.CloseRootKey(p) })
			return p
		}
		hsmA := open("root-" + string(b) + "-a")
		res, err := infisical.RotateRootKey(ctx, running.Store(), infisical.RotateRootOptions{From: software(t, enginetest.TestEncryptionKey), To: hsmA, Grace: -1})
		if err != nil || res.ToStrategy != kms.StrategyHSM || res.OrgKeys != 2 {
			t.Fatalf("to HSM: %v %+v", err, res)
		}
		w.populate(running, 1)
		w.check(running, "running server after moving to the HSM")
		if e, err := openEngine(t, dsn, nil, ""); err == nil {
			e.Close()
			t.Fatal("software provider opened an HSM-protected root key")
		} else if !strings.Contains(err.Error(), "HSM") {
			t.Fatalf("error does not name the HSM: %v", err)
		}
		onHSM := mustOpenEngine(t, dsn, hsmA, "")
		w.check(onHSM, "server on the HSM")

		// HSM key label A → B (two providers on one PKCS#11 library).
		hsmB := open("root-" + string(b) + "-b")
		if _, err := onHSM.RotateRootKey(ctx, hsmB, infisical.RotateRootOptions{Grace: -1}); err != nil {
			t.Fatalf("HSM A to B: %v", err)
		}
		w.check(onHSM, "after HSM label rotation")
		w.check(running, "first server after HSM label rotation")
		if e, err := openEngine(t, dsn, hsmA, ""); err == nil {
			e.Close()
			t.Fatal("the old HSM key still opens the root key")
		}
		w.check(mustOpenEngine(t, dsn, hsmB, ""), "restart on HSM B")

		// And back to software (requires the HSM to be reachable, as
		// Infisical's docs say).
		if _, err := onHSM.RotateRootKey(ctx, software(t, rotatedKey), infisical.RotateRootOptions{Grace: -1}); err != nil {
			t.Fatalf("back to software: %v", err)
		}
		w.check(mustOpenEngine(t, dsn, nil, rotatedKey), "restart on software")
	})
}
