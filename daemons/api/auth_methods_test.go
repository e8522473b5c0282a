package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/infisical/go-sdk"

	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
)

// maIssuers are the local issuers every machine-auth test talks to.
type maIssuers struct {
	sts    *authntest.STS
	google *authntest.Google
	azure  *authntest.Azure
	k8s    *authntest.Kubernetes
	gh     *authntest.OIDCProvider
	circle *authntest.OIDCProvider
}

const (
	maAWSAccount        = "123456789012"
	maAzureTenant       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	maGCPServiceAccount = "runner@acme-prod.iam.gserviceaccount.com"
)

func newMAIssuers(t *testing.T) *maIssuers {
	f := &maIssuers{sts: authntest.NewSTS(t), google: authntest.NewGoogle(t), azure: authntest.NewAzure(t, maAzureTenant),
		k8s: authntest.NewKubernetes(t), gh: authntest.NewOIDC(t), circle: authntest.NewOIDCPath(t, "/org/c1rc1e")}
	f.sts.AddUser(authntest.STSUser{AccessKeyID: "AKIACIDEPLOY", SecretAccessKey: "ci-deploy-secret", Account: maAWSAccount,
		ARN: "arn:aws:iam::" + maAWSAccount + ":user/ci-deploy", UserID: "AIDACIDEPLOY"})
	f.sts.AddUser(authntest.STSUser{AccessKeyID: "AKIAINTRUDER", SecretAccessKey: "intruder-secret", Account: maAWSAccount,
		ARN: "arn:aws:iam::" + maAWSAccount + ":user/intruder", UserID: "AIDAINTRUDER"})
	f.google.ServiceAccount(t, maGCPServiceAccount)
	return f
}

// configure points an engine's issuers at the fakes.
func (f *maIssuers) configure(c *infisical.Config) {
	c.AuthIssuers = infisical.AuthIssuers{HTTPClient: f.sts.Server.Client(), AWSRegionalSTSEndpoint: f.sts.RegionalEndpoint,
		GoogleCertsURL: f.google.CertsURL, GoogleIAMMetadataURL: f.google.IAMMetadataURL, AzureBaseURL: f.azure.BaseURL}
}

func (ts *testServer) maIdentity(token, orgID, name string) string {
	ts.t.Helper()
	var out struct {
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	}
	ts.must("POST", "/api/v1/identities", token, map[string]any{"name": name, "organizationId": orgID, "role": "no-access"}, &out)
	return out.Identity.ID
}

// attach configures method on an identity and returns the row.
func (ts *testServer) maAttach(token, method, identityID, wrapper string, body map[string]any) map[string]any {
	ts.t.Helper()
	var out map[string]map[string]any
	ts.must("POST", "/api/v1/auth/"+method+"/identities/"+identityID, token, body, &out)
	row, ok := out[wrapper]
	if !ok {
		ts.t.Fatalf("attach %s: no %s in %v", method, wrapper, out)
	}
	return row
}

type maLoginOut struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
	Message           any    `json:"message"`
	Error             string `json:"error"`
}

func (ts *testServer) maLogin(method string, body map[string]any) (int, maLoginOut) {
	ts.t.Helper()
	code, raw, _ := ts.do("POST", "/api/v1/auth/"+method+"/login", "", body)
	var out maLoginOut
	_ = json.Unmarshal(raw, &out)
	return code, out
}

// use calls an endpoint with an identity token and returns the status.
func (ts *testServer) maUse(token string) int {
	ts.t.Helper()
	code, _, _ := ts.do("GET", "/api/v1/identities/details", token, nil)
	return code
}

