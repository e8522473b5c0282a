package infisical_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
)

func sptr[T any](v T) *T { return &v }

func TestSecretCRUD(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		ctx, eng, admin := f.ctx, f.eng, f.admin
		tagA := f.tag("alpha")

		s, err := eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: f.scope("dev", ""),
			NewSecret: infisical.NewSecret{Key: " DB_URL ", Value: "  postgres://x\n\n", Comment: "  main db ", TagIDs: []string{tagA},
				Metadata: []infisical.SecretMetadata{{Key: "owner", Value: "team-a"}, {Key: "sens", Value: "hush", IsEncrypted: true}}}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Key != "DB_URL" || s.Value != "postgres://x\n" || s.Comment != "main db" || s.Version != 1 || s.Type != "shared" ||
			s.SecretPath != "/" || s.Environment != "dev" || s.ProjectID != f.proj.ID || len(s.Tags) != 1 || s.Tags[0].Slug != "alpha" {
			t.Fatalf("created %+v", s)
		}
		if s.Actor == nil || s.Actor.ActorType != "platform" {
			t.Fatalf("actor %+v", s.Actor)
		}

		// Rules that must refuse a create, and the kind/field they name.
		bad := []struct {
			name  string
			in    infisical.CreateSecretInput
			kind  infisical.Kind
			field string
		}{
			{"duplicate", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "DB_URL", Value: "y"}}, infisical.KindBadRequest, ""},
			{"colon", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "a:b"}}, infisical.KindValidation, "secretName"},
			{"empty key", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "  "}}, infisical.KindValidation, "secretName"},
			{"bad type", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), Type: "team", NewSecret: infisical.NewSecret{Key: "K"}}, infisical.KindValidation, "type"},
			{"missing folder", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/nope"), NewSecret: infisical.NewSecret{Key: "K"}}, infisical.KindNotFound, ""},
			{"unknown env", infisical.CreateSecretInput{SecretScope: f.scope("qa", "/"), NewSecret: infisical.NewSecret{Key: "K"}}, infisical.KindNotFound, ""},
			{"missing env", infisical.CreateSecretInput{SecretScope: f.scope("", "/"), NewSecret: infisical.NewSecret{Key: "K"}}, infisical.KindBadRequest, ""},
			{"missing project", infisical.CreateSecretInput{SecretScope: infisical.SecretScope{Environment: "dev"}, NewSecret: infisical.NewSecret{Key: "K"}}, infisical.KindBadRequest, ""},
			{"bad path", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/a/../b"), NewSecret: infisical.NewSecret{Key: "K"}}, infisical.KindValidation, "secretPath"},
			{"unknown tag", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "K", TagIDs: []string{"00000000-0000-4000-8000-000000000000"}}}, infisical.KindNotFound, ""},
			{"long note", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "K", ReminderNote: sptr(strings.Repeat("n", 1025))}}, infisical.KindValidation, "secretReminderNote"},
			{"personal by platform", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), Type: "personal", NewSecret: infisical.NewSecret{Key: "DB_URL"}}, infisical.KindBadRequest, ""},
			{"empty metadata key", infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "K", Metadata: []infisical.SecretMetadata{{Key: ""}}}}, infisical.KindValidation, "secretMetadata"},
		}
		for _, tc := range bad {
			_, err := eng.Secrets.Create(ctx, admin, tc.in)
			if tc.field != "" {
				secErrField(t, err, tc.field, tc.name)
			} else {
				secErrKind(t, err, tc.kind, tc.name)
			}
		}
		if _, err := eng.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "K"}); !infisical.IsNotFound(err) {
			t.Fatalf("refused creates must write nothing: %v", err)
		}

		get := func(in infisical.GetSecretInput) *infisical.Secret {
			t.Helper()
			in.SecretScope = f.scope("dev", "/")
			if in.Key == "" {
				in.Key = "DB_URL"
			}
			got, err := eng.Secrets.Get(ctx, admin, in)
			if err != nil {
				t.Fatalf("get %+v: %v", in, err)
			}
			return got
		}
		got := get(infisical.GetSecretInput{})
		if got.Value != "postgres://x\n" || got.Comment != "main db" || got.ID != s.ID || len(got.Metadata) != 2 ||
			got.Metadata[1].Value != "hush" || !got.Metadata[1].IsEncrypted {
			t.Fatalf("get %+v", got)
		}

		// Update: tags only does not bump the version; value, comment and
		// key do.
		tagB := f.tag("beta")
		up := func(u infisical.SecretUpdate) *infisical.Secret {
			t.Helper()
			if u.Key == "" {
				u.Key = "DB_URL"
			}
			out, err := eng.Secrets.Update(ctx, admin, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"), SecretUpdate: u})
			if err != nil {
				t.Fatalf("update %+v: %v", u, err)
			}
			return out
		}
		steps := []struct {
			name    string
			u       infisical.SecretUpdate
			version int
			check   func(*infisical.Secret) bool
		}{
			{"tags replace", infisical.SecretUpdate{TagIDs: &[]string{tagB}}, 1, func(s *infisical.Secret) bool { return len(s.Tags) == 1 && s.Tags[0].Slug == "beta" }},
			{"same value", infisical.SecretUpdate{Value: sptr("postgres://x\n")}, 1, func(s *infisical.Secret) bool { return s.Value == "postgres://x\n" }},
			{"new value", infisical.SecretUpdate{Value: sptr(" v2 ")}, 2, func(s *infisical.Secret) bool { return s.Value == "v2" && s.Comment == "main db" }},
			{"comment", infisical.SecretUpdate{Comment: sptr(" c3 ")}, 3, func(s *infisical.Secret) bool { return s.Comment == "c3" && s.Value == "v2" }},
			{"skip multiline", infisical.SecretUpdate{SkipMultilineEncoding: sptr(true)}, 3, func(s *infisical.Secret) bool {
				return s.SkipMultilineEncoding != nil && *s.SkipMultilineEncoding
			}},
			{"rename", infisical.SecretUpdate{NewKey: sptr("DATABASE_URL")}, 4, func(s *infisical.Secret) bool { return s.Key == "DATABASE_URL" && len(s.Tags) == 1 }},
			{"tags clear", infisical.SecretUpdate{Key: "DATABASE_URL", TagIDs: &[]string{}}, 4, func(s *infisical.Secret) bool { return len(s.Tags) == 0 }},
		}
		for _, st := range steps {
			out := up(st.u)
			if out.Version != st.version || !st.check(out) {
				t.Fatalf("%s: %+v", st.name, out)
			}
		}
		if _, err := eng.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "DB_URL"}); !infisical.IsNotFound(err) {
			t.Fatalf("old name after rename: %v", err)
		}
		// History: each version as it was.
		history := map[int][2]string{1: {"DB_URL", "postgres://x\n"}, 2: {"DB_URL", "v2"}, 3: {"DB_URL", "v2"}, 4: {"DATABASE_URL", "v2"}}
		for v, want := range history {
			h := get(infisical.GetSecretInput{Key: "DATABASE_URL", Version: v})
			if h.Version != v || h.Key != want[0] || h.Value != want[1] {
				t.Fatalf("version %d: %+v", v, h)
			}
		}
		// Version 1 records the tags it last had (changed while it was current).
		if h := get(infisical.GetSecretInput{Key: "DATABASE_URL", Version: 1}); len(h.Tags) != 1 || h.Tags[0].Slug != "beta" || h.Comment != "main db" {
			t.Fatalf("version 1 tags/comment: %+v", h)
		}
		if _, err := eng.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "DATABASE_URL", Version: 9}); !infisical.IsNotFound(err) {
			t.Fatalf("missing version: %v", err)
		}
		// Update refusals.
		_, err = eng.Secrets.Update(ctx, admin, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"), SecretUpdate: infisical.SecretUpdate{Key: "NOPE", Value: sptr("x")}})
		secErrKind(t, err, infisical.KindNotFound, "update missing")
		f.create("dev", "/", "OTHER", "o")
		_, err = eng.Secrets.Update(ctx, admin, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"), SecretUpdate: infisical.SecretUpdate{Key: "OTHER", NewKey: sptr("DATABASE_URL")}})
		secErrKind(t, err, infisical.KindBadRequest, "rename onto existing")
		_, err = eng.Secrets.Update(ctx, admin, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"), SecretUpdate: infisical.SecretUpdate{Key: "OTHER", NewKey: sptr("a/b")}})
		secErrField(t, err, "newSecretName", "rename to invalid")

		// Delete returns the secret; afterwards it is gone.
		del, err := eng.Secrets.Delete(ctx, admin, infisical.DeleteSecretInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "DATABASE_URL"}})
		if err != nil || del.Value != "v2" || del.Key != "DATABASE_URL" {
			t.Fatalf("delete: %+v %v", del, err)
		}
		_, err = eng.Secrets.Delete(ctx, admin, infisical.DeleteSecretInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "DATABASE_URL"}})
		secErrKind(t, err, infisical.KindNotFound, "delete twice")

		// Get by id.
		other, err := eng.Secrets.GetByID(ctx, admin, listSecrets(f, "dev", "/")[0].ID)
		if err != nil || other.Key != "OTHER" || other.SecretPath != "/" || other.Environment != "dev" {
			t.Fatalf("get by id: %+v %v", other, err)
		}
		_, err = eng.Secrets.GetByID(ctx, admin, "00000000-0000-4000-8000-000000000000")
		secErrKind(t, err, infisical.KindNotFound, "get by unknown id")

		// Reads of a missing folder are empty, not 404; unknown env is 404.
		if l := f.list(admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/missing"), IncludeImports: true}); len(l.Secrets) != 0 || l.Imports == nil || len(l.Imports) != 0 {
			t.Fatalf("missing folder list: %+v", l)
		}
		_, err = eng.Secrets.List(ctx, admin, infisical.ListSecretsInput{SecretScope: f.scope("nope", "/")})
		secErrKind(t, err, infisical.KindNotFound, "list unknown env")
		_, err = eng.Secrets.List(ctx, admin, infisical.ListSecretsInput{SecretScope: f.scope("", "/")})
		secErrKind(t, err, infisical.KindBadRequest, "list missing env")
		_, err = eng.Secrets.List(ctx, admin, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Environment: "dev"}})
		secErrKind(t, err, infisical.KindBadRequest, "list missing project")
		_, err = eng.Secrets.List(ctx, admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), MetadataFilter: make([]infisical.MetadataFilter, 11)})
		secErrField(t, err, "metadataFilter", "too many metadata filters")
	})
}

