package infisical_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"

	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// cmekFixture is an engine with an organization and a project.
type cmekFixture struct {
	eng     *infisical.Engine
	orgID   string
	project *infisical.Project
	admin   infisical.Actor
}

func newCmekFixture(t *testing.T, b enginetest.Backend) *cmekFixture {
	t.Helper()
	eng := enginetest.Open(t, b)
	org := enginetest.Org(t, eng, "Acme")
	admin := infisical.Platform(org.ID)
	p, err := eng.Projects.Create(context.Background(), admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "keys"})
	if err != nil {
		t.Fatal(err)
	}
	return &cmekFixture{eng: eng, orgID: org.ID, project: p, admin: admin}
}

func TestCmekEncryptDecryptAndRotation(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newCmekFixture(t, b)
		c := f.eng.Cmek()
		for _, alg := range []string{"aes-256-gcm", "aes-128-gcm"} {
			k, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "  Data-" + alg[4:7] + " ", Algorithm: alg})
			if err != nil {
				t.Fatalf("create %s: %v", alg, err)
			}
			if k.Name != "data-"+alg[4:7] || k.Version != 1 || k.KeyUsage != kms.UsageEncryptDecrypt || k.Algorithm != alg {
				t.Fatalf("key %+v", k)
			}
			var blobs [][]byte
			for _, pt := range [][]byte{[]byte("hello"), bytes.Repeat([]byte{7}, infisical.CmekMaxData)} {
				ct, err := c.Encrypt(ctx, f.admin, k.ID, pt)
				if err != nil {
					t.Fatal(err)
				}
				// Never-rotated keys produce the spec's blob: IV ‖ ct ‖ tag ‖ "v01".
				if len(ct) != len(pt)+kms.VersionedOverhead || string(ct[len(ct)-3:]) != "v01" {
					t.Fatalf("blob length %d for %d bytes", len(ct), len(pt))
				}
				got, err := c.Decrypt(ctx, f.admin, k.ID, ct)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("decrypt: %v", err)
				}
				blobs = append(blobs, ct)
			}
			// Rotate twice: new ciphertexts name their version, old ones
			// still decrypt.
			for v := 2; v <= 3; v++ {
				k, err = c.Rotate(ctx, f.admin, k.ID)
				if err != nil || k.Version != v {
					t.Fatalf("rotate: %v %+v", err, k)
				}
				ct, err := c.Encrypt(ctx, f.admin, k.ID, []byte("after rotation"))
				if err != nil {
					t.Fatal(err)
				}
				if string(ct[len(ct)-3:]) != "v02" || len(ct) != len("after rotation")+kms.VersionedOverheadV2 {
					t.Fatalf("rotated blob %x", ct[len(ct)-7:])
				}
				if ver, _, _ := kms.BlobKeyVersion(ct); ver != v {
					t.Fatalf("blob names version %d, want %d", ver, v)
				}
				blobs = append(blobs, ct)
			}
			for i, ct := range blobs {
				if _, err := c.Decrypt(ctx, f.admin, k.ID, ct); err != nil {
					t.Fatalf("blob %d after rotation: %v", i, err)
				}
			}
		}
	})
}

