// Package awsiam verifies AWS IAM principals the way Vault and Infisical
// do: the client signs an sts:GetCallerIdentity request with SigV4 using its
// own credentials and hands over the signed pieces (method, body, headers);
// the verifier forwards that request unchanged to STS, which answers with
// the caller's account, ARN and user id only if the signature is good. The
// ARN and account are then checked against allow-lists.
//
// The STS endpoint is configurable (RegionalEndpoint, STSEndpoint) so that
// tests and air-gapped sites can point it at their own STS.
package awsiam

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
)

// Default endpoints.
const (
	DefaultSTSEndpoint = "https://sts.amazonaws.com/"
	// DefaultRegionalEndpoint is where a request signed for a region goes;
	// "{region}" is replaced by the region of the signature.
	DefaultRegionalEndpoint = "https://sts.{region}.amazonaws.com/"
)

// Config configures a verifier.
type Config struct {
	// RegionalEndpoint receives requests whose signature names a region
	// ("{region}" replaced). Default DefaultRegionalEndpoint.
	RegionalEndpoint string
	// STSEndpoint receives requests whose signature names no region.
	// Default DefaultSTSEndpoint.
	STSEndpoint string
	// AllowedPrincipalARNs are ARN patterns ('*' is a wildcard); empty = any.
	AllowedPrincipalARNs []string
	// AllowedAccountIDs are 12-digit account ids; empty = any.
	AllowedAccountIDs []string
	// HTTPClient sends the request to STS (default: 10 s timeout).
	HTTPClient *http.Client
}

