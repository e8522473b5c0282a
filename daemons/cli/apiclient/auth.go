package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Method names a machine-identity login method, spelled as `infisical
// login --method` and the agent's `auth.type` spell it.
type Method string

const (
	MethodUniversalAuth Method = "universal-auth"
	MethodKubernetes    Method = "kubernetes"
	MethodAzure         Method = "azure"
	MethodGCPIDToken    Method = "gcp-id-token"
	MethodGCPIAM        Method = "gcp-iam"
	MethodAWSIAM        Method = "aws-iam"
	MethodOIDC          Method = "oidc-auth"
	MethodJWT           Method = "jwt-auth"
	MethodLDAP          Method = "ldap-auth"
)

// Methods lists every machine login method in a stable order.
var Methods = []Method{MethodUniversalAuth, MethodKubernetes, MethodAzure, MethodGCPIDToken, MethodGCPIAM, MethodAWSIAM, MethodOIDC, MethodJWT, MethodLDAP}

// ParseMethod recognises a method name (case-insensitive; also the server's
// own spellings such as "kubernetes-auth", "aws-auth" and "gcp-auth").
func ParseMethod(s string) (Method, error) {
	m := Method(strings.ToLower(strings.TrimSpace(s)))
	switch m {
	case "kubernetes-auth":
		return MethodKubernetes, nil
	case "azure-auth":
		return MethodAzure, nil
	case "aws-auth", "aws":
		return MethodAWSIAM, nil
	case "oidc":
		return MethodOIDC, nil
	case "jwt":
		return MethodJWT, nil
	case "ldap":
		return MethodLDAP, nil
	}
	for _, known := range Methods {
		if m == known {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown login method %q", s)
}

// Token is the answer of every login and of a renewal (spec §7.1).
type Token struct {
	AccessToken string `json:"accessToken"`
	// ExpiresIn is the token's lifetime in seconds (0: no expiry).
	ExpiresIn int64 `json:"expiresIn"`
	// AccessTokenMaxTTL is the total lifetime budget across renewals in
	// seconds (0: unlimited).
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

// LoginRequest holds the credential of one machine login. Only the fields
// of Method are used.
type LoginRequest struct {
	Method Method
	// IdentityID is required by every method except universal-auth.
	IdentityID string
	// ClientID and ClientSecret: universal-auth.
	ClientID, ClientSecret string
	// JWT: kubernetes (service-account token), gcp-id-token and gcp-iam
	// (Google-signed or service-account-signed JWT), azure (managed
	// identity token), oidc-auth and jwt-auth.
	JWT string
	// Username and Password: ldap-auth.
	Username, Password string
	// AWS: aws-iam (a signed sts:GetCallerIdentity request, see
	// SignAWSGetCallerIdentity).
	AWS *AWSSignedRequest
	// OrganizationSlug scopes the token to a sub-organization (optional).
	OrganizationSlug string
}

// AWSSignedRequest is a SigV4-signed sts:GetCallerIdentity request, as the
// aws-auth login forwards it to STS.
type AWSSignedRequest struct {
	Method  string            // "POST"
	Body    string            // the exact signed form body
	Headers map[string]string // the signed headers, Authorization included
}

// loginPaths maps a method to its login endpoint.
var loginPaths = map[Method]string{
	MethodUniversalAuth: "/v1/auth/universal-auth/login",
	MethodKubernetes:    "/v1/auth/kubernetes-auth/login",
	MethodAzure:         "/v1/auth/azure-auth/login",
	MethodGCPIDToken:    "/v1/auth/gcp-auth/login",
	MethodGCPIAM:        "/v1/auth/gcp-auth/login",
	MethodAWSIAM:        "/v1/auth/aws-auth/login",
	MethodOIDC:          "/v1/auth/oidc-auth/login",
	MethodJWT:           "/v1/auth/jwt-auth/login",
	MethodLDAP:          "/v1/auth/ldap-auth/login",
}

// Login exchanges a machine credential for an access token. It sends no
// Authorization header.
func (c *Client) Login(ctx context.Context, in LoginRequest) (*Token, error) {
	path, ok := loginPaths[in.Method]
	if !ok {
		return nil, fmt.Errorf("unknown login method %q", in.Method)
	}
	body, err := loginBody(in)
	if err != nil {
		return nil, err
	}
	var tok Token
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path, body: body, noAuth: true}, &tok); err != nil {
		return nil, fmt.Errorf("%s login: %w", in.Method, err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%s login: the server returned no access token", in.Method)
	}
	return &tok, nil
}

// loginBody builds the request body of a login (spec §7.4–7.11). Missing
// credentials are reported by the name of the flag-independent field.
func loginBody(in LoginRequest) (map[string]string, error) {
	body := map[string]string{}
	if in.OrganizationSlug != "" {
		body["organizationSlug"] = in.OrganizationSlug
	}
	need := func(field, value string) error {
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("%s login: missing %s", in.Method, field)
		}
		return nil
	}
	if in.Method == MethodUniversalAuth {
		if err := errors.Join(need("client ID", in.ClientID), need("client secret", in.ClientSecret)); err != nil {
			return nil, err
		}
		body["clientId"], body["clientSecret"] = in.ClientID, in.ClientSecret
		return body, nil
	}
	if err := need("machine identity ID", in.IdentityID); err != nil {
		return nil, err
	}
	body["identityId"] = in.IdentityID
	switch in.Method {
	case MethodLDAP:
		if err := errors.Join(need("username", in.Username), need("password", in.Password)); err != nil {
			return nil, err
		}
		body["username"], body["password"] = in.Username, in.Password
	case MethodAWSIAM:
		if in.AWS == nil {
			return nil, fmt.Errorf("%s login: missing the signed AWS request", in.Method)
		}
		method, reqBody, headers, err := in.AWS.encode()
		if err != nil {
			return nil, fmt.Errorf("%s login: %w", in.Method, err)
		}
		body["iamHttpRequestMethod"], body["iamRequestBody"], body["iamRequestHeaders"] = method, reqBody, headers
	default:
		if err := need("JWT", in.JWT); err != nil {
			return nil, err
		}
		body["jwt"] = strings.TrimSpace(in.JWT)
	}
	return body, nil
}

// RenewToken renews an identity access token (POST /api/v1/auth/token/renew;
// no Authorization header). The answer may carry a new JWT: always switch
// to the returned token.
func (c *Client) RenewToken(ctx context.Context, accessToken string) (*Token, error) {
	var tok Token
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/auth/token/renew", body: map[string]string{"accessToken": accessToken}, noAuth: true}, &tok); err != nil {
		return nil, fmt.Errorf("renew access token: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("renew access token: the server returned no access token")
	}
	return &tok, nil
}

// RevokeToken revokes an identity access token.
func (c *Client) RevokeToken(ctx context.Context, accessToken string) error {
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/auth/token/revoke", body: map[string]string{"accessToken": accessToken}, noAuth: true}, nil); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// ---- user sessions (spec §9.6) -----------------------------------------------------

// UserLogin logs a user in with email and password (POST /api/v3/auth/login)
// and returns the interim access token, which is then exchanged for an
// organization-scoped one with SelectOrganization.
func (c *Client) UserLogin(ctx context.Context, email, password string) (string, error) {
	var out struct {
		AccessToken string `json:"accessToken"`
		Token       string `json:"token"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v3/auth/login", body: map[string]string{"email": email, "password": password}, noAuth: true}, &out); err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	tok := out.AccessToken
	if tok == "" {
		tok = out.Token
	}
	if tok == "" {
		return "", errors.New("log in: the server returned no access token")
	}
	return tok, nil
}

// Organization is one organization a user belongs to.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Organizations lists the caller's organizations (GET /api/v1/organization).
func (c *Client) Organizations(ctx context.Context) ([]Organization, error) {
	var out struct {
		Organizations []Organization `json:"organizations"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/organization"}, &out); err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return out.Organizations, nil
}

// OrgSelection is the answer of SelectOrganization.
type OrgSelection struct {
	Token        string `json:"token"`
	IsMfaEnabled bool   `json:"isMfaEnabled"`
	MfaMethod    string `json:"mfaMethod"`
}

// SelectOrganization exchanges the caller's user token for one scoped to
// organizationID (POST /api/v3/auth/select-organization).
func (c *Client) SelectOrganization(ctx context.Context, organizationID string) (*OrgSelection, error) {
	var out OrgSelection
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v3/auth/select-organization", body: map[string]string{"organizationId": organizationID}}, &out); err != nil {
		return nil, fmt.Errorf("select organization: %w", err)
	}
	if out.Token == "" && !out.IsMfaEnabled {
		return nil, errors.New("select organization: the server returned no token")
	}
	return &out, nil
}

// VerifyMFA completes a login that requires a second factor
// (POST /api/v2/auth/mfa/verify, authenticated with the interim token).
func (c *Client) VerifyMFA(ctx context.Context, email, code, method string) (string, error) {
	if method == "" {
		method = "email"
	}
	var out struct {
		Token string `json:"token"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v2/auth/mfa/verify", body: map[string]string{"email": email, "mfaToken": code, "mfaMethod": method}}, &out); err != nil {
		return "", fmt.Errorf("verify MFA code: %w", err)
	}
	if out.Token == "" {
		return "", errors.New("verify MFA code: the server returned no token")
	}
	return out.Token, nil
}

// CheckAuth verifies a user session (POST /api/v1/auth/checkAuth).
func (c *Client) CheckAuth(ctx context.Context) error {
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/auth/checkAuth", body: map[string]string{}}, nil); err != nil {
		return fmt.Errorf("check session: %w", err)
	}
	return nil
}

// ---- token details ----------------------------------------------------------------

// ServiceTokenScope is one (environment, path) scope of a service token.
type ServiceTokenScope struct {
	Environment string `json:"environment"`
	SecretPath  string `json:"secretPath"`
}

// ServiceTokenDetails is the part of GET /api/v2/service-token clients read.
type ServiceTokenDetails struct {
	ID        string              `json:"_id"`
	Name      string              `json:"name"`
	Workspace string              `json:"workspace"`
	Scopes    []ServiceTokenScope `json:"scopes"`
	ExpiresAt *string             `json:"expiresAt"`
}

// ServiceTokenDetails describes the client's service token (auth: the
// service token itself).
func (c *Client) ServiceTokenDetails(ctx context.Context) (*ServiceTokenDetails, error) {
	var out ServiceTokenDetails
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v2/service-token"}, &out); err != nil {
		return nil, fmt.Errorf("get service token details: %w", err)
	}
	return &out, nil
}

// IdentityDetails returns the organization of the calling machine identity
// (GET /api/v1/identities/details).
func (c *Client) IdentityDetails(ctx context.Context) (*Organization, error) {
	var out struct {
		IdentityDetails struct {
			Organization Organization `json:"organization"`
		} `json:"identityDetails"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/identities/details"}, &out); err != nil {
		return nil, fmt.Errorf("get identity details: %w", err)
	}
	return &out.IdentityDetails.Organization, nil
}