func listSecrets(f *secretsFixture, env, path string) []infisical.Secret {
	return f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope(env, path)}).Secrets
}

// TestSecretVersionsAndFolderStamp checks that every versioned change
// writes one secret_versions row in the same transaction and stamps the
// folder.
func TestSecretVersionsAndFolderStamp(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		s := f.create("dev", "/", "K", "1")
		for i := 2; i <= 4; i++ {
			if _, err := f.eng.Secrets.Update(f.ctx, f.admin, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"),
				SecretUpdate: infisical.SecretUpdate{Key: "K", Value: sptr(fmt.Sprint(i))}}); err != nil {
				t.Fatal(err)
			}
		}
		var versions []int
		if err := f.eng.Store().DB().NewSelect().Table("secret_versions").Column("version").Where("secret_id = ?", s.ID).
			Order("version ASC").Scan(f.ctx, &versions); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(versions, []int{1, 2, 3, 4}) {
			t.Fatalf("versions %v", versions)
		}
		var stamped int
		if err := f.eng.Store().DB().NewSelect().Table("secret_folders").ColumnExpr("count(*)").
			Where("id = ? AND last_secret_modified IS NOT NULL", s.FolderID).Scan(f.ctx, &stamped); err != nil {
			t.Fatal(err)
		}
		if stamped != 1 {
			t.Fatal("folder last_secret_modified not set")
		}
	})
}