var (
	accountID   = regexp.MustCompile(`^\d{12}$`)
	arnPattern  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:(iam|sts)::(\d{12}|\*):(\*|(user|role|assumed-role)/.+)$`)
	regionRegex = regexp.MustCompile(`^[a-z0-9-]+$`)
)

// ValidARNPattern reports whether s is an acceptable allowed-principal
// entry (arn:aws[-partition]:(iam|sts)::<account>:(user/…|role/…|assumed-role/…|*)).
func ValidARNPattern(s string) bool { return arnPattern.MatchString(s) }

// ValidAccountID reports whether s is a 12-digit AWS account id.
func ValidAccountID(s string) bool { return accountID.MatchString(s) }

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.RegionalEndpoint == "" {
		c.RegionalEndpoint = DefaultRegionalEndpoint
	}
	if c.STSEndpoint == "" {
		c.STSEndpoint = DefaultSTSEndpoint
	}
	for _, u := range []string{strings.ReplaceAll(c.RegionalEndpoint, "{region}", "us-east-1"), c.STSEndpoint} {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
			return fmt.Errorf("awsiam: %q is not an http(s) URL", u)
		}
	}
	for _, a := range c.AllowedPrincipalARNs {
		if !ValidARNPattern(a) {
			return fmt.Errorf("awsiam: %q is not a valid principal ARN", a)
		}
	}
	for _, a := range c.AllowedAccountIDs {
		if !ValidAccountID(a) {
			return fmt.Errorf("awsiam: %q is not a 12-digit account id", a)
		}
	}
	return nil
}

// Request is a signed sts:GetCallerIdentity request as the client built it.
type Request struct {
	Method  string
	Body    []byte
	Headers map[string]string
}

// ParseRequest decodes the login body fields: the method, the base64 body
// and the base64 JSON object of headers.
func ParseRequest(method, bodyB64, headersB64 string) (Request, error) {
	if method == "" {
		method = http.MethodPost
	}
	body, err := base64.StdEncoding.DecodeString(strings.TrimSpace(bodyB64))
	if err != nil {
		return Request{}, authn.Reject(authn.ReasonMalformed, "iamRequestBody must be base64")
	}
	hraw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(headersB64))
	if err != nil {
		return Request{}, authn.Reject(authn.ReasonMalformed, "iamRequestHeaders must be base64")
	}
	headers := map[string]string{}
	var anyHeaders map[string]any
	if err := json.Unmarshal(hraw, &anyHeaders); err != nil {
		return Request{}, authn.Reject(authn.ReasonMalformed, "iamRequestHeaders must be a base64-encoded JSON object")
	}
	seen := make(map[string]bool, len(anyHeaders))
	for k := range anyHeaders {
		// Header names are case-insensitive: two spellings of one name
		// would make the region check and the forwarded request read
		// different values, picked by map order.
		lk := strings.ToLower(k)
		if seen[lk] {
			return Request{}, authn.Reject(authn.ReasonMalformed, "iamRequestHeaders has the header %q more than once", k)
		}
		seen[lk] = true
	}
	for k, v := range anyHeaders {
		switch x := v.(type) {
		case string:
			headers[k] = x
		case []any:
			// Some clients send header values as arrays; use the first.
			if len(x) > 0 {
				if s, ok := x[0].(string); ok {
					headers[k] = s
				}
			}
		case float64:
			headers[k] = fmt.Sprint(x)
		}
	}
	return Request{Method: strings.ToUpper(method), Body: body, Headers: headers}, nil
}

func (r Request) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Region returns the region named in the SigV4 credential scope of the
// Authorization header ("" when there is none).
func (r Request) Region() (string, error) {
	auth := r.header("Authorization")
	if auth == "" {
		return "", authn.Refuse(authn.ReasonMalformed, "Access denied: the signed request has no Authorization header")
	}
	_, after, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", authn.Refuse(authn.ReasonMalformed, "Access denied: the Authorization header is not a SigV4 signature")
	}
	cred, _, _ := strings.Cut(after, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || parts[3] != "sts" || parts[4] != "aws4_request" {
		return "", authn.Refuse(authn.ReasonMalformed, "Access denied: the signature is not scoped to STS")
	}
	region := parts[2]
	if region == "" {
		return "", nil
	}
	if len(region) > 20 || !regionRegex.MatchString(region) {
		return "", authn.Reject(authn.ReasonInvalidRegion, "Invalid AWS region")
	}
	return region, nil
}

// Principal is the caller STS identified.
type Principal struct {
	AccountID    string
	ARN          string
	UserID       string
	Partition    string
	Service      string
	ResourceType string // user, role, assumed-role, federated-user, ...
	ResourceName string // user name or role name (session dropped)
}

// IdentityAuth is the identityAuth claim of an Infisical access token
// minted for this principal.
func (p Principal) IdentityAuth() map[string]any {
	return map[string]any{"aws": map[string]any{"accountId": p.AccountID, "arn": p.ARN, "userId": p.UserID,
		"partition": p.Partition, "service": p.Service, "resourceType": p.ResourceType, "resourceName": p.ResourceName}}
}

// ParseARN splits arn:<partition>:<service>:<region>:<account>:<type>/<name...>.
func ParseARN(arn string) (Principal, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return Principal{}, fmt.Errorf("awsiam: %q is not an ARN", arn)
	}
	p := Principal{ARN: arn, Partition: parts[1], Service: parts[2], AccountID: parts[4]}
	typ, rest, _ := strings.Cut(parts[5], "/")
	p.ResourceType = typ
	segs := strings.Split(rest, "/")
	switch {
	case typ == "assumed-role" && len(segs) >= 1:
		p.ResourceName = segs[0] // role name; the session name is dropped
	case len(segs) > 0:
		p.ResourceName = segs[len(segs)-1] // path dropped
	}
	return p, nil
}

// candidates are the ARN forms an allow-list entry may match: the ARN as
// STS reported it, the ARN without an assumed role's session, and the IAM
// role form of an assumed role.
func (p Principal) candidates() []string {
	out := []string{p.ARN}
	if p.ResourceType == "assumed-role" && p.ResourceName != "" {
		out = append(out,
			fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s", p.Partition, p.AccountID, p.ResourceName),
			fmt.Sprintf("arn:%s:iam::%s:role/%s", p.Partition, p.AccountID, p.ResourceName))
	}
	return out
}

// arnMatches matches an allow-list entry ('*' = any run of characters,
// anchored) against an ARN. It compares bytes, so any text (even invalid
// UTF-8, which a regular expression would refuse to compile) is matched
// literally apart from '*'.
func arnMatches(pattern, arn string) bool {
	// Glob matching that backtracks only to the last '*' (no exponential
	// blow-up): on a mismatch, that '*' consumes one more character.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(arn) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pattern) && pattern[pi] == arn[si]:
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// Verifier verifies signed requests for one configuration.
type Verifier struct{ cfg Config }

// New validates cfg and returns a verifier.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg}, nil
}

// Endpoint returns the URL the request is forwarded to.
func (v *Verifier) Endpoint(region string) string {
	if region == "" {
		return v.cfg.STSEndpoint
	}
	return strings.ReplaceAll(v.cfg.RegionalEndpoint, "{region}", region)
}

type callerIdentity struct {
	Account string `json:"Account" xml:"Account"`
	Arn     string `json:"Arn" xml:"Arn"`
	UserID  string `json:"UserId" xml:"UserId"`
}

// Verify forwards the signed request to STS and checks the caller it
// names. Refusals are *authn.LoginError.
func (v *Verifier) Verify(ctx context.Context, r Request) (Principal, error) {
	if r.Method != http.MethodPost {
		return Principal{}, authn.Reject(authn.ReasonMalformed, "iamHttpRequestMethod must be POST")
	}
	// Only GetCallerIdentity may be relayed: the server must not become a
	// signing-free proxy for other STS actions.
	form, err := url.ParseQuery(string(r.Body))
	if err != nil || form.Get("Action") != "GetCallerIdentity" {
		return Principal{}, authn.Reject(authn.ReasonMalformed, "iamRequestBody must be an sts:GetCallerIdentity request")
	}
	region, err := r.Region()
	if err != nil {
		return Principal{}, err
	}
	endpoint := v.Endpoint(region)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(r.Body))
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: could not build the STS request").Wrap(err)
	}
	for k, val := range r.Headers {
		switch strings.ToLower(k) {
		case "host":
			// The signature covers the host the client signed for, which
			// stays in the Host header whatever address we connect to.
			req.Host = val
		case "content-length", "connection", "transfer-encoding":
			// Set by the transport from the body.
		default:
			req.Header.Set(k, val)
		}
	}
	// Accept is not a signed header; asking for JSON saves XML parsing.
	req.Header.Set("Accept", "application/json")
	resp, err := fetch.Default(v.cfg.HTTPClient).Do(req)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: could not reach AWS STS").Wrap(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, fetch.MaxDocument))
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: could not read the STS answer").Wrap(err)
	}
	if resp.StatusCode != http.StatusOK {
		return Principal{}, authn.Refuse(authn.ReasonNotAuthenticated, "Access denied: AWS STS rejected the signed request (%s)", stsErrorCode(raw, resp.StatusCode))
	}
	ci, err := parseCallerIdentity(raw)
	if err != nil || ci.Arn == "" || ci.Account == "" {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: unexpected answer from AWS STS").Wrap(err)
	}
	p, err := ParseARN(ci.Arn)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "Access denied: unexpected ARN from AWS STS").Wrap(err)
	}
	p.AccountID, p.UserID = ci.Account, ci.UserID
	if len(v.cfg.AllowedAccountIDs) > 0 && !slices.Contains(v.cfg.AllowedAccountIDs, p.AccountID) {
		return Principal{}, authn.Refuse(authn.ReasonAccount, "Access denied: AWS account ID not allowed.")
	}
	if len(v.cfg.AllowedPrincipalARNs) > 0 {
		ok := false
		for _, pat := range v.cfg.AllowedPrincipalARNs {
			for _, c := range p.candidates() {
				if arnMatches(pat, c) {
					ok = true
				}
			}
		}
		if !ok {
			return Principal{}, authn.Refuse(authn.ReasonPrincipal, "Access denied: AWS principal ARN not allowed. [principal-arn=%s]", p.ARN)
		}
	}
	return p, nil
}

func parseCallerIdentity(raw []byte) (callerIdentity, error) {
	var j struct {
		Response struct {
			Result callerIdentity `json:"GetCallerIdentityResult"`
		} `json:"GetCallerIdentityResponse"`
	}
	if err := json.Unmarshal(raw, &j); err == nil && j.Response.Result.Arn != "" {
		return j.Response.Result, nil
	}
	var x struct {
		Result callerIdentity `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(raw, &x); err != nil {
		return callerIdentity{}, errors.New("awsiam: STS answer is neither JSON nor XML")
	}
	return x.Result, nil
}

// stsErrorCode extracts the error code of an STS error answer (JSON or
// XML), which names the problem without echoing anything secret.
func stsErrorCode(raw []byte, status int) string {
	var j struct {
		Error struct {
			Code string `json:"Code"`
		} `json:"Error"`
	}
	if json.Unmarshal(raw, &j) == nil && j.Error.Code != "" {
		return j.Error.Code
	}
	var x struct {
		Error struct {
			Code string `xml:"Code"`
		} `xml:"Error"`
	}
	if xml.Unmarshal(raw, &x) == nil && x.Error.Code != "" {
		return x.Error.Code
	}
	return fmt.Sprintf("status %d", status)
}