func TestCmekErrors(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newCmekFixture(t, b)
		c := f.eng.Cmek()
		enc, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "enc"})
		if err != nil {
			t.Fatal(err)
		}
		other, _ := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "other"})
		sig, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "sig", KeyUsage: "sign-verify", Algorithm: "ecc-nist-p256"})
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := c.Encrypt(ctx, f.admin, enc.ID, []byte("secret"))
		flip := func(i int) []byte { b := append([]byte(nil), ct...); b[i] ^= 1; return b }
		disabled, _ := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "off"})
		dct, _ := c.Encrypt(ctx, f.admin, disabled.ID, []byte("x"))
		yes := true
		if _, err := c.Update(ctx, f.admin, disabled.ID, infisical.UpdateCmekInput{IsDisabled: &yes}); err != nil {
			t.Fatal(err)
		}
		forged := append(append([]byte(nil), ct[:len(ct)-3]...), 0, 0, 0, 9, 'v', '0', '2')

		cases := []struct {
			name string
			call func() error
			kind infisical.Kind
			msg  string
		}{
			{"tampered ciphertext", func() error { _, err := c.Decrypt(ctx, f.admin, enc.ID, flip(15)); return err }, infisical.KindBadRequest, "Invalid ciphertext"},
			{"tampered iv", func() error { _, err := c.Decrypt(ctx, f.admin, enc.ID, flip(0)); return err }, infisical.KindBadRequest, "Invalid ciphertext"},
			{"truncated", func() error { _, err := c.Decrypt(ctx, f.admin, enc.ID, ct[:20]); return err }, infisical.KindBadRequest, "Invalid ciphertext"},
			{"empty", func() error { _, err := c.Decrypt(ctx, f.admin, enc.ID, nil); return err }, infisical.KindBadRequest, "Invalid ciphertext"},
			{"unknown version", func() error { _, err := c.Decrypt(ctx, f.admin, enc.ID, forged); return err }, infisical.KindBadRequest, "Invalid ciphertext"},
			{"wrong key", func() error { _, err := c.Decrypt(ctx, f.admin, other.ID, ct); return err }, infisical.KindBadRequest, "Invalid ciphertext"},
			{"disabled encrypt", func() error { _, err := c.Encrypt(ctx, f.admin, disabled.ID, []byte("x")); return err }, infisical.KindBadRequest, "Key is disabled"},
			{"disabled decrypt", func() error { _, err := c.Decrypt(ctx, f.admin, disabled.ID, dct); return err }, infisical.KindBadRequest, "Key is disabled"},
			{"encrypt with signing key", func() error { _, err := c.Encrypt(ctx, f.admin, sig.ID, []byte("x")); return err }, infisical.KindBadRequest, "not intended for encryption"},
			{"sign with encryption key", func() error {
				_, err := c.Sign(ctx, f.admin, enc.ID, kms.ECDSA_SHA_256, []byte("x"), false)
				return err
			}, infisical.KindBadRequest, "not intended for signing"},
			{"public key of encryption key", func() error { _, err := c.PublicKey(ctx, f.admin, enc.ID); return err }, infisical.KindBadRequest, "not intended for signing"},
			{"rsa algorithm on ecc key", func() error {
				_, err := c.Sign(ctx, f.admin, sig.ID, kms.RSASSA_PSS_SHA_256, []byte("x"), false)
				return err
			}, infisical.KindBadRequest, "cannot be used with"},
			{"unknown algorithm", func() error { _, err := c.Sign(ctx, f.admin, sig.ID, "MD5", []byte("x"), false); return err }, infisical.KindValidation, "signingAlgorithm"},
			{"bad digest length", func() error {
				_, err := c.Sign(ctx, f.admin, sig.ID, kms.ECDSA_SHA_256, []byte("short"), true)
				return err
			}, infisical.KindBadRequest, "32-byte digest"},
			{"plaintext too large", func() error {
				_, err := c.Encrypt(ctx, f.admin, enc.ID, make([]byte, infisical.CmekMaxData+1))
				return err
			}, infisical.KindValidation, "cannot exceed"},
			{"unknown key", func() error {
				_, err := c.Encrypt(ctx, f.admin, "6f1a4b4e-0000-4000-8000-000000000000", []byte("x"))
				return err
			}, infisical.KindNotFound, "not found"},
			{"key id not a uuid", func() error { _, err := c.Encrypt(ctx, f.admin, "nope", []byte("x")); return err }, infisical.KindValidation, "keyId"},
			{"duplicate name", func() error {
				_, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "ENC"})
				return err
			}, infisical.KindBadRequest, "already exists"},
			{"bad name", func() error {
				_, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "a--b"})
				return err
			}, infisical.KindValidation, "slug"},
			{"long name", func() error {
				_, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: strings.Repeat("a", 33)})
				return err
			}, infisical.KindValidation, "name"},
			{"symmetric algorithm for signing", func() error {
				_, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "x", KeyUsage: "sign-verify", Algorithm: "aes-256-gcm"})
				return err
			}, infisical.KindValidation, "asymmetric"},
			{"rsa for encryption", func() error {
				_, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "x", Algorithm: "rsa-2048"})
				return err
			}, infisical.KindValidation, "symmetric"},
			{"bad usage", func() error {
				_, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "x", KeyUsage: "wrap"})
				return err
			}, infisical.KindValidation, "keyUsage"},
		}
		for _, tc := range cases {
			err := tc.call()
			if infisical.KindOf(err) != tc.kind || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: got %v (kind %d), want kind %d mentioning %q", tc.name, err, infisical.KindOf(err), tc.kind, tc.msg)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error mentions the plaintext", tc.name)
			}
		}
		// Re-enabling restores the key.
		no := false
		if _, err := c.Update(ctx, f.admin, disabled.ID, infisical.UpdateCmekInput{IsDisabled: &no}); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Decrypt(ctx, f.admin, disabled.ID, dct); err != nil || string(got) != "x" {
			t.Fatalf("after enabling: %v", err)
		}
		// Deleted keys are gone.
		if _, err := c.Delete(ctx, f.admin, enc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Decrypt(ctx, f.admin, enc.ID, ct); !infisical.IsNotFound(err) {
			t.Fatalf("decrypt with deleted key: %v", err)
		}
	})
}

