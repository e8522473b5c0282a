package authntest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kubernetes is an API server that answers TokenReview
// (POST /apis/authentication.k8s.io/v1/tokenreviews) over TLS. It issues
// service-account tokens (JWTs it signs), and authenticates review calls
// with the reviewer token or with a service-account token that was granted
// system:auth-delegator.
type Kubernetes struct {
	Server *httptest.Server
	// Host is the API server URL; CAPEM its certificate.
	Host  string
	CAPEM string
	// ReviewerToken is a long-lived token of a reviewer service account
	// bound to system:auth-delegator.
	ReviewerToken string
	key           SigningKey

	mu         sync.Mutex
	delegators map[string]bool // "ns/name" allowed to review
	// Reviews counts TokenReview calls.
	Reviews atomic.Int64
}

// DefaultAudience is the audience of tokens minted without one (the API
// server's own).
const DefaultAudience = "https://kubernetes.default.svc.cluster.local"

// NewKubernetes starts the API server.
func NewKubernetes(t testing.TB) *Kubernetes {
	t.Helper()
	k := &Kubernetes{key: NewSigningKey(t, "k8s-sa-key"), delegators: map[string]bool{}}
	k.ReviewerToken = k.ServiceAccountToken("kube-system", "token-reviewer", nil, 365*24*time.Hour)
	k.AllowSelfReview("kube-system", "token-reviewer")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apis/authentication.k8s.io/v1/tokenreviews", k.review)
	k.Server = tlsServer(t, mux)
	k.Host = k.Server.URL
	k.CAPEM = CAPEM(k.Server)
	return k
}

// AllowSelfReview binds system:auth-delegator to a service account, so its
// own token may authenticate TokenReview calls.
func (k *Kubernetes) AllowSelfReview(namespace, name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.delegators[namespace+"/"+name] = true
}

// ServiceAccountToken mints a projected service-account token (audiences
// default to the API server's).
func (k *Kubernetes) ServiceAccountToken(namespace, name string, audiences []string, ttl time.Duration) string {
	if len(audiences) == 0 {
		audiences = []string{DefaultAudience}
	}
	now := time.Now()
	return k.key.Sign(Claims{
		"iss": "https://kubernetes.default.svc.cluster.local", "aud": audiences,
		"sub": "system:serviceaccount:" + namespace + ":" + name, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		"kubernetes.io": map[string]any{"namespace": namespace, "serviceaccount": map[string]any{"name": name, "uid": "uid-" + name}},
	})
}

type saClaims struct {
	Aud jwt.ClaimStrings `json:"aud"`
	jwt.RegisteredClaims
}

// parse verifies a token minted by ServiceAccountToken.
func (k *Kubernetes) parse(tok string) (*saClaims, error) {
	c := &saClaims{}
	_, err := jwt.ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return &k.key.Key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(c.Subject, "system:serviceaccount:") {
		return nil, errors.New("not a service account token")
	}
	return c, nil
}

func (k *Kubernetes) review(w http.ResponseWriter, r *http.Request) {
	k.Reviews.Add(1)
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	caller, err := k.parse(bearer)
	if !ok || err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
		return
	}
	parts := strings.Split(caller.Subject, ":")
	k.mu.Lock()
	allowed := k.delegators[parts[2]+"/"+parts[3]]
	k.mu.Unlock()
	if !allowed {
		w.WriteHeader(http.StatusForbidden)
		writeJSON(w, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
			"message": `tokenreviews.authentication.k8s.io is forbidden: User "` + caller.Subject + `" cannot create resource "tokenreviews"`})
		return
	}
	var in struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Token     string   `json:"token"`
			Audiences []string `json:"audiences"`
		} `json:"spec"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Kind != "TokenReview" || in.APIVersion != "authentication.k8s.io/v1" {
		http.Error(w, `{"kind":"Status","code":400,"message":"bad TokenReview"}`, http.StatusBadRequest)
		return
	}
	status := map[string]any{"authenticated": false, "user": map[string]any{}}
	out := map[string]any{"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "metadata": map[string]any{"creationTimestamp": nil},
		"spec": in.Spec, "status": status}
	c, err := k.parse(in.Spec.Token)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		status["error"] = "[invalid bearer token, square/go-jose/jwt: validation failed, token is expired (exp)]"
	case err != nil:
		status["error"] = "[invalid bearer token, square/go-jose: error in cryptographic primitive]"
	default:
		auds := []string(c.Aud)
		if len(in.Spec.Audiences) > 0 {
			var both []string
			for _, a := range in.Spec.Audiences {
				if slices.Contains(auds, a) {
					both = append(both, a)
				}
			}
			if len(both) == 0 {
				status["error"] = "[invalid bearer token, token audiences " + jsonList(auds) + " is invalid for the target audiences " + jsonList(in.Spec.Audiences) + "]"
				break
			}
			auds = both
		}
		status["authenticated"] = true
		status["audiences"] = auds
		status["user"] = map[string]any{"username": c.Subject, "uid": "uid-" + strings.Split(c.Subject, ":")[3],
			"groups": []string{"system:serviceaccounts", "system:serviceaccounts:" + strings.Split(c.Subject, ":")[2], "system:authenticated"}}
	}
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, out)
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