func TestSecretBatches(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		ctx, eng, admin := f.ctx, f.eng, f.admin
		f.folder("dev", "/app")

		items := make([]infisical.NewSecret, 100)
		for i := range items {
			items[i] = infisical.NewSecret{Key: fmt.Sprintf("K%03d", i), Value: fmt.Sprintf("v%d", i)}
		}
		created, err := eng.Secrets.BatchCreate(ctx, admin, infisical.BatchCreateInput{SecretScope: f.scope("dev", "/app"), Secrets: items})
		if err != nil || len(created) != 100 || created[42].Key != "K042" || created[42].Version != 1 || created[42].SecretPath != "/app" {
			t.Fatalf("batch create: %d %v", len(created), err)
		}
		if got := listSecrets(f, "dev", "/app"); len(got) != 100 {
			t.Fatalf("listed %d", len(got))
		}

		count := func() int { return len(listSecrets(f, "dev", "/app")) }
		refused := []struct {
			name  string
			run   func() error
			kind  infisical.Kind
			field string
		}{
			{"one existing key", func() error {
				_, err := eng.Secrets.BatchCreate(ctx, admin, infisical.BatchCreateInput{SecretScope: f.scope("dev", "/app"),
					Secrets: []infisical.NewSecret{{Key: "NEW1"}, {Key: "K007"}, {Key: "NEW2"}}})
				return err
			}, infisical.KindBadRequest, ""},
			{"repeated key", func() error {
				_, err := eng.Secrets.BatchCreate(ctx, admin, infisical.BatchCreateInput{SecretScope: f.scope("dev", "/app"),
					Secrets: []infisical.NewSecret{{Key: "NEW1"}, {Key: "NEW1"}}})
				return err
			}, infisical.KindBadRequest, ""},
			{"invalid key names its index", func() error {
				_, err := eng.Secrets.BatchCreate(ctx, admin, infisical.BatchCreateInput{SecretScope: f.scope("dev", "/app"),
					Secrets: []infisical.NewSecret{{Key: "NEW1"}, {Key: "A:B"}}})
				return err
			}, infisical.KindValidation, "secrets[1].secretKey"},
			{"empty batch", func() error {
				_, err := eng.Secrets.BatchCreate(ctx, admin, infisical.BatchCreateInput{SecretScope: f.scope("dev", "/app")})
				return err
			}, infisical.KindValidation, "secrets"},
			{"failOnNotFound", func() error {
				_, err := eng.Secrets.BatchUpdate(ctx, admin, infisical.BatchUpdateInput{SecretScope: f.scope("dev", "/app"),
					Secrets: []infisical.SecretUpdate{{Key: "K001", Value: sptr("changed")}, {Key: "MISSING", Value: sptr("x")}}})
				return err
			}, infisical.KindNotFound, ""},
			{"bad mode", func() error {
				_, err := eng.Secrets.BatchUpdate(ctx, admin, infisical.BatchUpdateInput{SecretScope: f.scope("dev", "/app"), Mode: "merge",
					Secrets: []infisical.SecretUpdate{{Key: "K001"}}})
				return err
			}, infisical.KindValidation, "mode"},
			{"delete with one missing", func() error {
				_, err := eng.Secrets.BatchDelete(ctx, admin, infisical.BatchDeleteInput{SecretScope: f.scope("dev", "/app"),
					Secrets: []infisical.SecretRef{{Key: "K001"}, {Key: "MISSING"}}})
				return err
			}, infisical.KindNotFound, ""},
		}
		for _, tc := range refused {
			err := tc.run()
			if tc.field != "" {
				secErrField(t, err, tc.field, tc.name)
			} else {
				secErrKind(t, err, tc.kind, tc.name)
			}
			if n := count(); n != 100 {
				t.Fatalf("%s: wrote something (%d secrets)", tc.name, n)
			}
		}
		if v := secretValues(listSecrets(f, "dev", "/app"))["K001"]; v != "v1" {
			t.Fatalf("failOnNotFound changed K001 to %q", v)
		}

		// upsert creates missing keys with version 1; ignore skips them; a
		// per-item path override writes elsewhere.
		f.create("dev", "/", "ROOTKEY", "r")
		up, err := eng.Secrets.BatchUpdate(ctx, admin, infisical.BatchUpdateInput{SecretScope: f.scope("dev", "/app"), Mode: infisical.UpdateModeUpsert,
			Secrets: []infisical.SecretUpdate{{Key: "K001", Value: sptr("u1")}, {Key: "FRESH", Value: sptr("f")}, {Key: "ROOTKEY", SecretPath: sptr("/"), Value: sptr("r2")}}})
		if err != nil || len(up) != 3 || up[0].Version != 2 || up[1].Version != 1 || up[1].Value != "f" || up[2].SecretPath != "/" || up[2].Value != "r2" {
			t.Fatalf("upsert: %+v %v", up, err)
		}
		ig, err := eng.Secrets.BatchUpdate(ctx, admin, infisical.BatchUpdateInput{SecretScope: f.scope("dev", "/app"), Mode: infisical.UpdateModeIgnore,
			Secrets: []infisical.SecretUpdate{{Key: "K002", Value: sptr("u2")}, {Key: "GHOST", Value: sptr("g")}}})
		if err != nil || len(ig) != 1 || ig[0].Key != "K002" || ig[0].Value != "u2" {
			t.Fatalf("ignore: %+v %v", ig, err)
		}
		vals := secretValues(listSecrets(f, "dev", "/app"))
		if vals["K001"] != "u1" || vals["FRESH"] != "f" || vals["K002"] != "u2" || len(vals) != 101 {
			t.Fatalf("after upsert/ignore: %d %q %q", len(vals), vals["K001"], vals["FRESH"])
		}
		if secretValues(listSecrets(f, "dev", "/"))["ROOTKEY"] != "r2" {
			t.Fatal("per-item path override not applied")
		}
		_, err = eng.Secrets.BatchUpdate(ctx, admin, infisical.BatchUpdateInput{SecretScope: f.scope("dev", "/app"),
			Secrets: []infisical.SecretUpdate{{Key: "K001", SecretPath: sptr("/ghost"), Value: sptr("x")}}})
		secErrKind(t, err, infisical.KindNotFound, "override into missing folder")

		del, err := eng.Secrets.BatchDelete(ctx, admin, infisical.BatchDeleteInput{SecretScope: f.scope("dev", "/app"),
			Secrets: []infisical.SecretRef{{Key: "K000"}, {Key: "FRESH"}}})
		if err != nil || len(del) != 2 || del[1].Value != "f" {
			t.Fatalf("batch delete: %+v %v", del, err)
		}
		if n := count(); n != 99 {
			t.Fatalf("after delete: %d", n)
		}
	})
}

