package cli

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestLoginEveryMachineMethodAgainstServer logs in with `infisical login
// --method=...` for each cloud and token method against the real server,
// whose verifiers talk to local fakes of STS, Google, Azure, Kubernetes
// and an OIDC provider and to slapd (skipped without it), then uses each token to read a secret.
func TestLoginEveryMachineMethodAgainstServer(t *testing.T) {
	sts, google, k8s, oidc := authntest.NewSTS(t), authntest.NewGoogle(t), authntest.NewKubernetes(t), authntest.NewOIDC(t)
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	azure := authntest.NewAzure(t, tenant)
	const account = "123456789012"
	sts.AddUser(authntest.STSUser{AccessKeyID: "AKIACLITEST", SecretAccessKey: "cli-test-secret", Account: account,
		ARN: "arn:aws:iam::" + account + ":user/cli", UserID: "AIDACLI"})
	const saEmail = "cli@acme.iam.gserviceaccount.com"
	saKey := google.ServiceAccount(t, saEmail)
	slapd := authntest.StartSlapd(t)
	slapd.AddUser(t, "svc-cli", "cli-ldap-pass", "svc-cli@example.org", nil)
	configure := func(c *infisical.Config) {
		c.AuthIssuers = infisical.AuthIssuers{HTTPClient: sts.Server.Client(), AWSRegionalSTSEndpoint: sts.RegionalEndpoint,
			GoogleCertsURL: google.CertsURL, GoogleIAMMetadataURL: google.IAMMetadataURL, AzureBaseURL: azure.BaseURL}
	}
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b, configure)
		e.createSecret("dev", "/", "K", "v", nil)
		dir := t.TempDir()
		attach := func(method, name string, body map[string]any) string {
			t.Helper()
			var ident struct {
				Identity struct{ ID string } `json:"identity"`
			}
			e.must("POST", "/api/v1/identities", e.adminToken, map[string]any{"name": name, "organizationId": e.orgID, "role": "no-access"}, &ident)
			id := ident.Identity.ID
			e.must("POST", "/api/v1/auth/"+method+"/identities/"+id, e.adminToken, body, nil)
			e.must("POST", "/api/v2/workspace/"+e.projectID+"/identity-memberships/"+id, e.adminToken, map[string]any{"role": "viewer"}, nil)
			return id
		}

		// Kubernetes: the pod's token file.
		k8sID := attach("kubernetes-auth", "k8s", map[string]any{"kubernetesHost": k8s.Host, "caCert": k8s.CAPEM, "tokenReviewerJwt": k8s.ReviewerToken,
			"allowedNamespaces": "prod", "allowedNames": "", "allowedAudience": ""})
		saToken := filepath.Join(dir, "sa-token")
		writeFile(t, saToken, k8s.ServiceAccountToken("prod", "api", nil, time.Hour))

		// GCP IAM: a service-account key file holding the account's key.
		gcpIAMID := attach("gcp-auth", "gcp-iam", map[string]any{"type": "iam", "allowedServiceAccounts": saEmail})
		der, err := x509.MarshalPKCS8PrivateKey(saKey.Key)
		if err != nil {
			t.Fatal(err)
		}
		keyJSON, _ := json.Marshal(map[string]string{"type": "service_account", "private_key_id": saKey.ID, "client_email": saEmail,
			"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
		keyFile := filepath.Join(dir, "sa.json")
		writeFile(t, keyFile, string(keyJSON))

		// GCP ID token: a metadata server handing out Google ID tokens.
		gceID := attach("gcp-auth", "gce", map[string]any{"type": "gce", "allowedServiceAccounts": saEmail})
		meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Metadata-Flavor") != "Google" {
				w.WriteHeader(403)
				return
			}
			_, _ = w.Write([]byte(google.IDToken(r.URL.Query().Get("audience"), saEmail, &authntest.GCEInstance{ProjectID: "acme", Zone: "europe-west1-b"}, time.Hour)))
		}))
		defer meta.Close()

		// Azure: an instance metadata service handing out managed identity tokens.
		azureID := attach("azure-auth", "azure", map[string]any{"tenantId": tenant, "resource": "https://management.azure.com/", "allowedServicePrincipalIds": "oid-cli"})
		imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Metadata") != "true" || r.URL.Path != "/metadata/identity/oauth2/token" {
				w.WriteHeader(400)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"access_token": azure.Token("oid-cli", r.URL.Query().Get("resource"), time.Hour)})
		}))
		defer imds.Close()

		// AWS: static credentials from the environment, verified by the STS fake.
		awsID := attach("aws-auth", "aws", map[string]any{"allowedAccountIds": account})

		// OIDC and JWT.
		oidcID := attach("oidc-auth", "oidc", map[string]any{"oidcDiscoveryUrl": oidc.URL, "boundIssuer": oidc.URL, "caCert": oidc.CAPEM,
			"boundAudiences": "infisical", "boundSubject": "repo:acme/*"})
		static := authntest.NewSigningKey(t, "")
		jwtID := attach("jwt-auth", "jwt", map[string]any{"configurationType": "static", "publicKeys": []string{static.PublicPEM()},
			"boundIssuer": "https://issuer.example"})
		ldapID := attach("ldap-auth", "ldap", map[string]any{"url": slapd.URL, "bindDN": slapd.AdminDN, "bindPass": slapd.AdminPassword, "searchBase": slapd.PeopleDN})
		now := time.Now()

		tests := []struct {
			name string
			env  map[string]string
			args []string
		}{
			{"kubernetes", nil, []string{"--method=kubernetes", "--machine-identity-id", k8sID, "--service-account-token-path", saToken}},
			{"gcp-iam", map[string]string{"INFISICAL_GCP_IAM_SERVICE_ACCOUNT_KEY_FILE_PATH": keyFile}, []string{"--method=gcp-iam", "--machine-identity-id", gcpIAMID}},
			{"gcp-id-token", nil, []string{"--method=gcp-id-token", "--machine-identity-id", gceID}},
			{"aws-iam", map[string]string{"INFISICAL_MACHINE_IDENTITY_ID": awsID}, []string{"--method=aws-iam"}},
			{"azure", nil, []string{"--method=azure", "--machine-identity-id", azureID}},
			{"oidc-auth", map[string]string{"INFISICAL_OIDC_AUTH_JWT": oidc.Token(authntest.Claims{"iss": oidc.URL, "sub": "repo:acme/app", "aud": "infisical",
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})}, []string{"--method=oidc-auth", "--machine-identity-id", oidcID}},
			{"jwt-auth", nil, []string{"--method=jwt-auth", "--machine-identity-id", jwtID, "--jwt",
				static.Sign(authntest.Claims{"iss": "https://issuer.example", "sub": "svc", "exp": now.Add(time.Hour).Unix()})}},
			{"ldap-auth", map[string]string{"INFISICAL_LDAP_PASSWORD": "cli-ldap-pass"}, []string{"--method=ldap-auth", "--machine-identity-id", ldapID, "--ldap-username", "svc-cli"}},
		}
		t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(meta.URL, "http://"))
		t.Setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.URL)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIACLITEST")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "cli-test-secret")
		t.Setenv("AWS_SESSION_TOKEN", "")
		t.Setenv("AWS_REGION", "eu-central-1")
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				env := e.env("INFISICAL_TOKEN", "")
				for k, v := range tt.env {
					env[k] = v
				}
				r := e.mustRun(env, append([]string{"login", "--plain", "--silent"}, tt.args...)...)
				tok := strings.TrimSpace(r.stdout)
				if got := e.mustRun(e.env("INFISICAL_TOKEN", tok), "secrets", "get", "K", "--plain").stdout; got != "v\n" {
					t.Fatalf("secret read with the %s token: %q", tt.name, got)
				}
			})
		}
		// A refused credential is an error naming the server's reason.
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		if r := e.run(e.env("INFISICAL_TOKEN", ""), "login", "--method=aws-iam", "--machine-identity-id", awsID); r.code != ExitError || !strings.Contains(r.stderr, "401") {
			t.Fatalf("wrong AWS key: exit %d, %q", r.code, r.stderr)
		}
	})
}
