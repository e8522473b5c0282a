package authntest

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn/jwks"
)

// Azure serves a tenant's Entra ID OpenID configuration and key set (keys
// carry x5c certificates, as Microsoft publishes them):
//
//	GET /<tenant>/.well-known/openid-configuration
//	GET /<tenant>/discovery/keys
//
// and mints managed-identity access tokens (what IMDS hands out).
type Azure struct {
	Server *httptest.Server
	// BaseURL replaces https://login.microsoftonline.com.
	BaseURL string
	Tenant  string
	Key     SigningKey
}

// NewAzure starts the endpoints for tenant.
func NewAzure(t testing.TB, tenant string) *Azure {
	t.Helper()
	kid := "azure-" + tenant
	if len(kid) > 14 {
		kid = kid[:14]
	}
	a := &Azure{Tenant: tenant, Key: NewSigningKey(t, kid)}
	cert := a.Key.SelfSignedCert("accounts.accesscontrol.windows.net")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": "https://sts.windows.net/" + r.PathValue("tenant") + "/", "jwks_uri": a.BaseURL + "/" + r.PathValue("tenant") + "/discovery/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /{tenant}/discovery/keys", func(w http.ResponseWriter, r *http.Request) {
		j, _ := jwks.EncodeJWK(a.Key.ID, "", &a.Key.Key.PublicKey)
		j["x5t"] = a.Key.ID
		j["x5c"] = []string{base64.StdEncoding.EncodeToString(cert)}
		writeJSON(w, map[string]any{"keys": []any{j}})
	})
	a.Server = tlsServer(t, mux)
	a.BaseURL = a.Server.URL
	return a
}

// Token mints a managed-identity access token of service principal oid for
// resource (the audience).
func (a *Azure) Token(oid, resource string, ttl time.Duration) string {
	now := time.Now()
	return a.Key.Sign(Claims{
		"aud": resource, "iss": "https://sts.windows.net/" + a.Tenant + "/", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(ttl).Unix(), "aio": "E2ZgYJj", "appid": "6d2a0a8f-0b56-4b8a-9d0d-0a3a2c8c3e10", "appidacr": "2",
		"idp": "https://sts.windows.net/" + a.Tenant + "/", "idtyp": "app", "oid": oid, "rh": "0.ARoA",
		"sub": oid, "tid": a.Tenant, "uti": "Zk3b", "ver": "1.0",
		"xms_mirid": "/subscriptions/sub/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
	})
}