func TestSecretReferences(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		f.folder("dev", "/db/primary")
		f.create("dev", "/", "HOST", "db.local")
		f.create("dev", "/", "PORT", "5432")
		f.create("dev", "/", "ADDR", "${HOST}:${PORT}")
		f.create("dev", "/", "URL", "postgres://${dev.db.primary.USER}@${ADDR}/x")
		f.create("dev", "/db/primary", "USER", "${NAME}-svc") // local to /db/primary
		f.create("dev", "/db/primary", "NAME", "app")
		f.create("prod", "/", "TOKEN", "prod-token")
		f.create("dev", "/", "CROSS", "t=${prod.TOKEN}")
		f.create("dev", "/", "LOOP_A", "a${LOOP_B}")
		f.create("dev", "/", "LOOP_B", "b${LOOP_A}")
		f.create("dev", "/", "SELF", "x${SELF}")
		f.create("dev", "/", "MISSING", "${NOPE} ${staging.NOPE} ${nosuchenv.X}")
		f.create("dev", "/", "DEEP0", "${DEEP1}")
		for i := 1; i < 12; i++ {
			f.create("dev", "/", fmt.Sprintf("DEEP%d", i), fmt.Sprintf("${DEEP%d}", i+1))
		}
		f.create("dev", "/", "DEEP12", "bottom")

		want := map[string]string{
			"ADDR":    "db.local:5432",
			"URL":     "postgres://app-svc@db.local:5432/x",
			"CROSS":   "t=prod-token",
			"LOOP_A":  "ab${LOOP_A}", // the cycle stops where it closes
			"LOOP_B":  "ba${LOOP_B}",
			"SELF":    "x${SELF}",
			"MISSING": "${NOPE} ${staging.NOPE} ${nosuchenv.X}",
			"DEEP0":   "${DEEP11}", // depth limit 10: literal left
		}
		got := secretValues(f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), ExpandReferences: true}).Secrets)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("list %s = %q, want %q", k, got[k], v)
			}
		}
		raw := secretValues(listSecrets(f, "dev", "/"))
		if raw["ADDR"] != "${HOST}:${PORT}" {
			t.Fatalf("unexpanded list: %q", raw["ADDR"])
		}
		one, err := f.eng.Secrets.Get(f.ctx, f.admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "URL", ExpandReferences: true})
		if err != nil || one.Value != want["URL"] {
			t.Fatalf("get expanded: %+v %v", one, err)
		}

		// A caller that may read dev but not prod: the cross-env reference is
		// a 403 naming prod; the rest is fine.
		st := f.serviceToken(false, infisical.ServiceScope{Environment: "dev", SecretPath: "/**"})
		_, err = f.eng.Secrets.Get(f.ctx, st, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "CROSS", ExpandReferences: true})
		secErrKind(t, err, infisical.KindPermissionDenied, "denied cross-env reference")
		if !strings.Contains(err.Error(), "'prod'") || !strings.Contains(err.Error(), "'/'") || strings.Contains(err.Error(), "prod-token") {
			t.Fatalf("denied reference message: %v", err)
		}
		_, err = f.eng.Secrets.List(f.ctx, st, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), ExpandReferences: true})
		secErrKind(t, err, infisical.KindPermissionDenied, "denied reference in list")
		if one, err := f.eng.Secrets.Get(f.ctx, st, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "URL", ExpandReferences: true}); err != nil || one.Value != want["URL"] {
			t.Fatalf("allowed references for service token: %+v %v", one, err)
		}

		// A deny on one referenced secret name surfaces that secret.
		id := f.identity(
			permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionRead}},
			permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionReadValue}, Inverted: true,
				Conditions: map[string]any{"secretName": "PORT"}},
		)
		_, err = f.eng.Secrets.Get(f.ctx, id, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "ADDR", ExpandReferences: true})
		secErrKind(t, err, infisical.KindPermissionDenied, "denied secret name")
		if !strings.Contains(err.Error(), "'PORT'") {
			t.Fatalf("message should name PORT: %v", err)
		}
		if one, err := f.eng.Secrets.Get(f.ctx, id, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "CROSS", ExpandReferences: true}); err != nil || one.Value != "t=prod-token" {
			t.Fatalf("identity cross ref: %+v %v", one, err)
		}
	})
}

