package authntest

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn/jwks"
)

// Google serves Google's public verification endpoints for GCP logins:
//
//	GET /oauth2/v3/certs                                   JWKS of ID tokens
//	GET /service_accounts/v1/metadata/x509/<email>         {kid: PEM cert} of a service account
//
// It mints ID tokens (what the GCE metadata server hands out) and IAM
// signJwt tokens (what the IAM Credentials API returns for a service
// account).
type Google struct {
	Server *httptest.Server
	// CertsURL and IAMMetadataURL are the values to configure in the
	// verifier (gcp.Config).
	CertsURL       string
	IAMMetadataURL string
	// Key signs ID tokens.
	Key SigningKey

	mu       sync.Mutex
	accounts map[string]SigningKey // service account email → its key
}

// NewGoogle starts the endpoints.
func NewGoogle(t testing.TB) *Google {
	t.Helper()
	g := &Google{Key: NewSigningKey(t, "google-id-1"), accounts: map[string]SigningKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/v3/certs", func(w http.ResponseWriter, r *http.Request) {
		j, _ := jwks.EncodeJWK(g.Key.ID, "RS256", &g.Key.Key.PublicKey)
		writeJSON(w, map[string]any{"keys": []any{j}})
	})
	mux.HandleFunc("GET /service_accounts/v1/metadata/x509/{email}", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		k, ok := g.accounts[r.PathValue("email")]
		g.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":{"code":404,"message":"Not found"}}`, http.StatusNotFound)
			return
		}
		writeJSON(w, map[string]string{k.ID: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.SelfSignedCert(r.PathValue("email"))}))})
	})
	g.Server = tlsServer(t, mux)
	g.CertsURL = g.Server.URL + "/oauth2/v3/certs"
	g.IAMMetadataURL = g.Server.URL + "/service_accounts/v1/metadata/x509/"
	return g
}

// ServiceAccount registers a service account and returns its key.
func (g *Google) ServiceAccount(t testing.TB, email string) SigningKey {
	t.Helper()
	k := NewSigningKey(t, "sa-"+strings.SplitN(email, "@", 2)[0])
	g.mu.Lock()
	g.accounts[email] = k
	g.mu.Unlock()
	return k
}

// GCEInstance describes the Compute Engine instance of an ID token
// requested with format=full.
type GCEInstance struct {
	ProjectID    string
	Zone         string
	InstanceID   string
	InstanceName string
}

// IDToken mints a Google ID token for a service account email with the
// given audience; inst adds the google.compute_engine claim.
func (g *Google) IDToken(audience, email string, inst *GCEInstance, ttl time.Duration) string {
	now := time.Now()
	c := Claims{
		"iss": "https://accounts.google.com", "aud": audience, "azp": "1008719970978-hb24n2dstb40o45d4feuo2ukqmcc6381",
		"sub": "100147106996764479085", "email": email, "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	if inst != nil {
		c["google"] = map[string]any{"compute_engine": map[string]any{
			"project_id": inst.ProjectID, "project_number": 739419398126, "zone": inst.Zone,
			"instance_id": inst.InstanceID, "instance_name": inst.InstanceName,
			"instance_creation_timestamp": now.Add(-time.Hour).Unix(),
		}}
	}
	return g.Key.Sign(c)
}

// SignJwt signs payload with the service account's key, as the IAM
// Credentials API signJwt does (the payload is signed as given: the Go SDK
// sends only sub and aud).
func (g *Google) SignJwt(t testing.TB, email string, payload Claims) string {
	t.Helper()
	g.mu.Lock()
	k, ok := g.accounts[email]
	g.mu.Unlock()
	if !ok {
		t.Fatalf("authntest: unknown service account %s", email)
	}
	return k.Sign(payload)
}
