package awsiam_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/awsiam"
)

const body = "Action=GetCallerIdentity&Version=2011-06-15"

// signed builds the login fields exactly as the Go SDK does: a POST to
// https://sts.<region>.amazonaws.com/ signed with SigV4, then base64 body
// and base64 JSON headers.
func signed(t *testing.T, creds aws.Credentials, region string, at time.Time, reqBody string) (method, b64Body, b64Headers string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://sts."+region+".amazonaws.com/", strings.NewReader(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(reqBody))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sts", region, at); err != nil {
		t.Fatal(err)
	}
	h := map[string]string{}
	for k, v := range req.Header {
		h[k] = v[0]
	}
	h["Host"] = "sts." + region + ".amazonaws.com"
	h["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
	h["Content-Length"] = "43"
	hj, _ := json.Marshal(h)
	return req.Method, base64.StdEncoding.EncodeToString([]byte(reqBody)), base64.StdEncoding.EncodeToString(hj)
}

func TestVerify(t *testing.T) {
	sts := authntest.NewSTS(t)
	sts.AddUser(authntest.STSUser{AccessKeyID: "AKIAUSER", SecretAccessKey: "user-secret", Account: "123456789012",
		ARN: "arn:aws:iam::123456789012:user/ops/deployer", UserID: "AIDAUSER"})
	sts.AddUser(authntest.STSUser{AccessKeyID: "ASIAROLE", SecretAccessKey: "role-secret", SessionToken: "session-token", Account: "210987654321",
		ARN: "arn:aws:sts::210987654321:assumed-role/app-role/i-0123", UserID: "AROAROLE:i-0123"})
	user := aws.Credentials{AccessKeyID: "AKIAUSER", SecretAccessKey: "user-secret"}
	role := aws.Credentials{AccessKeyID: "ASIAROLE", SecretAccessKey: "role-secret", SessionToken: "session-token"}
	now := time.Now()

	tests := []struct {
		name    string
		cfg     awsiam.Config
		creds   aws.Credentials
		region  string
		at      time.Time
		body    string
		reason  authn.Reason
		wantARN string
	}{
		{name: "user, no allow-lists", creds: user, region: "us-east-1", at: now, body: body, wantARN: "arn:aws:iam::123456789012:user/ops/deployer"},
		{name: "user allowed by exact ARN and account", creds: user, region: "eu-west-3", at: now, body: body,
			cfg:     awsiam.Config{AllowedPrincipalARNs: []string{"arn:aws:iam::123456789012:user/ops/deployer"}, AllowedAccountIDs: []string{"123456789012"}},
			wantARN: "arn:aws:iam::123456789012:user/ops/deployer"},
		{name: "assumed role matches its IAM role form", creds: role, region: "us-west-2", at: now, body: body,
			cfg:     awsiam.Config{AllowedPrincipalARNs: []string{"arn:aws:iam::210987654321:role/app-role"}},
			wantARN: "arn:aws:sts::210987654321:assumed-role/app-role/i-0123"},
		{name: "account wildcard", creds: role, region: "us-west-2", at: now, body: body,
			cfg:     awsiam.Config{AllowedPrincipalARNs: []string{"arn:aws:iam::210987654321:*"}},
			wantARN: "arn:aws:sts::210987654321:assumed-role/app-role/i-0123"},
		{name: "wrong account", creds: user, region: "us-east-1", at: now, body: body,
			cfg: awsiam.Config{AllowedAccountIDs: []string{"999999999999"}}, reason: authn.ReasonAccount},
		{name: "ARN not allowed", creds: user, region: "us-east-1", at: now, body: body,
			cfg: awsiam.Config{AllowedPrincipalARNs: []string{"arn:aws:iam::123456789012:role/other"}}, reason: authn.ReasonPrincipal},
		{name: "bad signature (wrong secret key)", creds: aws.Credentials{AccessKeyID: "AKIAUSER", SecretAccessKey: "guess"}, region: "us-east-1",
			at: now, body: body, reason: authn.ReasonNotAuthenticated},
		{name: "unknown access key", creds: aws.Credentials{AccessKeyID: "AKIANOBODY", SecretAccessKey: "x"}, region: "us-east-1",
			at: now, body: body, reason: authn.ReasonNotAuthenticated},
		{name: "expired signature", creds: user, region: "us-east-1", at: now.Add(-time.Hour), body: body, reason: authn.ReasonNotAuthenticated},
		{name: "invalid region", creds: user, region: "us_east_1", at: now, body: body, reason: authn.ReasonInvalidRegion},
		{name: "other STS action", creds: user, region: "us-east-1", at: now, body: "Action=AssumeRole&Version=2011-06-15", reason: authn.ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.RegionalEndpoint = sts.RegionalEndpoint
			cfg.HTTPClient = sts.Server.Client()
			v, err := awsiam.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m, b, h := signed(t, tc.creds, tc.region, tc.at, tc.body)
			req, err := awsiam.ParseRequest(m, b, h)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), req)
			if tc.reason != "" {
				if got := authn.ReasonOf(err); got != tc.reason {
					t.Fatalf("reason %q (err %v), want %q", got, err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if p.ARN != tc.wantARN {
				t.Fatalf("arn %q, want %q", p.ARN, tc.wantARN)
			}
		})
	}
}

func TestParseARN(t *testing.T) {
	tests := []struct {
		arn, typ, name, service string
	}{
		{"arn:aws:iam::123456789012:user/deployer", "user", "deployer", "iam"},
		{"arn:aws:iam::123456789012:user/path/to/deployer", "user", "deployer", "iam"},
		{"arn:aws:sts::123456789012:assumed-role/app/session-1", "assumed-role", "app", "sts"},
		{"arn:aws-us-gov:iam::123456789012:role/app", "role", "app", "iam"},
	}
	for _, tc := range tests {
		p, err := awsiam.ParseARN(tc.arn)
		if err != nil || p.ResourceType != tc.typ || p.ResourceName != tc.name || p.Service != tc.service || p.AccountID != "123456789012" {
			t.Errorf("ParseARN(%s) = %+v, %v", tc.arn, p, err)
		}
	}
	if _, err := awsiam.ParseARN("not-an-arn"); err == nil {
		t.Error("ParseARN accepted garbage")
	}
}

func TestValidation(t *testing.T) {
	for _, a := range []string{"arn:aws:iam::123456789012:user/x", "arn:aws:iam::123456789012:*", "arn:aws:sts::123456789012:assumed-role/r/*", "arn:aws-us-gov:iam::123456789012:role/r"} {
		if !awsiam.ValidARNPattern(a) {
			t.Errorf("%s refused", a)
		}
	}
	for _, a := range []string{"arn:aws:s3:::bucket", "arn:aws:iam::12345:user/x", "user/x", "arn:aws:iam::123456789012:group/g"} {
		if awsiam.ValidARNPattern(a) {
			t.Errorf("%s accepted", a)
		}
	}
	if _, err := awsiam.ParseRequest("POST", "%%%", "e30="); authn.ReasonOf(err) != authn.ReasonMalformed {
		t.Errorf("bad base64 body: %v", err)
	}
}
