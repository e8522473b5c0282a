package infisical_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

const rotatedKey = "fedcba9876543210fedcba9876543210"

// rotationWorld is a database with data under the root key, and the
// servers (engines) running on it.
type rotationWorld struct {
	t      *testing.T
	dsn    string
	orgs   []string
	projs  []string
	keyIDs []string
	cts    [][]byte
}

func openEngine(t *testing.T, dsn string, root kms.RootKey, encKey string) (*infisical.Engine, error) {
	cfg := enginetest.Config(t, dsn)
	cfg.RootKey = root
	if encKey != "" {
		cfg.EncryptionKey = encKey
	}
	return infisical.Open(context.Background(), cfg)
}

func mustOpenEngine(t *testing.T, dsn string, root kms.RootKey, encKey string) *infisical.Engine {
	t.Helper()
	eng, err := openEngine(t, dsn, root, encKey)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func software(t *testing.T, key string) kms.RootKey {
	t.Helper()
	p, err := kms.NewSoftware(kms.SoftwareConfig{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// populate creates two organizations, each with a project holding secrets
// and a customer key with a ciphertext.
func (w *rotationWorld) populate(eng *infisical.Engine, n int) {
	t := w.t
	ctx := context.Background()
	for i := 0; i < n; i++ {
		org := enginetest.Org(t, eng, fmt.Sprintf("Org %d %d", len(w.orgs), i))
		admin := infisical.Platform(org.ID)
		p, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "app"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"},
			NewSecret: infisical.NewSecret{Key: "DB_PASSWORD", Value: "pw-" + org.ID[:8]}}); err != nil {
			t.Fatal(err)
		}
		k, err := eng.Cmek().Create(ctx, admin, infisical.CreateCmekInput{ProjectID: p.ID, Name: "data"})
		if err != nil {
			t.Fatal(err)
		}
		ct, err := eng.Cmek().Encrypt(ctx, admin, k.ID, []byte("payload-"+org.ID[:8]))
		if err != nil {
			t.Fatal(err)
		}
		w.orgs, w.projs, w.keyIDs, w.cts = append(w.orgs, org.ID), append(w.projs, p.ID), append(w.keyIDs, k.ID), append(w.cts, ct)
	}
}

// check reads every secret and decrypts every ciphertext through eng.
func (w *rotationWorld) check(eng *infisical.Engine, label string) {
	w.t.Helper()
	if err := w.verify(eng); err != nil {
		w.t.Fatalf("%s: %v", label, err)
	}
}

func (w *rotationWorld) verify(eng *infisical.Engine) error {
	ctx := context.Background()
	for i, org := range w.orgs {
		admin := infisical.Platform(org)
		s, err := eng.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: w.projs[i]}, Environment: "dev"}, Key: "DB_PASSWORD"})
		if err != nil {
			return fmt.Errorf("read secret of org %d: %w", i, err)
		}
		if s.Value != "pw-"+org[:8] {
			return fmt.Errorf("secret of org %d = %q", i, s.Value)
		}
		pt, err := eng.Cmek().Decrypt(ctx, admin, w.keyIDs[i], w.cts[i])
		if err != nil || string(pt) != "payload-"+org[:8] {
			return fmt.Errorf("decrypt for org %d: %v", i, err)
		}
	}
	return nil
}

