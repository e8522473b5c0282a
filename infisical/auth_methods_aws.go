package infisical

import (
	"context"
	"net/url"
	"strings"

	"github.com/infisical-go/engine/authn/awsiam"
)

// AWSAuthSettings configures AWS IAM auth (§7.6).
type AWSAuthSettings struct {
	// STSEndpoint receives requests signed without a region (default
	// https://sts.amazonaws.com/).
	STSEndpoint *string `json:"stsEndpoint"`
	// AllowedPrincipalARNs is a comma-separated list of ARN patterns.
	AllowedPrincipalARNs *string `json:"allowedPrincipalArns"`
	// AllowedAccountIDs is a comma-separated list of 12-digit account ids.
	AllowedAccountIDs *string `json:"allowedAccountIds"`
}

// AuthMethod names the method the settings belong to.
func (AWSAuthSettings) AuthMethod() string { return AuthMethodAWS }

// AWSAuthFields are the AWS-specific columns of identityAwsAuth.
type AWSAuthFields struct {
	Type                 string `json:"type"`
	STSEndpoint          string `json:"stsEndpoint"`
	AllowedPrincipalARNs string `json:"allowedPrincipalArns"`
	AllowedAccountIDs    string `json:"allowedAccountIds"`
}

const maxAWSListLen = 4096

type awsMethod struct{}

func (awsMethod) name() string  { return AuthMethodAWS }
func (awsMethod) label() string { return "AWS" }

func (awsMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[AWSAuthSettings](in)
	if err != nil {
		return err
	}
	f := decodeInto[AWSAuthFields](st.Config)
	if attach {
		f = AWSAuthFields{Type: "iam", STSEndpoint: awsiam.DefaultSTSEndpoint}
	}
	if s.STSEndpoint != nil {
		v := strings.TrimSpace(*s.STSEndpoint)
		if v == "" {
			v = awsiam.DefaultSTSEndpoint
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Invalid("stsEndpoint", "stsEndpoint must be an http(s) URL")
		}
		f.STSEndpoint = v
	}
	if s.AllowedPrincipalARNs != nil {
		if len(*s.AllowedPrincipalARNs) > maxAWSListLen {
			return Invalid("allowedPrincipalArns", "allowedPrincipalArns must be at most %d characters", maxAWSListLen)
		}
		for _, a := range splitList(*s.AllowedPrincipalARNs) {
			if !awsiam.ValidARNPattern(a) {
				return Invalid("allowedPrincipalArns", "Invalid principal ARN '%s': expected arn:aws:iam::<account>:user/<name>, role/<name>, assumed-role/<name> or *", a)
			}
		}
		f.AllowedPrincipalARNs = normList(*s.AllowedPrincipalARNs)
	}
	if s.AllowedAccountIDs != nil {
		if len(*s.AllowedAccountIDs) > maxAWSListLen {
			return Invalid("allowedAccountIds", "allowedAccountIds must be at most %d characters", maxAWSListLen)
		}
		for _, a := range splitList(*s.AllowedAccountIDs) {
			if !awsiam.ValidAccountID(a) {
				return Invalid("allowedAccountIds", "Invalid AWS account ID '%s': expected 12 digits", a)
			}
		}
		f.AllowedAccountIDs = normList(*s.AllowedAccountIDs)
	}
	st.Config = mustJSON(f)
	return nil
}

func (awsMethod) fields(st *methodState, _ configOp) any {
	f := decodeInto[AWSAuthFields](st.Config)
	return &f
}

func (awsMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	f := decodeInto[AWSAuthFields](st.Config)
	if strings.TrimSpace(in.IAMRequestBody) == "" {
		return nil, Invalid("iamRequestBody", "iamRequestBody is required")
	}
	if strings.TrimSpace(in.IAMRequestHeaders) == "" {
		return nil, Invalid("iamRequestHeaders", "iamRequestHeaders is required")
	}
	req, err := awsiam.ParseRequest(in.IAMHTTPRequestMethod, in.IAMRequestBody, in.IAMRequestHeaders)
	if err != nil {
		return nil, err
	}
	v, err := awsiam.New(awsiam.Config{RegionalEndpoint: env.issuers.AWSRegionalSTSEndpoint, STSEndpoint: f.STSEndpoint,
		AllowedPrincipalARNs: splitList(f.AllowedPrincipalARNs), AllowedAccountIDs: splitList(f.AllowedAccountIDs),
		HTTPClient: env.httpClient()})
	if err != nil {
		return nil, Internal("configure AWS verifier", err)
	}
	p, err := v.Verify(ctx, req)
	if err != nil {
		return nil, err
	}
	return &loginProof{identityAuth: p.IdentityAuth(), audit: map[string]any{"principalArn": p.ARN, "accountId": p.AccountID}}, nil
}
