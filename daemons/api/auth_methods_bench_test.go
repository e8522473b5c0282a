package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// maLoginClients is the number of concurrent clients of the login benchmarks.
const maLoginClients = 32

// maRunConcurrent performs b.N calls of do spread over clients goroutines
// and reports throughput (logins/s) and latency percentiles of one call.
func maRunConcurrent(b *testing.B, clients int, do func() error) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= int64(b.N) || failed.Load() != nil {
					return
				}
				t0 := time.Now()
				if err := do(); err != nil {
					failed.Store(err)
					return
				}
				lat[n] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	maReportLatency(b, lat, elapsed)
}

// maReportLatency adds logins/s, p50 and p99 (milliseconds) to the
// benchmark's output.
func maReportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(float64(len(lat)-1) * p)
		return float64(lat[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "logins/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// maPoster posts a JSON body to url and insists on 200.
func maPoster(client *http.Client, url string, body any) func() error {
	raw, _ := json.Marshal(body)
	return func() error {
		resp, err := client.Post(url, "application/json", bytes.NewReader(raw))
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, out)
		}
		return nil
	}
}

func maBenchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * maLoginClients, MaxIdleConnsPerHost: 2 * maLoginClients}}
}

// BenchmarkUniversalAuthLogin: client id + secret logins (secret hashing,
// a token row and a signed JWT each) from 32 concurrent clients over
// in-process HTTP.
func BenchmarkUniversalAuthLogin(b *testing.B) {
	ts := newTestServer(b, enginetest.SQLite)
	boot := ts.bootstrap()
	_, clientID, secret := ts.uaIdentity(boot.AdminToken, boot.OrgID, "bench-ua", "", "", nil)
	maRunConcurrent(b, maLoginClients, maPoster(maBenchClient(), ts.srv.URL+"/api/v1/auth/universal-auth/login",
		map[string]string{"clientId": clientID, "clientSecret": secret}))
}

// BenchmarkOIDCLogin: OIDC logins with GitHub-Actions-shaped tokens from 32
// concurrent clients; the discovery document and JWKS are fetched once and
// served from the cache afterwards (checked), so each login costs a
// signature verification, the claim checks and the token issuance.
func BenchmarkOIDCLogin(b *testing.B) {
	p := authntest.NewOIDC(b)
	ts := newTestServer(b, enginetest.SQLite, func(c *infisical.Config) {
		c.AuthIssuers.HTTPClient = p.Server.Client()
	})
	boot := ts.bootstrap()
	id := ts.maIdentity(boot.AdminToken, boot.OrgID, "bench-oidc")
	ts.maAttach(boot.AdminToken, "oidc-auth", id, "identityOidcAuth", map[string]any{"oidcDiscoveryUrl": p.URL, "boundIssuer": p.URL,
		"caCert": p.CAPEM, "boundAudiences": "https://github.com/octo-org", "boundSubject": "repo:octo-org/*",
		"boundClaims": map[string]string{"repository_owner": "octo-org"}, "claimMetadataMapping": map[string]string{"repo": "repository"}})
	claims := authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/octo-org")
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	jwt := p.Token(claims)
	login := maPoster(maBenchClient(), ts.srv.URL+"/api/v1/auth/oidc-auth/login", map[string]string{"identityId": id, "jwt": jwt})
	if err := login(); err != nil { // warm the key cache
		b.Fatal(err)
	}
	maRunConcurrent(b, maLoginClients, login)
	if n := p.JWKSFetches.Load(); n != 1 {
		b.Fatalf("JWKS fetched %d times, want 1 (cached)", n)
	}
}