func TestRootRotationCrashSafety(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		dsn := enginetest.DSN(t, b)
		w := &rotationWorld{t: t, dsn: dsn}
		running := mustOpenEngine(t, dsn, nil, "") // the server that keeps serving
		w.populate(running, 3)
		// A second server that has not touched the organizations yet: its
		// caches are cold, so it must follow the rotation to read them.
		cold := mustOpenEngine(t, dsn, nil, "")

		// The rotation runs in its own "process": its own store handle.
		st, err := store.Open(ctx, store.Config{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		from, to := software(t, enginetest.TestEncryptionKey), software(t, rotatedKey)

		injected := errors.New("injected crash")
		type crash struct {
			step  string
			n     int
			panic bool
			kill  bool
		}
		crashes := []crash{
			{step: infisical.RotateStepUnwrapped},
			{step: infisical.RotateStepWrapped, panic: true},
			{step: infisical.RotateStepRewrap, n: 1},
			{step: infisical.RotateStepRewrap, n: 2, panic: true},
			{step: infisical.RotateStepRewrap, n: 2, kill: true},
			{step: infisical.RotateStepCommit, n: 3},
			{step: infisical.RotateStepCommit, n: 3, kill: true},
		}
		for _, c := range crashes {
			name := fmt.Sprintf("%s#%d panic=%v kill=%v", c.step, c.n, c.panic, c.kill)
			rctx, cancel := context.WithCancel(ctx)
			func() {
				defer func() {
					if p := recover(); p != nil && !c.panic {
						t.Fatalf("%s: unexpected panic %v", name, p)
					}
				}()
				_, err := infisical.RotateRootKey(rctx, st, infisical.RotateRootOptions{From: from, To: to, Grace: -1,
					Hook: func(step string, n int) error {
						if step != c.step || n != c.n {
							return nil
						}
						switch {
						case c.panic:
							panic("injected panic")
						case c.kill:
							// The process dies mid-transaction: the
							// connection is abandoned and the database
							// rolls the transaction back.
							cancel()
							<-rctx.Done()
							return rctx.Err()
						}
						return injected
					}})
				if err == nil {
					t.Fatalf("%s: rotation succeeded", name)
				}
			}()
			cancel()
			// Nothing changed: the old configuration still opens everything,
			// and running servers keep serving.
			rs, err := st.Read().GetRootKeyState(ctx, false)
			if err != nil || rs.KeyID() != "" || rs.PreviousLink != nil {
				t.Fatalf("%s: root state changed: %v %+v", name, err, rs)
			}
			w.check(running, name+" (running server)")
		}
		fresh := mustOpenEngine(t, dsn, nil, "")
		w.check(fresh, "fresh server with the old key after failed rotations")
		fresh.Close()

		// The real rotation.
		res, err := infisical.RotateRootKey(ctx, st, infisical.RotateRootOptions{From: from, To: to, Grace: -1})
		if err != nil {
			t.Fatalf("rotate: %v", err)
		}
		if res.AlreadyRotated || res.OrgKeys != 3 || res.RootKeyID == "" {
			t.Fatalf("result %+v", res)
		}
		// Servers that started with the old key keep serving, hot or cold
		// caches, and can create organizations (wrapped by the new root).
		w.check(running, "running server after rotation")
		w.check(cold, "cold server after rotation")
		w.populate(running, 1)
		w.populate(cold, 1)
		w.check(running, "running server, new organizations")

		// A restart needs the new key.
		if e, err := openEngine(t, dsn, nil, ""); err == nil {
			e.Close()
			t.Fatal("a server with the old ENCRYPTION_KEY opened after rotation")
		} else if !strings.Contains(err.Error(), "unwrap root key") {
			t.Fatalf("old key: %v", err)
		}
		restarted := mustOpenEngine(t, dsn, nil, rotatedKey)
		w.check(restarted, "server restarted with the new key")

		// Re-running the same command after a crash that followed the
		// commit only finishes the clean-up.
		again, err := infisical.RotateRootKey(ctx, st, infisical.RotateRootOptions{From: from, To: to, Grace: time.Millisecond})
		if err != nil || !again.AlreadyRotated || !again.LinkCleared {
			t.Fatalf("re-run: %v %+v", err, again)
		}
		rs, _ := st.Read().GetRootKeyState(ctx, false)
		if rs.PreviousLink != nil {
			t.Fatal("link left after the grace period")
		}
		w.check(restarted, "after clean-up")
		w.check(running, "running server after clean-up")
	})
}

// TestRootRotationRunningServerAdopts checks the invalidation path: a
// server rotating through the engine API switches itself, and another
// server (PostgreSQL: by NOTIFY) adopts the new root key before its caches
// need it.
func TestRootRotationEngineAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		dsn := enginetest.DSN(t, b)
		w := &rotationWorld{t: t, dsn: dsn}
		a := mustOpenEngine(t, dsn, nil, "")
		w.populate(a, 2)
		other := mustOpenEngine(t, dsn, nil, "")
		to := software(t, rotatedKey)
		res, err := a.RotateRootKey(ctx, to, infisical.RotateRootOptions{Grace: -1})
		if err != nil || res.OrgKeys != 2 {
			t.Fatalf("rotate: %v %+v", err, res)
		}
		w.populate(a, 1)
		w.check(a, "rotating server")
		w.check(other, "other server")
		if s, _ := a.RootKeyStrategy(ctx); s != kms.StrategySoftware {
			t.Fatalf("strategy %s", s)
		}
		// Rotating again, with the link cleared: the other server already
		// adopted the previous rotation, so it follows this one too.
		if _, err := a.RotateRootKey(ctx, software(t, enginetest.TestEncryptionKey), infisical.RotateRootOptions{Grace: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		w.populate(other, 1)
		w.check(other, "other server after two rotations")
		w.check(a, "rotating server after two rotations")
		if cleared, err := infisical.FinishRootRotation(ctx, a.Store()); err != nil || cleared {
			t.Fatalf("finish: %v %v", cleared, err)
		}
		restarted := mustOpenEngine(t, dsn, nil, enginetest.TestEncryptionKey)
		w.check(restarted, "restarted")
	})
}
