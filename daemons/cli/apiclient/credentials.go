package apiclient

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/golang-jwt/jwt/v5"
)

// Well-known credential sources of the cloud login methods.
const (
	// DefaultKubernetesTokenPath is where a pod's service-account token is mounted.
	DefaultKubernetesTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	// DefaultAzureResource is the audience asked of Azure's metadata service.
	DefaultAzureResource = "https://management.azure.com/"

	defaultGCPMetadataURL = "http://metadata.google.internal"
	defaultAzureIMDSURL   = "http://169.254.169.254"
	defaultAWSRegion      = "us-east-1"
)

// CredentialOptions say where a machine login finds its credential. Only
// the fields of Method are read; file paths are read at login time, so a
// rotated file (a projected Kubernetes token) is picked up by a re-login.
type CredentialOptions struct {
	Method     Method
	IdentityID string

	// universal-auth
	ClientID, ClientSecret string

	// kubernetes: the service-account token file (default
	// DefaultKubernetesTokenPath).
	ServiceAccountTokenPath string

	// gcp-iam: the service-account key JSON, as a file or inline.
	ServiceAccountKeyFilePath string
	ServiceAccountKey         []byte

	// oidc-auth, jwt-auth: the JWT presented.
	JWT string

	// ldap-auth
	Username, Password string

	// azure: the resource (audience; default DefaultAzureResource) and,
	// for a user-assigned managed identity, its client ID.
	AzureResource, AzureClientID string

	// aws-iam: the STS region (default: the SDK's configured region, else
	// us-east-1). Credentials come from the AWS SDK's default chain
	// (environment, shared files, web identity, ECS, EC2 instance role).
	AWSRegion string

	// OrganizationSlug scopes the token to a sub-organization (optional).
	OrganizationSlug string

	// Overrides of the metadata services, for tests and unusual networks:
	// GCPMetadataURL defaults to http://metadata.google.internal (or
	// http://$GCE_METADATA_HOST), AzureIMDSURL to http://169.254.169.254
	// (or $AZURE_POD_IDENTITY_AUTHORITY_HOST), as in Google's and Azure's SDKs.
	GCPMetadataURL, AzureIMDSURL string
	// Now is the clock used to sign JWTs (default time.Now).
	Now func() time.Time
}

// MachineLogin acquires the credential described by opts (reading token
// files, asking a cloud metadata service, signing requests) and logs in.
func (c *Client) MachineLogin(ctx context.Context, opts CredentialOptions) (*Token, error) {
	req, err := BuildLoginRequest(ctx, c.http, opts)
	if err != nil {
		return nil, err
	}
	return c.Login(ctx, req)
}

// BuildLoginRequest acquires the credential of opts.Method. hc is used for
// calls to metadata services (nil: a client with a 10 s timeout).
func BuildLoginRequest(ctx context.Context, hc *http.Client, opts CredentialOptions) (LoginRequest, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req := LoginRequest{Method: opts.Method, IdentityID: strings.TrimSpace(opts.IdentityID), OrganizationSlug: opts.OrganizationSlug}
	if opts.Method != MethodUniversalAuth && req.IdentityID == "" {
		if _, ok := loginPaths[opts.Method]; ok {
			return req, fmt.Errorf("%s login: missing machine identity ID", opts.Method)
		}
	}
	var err error
	switch opts.Method {
	case MethodUniversalAuth:
		req.ClientID, req.ClientSecret = strings.TrimSpace(opts.ClientID), strings.TrimSpace(opts.ClientSecret)
	case MethodKubernetes:
		path := opts.ServiceAccountTokenPath
		if path == "" {
			path = DefaultKubernetesTokenPath
		}
		req.JWT, err = readTrimmed(path, "Kubernetes service-account token")
	case MethodOIDC, MethodJWT:
		req.JWT = opts.JWT
	case MethodLDAP:
		req.Username, req.Password = opts.Username, opts.Password
	case MethodGCPIDToken:
		req.JWT, err = GCPIDToken(ctx, hc, opts.GCPMetadataURL, req.IdentityID)
	case MethodGCPIAM:
		key := opts.ServiceAccountKey
		if len(key) == 0 {
			if opts.ServiceAccountKeyFilePath == "" {
				return req, fmt.Errorf("%s login: missing the service-account key file path", opts.Method)
			}
			if key, err = os.ReadFile(opts.ServiceAccountKeyFilePath); err != nil {
				return req, fmt.Errorf("%s login: read service-account key: %w", opts.Method, err)
			}
		}
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		req.JWT, err = GCPIAMToken(key, req.IdentityID, now())
	case MethodAzure:
		req.JWT, err = AzureIMDSToken(ctx, hc, opts.AzureIMDSURL, opts.AzureResource, opts.AzureClientID)
	case MethodAWSIAM:
		req.AWS, err = SignAWSGetCallerIdentity(ctx, opts.AWSRegion, nil)
	default:
		return req, fmt.Errorf("unknown login method %q", opts.Method)
	}
	if err != nil {
		return req, fmt.Errorf("%s login: %w", opts.Method, err)
	}
	return req, nil
}

func readTrimmed(path, what string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s file %s is empty", what, path)
	}
	return s, nil
}

// ---- GCP --------------------------------------------------------------------------