func TestSecretImports(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		f.folder("dev", "/app")
		f.folder("dev", "/shared")
		f.folder("staging", "/common")
		f.create("dev", "/app", "OWN", "own")
		f.create("dev", "/app", "DUP", "direct")
		f.create("dev", "/shared", "DUP", "shared")
		f.create("dev", "/shared", "S1", "s1")
		f.create("staging", "/common", "DUP", "common")
		f.create("staging", "/common", "C1", "c1-${S1}") // expands in staging:/common, where S1 is missing
		f.create("staging", "/common", "C2", "${dev.shared.S1}")
		f.create("prod", "/", "P1", "p1")
		f.create("prod", "/", "DUP", "prod")
		// /app imports /shared then staging:/common; /shared imports prod:/.
		f.importInto("dev", "/app", "dev", "/shared")
		f.importInto("dev", "/app", "staging", "/common")
		f.importInto("dev", "/shared", "prod", "/")
		// A cycle: prod:/ imports dev:/shared (inserted raw).
		f.rawImport("prod", "/", "dev", "/shared", 1)

		l := f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/app"), IncludeImports: true, ExpandReferences: true})
		if len(l.Imports) != 2 {
			t.Fatalf("imports: %+v", l.Imports)
		}
		first, second := l.Imports[0], l.Imports[1]
		if first.Environment != "dev" || first.SecretPath != "/shared" || first.FolderID == "" ||
			second.Environment != "staging" || second.SecretPath != "/common" {
			t.Fatalf("import order: %+v / %+v", first, second)
		}
		// /shared's own secrets, then (recursively) prod:/ — and no cycle back.
		if got := secretKeys(first.Secrets); !slices.Equal(got, []string{"DUP", "S1", "DUP", "P1"}) {
			t.Fatalf("first import secrets %v", got)
		}
		if first.Secrets[2].Value != "prod" || first.Secrets[2].Environment != "prod" {
			t.Fatalf("nested import secret %+v", first.Secrets[2])
		}
		vals := secretValues(second.Secrets)
		if vals["C1"] != "c1-${S1}" || vals["C2"] != "s1" {
			t.Fatalf("imported secrets must expand in their own scope: %v", vals)
		}

		// Get by name: direct first, then the last import holding the key.
		get := func(key string) string {
			t.Helper()
			s, err := f.eng.Secrets.Get(f.ctx, f.admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/app"), Key: key, IncludeImports: true, ExpandReferences: true})
			if err != nil {
				t.Fatalf("get %s: %v", key, err)
			}
			return s.Value
		}
		for key, want := range map[string]string{"DUP": "direct", "S1": "s1", "P1": "p1", "C2": "s1"} {
			if got := get(key); got != want {
				t.Errorf("get %s = %q, want %q", key, got, want)
			}
		}
		if _, err := f.eng.Secrets.Delete(f.ctx, f.admin, infisical.DeleteSecretInput{SecretScope: f.scope("dev", "/app"), SecretRef: infisical.SecretRef{Key: "DUP"}}); err != nil {
			t.Fatal(err)
		}
		if got := get("DUP"); got != "common" {
			t.Fatalf("last import wins: DUP = %q", got)
		}
		if _, err := f.eng.Secrets.Get(f.ctx, f.admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/app"), Key: "S1"}); !infisical.IsNotFound(err) {
			t.Fatalf("imports are searched only when asked: %v", err)
		}

		// Only what the caller may read: a service token for dev only sees
		// the dev import's own secrets.
		st := f.serviceToken(false, infisical.ServiceScope{Environment: "dev", SecretPath: "/**"})
		sl, err := f.eng.Secrets.List(f.ctx, st, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/app"), IncludeImports: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(sl.Imports) != 2 || !slices.Equal(secretKeys(sl.Imports[0].Secrets), []string{"DUP", "S1"}) || len(sl.Imports[1].Secrets) != 0 {
			t.Fatalf("filtered imports: %+v", sl.Imports)
		}
	})
}