func TestCmekSigning(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newCmekFixture(t, b)
		c := f.eng.Cmek()
		data := []byte("release manifest v1.2.3")
		specs := []string{"rsa-2048", "ecc-nist-p256", "ecc-nist-p384"}
		if b == enginetest.SQLite {
			specs = append(specs, "RSA_4096") // slow to generate: once
		}
		for _, spec := range specs {
			k, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "sign-" + strings.ToLower(strings.ReplaceAll(spec, "_", "-")),
				KeyUsage: "sign-verify", Algorithm: spec})
			if err != nil {
				t.Fatalf("create %s: %v", spec, err)
			}
			algs, err := c.SigningAlgorithms(ctx, f.admin, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := 6
			if strings.HasPrefix(k.Algorithm, "ecc") {
				want = 3
			}
			if len(algs) != want {
				t.Fatalf("%s: algorithms %v", spec, algs)
			}
			for _, alg := range algs {
				sig, err := c.Sign(ctx, f.admin, k.ID, alg, data, false)
				if err != nil {
					t.Fatalf("%s %s: %v", spec, alg, err)
				}
				ok, err := c.Verify(ctx, f.admin, k.ID, alg, data, sig, false)
				if err != nil || !ok {
					t.Fatalf("%s %s: verify %v %v", spec, alg, ok, err)
				}
				if ok, _ := c.Verify(ctx, f.admin, k.ID, alg, []byte("tampered"), sig, false); ok {
					t.Fatalf("%s %s: tampered data verified", spec, alg)
				}
				// Signing a digest is the same as signing the data.
				digest := cmekHash(alg, data)
				dsig, err := c.Sign(ctx, f.admin, k.ID, alg, digest, true)
				if err != nil {
					t.Fatalf("%s %s digest: %v", spec, alg, err)
				}
				if ok, err := c.Verify(ctx, f.admin, k.ID, alg, data, dsig, false); err != nil || !ok {
					t.Fatalf("%s %s: digest signature does not verify over data", spec, alg)
				}
			}
			// Rotation: old signatures stay valid, the public key changes.
			sig, _ := c.Sign(ctx, f.admin, k.ID, algs[len(algs)-1], data, false)
			pub1, _ := c.PublicKey(ctx, f.admin, k.ID)
			if _, err := c.Rotate(ctx, f.admin, k.ID); err != nil {
				t.Fatal(err)
			}
			pub2, _ := c.PublicKey(ctx, f.admin, k.ID)
			if bytes.Equal(pub1, pub2) {
				t.Fatal("public key unchanged by rotation")
			}
			if ok, _ := c.Verify(ctx, f.admin, k.ID, algs[len(algs)-1], data, sig, false); !ok {
				t.Fatal("signature from before rotation no longer verifies")
			}
		}
	})
}

func cmekHash(alg string, data []byte) []byte {
	switch {
	case strings.HasSuffix(alg, "512"):
		s := sha512.Sum512(data)
		return s[:]
	case strings.HasSuffix(alg, "384"):
		s := sha512.Sum384(data)
		return s[:]
	}
	s := sha256.Sum256(data)
	return s[:]
}

