package infisical_test

import (
	"fmt"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
)

// benchFixture is a project whose dev root holds 50 secrets with two tags,
// read by a machine identity with a custom read role (so the permission
// path is the one real clients take).
func benchFixture(b *testing.B, backend enginetest.Backend) (*secretsFixture, infisical.Actor) {
	b.Helper()
	f := newSecretsFixture(b, backend)
	t1, t2 := f.tag("web"), f.tag("db")
	items := make([]infisical.NewSecret, 50)
	for i := range items {
		items[i] = infisical.NewSecret{Key: fmt.Sprintf("SECRET_%02d", i), Value: fmt.Sprintf("value-%d-with-some-length-to-it", i),
			Comment: "comment", TagIDs: []string{t1, t2}}
	}
	if _, err := f.eng.Secrets.BatchCreate(f.ctx, f.admin, infisical.BatchCreateInput{SecretScope: f.scope("dev", "/"), Secrets: items}); err != nil {
		b.Fatal(err)
	}
	reader := f.identity(permission.Rule{Subject: permission.SubjectSecrets, Action: []string{permission.ActionRead},
		Conditions: map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/**"}}})
	return f, reader
}

func BenchmarkGetSecret(b *testing.B) {
	for _, backend := range enginetest.Backends() {
		b.Run(string(backend), func(b *testing.B) {
			f, reader := benchFixture(b, backend)
			in := infisical.GetSecretInput{SecretScope: f.scope("dev", "/"), Key: "SECRET_25", ExpandReferences: true, IncludeImports: true}
			if _, err := f.eng.Secrets.Get(f.ctx, reader, in); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.eng.Secrets.Get(f.ctx, reader, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkListSecrets50(b *testing.B) {
	for _, backend := range enginetest.Backends() {
		b.Run(string(backend), func(b *testing.B) {
			f, reader := benchFixture(b, backend)
			in := infisical.ListSecretsInput{SecretScope: f.scope("dev", "/"), ExpandReferences: true, IncludeImports: true, Personal: infisical.PersonalOverride}
			if l, err := f.eng.Secrets.List(f.ctx, reader, in); err != nil || len(l.Secrets) != 50 {
				b.Fatalf("list: %v", err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.eng.Secrets.List(f.ctx, reader, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