func TestSecretImportDepth(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		// /l0 imports /l1 imports /l2 ... /l12: only 10 levels are followed.
		for i := 0; i <= 12; i++ {
			f.folder("dev", fmt.Sprintf("/l%d", i))
			f.create("dev", fmt.Sprintf("/l%d", i), fmt.Sprintf("K%02d", i), "v")
		}
		for i := 0; i < 12; i++ {
			f.importInto("dev", fmt.Sprintf("/l%d", i), "dev", fmt.Sprintf("/l%d", i+1))
		}
		l := f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/l0"), IncludeImports: true})
		if len(l.Imports) != 1 {
			t.Fatalf("imports %d", len(l.Imports))
		}
		got := secretKeys(l.Imports[0].Secrets)
		if len(got) != 10 || got[0] != "K01" || got[9] != "K10" {
			t.Fatalf("depth-limited import secrets: %v", got)
		}
	})
}

func TestSecretRecursiveList(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		f.folder("dev", "/a/b")
		f.folder("dev", "/c")
		f.create("dev", "/", "ROOT", "r")
		f.create("dev", "/a", "A", "a")
		f.create("dev", "/a/b", "B", "b")
		f.create("dev", "/a/b", "A", "a2")
		f.create("dev", "/c", "C", "c")
		l := f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/a"), Recursive: true})
		var got []string
		for _, s := range l.Secrets {
			got = append(got, s.SecretPath+":"+s.Key)
		}
		if !slices.Equal(got, []string{"/a:A", "/a/b:A", "/a/b:B"}) {
			t.Fatalf("recursive /a: %v", got)
		}
		if n := len(f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), Recursive: true}).Secrets); n != 5 {
			t.Fatalf("recursive /: %d", n)
		}
		// Folders outside the caller's scope are skipped.
		st := f.serviceToken(false, infisical.ServiceScope{Environment: "dev", SecretPath: "/a"})
		sl, err := f.eng.Secrets.List(f.ctx, st, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/a"), Recursive: true})
		if err != nil || len(sl.Secrets) != 1 || sl.Secrets[0].SecretPath != "/a" {
			t.Fatalf("scoped recursive: %+v %v", sl, err)
		}
	})
}

func TestPersonalOverrides(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		ctx, eng := f.ctx, f.eng
		alice := f.user("alice", "member")
		bob := f.user("bob", "member")
		f.create("dev", "/", "D", "E")
		f.create("dev", "/", "X", "shared-x")

		personal := func(actor infisical.Actor, key, value string) error {
			_, err := eng.Secrets.Create(ctx, actor, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), Type: "personal",
				NewSecret: infisical.NewSecret{Key: key, Value: value}})
			return err
		}
		if err := personal(alice, "D", "F"); err != nil {
			t.Fatal(err)
		}
		secErrKind(t, personal(alice, "D", "G"), infisical.KindBadRequest, "second override")
		secErrKind(t, personal(alice, "NOSHARED", "v"), infisical.KindBadRequest, "override without shared key")
		ident := f.identity(permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionRead, permission.ActionCreate, permission.ActionEdit}})
		secErrKind(t, personal(ident, "D", "v"), infisical.KindBadRequest, "identity personal secret")

		type view struct {
			actor infisical.Actor
			mode  infisical.PersonalMode
			want  []string // type:key=value
		}
		views := map[string]view{
			"alice v3":          {alice, infisical.PersonalInclude, []string{"personal:D=F", "shared:D=E", "shared:X=shared-x"}},
			"alice v4 override": {alice, infisical.PersonalOverride, []string{"personal:D=F", "shared:X=shared-x"}},
			"alice v4 exclude":  {alice, infisical.PersonalExclude, []string{"shared:D=E", "shared:X=shared-x"}},
			"bob v3":            {bob, infisical.PersonalInclude, []string{"shared:D=E", "shared:X=shared-x"}},
			"identity override": {ident, infisical.PersonalOverride, []string{"shared:D=E", "shared:X=shared-x"}},
			"platform v3":       {f.admin, infisical.PersonalInclude, []string{"shared:D=E", "shared:X=shared-x"}},
		}
		for name, v := range views {
			l := f.list(v.actor, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), Personal: v.mode})
			var got []string
			for _, s := range l.Secrets {
				got = append(got, s.Type+":"+s.Key+"="+s.Value)
			}
			slices.Sort(got)
			if !slices.Equal(got, v.want) {
				t.Errorf("%s: %v, want %v", name, got, v.want)
			}
		}
		// Get by type.
		s, err := eng.Secrets.Get(ctx, alice, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "D", Type: "personal"})
		if err != nil || s.Value != "F" || s.Type != "personal" {
			t.Fatalf("alice personal get: %+v %v", s, err)
		}
		if _, err := eng.Secrets.GetByID(ctx, bob, s.ID); !infisical.IsNotFound(err) {
			t.Fatalf("bob must not see alice's override by id: %v", err)
		}
		if _, err := eng.Secrets.Get(ctx, bob, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "D", Type: "personal"}); !infisical.IsNotFound(err) {
			t.Fatalf("bob personal get: %v", err)
		}
		if _, err := eng.Secrets.Get(ctx, ident, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "D", Type: "personal"}); !infisical.IsNotFound(err) {
			t.Fatalf("identity personal get: %v", err)
		}
		// Updating the override leaves the shared value alone.
		if _, err := eng.Secrets.Update(ctx, alice, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"), SecretUpdate: infisical.SecretUpdate{Key: "D", Type: "personal", Value: sptr("F2")}}); err != nil {
			t.Fatal(err)
		}
		if s, _ := eng.Secrets.Get(ctx, bob, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "D"}); s == nil || s.Value != "E" {
			t.Fatalf("shared after personal update: %+v", s)
		}
		// Deleting the shared secret takes the overrides with it.
		if _, err := eng.Secrets.Delete(ctx, f.admin, infisical.DeleteSecretInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "D"}}); err != nil {
			t.Fatal(err)
		}
		if l := f.list(alice, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/")}); len(l.Secrets) != 1 {
			t.Fatalf("override survived its shared secret: %v", secretKeys(l.Secrets))
		}
	})
}

