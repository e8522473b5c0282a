package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// BenchmarkSecretsHTTP measures the two hot client calls end to end (token
// check, permission, query, decrypt, JSON, ETag) with parallel clients.
func BenchmarkSecretsHTTP(b *testing.B) {
	for _, backend := range enginetest.Backends() {
		b.Run(string(backend), func(b *testing.B) {
			ts := newTestServer(b, backend)
			org := enginetest.Org(b, ts.eng, "Bench")
			p, err := ts.eng.Projects.Create(context.Background(), infisical.Platform(org.ID), infisical.CreateProjectInput{OrgID: org.ID, Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			_, token := enginetest.IdentityToken(b, ts.eng, org.ID, "member", p.ID, "member")
			items := make([]infisical.NewSecret, 50)
			for i := range items {
				items[i] = infisical.NewSecret{Key: fmt.Sprintf("SECRET_%02d", i), Value: fmt.Sprintf("value-%d", i)}
			}
			if _, err := ts.eng.Secrets.BatchCreate(context.Background(), infisical.Platform(org.ID), infisical.BatchCreateInput{
				SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}, Secrets: items}); err != nil {
				b.Fatal(err)
			}
			for name, path := range map[string]string{
				"get":    "/api/v3/secrets/raw/SECRET_07?workspaceId=" + p.ID + "&environment=dev&secretPath=/",
				"list50": "/api/v3/secrets/raw?workspaceId=" + p.ID + "&environment=dev&secretPath=/&include_imports=true&expandSecretReferences=true",
			} {
				b.Run(name, func(b *testing.B) {
					client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
					b.SetParallelism(16)
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							req, _ := http.NewRequest("GET", ts.srv.URL+path, nil)
							req.Header.Set("Authorization", "Bearer "+token)
							resp, err := client.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != 200 {
								b.Errorf("status %d", resp.StatusCode)
								return
							}
						}
					})
				})
			}
		})
	}
}
