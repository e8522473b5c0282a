package apiclient

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestNormalizeBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://localhost:8080", "http://localhost:8080/api"},
		{"http://localhost:8080/", "http://localhost:8080/api"},
		{"https://x.example.com/api", "https://x.example.com/api"},
		{" https://x.example.com/api/ ", "https://x.example.com/api"},
		{"https://x.example.com/base", "https://x.example.com/base/api"},
		{"localhost:8080", ""},
		{"ftp://x", ""},
		{"http://", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeBaseURL(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestErrorsAndUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("secretPath") {
		case "/string":
			w.WriteHeader(404)
			io.WriteString(w, `{"reqId":"req-1","statusCode":404,"error":"NotFound","message":"Folder with path '/string' not found"}`)
		case "/array":
			w.WriteHeader(422)
			io.WriteString(w, `{"reqId":"req-2","statusCode":422,"error":"ValidationFailure","message":[{"path":["environment"],"message":"Required"}]}`)
		case "/proxy":
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		case "/denied":
			w.WriteHeader(403)
			io.WriteString(w, `{"statusCode":403,"error":"PermissionDenied","message":"You are not allowed to read on secrets"}`)
		}
	}))
	c, err := New(Config{BaseURL: srv.URL, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		path        string
		status      int
		name        string
		msg         string
		unreachable bool
	}{
		{"/string", 404, "NotFound", "Folder with path '/string' not found", false},
		{"/array", 422, "ValidationFailure", `[{"path":["environment"],"message":"Required"}]`, false},
		{"/proxy", 502, "", "<html>bad gateway</html>", true},
		{"/denied", 403, "PermissionDenied", "You are not allowed to read on secrets", false},
	}
	for _, tt := range tests {
		_, err := c.ListSecrets(ctx, ListSecretsOptions{ProjectID: "p", Environment: "dev", SecretPath: tt.path})
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != tt.status || ae.Name != tt.name || ae.Message != tt.msg {
			t.Errorf("%s: error %#v", tt.path, err)
			continue
		}
		if IsUnreachable(err) != tt.unreachable || IsNotFound(err) != (tt.status == 404) || StatusCode(err) != tt.status {
			t.Errorf("%s: IsUnreachable=%v IsNotFound=%v", tt.path, IsUnreachable(err), IsNotFound(err))
		}
	}

	srv.Close()
	_, err = c.ListSecrets(ctx, ListSecretsOptions{ProjectID: "p", Environment: "dev"})
	if !IsUnreachable(err) || StatusCode(err) != 0 {
		t.Fatalf("closed server: %v (unreachable %v)", err, IsUnreachable(err))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.ListSecrets(cctx, ListSecretsOptions{ProjectID: "p", Environment: "dev"}); IsUnreachable(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if IsUnreachable(nil) {
		t.Fatal("nil is unreachable")
	}
}

func TestServiceTokenHeader(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		io.WriteString(w, `{"_id":"st-1","workspace":"p-1","scopes":[{"environment":"dev","secretPath":"/"}]}`)
	}))
	defer srv.Close()
	c, _ := New(Config{BaseURL: srv.URL, Token: "st.abc.def.key-part"})
	d, err := c.ServiceTokenDetails(context.Background())
	if err != nil || got != "Bearer st.abc.def" || d.Workspace != "p-1" || len(d.Scopes) != 1 {
		t.Fatalf("header %q, details %+v, err %v", got, d, err)
	}
	if !IsServiceToken(" st.x.y") || IsServiceToken("eyJ.x.y") {
		t.Fatal("IsServiceToken")
	}
}

// loginRecorder is a fake API that records login requests.
type loginRecorder struct {
	mu    sync.Mutex
	paths []string
	body  map[string]string
	auth  string
}