func TestSecretHiddenValuesAndPermissions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		ctx, eng := f.ctx, f.eng
		f.create("dev", "/", "A", "a-value")
		f.create("dev", "/", "B", "b-value")
		f.create("dev", "/", "SECRET_KEY", "top")
		f.create("prod", "/", "P", "p")

		l := f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), HideValues: true})
		for _, s := range l.Secrets {
			if !s.ValueHidden || s.Value != infisical.HiddenSecretValue {
				t.Fatalf("viewSecretValue=false: %+v", s)
			}
		}
		// describeSecret without readValue: listed but masked.
		describer := f.identity(permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionDescribeSecret}})
		l = f.list(describer, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), ExpandReferences: true})
		if len(l.Secrets) != 3 || !l.Secrets[0].ValueHidden || l.Secrets[0].Value != infisical.HiddenSecretValue {
			t.Fatalf("describe-only list: %+v", l.Secrets)
		}
		// A deny on one secret name hides that secret only.
		partial := f.identity(
			permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionRead}, Conditions: map[string]any{"environment": "dev"}},
			permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionDescribeSecret, permission.ActionReadValue}, Inverted: true,
				Conditions: map[string]any{"secretName": map[string]any{"$glob": "SECRET_*"}}},
		)
		if got := secretKeys(f.list(partial, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/")}).Secrets); !slices.Equal(got, []string{"A", "B"}) {
			t.Fatalf("partial list: %v", got)
		}
		_, err := eng.Secrets.Get(ctx, partial, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "SECRET_KEY"})
		secErrKind(t, err, infisical.KindPermissionDenied, "get denied secret")
		_, err = eng.Secrets.List(ctx, partial, infisical.ListSecretsInput{SecretScope: f.scope("prod", "/")})
		secErrKind(t, err, infisical.KindPermissionDenied, "list other env")
		// Writes are checked per secret.
		_, err = eng.Secrets.Create(ctx, partial, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "C"}})
		secErrKind(t, err, infisical.KindPermissionDenied, "create without create permission")
		writer := f.identity(
			permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionRead, permission.ActionCreate, permission.ActionEdit, permission.ActionDelete},
				Conditions: map[string]any{"environment": "dev", "secretName": map[string]any{"$glob": "APP_*"}}},
		)
		_, err = eng.Secrets.Create(ctx, writer, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "APP_X", Value: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = eng.Secrets.Create(ctx, writer, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "OTHER", Value: "1"}})
		secErrKind(t, err, infisical.KindPermissionDenied, "create outside name glob")
		_, err = eng.Secrets.Update(ctx, writer, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"), SecretUpdate: infisical.SecretUpdate{Key: "APP_X", NewKey: sptr("RENAMED")}})
		secErrKind(t, err, infisical.KindPermissionDenied, "rename outside name glob")
		_, err = eng.Secrets.BatchDelete(ctx, writer, infisical.BatchDeleteInput{SecretScope: f.scope("dev", "/"), Secrets: []infisical.SecretRef{{Key: "APP_X"}, {Key: "A"}}})
		secErrKind(t, err, infisical.KindPermissionDenied, "batch delete with one forbidden")
		if _, err := eng.Secrets.Get(ctx, f.admin, infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "APP_X"}); err != nil {
			t.Fatalf("denied batch delete removed something: %v", err)
		}
		// A service token: read-only scope, project from the token, single
		// non-glob scope overrides the requested location.
		st := f.serviceToken(false, infisical.ServiceScope{Environment: "prod", SecretPath: "/"})
		sl, err := eng.Secrets.List(ctx, st, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Environment: "dev", SecretPath: "/"}})
		if err != nil || !slices.Equal(secretKeys(sl.Secrets), []string{"P"}) {
			t.Fatalf("service token scope override: %+v %v", sl, err)
		}
		_, err = eng.Secrets.Create(ctx, st, infisical.CreateSecretInput{SecretScope: infisical.SecretScope{Environment: "prod"}, NewSecret: infisical.NewSecret{Key: "N"}})
		secErrKind(t, err, infisical.KindPermissionDenied, "read-only service token create")
	})
}