func TestCmekListPermissionsAndStorage(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		f := newCmekFixture(t, b)
		c := f.eng.Cmek()
		for _, n := range []string{"bravo", "alpha", "charlie", "alpha-two", "delta"} {
			if _, err := c.Create(ctx, f.admin, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: n, Description: cmekStr("about " + n)}); err != nil {
				t.Fatal(err)
			}
		}
		keys, total, err := c.List(ctx, f.admin, infisical.ListCmekInput{ProjectID: f.project.ID, Limit: 2, Offset: 1})
		if err != nil || total != 5 || len(keys) != 2 || keys[0].Name != "alpha-two" || keys[1].Name != "bravo" {
			t.Fatalf("page: %v total %d %+v", err, total, keys)
		}
		keys, total, _ = c.List(ctx, f.admin, infisical.ListCmekInput{ProjectID: f.project.ID, Search: "ALPHA", Desc: true})
		if total != 2 || keys[0].Name != "alpha-two" {
			t.Fatalf("search: %d %+v", total, keys)
		}
		if _, _, err := c.List(ctx, f.admin, infisical.ListCmekInput{ProjectID: f.project.ID, Search: "%"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.List(ctx, f.admin, infisical.ListCmekInput{ProjectID: f.project.ID, Limit: 101}); infisical.KindOf(err) != infisical.KindValidation {
			t.Fatalf("limit 101: %v", err)
		}
		k, err := c.GetByName(ctx, f.admin, f.project.ID, "charlie")
		if err != nil || k.Name != "charlie" {
			t.Fatal(err)
		}
		// Permissions: a viewer may read but not use keys; another
		// organization does not see them at all.
		_, viewerTok := enginetest.IdentityToken(t, f.eng, f.orgID, "member", f.project.ID, "viewer")
		viewer, err := f.eng.Authenticate(ctx, viewerTok, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, viewer, k.ID); err != nil {
			t.Fatalf("viewer read: %v", err)
		}
		if _, err := c.Encrypt(ctx, viewer, k.ID, []byte("x")); infisical.KindOf(err) != infisical.KindPermissionDenied {
			t.Fatalf("viewer encrypt: %v", err)
		}
		if _, err := c.Create(ctx, viewer, infisical.CreateCmekInput{ProjectID: f.project.ID, Name: "v"}); infisical.KindOf(err) != infisical.KindPermissionDenied {
			t.Fatalf("viewer create: %v", err)
		}
		org2 := enginetest.Org(t, f.eng, "Other")
		p2, _ := f.eng.Projects.Create(ctx, infisical.Platform(org2.ID), infisical.CreateProjectInput{OrgID: org2.ID, Name: "p"})
		_, otherTok := enginetest.IdentityToken(t, f.eng, org2.ID, "admin", p2.ID, "admin")
		stranger, _ := f.eng.Authenticate(ctx, otherTok, "127.0.0.1")
		if _, err := c.Encrypt(ctx, stranger, k.ID, []byte("x")); !infisical.IsNotFound(err) {
			t.Fatalf("other org: %v", err)
		}

		// Key material is stored only wrapped: no row holds the raw key,
		// and audit entries hold no plaintext.
		ct, _ := c.Encrypt(ctx, f.admin, k.ID, []byte("top-secret-plaintext"))
		var versions []store.CustomerKeyVersion
		if err := f.eng.Store().DB().NewSelect().Model(&versions).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		for _, v := range versions {
			if len(v.EncryptedKey) != 32+kms.VersionedOverhead {
				t.Fatalf("stored key of %d bytes is not a wrapped 32-byte key", len(v.EncryptedKey))
			}
		}
		if _, err := c.Decrypt(ctx, f.admin, k.ID, ct); err != nil {
			t.Fatal(err)
		}
		cmekWaitAudit(t, f.eng, "cmek-decrypt")
		var metas []string
		_ = f.eng.Store().DB().NewSelect().Table("audit_logs").Column("event_metadata").Scan(ctx, &metas)
		for _, m := range metas {
			if strings.Contains(m, "top-secret") || strings.Contains(m, "dG9wLXNlY3JldC") {
				t.Fatalf("audit metadata leaks plaintext: %s", m)
			}
		}
	})
}

// waitAudit waits until a queued read event of type typ was written.
func cmekWaitAudit(t *testing.T, eng *infisical.Engine, typ string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		var n int64
		n, _ = eng.Store().DB().NewSelect().Table("audit_logs").Where("event_type = ?", typ).Count(context.Background())
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s audit event", typ)
}

func cmekStr(s string) *string { return &s }