// identityAuth decodes the identityAuth claim of an access token.
func maIdentityAuth(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		IdentityAuth map[string]any `json:"identityAuth"`
		AuthMethod   string         `json:"authMethod"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.IdentityAuth
}

func (ts *testServer) maSDK() sdk.InfisicalClientInterface {
	ctx, cancel := context.WithCancel(context.Background())
	ts.t.Cleanup(cancel)
	return sdk.NewInfisicalClient(ctx, sdk.Config{SiteUrl: ts.srv.URL, SilentMode: true, AutoTokenRefresh: sdk.BoolPtr(false)})
}

// maAuditEvents returns the metadata of the events of a type.
func maAuditEvents(t *testing.T, eng *infisical.Engine, eventType string) []store.AuditLog {
	t.Helper()
	var rows []store.AuditLog
	if err := eng.Store().DB().NewSelect().Model(&rows).Where("event_type = ?", eventType).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

func maWantCode(t *testing.T, what string, got, want int, body any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d (%v)", what, got, want, body)
	}
}

func TestMachineAuthMethods(t *testing.T) {
	f := newMAIssuers(t)
	slapd := authntest.StartSlapd(t)
	slapd.AddUser(t, "svc-deploy", "deploy-pass-1", "svc-deploy@example.org", map[string][]string{"employeeType": {"service"}})
	slapd.AddUser(t, "alice", "alice-pass", "alice@example.org", map[string][]string{"employeeType": {"human"}})

	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, f.configure)
		boot := ts.bootstrap()
		admin := boot.AdminToken

		t.Run("aws via the Go SDK", func(t *testing.T) {
			id := ts.maIdentity(admin, boot.OrgID, "aws-ci")
			row := ts.maAttach(admin, "aws-auth", id, "identityAwsAuth", map[string]any{
				"allowedPrincipalArns": "arn:aws:iam::" + maAWSAccount + ":user/ci-*,  arn:aws:iam::" + maAWSAccount + ":role/deployer",
				"allowedAccountIds":    maAWSAccount, "accessTokenTTL": 600})
			if row["type"] != "iam" || row["stsEndpoint"] != "https://sts.amazonaws.com/" || row["accessTokenTTL"] != float64(600) ||
				row["allowedPrincipalArns"] != "arn:aws:iam::"+maAWSAccount+":user/ci-*, arn:aws:iam::"+maAWSAccount+":role/deployer" || row["identityId"] != id {
				t.Fatalf("row %v", row)
			}
			client := ts.maSDK()
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIACIDEPLOY")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "ci-deploy-secret")
			t.Setenv("AWS_REGION", "eu-central-1")
			t.Setenv("AWS_SESSION_TOKEN", "")
			t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			cred, err := client.Auth().AwsIamAuthLogin(id)
			if err != nil {
				t.Fatalf("AwsIamAuthLogin: %v", err)
			}
			if cred.ExpiresIn != 600 || cred.TokenType != "Bearer" {
				t.Fatalf("login %+v", cred)
			}
			aws := maIdentityAuth(t, cred.AccessToken)["aws"].(map[string]any)
			if aws["arn"] != "arn:aws:iam::"+maAWSAccount+":user/ci-deploy" || aws["accountId"] != maAWSAccount || aws["resourceName"] != "ci-deploy" ||
				aws["resourceType"] != "user" || aws["userId"] != "AIDACIDEPLOY" || aws["partition"] != "aws" || aws["service"] != "iam" {
				t.Fatalf("identityAuth.aws %v", aws)
			}
			maWantCode(t, "use", ts.maUse(cred.AccessToken), 200, nil)

			// Another IAM user of the same account is not allowed.
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAINTRUDER")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "intruder-secret")
			if _, err := client.Auth().AwsIamAuthLogin(id); !isStatus(err, http.StatusUnauthorized) || !strings.Contains(err.Error(), "AWS principal ARN not allowed") {
				t.Fatalf("intruder: %v", err)
			}
			// A wrong secret key fails STS's signature check.
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIACIDEPLOY")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
			if _, err := client.Auth().AwsIamAuthLogin(id); !isStatus(err, http.StatusUnauthorized) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
				t.Fatalf("bad signature: %v", err)
			}
			// Wrong account.
			ts.must("PATCH", "/api/v1/auth/aws-auth/identities/"+id, admin, map[string]any{"allowedAccountIds": "999999999999"}, nil)
			t.Setenv("AWS_SECRET_ACCESS_KEY", "ci-deploy-secret")
			if _, err := client.Auth().AwsIamAuthLogin(id); !isStatus(err, http.StatusUnauthorized) || !strings.Contains(err.Error(), "AWS account ID not allowed") {
				t.Fatalf("wrong account: %v", err)
			}
			code, raw, _ := ts.do("PATCH", "/api/v1/auth/aws-auth/identities/"+id, admin, map[string]any{"allowedAccountIds": "12"})
			maWantCode(t, "invalid account id", code, 422, string(raw))
			if !strings.Contains(string(raw), "allowedAccountIds") {
				t.Fatalf("422 does not name the field: %s", raw)
			}
			ev := maAuditEvents(t, ts.eng, "login-identity-aws-auth")
			if len(ev) != 1 || !strings.Contains(ev[0].ActorMetadata, "ci-deploy") || strings.Contains(ev[0].EventMetadata, "ci-deploy-secret") {
				t.Fatalf("login audit %+v", ev)
			}
		})

		t.Run("kubernetes via the Go SDK", func(t *testing.T) {
			id := ts.maIdentity(admin, boot.OrgID, "k8s-api")
			saName := "api-" + string(b)
			row := ts.maAttach(admin, "kubernetes-auth", id, "identityKubernetesAuth", map[string]any{
				"kubernetesHost": f.k8s.Host, "caCert": f.k8s.CAPEM, "tokenReviewerJwt": f.k8s.ReviewerToken,
				"allowedNamespaces": "prod, staging", "allowedNames": saName, "allowedAudience": "infisical"})
			if row["tokenReviewerJwt"] != f.k8s.ReviewerToken || row["caCert"] != strings.TrimSpace(f.k8s.CAPEM) || row["tokenReviewMode"] != "api" ||
				row["allowedNamespaces"] != "prod, staging" || row["gatewayId"] != nil {
				t.Fatalf("row %v", row)
			}
			// The reviewer token and CA are stored sealed, never in clear.
			var stored store.AuthMethod
			if err := ts.eng.Store().DB().NewSelect().Model(&stored).Where("identity_id = ? AND method = ?", id, "kubernetes-auth").Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stored.Config, f.k8s.ReviewerToken[:40]) || bytes.Contains(stored.EncryptedConfig, []byte(f.k8s.ReviewerToken[:40])) || len(stored.EncryptedConfig) == 0 {
				t.Fatalf("reviewer JWT stored in clear: config=%s", stored.Config)
			}
			client := ts.maSDK()
			sa := f.k8s.ServiceAccountToken("prod", saName, []string{"infisical"}, time.Hour)
			cred, err := client.Auth().KubernetesRawServiceAccountTokenLogin(id, sa)
			if err != nil {
				t.Fatalf("KubernetesRawServiceAccountTokenLogin: %v", err)
			}
			k := maIdentityAuth(t, cred.AccessToken)["kubernetes"].(map[string]any)
			if k["namespace"] != "prod" || k["name"] != saName {
				t.Fatalf("identityAuth.kubernetes %v", k)
			}
			// The engine's actor carries the principal (permission
			// placeholders {{identity.auth.kubernetes.namespace}}, audit).
			actor, err := ts.eng.Authenticate(context.Background(), cred.AccessToken, "127.0.0.1")
			if err != nil || actor.AuthMethod != "kubernetes-auth" {
				t.Fatalf("authenticate: %+v %v", actor, err)
			}
			if ap, _ := actor.Principal["kubernetes"].(map[string]any); ap["namespace"] != "prod" || ap["name"] != saName {
				t.Fatalf("actor principal %v", actor.Principal)
			}
			maWantCode(t, "use", ts.maUse(cred.AccessToken), 200, nil)
			refusals := []struct {
				name, token, msg string
			}{
				{"wrong namespace", f.k8s.ServiceAccountToken("dev", saName, []string{"infisical"}, time.Hour), "K8s namespace not allowed"},
				{"wrong name", f.k8s.ServiceAccountToken("prod", "worker", []string{"infisical"}, time.Hour), "K8s name not allowed"},
				{"wrong audience", f.k8s.ServiceAccountToken("prod", saName, nil, time.Hour), "KubernetesTokenReviewError"},
				{"expired", f.k8s.ServiceAccountToken("prod", saName, []string{"infisical"}, -time.Minute), "token is expired"},
			}
			for _, r := range refusals {
				code, raw, _ := ts.do("POST", "/api/v1/auth/kubernetes-auth/login", "", map[string]any{"identityId": id, "jwt": r.token})
				if code != 401 || !strings.Contains(string(raw), r.msg) {
					t.Fatalf("%s: %d %s", r.name, code, raw)
				}
			}
			// Without a reviewer JWT the pod's own token reviews itself; this
			// one lacks system:auth-delegator.
			var upd map[string]map[string]any
			ts.must("PATCH", "/api/v1/auth/kubernetes-auth/identities/"+id, admin, map[string]any{"tokenReviewerJwt": nil}, &upd)
			if upd["identityKubernetesAuth"]["tokenReviewerJwt"] != nil {
				t.Fatalf("tokenReviewerJwt not cleared: %v", upd)
			}
			code, raw, _ := ts.do("POST", "/api/v1/auth/kubernetes-auth/login", "", map[string]any{"identityId": id, "jwt": sa})
			if code != 401 || !strings.Contains(string(raw), `"error":"KubernetesTokenReviewError"`) {
				t.Fatalf("self review without delegator: %d %s", code, raw)
			}
			f.k8s.AllowSelfReview("prod", saName) // per backend: the fake is shared
			if _, err := client.Auth().KubernetesRawServiceAccountTokenLogin(id, sa); err != nil {
				t.Fatalf("self review with delegator: %v", err)
			}
		})

		t.Run("oidc via the Go SDK: GitHub, GitLab and CircleCI tokens", func(t *testing.T) {
			gh := ts.maIdentity(admin, boot.OrgID, "gh-actions")
			ts.maAttach(admin, "oidc-auth", gh, "identityOidcAuth", map[string]any{
				"oidcDiscoveryUrl": f.gh.URL, "boundIssuer": f.gh.URL, "caCert": f.gh.CAPEM,
				"boundAudiences": "https://github.com/octo-org", "boundSubject": "repo:octo-org/app:ref:refs/heads/*",
				"boundClaims":          map[string]string{"repository_owner": "octo-org", "environment": "production, staging"},
				"claimMetadataMapping": map[string]string{"repo": "repository", "actor": "actor"}})
			client := ts.maSDK()
			tok := f.gh.Token(authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/octo-org"))
			cred, err := client.Auth().OidcAuthLogin(gh, tok)
			if err != nil {
				t.Fatalf("OidcAuthLogin: %v", err)
			}
			claims := maIdentityAuth(t, cred.AccessToken)["oidc"].(map[string]any)["claims"].(map[string]any)
			if claims["repo"] != "octo-org/app" || claims["actor"] != "octocat" {
				t.Fatalf("identityAuth.oidc.claims %v", claims)
			}
			maWantCode(t, "use", ts.maUse(cred.AccessToken), 200, nil)
			bad := []struct {
				name   string
				claims authntest.Claims
				code   int
				msg    string
			}{
				{"wrong audience", authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/evil"), 401, "OIDC audience not allowed"},
				{"wrong subject", authntest.GitHubActionsClaims("octo-org", "app", "refs/tags/v1", "https://github.com/octo-org"), 403, "OIDC subject not allowed"},
				{"wrong issuer", func() authntest.Claims {
					c := authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/octo-org")
					c["iss"] = "https://token.actions.githubusercontent.com"
					return c
				}(), 401, "jwt issuer invalid"},
				{"expired", func() authntest.Claims {
					c := authntest.GitHubActionsClaims("octo-org", "app", "refs/heads/main", "https://github.com/octo-org")
					c["exp"] = time.Now().Add(-time.Minute).Unix()
					return c
				}(), 401, "jwt expired"},
			}
			for _, tc := range bad {
				code, out := ts.maLogin("oidc-auth", map[string]any{"identityId": gh, "jwt": f.gh.Token(tc.claims)})
				if code != tc.code || !strings.Contains(out.Message.(string), tc.msg) {
					t.Fatalf("%s: %d %+v", tc.name, code, out)
				}
			}
			forged := authntest.NewSigningKey(t, f.gh.Key.ID).Sign(authntest.Claims{"iss": f.gh.URL, "sub": "repo:octo-org/app:ref:refs/heads/main",
				"aud": "https://github.com/octo-org", "exp": time.Now().Add(time.Hour).Unix()})
			if code, out := ts.maLogin("oidc-auth", map[string]any{"identityId": gh, "jwt": forged}); code != 401 || !strings.Contains(out.Message.(string), "invalid signature") {
				t.Fatalf("bad signature: %d %+v", code, out)
			}

			gl := ts.maIdentity(admin, boot.OrgID, "gitlab-ci")
			ts.maAttach(admin, "oidc-auth", gl, "identityOidcAuth", map[string]any{"oidcDiscoveryUrl": f.gh.URL, "boundIssuer": f.gh.URL,
				"caCert": f.gh.CAPEM, "boundAudiences": "https://infisical.example.com", "boundSubject": "project_path:platform/api:ref_type:branch:ref:main"})
			if _, err := client.Auth().OidcAuthLogin(gl, f.gh.Token(authntest.GitLabClaims("platform", "api", "main", "https://infisical.example.com"))); err != nil {
				t.Fatalf("GitLab token: %v", err)
			}
			cc := ts.maIdentity(admin, boot.OrgID, "circleci")
			ts.maAttach(admin, "oidc-auth", cc, "identityOidcAuth", map[string]any{"oidcDiscoveryUrl": f.circle.URL, "boundIssuer": f.circle.URL,
				"caCert": f.circle.CAPEM, "boundAudiences": "c1rc1e", "boundSubject": "org/c1rc1e/project/*"})
			if _, err := client.Auth().OidcAuthLogin(cc, f.circle.Token(authntest.CircleCIClaims("c1rc1e", "p-9", "u-1"))); err != nil {
				t.Fatalf("CircleCI token: %v", err)
			}
		})

		t.Run("jwt via the Go SDK: static keys and a JWKS URL", func(t *testing.T) {
			static := authntest.NewSigningKey(t, "")
			sid := ts.maIdentity(admin, boot.OrgID, "jwt-static")
			row := ts.maAttach(admin, "jwt-auth", sid, "identityJwtAuth", map[string]any{"configurationType": "static",
				"publicKeys": []string{static.PublicPEM()}, "boundIssuer": "https://issuer.example", "boundSubject": "svc:*"})
			if keys, _ := row["publicKeys"].([]any); len(keys) != 1 || row["configurationType"] != "static" {
				t.Fatalf("row %v", row)
			}
			client := ts.maSDK()
			claims := func() authntest.Claims {
				return authntest.Claims{"iss": "https://issuer.example", "sub": "svc:billing", "exp": time.Now().Add(time.Hour).Unix()}
			}
			if _, err := client.Auth().JwtAuthLogin(sid, static.Sign(claims())); err != nil {
				t.Fatalf("JwtAuthLogin static: %v", err)
			}
			if _, err := client.Auth().JwtAuthLogin(sid, authntest.NewSigningKey(t, "").Sign(claims())); !isStatus(err, 401) {
				t.Fatalf("bad signature: %v", err)
			}
			jid := ts.maIdentity(admin, boot.OrgID, "jwt-jwks")
			ts.maAttach(admin, "jwt-auth", jid, "identityJwtAuth", map[string]any{"configurationType": "jwks", "jwksUrl": f.gh.JWKSURL(),
				"jwksCaCert": f.gh.CAPEM, "boundAudiences": "infisical"})
			c := claims()
			c["aud"] = "infisical"
			if _, err := client.Auth().JwtAuthLogin(jid, f.gh.Key.Sign(c)); err != nil {
				t.Fatalf("JwtAuthLogin jwks: %v", err)
			}
			c["aud"] = "other"
			if _, err := client.Auth().JwtAuthLogin(jid, f.gh.Key.Sign(c)); !isStatus(err, 401) {
				t.Fatalf("wrong audience: %v", err)
			}
			var del map[string]map[string]any
			ts.must("DELETE", "/api/v1/auth/jwt-auth/identities/"+jid, admin, nil, &del)
			if _, leaked := del["identityJwtAuth"]["jwksCaCert"]; leaked {
				t.Fatalf("revoke response carries key material: %v", del)
			}
		})

		t.Run("ldap via the Go SDK against slapd", func(t *testing.T) {
			id := ts.maIdentity(admin, boot.OrgID, "ldap-svc")
			row := ts.maAttach(admin, "ldap-auth", id, "identityLdapAuth", map[string]any{"url": slapd.URL, "bindDN": slapd.AdminDN,
				"bindPass": slapd.AdminPassword, "searchBase": slapd.PeopleDN,
				"allowedFields": []map[string]string{{"key": "employeeType", "value": "service"}}})
			if _, leaked := row["bindPass"]; leaked || row["searchFilter"] != "(uid={{username}})" || row["lockoutEnabled"] != true {
				t.Fatalf("attach row %v", row)
			}
			var got map[string]map[string]any
			ts.must("GET", "/api/v1/auth/ldap-auth/identities/"+id, admin, nil, &got)
			if got["identityLdapAuth"]["bindPass"] != slapd.AdminPassword || got["identityLdapAuth"]["bindDN"] != slapd.AdminDN {
				t.Fatalf("get row %v", got)
			}
			client := ts.maSDK()
			if _, err := client.Auth().LdapAuthLogin(id, "svc-deploy", "deploy-pass-1"); err != nil {
				t.Fatalf("LdapAuthLogin: %v", err)
			}
			if _, err := client.Auth().LdapAuthLogin(id, "alice", "alice-pass"); !isStatus(err, 401) {
				t.Fatalf("field not allowed: %v", err)
			}
			for i := 0; i < 3; i++ {
				if _, err := client.Auth().LdapAuthLogin(id, "svc-deploy", "wrong"); !isStatus(err, 401) {
					t.Fatalf("wrong password: %v", err)
				}
			}
			if _, err := client.Auth().LdapAuthLogin(id, "svc-deploy", "deploy-pass-1"); !isStatus(err, 401) || !strings.Contains(err.Error(), "temporarily locked") {
				t.Fatalf("locked out: %v", err)
			}
			var cleared map[string]int
			ts.must("POST", "/api/v1/auth/ldap-auth/identities/"+id+"/clear-lockouts", admin, nil, &cleared)
			if cleared["deleted"] != 1 {
				t.Fatalf("clear-lockouts %v", cleared)
			}
			if _, err := client.Auth().LdapAuthLogin(id, "svc-deploy", "deploy-pass-1"); err != nil {
				t.Fatalf("after clearing lockouts: %v", err)
			}
		})

		t.Run("gcp id token and iam", func(t *testing.T) {
			gce := ts.maIdentity(admin, boot.OrgID, "gce-vm")
			ts.maAttach(admin, "gcp-auth", gce, "identityGcpAuth", map[string]any{"type": "gce", "allowedServiceAccounts": maGCPServiceAccount,
				"allowedProjects": "acme-prod", "allowedZones": "us-central1-a"})
			inst := &authntest.GCEInstance{ProjectID: "acme-prod", Zone: "us-central1-a", InstanceID: "42", InstanceName: "vm"}
			if code, out := ts.maLogin("gcp-auth", map[string]any{"identityId": gce, "jwt": f.google.IDToken(gce, maGCPServiceAccount, inst, time.Hour)}); code != 200 || ts.maUse(out.AccessToken) != 200 {
				t.Fatalf("gce login: %d %+v", code, out)
			}
			inst.Zone = "europe-west1-b"
			if code, out := ts.maLogin("gcp-auth", map[string]any{"identityId": gce, "jwt": f.google.IDToken(gce, maGCPServiceAccount, inst, time.Hour)}); code != 401 || out.Message != "Access denied: GCP zone not allowed." {
				t.Fatalf("zone: %d %+v", code, out)
			}
			if code, _ := ts.maLogin("gcp-auth", map[string]any{"identityId": gce, "jwt": f.google.IDToken("someone-else", maGCPServiceAccount, nil, time.Hour)}); code != 401 {
				t.Fatalf("wrong audience: %d", code)
			}
			iam := ts.maIdentity(admin, boot.OrgID, "gcp-iam")
			ts.maAttach(admin, "gcp-auth", iam, "identityGcpAuth", map[string]any{"type": "iam", "allowedServiceAccounts": maGCPServiceAccount})
			jwt := f.google.SignJwt(t, maGCPServiceAccount, authntest.Claims{"sub": maGCPServiceAccount, "aud": iam})
			if code, out := ts.maLogin("gcp-auth", map[string]any{"identityId": iam, "jwt": jwt}); code != 200 {
				t.Fatalf("iam login: %d %+v", code, out)
			}
			code, raw, _ := ts.do("POST", "/api/v1/auth/gcp-auth/identities/"+ts.maIdentity(admin, boot.OrgID, "gcp-bad"), admin, map[string]any{"type": "aws"})
			maWantCode(t, "bad type", code, 422, string(raw))
		})

		t.Run("azure managed identity", func(t *testing.T) {
			const sp = "3c1d6f8e-7b0a-4c5d-9e2f-1a2b3c4d5e6f"
			id := ts.maIdentity(admin, boot.OrgID, "azure-vm")
			ts.maAttach(admin, "azure-auth", id, "identityAzureAuth", map[string]any{"tenantId": maAzureTenant, "resource": "https://management.azure.com/",
				"allowedServicePrincipalIds": sp})
			if code, out := ts.maLogin("azure-auth", map[string]any{"identityId": id, "jwt": f.azure.Token(sp, "https://management.azure.com/", time.Hour)}); code != 200 {
				t.Fatalf("azure login: %d %+v", code, out)
			}
			if code, out := ts.maLogin("azure-auth", map[string]any{"identityId": id, "jwt": f.azure.Token("other-sp", "https://management.azure.com/", time.Hour)}); code != 401 || !strings.Contains(out.Message.(string), "service principal") {
				t.Fatalf("other sp: %d %+v", code, out)
			}
			if code, _ := ts.maLogin("azure-auth", map[string]any{"identityId": id, "jwt": f.azure.Token(sp, "https://vault.azure.net", time.Hour)}); code != 401 {
				t.Fatalf("wrong resource: %d", code)
			}
		})

		t.Run("shared token settings: trusted IPs, uses, revoke", func(t *testing.T) {
			id := ts.maIdentity(admin, boot.OrgID, "limited")
			body := map[string]any{"oidcDiscoveryUrl": f.gh.URL, "boundIssuer": f.gh.URL, "caCert": f.gh.CAPEM,
				"accessTokenTrustedIps": []map[string]string{{"ipAddress": "10.20.30.0/24"}}}
			row := ts.maAttach(admin, "oidc-auth", id, "identityOidcAuth", body)
			if ips, _ := row["accessTokenTrustedIps"].([]any); len(ips) != 1 {
				t.Fatalf("trusted ips %v", row)
			}
			code, out := ts.maLogin("oidc-auth", map[string]any{"identityId": id, "jwt": f.gh.Token(authntest.Claims{"sub": "x"})})
			maWantCode(t, "login", code, 200, out)
			maWantCode(t, "use from an untrusted IP", ts.maUse(out.AccessToken), 403, nil)

			ts.must("PATCH", "/api/v1/auth/oidc-auth/identities/"+id, admin, map[string]any{"accessTokenNumUsesLimit": 1,
				"accessTokenTrustedIps": []map[string]string{{"ipAddress": "0.0.0.0/0"}, {"ipAddress": "::/0"}}}, nil)
			_, out = ts.maLogin("oidc-auth", map[string]any{"identityId": id, "jwt": f.gh.Token(authntest.Claims{"sub": "x"})})
			maWantCode(t, "first use", ts.maUse(out.AccessToken), 200, nil)
			maWantCode(t, "uses exhausted", ts.maUse(out.AccessToken), 401, nil)

			_, out = ts.maLogin("oidc-auth", map[string]any{"identityId": id, "jwt": f.gh.Token(authntest.Claims{"sub": "x"})})
			code, raw, _ := ts.do("POST", "/api/v1/auth/oidc-auth/identities/"+id, admin, body)
			if code != 400 || !strings.Contains(string(raw), "Failed to add OIDC Auth to already configured identity") {
				t.Fatalf("attach twice: %d %s", code, raw)
			}
			var del map[string]map[string]any
			ts.must("DELETE", "/api/v1/auth/oidc-auth/identities/"+id, admin, nil, &del)
			if del["identityOidcAuth"]["identityId"] != id {
				t.Fatalf("revoke %v", del)
			}
			maWantCode(t, "token of a revoked method", ts.maUse(out.AccessToken), 401, nil)
			code, _, _ = ts.do("GET", "/api/v1/auth/oidc-auth/identities/"+id, admin, nil)
			maWantCode(t, "get after revoke", code, 404, nil)
			code, lo := ts.maLogin("oidc-auth", map[string]any{"identityId": id, "jwt": f.gh.Token(authntest.Claims{"sub": "x"})})
			maWantCode(t, "login after revoke", code, 404, lo)

			code, raw, _ = ts.do("POST", "/api/v1/auth/oidc-auth/identities/"+id, admin, map[string]any{"oidcDiscoveryUrl": f.gh.URL,
				"boundIssuer": f.gh.URL, "accessTokenTTL": 100, "accessTokenMaxTTL": 50})
			maWantCode(t, "ttl > max ttl", code, 422, string(raw))
			code, _, _ = ts.do("POST", "/api/v1/auth/oidc-auth/identities/"+id, admin, map[string]any{"boundIssuer": "x"})
			maWantCode(t, "missing discovery url", code, 422, nil)
			code, _, _ = ts.do("GET", "/api/v1/auth/aws-auth/identities/00000000-0000-4000-8000-000000000000", admin, nil)
			maWantCode(t, "unknown identity", code, 404, nil)
			code, _ = ts.maLogin("aws-auth", map[string]any{"identityId": "nope"})
			maWantCode(t, "malformed identity id", code, 422, nil)
			if n := len(maAuditEvents(t, ts.eng, "revoke-identity-oidc-auth")); n != 1 {
				t.Fatalf("revoke events %d", n)
			}
		})
	})
}
