package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// BenchmarkCmekHTTP measures encrypt and decrypt of 1 KiB through the REST
// API with 32 concurrent clients (in-process HTTP), next to a plain
// net/http handler that reads the same request and answers the same JSON,
// run in the same benchmark. The encrypt/decrypt sub-benchmarks report
// "x-plain": their time per request divided by the plain handler's.
func BenchmarkCmekHTTP(b *testing.B) {
	for _, backend := range enginetest.Backends() {
		b.Run(string(backend), func(b *testing.B) {
			ts := newTestServer(b, backend)
			ctx := context.Background()
			org := enginetest.Org(b, ts.eng, "Bench")
			p, err := ts.eng.Projects.Create(ctx, infisical.Platform(org.ID), infisical.CreateProjectInput{OrgID: org.ID, Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			_, token := enginetest.IdentityToken(b, ts.eng, org.ID, "member", p.ID, "member")
			key, err := ts.eng.Cmek().Create(ctx, infisical.Platform(org.ID), infisical.CreateCmekInput{ProjectID: p.ID, Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 1024)
			_, _ = rand.Read(payload)
			encBody, _ := json.Marshal(map[string]string{"plaintext": base64.StdEncoding.EncodeToString(payload)})
			ct, err := ts.eng.Cmek().Encrypt(ctx, infisical.Platform(org.ID), key.ID, payload)
			if err != nil {
				b.Fatal(err)
			}
			decBody, _ := json.Marshal(map[string]string{"ciphertext": base64.StdEncoding.EncodeToString(ct)})
			encResp, _ := json.Marshal(map[string]string{"ciphertext": base64.StdEncoding.EncodeToString(ct)})

			// The plain handler: read the body, answer fixed JSON.
			plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_, _ = w.Write(encResp)
			}))
			defer plain.Close()

			par := 32 / runtime.GOMAXPROCS(0)
			if par < 1 {
				par = 1
			}
			run := func(b *testing.B, url string, body []byte, auth bool) {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64}}
				b.SetParallelism(par)
				b.SetBytes(1024)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						if auth {
							req.Header.Set("Authorization", "Bearer "+token)
						}
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
			}
			var plainNs float64
			b.Run("plain-handler", func(b *testing.B) {
				run(b, plain.URL+"/x", encBody, false)
				plainNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			for _, op := range []struct {
				name string
				body []byte
			}{{"encrypt", encBody}, {"decrypt", decBody}} {
				b.Run(op.name, func(b *testing.B) {
					run(b, ts.srv.URL+"/api/v1/kms/keys/"+key.ID+"/"+op.name, op.body, true)
					ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					if plainNs > 0 {
						b.ReportMetric(ns/plainNs, "x-plain")
					}
					b.ReportMetric(float64(time.Second)/ns, "req/s")
				})
			}
		})
	}
}