// GCPIDToken asks the GCE metadata server for an ID token whose audience is
// the identity ID (format=full, as the server checks the instance claims).
func GCPIDToken(ctx context.Context, hc *http.Client, metadataURL, identityID string) (string, error) {
	base := metadataURL
	if base == "" {
		if h := os.Getenv("GCE_METADATA_HOST"); h != "" {
			base = "http://" + h
		} else {
			base = defaultGCPMetadataURL
		}
	}
	u := strings.TrimRight(base, "/") + "/computeMetadata/v1/instance/service-accounts/default/identity?audience=" +
		url.QueryEscape(identityID) + "&format=full"
	body, err := metadataGet(ctx, hc, u, map[string]string{"Metadata-Flavor": "Google"})
	if err != nil {
		return "", fmt.Errorf("GCP metadata ID token: %w", err)
	}
	return strings.TrimSpace(string(body)), nil
}

// gcpServiceAccountKey is the part of a service-account key JSON used here.
type gcpServiceAccountKey struct {
	Type         string `json:"type"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
}

// GCPIAMToken builds the JWT of the gcp-iam login from a service-account
// key: {"sub": <account email>, "aud": <identity ID>} signed RS256 with the
// key, "kid" = the key's ID. That is what IAM's signJwt returns for the same
// account, and the server verifies it the same way: against the account's
// published certificates (…/service_accounts/v1/metadata/x509/<email>),
// which include user-managed keys.
func GCPIAMToken(keyJSON []byte, identityID string, now time.Time) (string, error) {
	var k gcpServiceAccountKey
	if err := json.Unmarshal(keyJSON, &k); err != nil {
		return "", fmt.Errorf("parse service-account key: %w", err)
	}
	if k.ClientEmail == "" || k.PrivateKey == "" || k.PrivateKeyID == "" {
		return "", errors.New("service-account key lacks client_email, private_key or private_key_id")
	}
	priv, err := parseRSAPrivateKey([]byte(k.PrivateKey))
	if err != nil {
		return "", fmt.Errorf("service-account private key: %w", err)
	}
	claims := jwt.MapClaims{
		"iss": k.ClientEmail,
		"sub": k.ClientEmail,
		"aud": identityID,
		"iat": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.PrivateKeyID
	signed, err := t.SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	return signed, nil
}

func parseRSAPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an RSA key")
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("neither PKCS#8 nor PKCS#1")
	}
	return k, nil
}

// ---- Azure ------------------------------------------------------------------------

// AzureIMDSToken asks Azure's instance metadata service for a managed
// identity token for resource (clientID selects a user-assigned identity).
func AzureIMDSToken(ctx context.Context, hc *http.Client, imdsURL, resource, clientID string) (string, error) {
	if imdsURL == "" {
		// The Azure SDK's override of the IMDS host (pod identity).
		if h := os.Getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST"); h != "" {
			imdsURL = h
		} else {
			imdsURL = defaultAzureIMDSURL
		}
	}
	if resource == "" {
		resource = DefaultAzureResource
	}
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {resource}}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	u := strings.TrimRight(imdsURL, "/") + "/metadata/identity/oauth2/token?" + q.Encode()
	body, err := metadataGet(ctx, hc, u, map[string]string{"Metadata": "true", "Accept": "application/json"})
	if err != nil {
		return "", fmt.Errorf("Azure managed identity token: %w", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.AccessToken == "" {
		return "", errors.New("Azure managed identity token: the metadata service returned no access_token")
	}
	return out.AccessToken, nil
}

func metadataGet(ctx context.Context, hc *http.Client, u string, headers map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, stripURLError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metadata service answered %s", resp.Status)
	}
	return body, nil
}

// ---- AWS --------------------------------------------------------------------------

const awsGetCallerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15"

// SignAWSGetCallerIdentity signs an sts:GetCallerIdentity request for the
// aws-iam login. creds nil means the AWS SDK's default credential chain;
// region "" means the SDK's configured region, else us-east-1.
func SignAWSGetCallerIdentity(ctx context.Context, region string, creds aws.CredentialsProvider) (*AWSSignedRequest, error) {
	if creds == nil || region == "" {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		if creds == nil {
			creds = cfg.Credentials
		}
		if region == "" {
			region = cfg.Region
		}
	}
	if region == "" {
		region = defaultAWSRegion
	}
	if creds == nil {
		return nil, errors.New("no AWS credentials found")
	}
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieve AWS credentials: %w", err)
	}
	return signGetCallerIdentity(ctx, c, region, time.Now())
}

func signGetCallerIdentity(ctx context.Context, c aws.Credentials, region string, now time.Time) (*AWSSignedRequest, error) {
	host := "sts." + region + ".amazonaws.com"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+host+"/", strings.NewReader(awsGetCallerIdentityBody))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(awsGetCallerIdentityBody))
	if err := v4.NewSigner().SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), "sts", region, now); err != nil {
		return nil, fmt.Errorf("sign sts:GetCallerIdentity: %w", err)
	}
	headers := map[string]string{}
	for name, values := range req.Header {
		if len(values) > 0 {
			headers[name] = values[0]
		}
	}
	headers["Host"] = host
	headers["Content-Length"] = strconv.Itoa(len(awsGetCallerIdentityBody))
	return &AWSSignedRequest{Method: http.MethodPost, Body: awsGetCallerIdentityBody, Headers: headers}, nil
}

// encode returns the three login fields: method, base64 body, base64 JSON
// headers.
func (r *AWSSignedRequest) encode() (string, string, string, error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	h, err := json.Marshal(r.Headers)
	if err != nil {
		return "", "", "", fmt.Errorf("encode AWS headers: %w", err)
	}
	return method, base64.StdEncoding.EncodeToString([]byte(r.Body)), base64.StdEncoding.EncodeToString(h), nil
}