func TestSecretTagsAndMetadataFilters(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		ctx, eng := f.ctx, f.eng
		web, db := f.tag("web"), f.tag("db")
		f.tag("ops")
		f.create("dev", "/", "W", "w", web)
		f.create("dev", "/", "D", "d", db)
		f.create("dev", "/", "WD", "wd", web, db)
		f.create("dev", "/", "NONE", "n")
		if _, err := eng.Secrets.Create(ctx, f.admin, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "M",
			Metadata: []infisical.SecretMetadata{{Key: "team", Value: "a"}, {Key: "tier", Value: "1", IsEncrypted: true}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Secrets.Create(ctx, f.admin, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{Key: "M2",
			Metadata: []infisical.SecretMetadata{{Key: "team", Value: "a"}}}}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			in   infisical.ListSecretsInput
			want []string
		}{
			{"one tag", infisical.ListSecretsInput{TagSlugs: []string{"web"}}, []string{"W", "WD"}},
			{"any of tags", infisical.ListSecretsInput{TagSlugs: []string{"web", "db"}}, []string{"D", "W", "WD"}},
			{"unused tag", infisical.ListSecretsInput{TagSlugs: []string{"ops"}}, nil},
			{"metadata one pair", infisical.ListSecretsInput{MetadataFilter: []infisical.MetadataFilter{{Key: "team", Value: "a"}}}, []string{"M", "M2"}},
			{"metadata all pairs", infisical.ListSecretsInput{MetadataFilter: []infisical.MetadataFilter{{Key: "team", Value: "a"}, {Key: "tier", Value: "1"}}}, []string{"M"}},
			{"metadata no match", infisical.ListSecretsInput{MetadataFilter: []infisical.MetadataFilter{{Key: "team", Value: "b"}}}, nil},
		}
		for _, tc := range cases {
			tc.in.SecretScope = f.scope("dev", "/")
			got := secretKeys(f.list(f.admin, tc.in).Secrets)
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		// Attach and detach by slug.
		s, err := eng.Secrets.AttachTags(ctx, f.admin, infisical.SecretTagsInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "NONE"}, TagSlugs: []string{"ops", "web", "ops"}})
		if err != nil || len(s.Tags) != 2 || s.Tags[0].Slug != "ops" || s.Tags[1].Slug != "web" || s.Version != 1 {
			t.Fatalf("attach: %+v %v", s, err)
		}
		s, err = eng.Secrets.DetachTags(ctx, f.admin, infisical.SecretTagsInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "NONE"}, TagSlugs: []string{"web"}})
		if err != nil || len(s.Tags) != 1 || s.Tags[0].Slug != "ops" {
			t.Fatalf("detach: %+v %v", s, err)
		}
		_, err = eng.Secrets.AttachTags(ctx, f.admin, infisical.SecretTagsInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "NONE"}, TagSlugs: []string{"nope"}})
		secErrKind(t, err, infisical.KindNotFound, "attach unknown slug")
		_, err = eng.Secrets.AttachTags(ctx, f.admin, infisical.SecretTagsInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "NONE"}})
		secErrField(t, err, "tagSlugs", "attach nothing")
		_, err = eng.Secrets.AttachTags(ctx, f.admin, infisical.SecretTagsInput{SecretScope: f.scope("dev", "/"), SecretRef: infisical.SecretRef{Key: "GHOST"}, TagSlugs: []string{"ops"}})
		secErrKind(t, err, infisical.KindNotFound, "attach to missing secret")
		if got := secretKeys(f.list(f.admin, infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), TagSlugs: []string{"ops"}}).Secrets); !slices.Equal(got, []string{"NONE"}) {
			t.Fatalf("after attach: %v", got)
		}
	})
}

// TestSecretListDeterministic checks that identical state gives identical
// lists (ETags depend on it).
func TestSecretListDeterministic(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		t1, t2 := f.tag("zz"), f.tag("aa")
		for _, k := range []string{"Q", "A", "M", "B", "Z"} {
			f.create("dev", "/", k, "v", t1, t2)
		}
		in := infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), IncludeImports: true, ExpandReferences: true}
		first := f.list(f.admin, in)
		for i := 0; i < 5; i++ {
			if got := f.list(f.admin, in); !reflect.DeepEqual(got, first) {
				t.Fatalf("list differs:\n%+v\n%+v", first, got)
			}
		}
		l := f.list(f.admin, in)
		if !slices.Equal(secretKeys(l.Secrets), []string{"A", "B", "M", "Q", "Z"}) || l.Secrets[0].Tags[0].Slug != "aa" {
			t.Fatalf("order: %v %+v", secretKeys(l.Secrets), l.Secrets[0].Tags)
		}
	})
}
