package authntest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn/jwks"
)

// OIDCProvider is an OpenID Connect provider: a discovery document at
// /.well-known/openid-configuration and a JWKS at /jwks, over TLS. Its
// issuer is its URL.
type OIDCProvider struct {
	Server *httptest.Server
	// URL is both the discovery URL and the issuer.
	URL string
	// CAPEM is the certificate of the server.
	CAPEM string
	// Key signs tokens; it is published in the JWKS.
	Key SigningKey

	mu    sync.Mutex
	extra []SigningKey
	// JWKSFetches counts JWKS downloads (to test caching).
	JWKSFetches atomic.Int64
	// DiscoveryFetches counts discovery document downloads.
	DiscoveryFetches atomic.Int64
}

// NewOIDC starts a provider whose issuer is the server's root URL.
func NewOIDC(t testing.TB) *OIDCProvider { return NewOIDCPath(t, "") }

// NewOIDCPath starts a provider whose issuer is the server URL + path (for
// issuers such as https://oidc.circleci.com/org/<id>).
func NewOIDCPath(t testing.TB, path string) *OIDCProvider {
	t.Helper()
	p := &OIDCProvider{Key: NewSigningKey(t, "oidc-key-1")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.DiscoveryFetches.Add(1)
		writeJSON(w, map[string]any{
			"issuer": p.URL, "jwks_uri": p.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET "+path+"/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.JWKSFetches.Add(1)
		writeJSON(w, p.JWKS())
	})
	p.Server = tlsServer(t, mux)
	p.URL = p.Server.URL + path
	p.CAPEM = CAPEM(p.Server)
	return p
}

// JWKSURL is where the provider's key set is served.
func (p *OIDCProvider) JWKSURL() string { return p.URL + "/jwks" }

// AddKey publishes another key (key rotation).
func (p *OIDCProvider) AddKey(k SigningKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.extra = append(p.extra, k)
}

// JWKS returns the published key set document.
func (p *OIDCProvider) JWKS() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var keys []any
	for _, k := range append([]SigningKey{p.Key}, p.extra...) {
		j, err := jwks.EncodeJWK(k.ID, "RS256", &k.Key.PublicKey)
		if err != nil {
			panic(err)
		}
		keys = append(keys, j)
	}
	return map[string]any{"keys": keys}
}

// Token signs claims with the provider's key, filling iss (the provider),
// iat and exp (10 minutes) when absent.
func (p *OIDCProvider) Token(claims Claims) string {
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = p.URL
	}
	return p.Key.Sign(stamp(claims, 10*time.Minute))
}

// GitHubActionsClaims are the claims of a GitHub Actions ID token for a
// workflow run of owner/repo on ref (for example "refs/heads/main").
func GitHubActionsClaims(owner, repo, ref, audience string) Claims {
	return Claims{
		"jti": "example-id", "sub": "repo:" + owner + "/" + repo + ":ref:" + ref, "aud": audience,
		"ref": ref, "sha": "example-sha", "repository": owner + "/" + repo, "repository_owner": owner,
		"repository_owner_id": "65", "repository_id": "120", "repository_visibility": "private",
		"actor_id": "12", "actor": "octocat", "workflow": "example-workflow", "head_ref": "", "base_ref": "",
		"event_name": "workflow_dispatch", "ref_type": "branch", "ref_protected": "true",
		"job_workflow_ref":   owner + "/" + repo + "/.github/workflows/deploy.yml@" + ref,
		"runner_environment": "github-hosted", "environment": "production",
	}
}

// GitLabClaims are the claims of a GitLab CI ID token (id_tokens:) for a
// pipeline of group/project on branch.
func GitLabClaims(group, project, branch, audience string) Claims {
	return Claims{
		"namespace_id": "72", "namespace_path": group, "project_id": "20", "project_path": group + "/" + project,
		"user_id": "1", "user_login": "sample-user", "user_email": "sample-user@example.com",
		"pipeline_id": "574", "pipeline_source": "push", "job_id": "302", "ref": branch, "ref_type": "branch",
		"ref_path": "refs/heads/" + branch, "ref_protected": "true", "environment": "production",
		"environment_protected": "true", "deployment_tier": "production", "runner_id": 1,
		"runner_environment": "gitlab-hosted", "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
		"project_visibility": "private", "ci_config_ref_uri": "gitlab.example.com/" + group + "/" + project + "//.gitlab-ci.yml@refs/heads/" + branch,
		"jti": "235b3a54-b797-45c7-ae9a-f72d7bc6ef5b", "aud": audience,
		"sub": "project_path:" + group + "/" + project + ":ref_type:branch:ref:" + branch,
	}
}

// CircleCIClaims are the claims of a CircleCI OIDC token ($CIRCLE_OIDC_TOKEN)
// of an organization; the audience is the organization id.
func CircleCIClaims(orgID, projectID, userID string) Claims {
	return Claims{
		"sub": "org/" + orgID + "/project/" + projectID + "/user/" + userID, "aud": orgID,
		"oidc.circleci.com/project-id": projectID, "oidc.circleci.com/context-ids": []string{"c-1"},
		"oidc.circleci.com/vcs-origin": "github.com/example/app", "oidc.circleci.com/vcs-ref": "refs/heads/main",
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
