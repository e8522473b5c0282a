package agent

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// fakeLogin is an Infisical stand-in that records login bodies.
type fakeLogin struct {
	mu     sync.Mutex
	bodies map[string]map[string]string
	fail   int // answer 503 this many times first
	srv    *httptest.Server
}

func newFakeLogin(t *testing.T) *fakeLogin {
	f := &fakeLogin{bodies: map[string]map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail > 0 {
			f.fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("login %s sent an Authorization header", r.URL.Path)
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("login body: %v", err)
		}
		f.bodies[r.URL.Path] = body
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"accessToken":"tok","expiresIn":60,"accessTokenMaxTTL":120,"tokenType":"Bearer"}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLogin) body(path string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[path]
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newAuth(t *testing.T, f *fakeLogin, method string, s AuthSettings, env map[string]string, ep Endpoints) *authenticator {
	t.Helper()
	c, err := apiclient.New(apiclient.Config{BaseURL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &authenticator{method: method, s: s, api: &api{c: c, retry: retryPolicy{maxRetries: 3, base: time.Millisecond, max: time.Millisecond}},
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ep: ep, now: time.Now}
}

func TestMachineLogins(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	f := newFakeLogin(t)
	idFile := writeFile(t, dir, "identity-id", "ident-1\n")

	t.Run("universal-auth from files, secret removed on read", func(t *testing.T) {
		secret := writeFile(t, dir, "client-secret", " s3cret \n")
		a := newAuth(t, f, AuthUniversal, AuthSettings{ClientID: writeFile(t, dir, "client-id", "cid"), ClientSecret: secret, RemoveClientSecretOnRead: true}, nil, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatal(err)
		}
		if b := f.body("/api/v1/auth/universal-auth/login"); b["clientId"] != "cid" || b["clientSecret"] != "s3cret" {
			t.Errorf("body %v", b)
		}
		if _, err := os.Stat(secret); !os.IsNotExist(err) {
			t.Error("client secret file kept")
		}
		// The next login uses the secret kept in memory.
		if _, err := a.login(ctx); err != nil {
			t.Fatalf("second login: %v", err)
		}
	})
	t.Run("universal-auth from the environment", func(t *testing.T) {
		a := newAuth(t, f, AuthUniversal, AuthSettings{}, map[string]string{envClientID: "env-id", envClientSecret: "env-secret", envOrganizationSlug: "sub-org"}, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatal(err)
		}
		if b := f.body("/api/v1/auth/universal-auth/login"); b["clientId"] != "env-id" || b["clientSecret"] != "env-secret" || b["organizationSlug"] != "sub-org" {
			t.Errorf("body %v", b)
		}
		missing := newAuth(t, f, AuthUniversal, AuthSettings{ClientID: filepath.Join(dir, "nope")}, nil, Endpoints{})
		if _, err := missing.login(ctx); err == nil {
			t.Error("login without a client id file succeeded")
		}
	})
	t.Run("kubernetes", func(t *testing.T) {
		sa := writeFile(t, dir, "sa-token", "k8s.jwt.value\n")
		a := newAuth(t, f, AuthKubernetes, AuthSettings{IdentityID: idFile, ServiceAccountToken: sa}, nil, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatal(err)
		}
		if b := f.body("/api/v1/auth/kubernetes-auth/login"); b["identityId"] != "ident-1" || b["jwt"] != "k8s.jwt.value" {
			t.Errorf("body %v", b)
		}
	})
	t.Run("ldap", func(t *testing.T) {
		pw := writeFile(t, dir, "ldap-pass", "pw")
		a := newAuth(t, f, AuthLDAP, AuthSettings{IdentityID: idFile, Username: writeFile(t, dir, "ldap-user", "alice"), Password: pw, RemovePasswordOnRead: true}, nil, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatal(err)
		}
		if b := f.body("/api/v1/auth/ldap-auth/login"); b["username"] != "alice" || b["password"] != "pw" || b["identityId"] != "ident-1" {
			t.Errorf("body %v", b)
		}
		if _, err := os.Stat(pw); !os.IsNotExist(err) {
			t.Error("password file kept")
		}
	})
	t.Run("azure and gcp-id-token metadata services", func(t *testing.T) {
		meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/metadata/identity/oauth2/token" && r.Header.Get("Metadata") == "true":
				if r.URL.Query().Get("client_id") != "uami" {
					t.Errorf("azure client_id %q", r.URL.Query().Get("client_id"))
				}
				w.Write([]byte(`{"access_token":"azure-jwt"}`))
			case strings.HasSuffix(r.URL.Path, "/service-accounts/default/identity") && r.Header.Get("Metadata-Flavor") == "Google":
				if r.URL.Query().Get("audience") != "ident-1" || r.URL.Query().Get("format") != "full" {
					t.Errorf("gcp query %v", r.URL.Query())
				}
				w.Write([]byte("gcp-jwt"))
			default:
				http.NotFound(w, r)
			}
		}))
		defer meta.Close()
		ep := Endpoints{AzureIMDS: meta.URL, GCPMetadata: meta.URL}
		az := newAuth(t, f, AuthAzure, AuthSettings{IdentityID: idFile}, map[string]string{envAzureClientID: "uami"}, ep)
		if _, err := az.login(ctx); err != nil {
			t.Fatal(err)
		}
		if b := f.body("/api/v1/auth/azure-auth/login"); b["jwt"] != "azure-jwt" || b["identityId"] != "ident-1" {
			t.Errorf("azure body %v", b)
		}
		gcp := newAuth(t, f, AuthGCPIDToken, AuthSettings{}, map[string]string{envIdentityID: "ident-1"}, ep)
		if _, err := gcp.login(ctx); err != nil {
			t.Fatal(err)
		}
		if b := f.body("/api/v1/auth/gcp-auth/login"); b["jwt"] != "gcp-jwt" {
			t.Errorf("gcp body %v", b)
		}
	})
	t.Run("gcp-iam signs with the service account key", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})
		sa, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com",
			"private_key": string(pemKey), "private_key_id": "kid-1"})
		a := newAuth(t, f, AuthGCPIAM, AuthSettings{IdentityID: idFile, ServiceAccountKey: writeFile(t, dir, "sa.json", string(sa))}, nil, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatal(err)
		}
		b := f.body("/api/v1/auth/gcp-auth/login")
		tok, err := jwt.Parse(b["jwt"], func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"}))
		if err != nil {
			t.Fatalf("gcp-iam jwt: %v", err)
		}
		c := tok.Claims.(jwt.MapClaims)
		if c["sub"] != "sa@p.iam.gserviceaccount.com" || c["aud"] != "ident-1" || tok.Header["kid"] != "kid-1" {
			t.Errorf("claims %v header %v", c, tok.Header)
		}
		noKey := newAuth(t, f, AuthGCPIAM, AuthSettings{IdentityID: idFile}, nil, Endpoints{})
		if _, err := noKey.login(ctx); err == nil || !strings.Contains(err.Error(), envGCPKeyPath) {
			t.Errorf("gcp-iam without a key: %v", err)
		}
	})
	t.Run("aws-iam signs GetCallerIdentity", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-aws-config"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-aws-credentials"))
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		a := newAuth(t, f, AuthAWSIAM, AuthSettings{IdentityID: idFile}, map[string]string{envAWSRegion: "eu-west-1"}, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatal(err)
		}
		b := f.body("/api/v1/auth/aws-auth/login")
		body, _ := base64.StdEncoding.DecodeString(b["iamRequestBody"])
		var headers map[string]string
		raw, _ := base64.StdEncoding.DecodeString(b["iamRequestHeaders"])
		json.Unmarshal(raw, &headers)
		if b["iamHttpRequestMethod"] != "POST" || string(body) != "Action=GetCallerIdentity&Version=2011-06-15" ||
			!strings.Contains(headers["Authorization"], "Credential=AKIDEXAMPLE/") || !strings.Contains(headers["Authorization"], "/eu-west-1/sts/aws4_request") {
			t.Errorf("aws body %v headers %v", b, headers)
		}
	})
	t.Run("a 503 is retried", func(t *testing.T) {
		f.mu.Lock()
		f.fail = 2
		f.mu.Unlock()
		a := newAuth(t, f, AuthKubernetes, AuthSettings{IdentityID: idFile, ServiceAccountToken: writeFile(t, dir, "sa2", "x")}, nil, Endpoints{})
		if _, err := a.login(ctx); err != nil {
			t.Fatalf("login after two 503s: %v", err)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