func newLoginRecorder(t *testing.T) (*loginRecorder, *Client) {
	rec := &loginRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.paths = append(rec.paths, r.URL.Path)
		rec.auth = r.Header.Get("Authorization")
		rec.body = map[string]string{}
		_ = json.NewDecoder(r.Body).Decode(&rec.body)
		io.WriteString(w, `{"accessToken":"tok-`+strings.TrimPrefix(r.URL.Path, "/api/v1/auth/")+`","expiresIn":60,"accessTokenMaxTTL":120,"tokenType":"Bearer"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL + "/api/", Token: "ignored-by-logins"})
	if err != nil {
		t.Fatal(err)
	}
	return rec, c
}

func TestMachineLoginRequestBodies(t *testing.T) {
	rec, c := newLoginRecorder(t)
	ctx := context.Background()
	dir := t.TempDir()
	k8sToken := filepath.Join(dir, "token")
	if err := os.WriteFile(k8sToken, []byte("k8s-sa-jwt\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Cloud metadata services.
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/computeMetadata/v1/instance/service-accounts/default/identity":
			if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Query().Get("audience") != "id-gcp" || r.URL.Query().Get("format") != "full" {
				w.WriteHeader(400)
				return
			}
			io.WriteString(w, "google-id-token\n")
		case "/metadata/identity/oauth2/token":
			q := r.URL.Query()
			if r.Header.Get("Metadata") != "true" || q.Get("api-version") != "2018-02-01" || q.Get("resource") != DefaultAzureResource || q.Get("client_id") != "uami" {
				w.WriteHeader(400)
				return
			}
			io.WriteString(w, `{"access_token":"azure-jwt","expires_in":"3599"}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer meta.Close()

	tests := []struct {
		name string
		opts CredentialOptions
		path string
		body map[string]string
	}{
		{"universal auth", CredentialOptions{Method: MethodUniversalAuth, ClientID: " cid ", ClientSecret: "csecret", OrganizationSlug: "child"},
			"/api/v1/auth/universal-auth/login", map[string]string{"clientId": "cid", "clientSecret": "csecret", "organizationSlug": "child"}},
		{"kubernetes", CredentialOptions{Method: MethodKubernetes, IdentityID: "id-k8s", ServiceAccountTokenPath: k8sToken},
			"/api/v1/auth/kubernetes-auth/login", map[string]string{"identityId": "id-k8s", "jwt": "k8s-sa-jwt"}},
		{"oidc", CredentialOptions{Method: MethodOIDC, IdentityID: "id-oidc", JWT: "oidc-jwt"},
			"/api/v1/auth/oidc-auth/login", map[string]string{"identityId": "id-oidc", "jwt": "oidc-jwt"}},
		{"jwt", CredentialOptions{Method: MethodJWT, IdentityID: "id-jwt", JWT: "static-jwt"},
			"/api/v1/auth/jwt-auth/login", map[string]string{"identityId": "id-jwt", "jwt": "static-jwt"}},
		{"ldap", CredentialOptions{Method: MethodLDAP, IdentityID: "id-ldap", Username: "alice", Password: "pw"},
			"/api/v1/auth/ldap-auth/login", map[string]string{"identityId": "id-ldap", "username": "alice", "password": "pw"}},
		{"gcp id token", CredentialOptions{Method: MethodGCPIDToken, IdentityID: "id-gcp", GCPMetadataURL: meta.URL},
			"/api/v1/auth/gcp-auth/login", map[string]string{"identityId": "id-gcp", "jwt": "google-id-token"}},
		{"azure", CredentialOptions{Method: MethodAzure, IdentityID: "id-az", AzureIMDSURL: meta.URL, AzureClientID: "uami"},
			"/api/v1/auth/azure-auth/login", map[string]string{"identityId": "id-az", "jwt": "azure-jwt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := c.MachineLogin(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if got := rec.paths[len(rec.paths)-1]; got != tt.path {
				t.Fatalf("path %s, want %s", got, tt.path)
			}
			if rec.auth != "" {
				t.Fatalf("login sent Authorization %q", rec.auth)
			}
			if len(rec.body) != len(tt.body) {
				t.Fatalf("body %v, want %v", rec.body, tt.body)
			}
			for k, v := range tt.body {
				if rec.body[k] != v {
					t.Fatalf("body %v, want %v", rec.body, tt.body)
				}
			}
			if tok.ExpiresIn != 60 || tok.AccessTokenMaxTTL != 120 || tok.TokenType != "Bearer" || tok.AccessToken == "" {
				t.Fatalf("token %+v", tok)
			}
		})
	}

	errCases := []struct {
		name string
		opts CredentialOptions
		want string
	}{
		{"ua without secret", CredentialOptions{Method: MethodUniversalAuth, ClientID: "x"}, "client secret"},
		{"k8s without identity", CredentialOptions{Method: MethodKubernetes}, "machine identity ID"},
		{"k8s token file missing", CredentialOptions{Method: MethodKubernetes, IdentityID: "i", ServiceAccountTokenPath: filepath.Join(dir, "nope")}, "service-account token"},
		{"oidc without jwt", CredentialOptions{Method: MethodOIDC, IdentityID: "i"}, "JWT"},
		{"ldap without password", CredentialOptions{Method: MethodLDAP, IdentityID: "i", Username: "u"}, "password"},
		{"gcp-iam without key", CredentialOptions{Method: MethodGCPIAM, IdentityID: "i"}, "key file"},
		{"azure metadata down", CredentialOptions{Method: MethodAzure, IdentityID: "i", AzureIMDSURL: meta.URL + "/down"}, "Azure managed identity"},
		{"unknown method", CredentialOptions{Method: "carrier-pigeon"}, "unknown login method"},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.MachineLogin(ctx, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGCPIAMLoginSignsWithTheServiceAccountKey(t *testing.T) {
	rec, c := newLoginRecorder(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key, _ := json.Marshal(map[string]string{"type": "service_account", "private_key_id": "kid-123",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "client_email": "app@proj.iam.gserviceaccount.com"})
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := c.MachineLogin(context.Background(), CredentialOptions{Method: MethodGCPIAM, IdentityID: "id-gcp", ServiceAccountKeyFilePath: keyFile, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if rec.paths[0] != "/api/v1/auth/gcp-auth/login" || rec.body["identityId"] != "id-gcp" {
		t.Fatalf("request %v %v", rec.paths, rec.body)
	}
	tok, err := jwt.Parse(rec.body["jwt"], func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != "kid-123" {
			t.Errorf("kid %v", tk.Header["kid"])
		}
		return &priv.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience("id-gcp"), jwt.WithSubject("app@proj.iam.gserviceaccount.com"))
	if err != nil || !tok.Valid {
		t.Fatalf("JWT does not verify with the service account's key: %v", err)
	}
	if _, err := GCPIAMToken([]byte(`{"client_email":"x"}`), "i", now); err == nil {
		t.Fatal("incomplete key accepted")
	}
}

func TestAWSIAMLoginSignsGetCallerIdentity(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_SESSION_TOKEN", "session-token")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	rec, c := newLoginRecorder(t)
	if _, err := c.MachineLogin(context.Background(), CredentialOptions{Method: MethodAWSIAM, IdentityID: "id-aws"}); err != nil {
		t.Fatal(err)
	}
	b := rec.body
	if rec.paths[0] != "/api/v1/auth/aws-auth/login" || b["identityId"] != "id-aws" || b["iamHttpRequestMethod"] != "POST" {
		t.Fatalf("request %v %v", rec.paths, b)
	}
	body, _ := base64.StdEncoding.DecodeString(b["iamRequestBody"])
	if string(body) != "Action=GetCallerIdentity&Version=2011-06-15" {
		t.Fatalf("signed body %q", body)
	}
	rawHeaders, _ := base64.StdEncoding.DecodeString(b["iamRequestHeaders"])
	var h map[string]string
	if err := json.Unmarshal(rawHeaders, &h); err != nil {
		t.Fatalf("headers: %v: %s", err, rawHeaders)
	}
	auth := h["Authorization"]
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/sts/aws4_request") ||
		!strings.Contains(auth, "SignedHeaders=") || !strings.Contains(auth, "Signature=") {
		t.Fatalf("Authorization %q", auth)
	}
	if h["Host"] != "sts.eu-west-1.amazonaws.com" || h["X-Amz-Date"] == "" || h["X-Amz-Security-Token"] != "session-token" ||
		h["Content-Length"] != "43" || h["Content-Type"] != "application/x-www-form-urlencoded; charset=utf-8" {
		t.Fatalf("headers %v", h)
	}
}

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]Method{"universal-auth": MethodUniversalAuth, "Kubernetes": MethodKubernetes, "kubernetes-auth": MethodKubernetes,
		"aws-auth": MethodAWSIAM, "gcp-iam": MethodGCPIAM, "oidc": MethodOIDC, "jwt-auth": MethodJWT, "ldap-auth": MethodLDAP, "azure": MethodAzure} {
		if got, err := ParseMethod(in); err != nil || got != want {
			t.Errorf("ParseMethod(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMethod("user"); err == nil {
		t.Error("user is not a machine method")
	}
}
