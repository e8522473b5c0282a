package awsiam

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/infisical-go/engine/authn"
)

const fuzzAuth = "AWS4-HMAC-SHA256 Credential=AKIAUSER/20240101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"

// FuzzParseRequest feeds the three login fields (method, base64 body,
// base64 JSON headers) to ParseRequest and the result to Region and
// Endpoint. The body and headers are fuzzed both raw (any string as the
// base64 field) and as the decoded bytes the harness encodes.
//
// Properties: no panic; refusals are *authn.LoginError; a parsed request
// has an upper-case method, the decoded body and only headers whose names
// are unique ignoring case (so the Authorization header the region is read
// from is the one forwarded); Region is deterministic, and a region it
// returns is a short DNS label that keeps the STS endpoint on its host.
func FuzzParseRequest(f *testing.F) {
	hj := func(m map[string]any) []byte { b, _ := json.Marshal(m); return b }
	body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	f.Add("POST", body, hj(map[string]any{"Authorization": fuzzAuth, "Host": "sts.us-east-1.amazonaws.com"}), "", "")
	f.Add("post", body, hj(map[string]any{"authorization": []any{fuzzAuth}, "X-Amz-Date": 20240101}), "", "")
	f.Add("", body, hj(map[string]any{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/20240101//sts/aws4_request"}), "", "")
	f.Add("GET", []byte{}, hj(map[string]any{"Authorization": "Credential=a/b/evil.com#/sts/aws4_request"}), "", "")
	f.Add("POST", body, hj(map[string]any{"Authorization": "Credential=a/b/US-EAST-1/sts/aws4_request,x"}), "", "")
	f.Add("POST", body, []byte(`{"Authorization":"Credential=a/b/us-east-1/sts/aws4_request","authorization":"Credential=a/b/eu-west-1/sts/aws4_request"}`), "", "")
	f.Add("POST", body, []byte(`[]`), "", "")
	f.Add("POST", body, []byte(`null`), "", "")
	f.Add("POST", body, []byte(`{"a":null,"b":true,"c":{},"d":[1]}`), "", "")
	f.Add("POST", body, []byte(`{}`), "QUJD", "e30=")
	f.Add("POST", body, []byte(`{}`), " QUJD\n", "!!!")
	f.Add("POST", body, []byte(`{}`), "QUJD=", "e30")
	regionRE := regexp.MustCompile(`^[a-z0-9-]{1,20}$`)
	v, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method string, body, headers []byte, rawBody, rawHeaders string) {
		check := func(r Request, err error) {
			if err != nil {
				var le *authn.LoginError
				if !errors.As(err, &le) || le.Reason != authn.ReasonMalformed {
					t.Fatalf("refusal is %T %v", err, err)
				}
				return
			}
			if r.Method != strings.ToUpper(r.Method) || r.Method == "" {
				t.Fatalf("method %q", r.Method)
			}
			seen := map[string]string{}
			for k := range r.Headers {
				if prev, dup := seen[strings.ToLower(k)]; dup {
					t.Fatalf("headers %q and %q both kept", prev, k)
				}
				seen[strings.ToLower(k)] = k
			}
			region, rerr := r.Region()
			for range 3 {
				if again, aerr := r.Region(); again != region || (aerr == nil) != (rerr == nil) {
					t.Fatalf("Region is not deterministic: %q/%v then %q/%v", region, rerr, again, aerr)
				}
			}
			if rerr != nil {
				var le *authn.LoginError
				if !errors.As(rerr, &le) {
					t.Fatalf("region refusal is %T", rerr)
				}
				return
			}
			if region == "" {
				if v.Endpoint(region) != DefaultSTSEndpoint {
					t.Fatalf("no region but endpoint %s", v.Endpoint(region))
				}
				return
			}
			if !regionRE.MatchString(region) {
				t.Fatalf("region %q accepted", region)
			}
			u, err := url.Parse(v.Endpoint(region))
			if err != nil || u.Host != "sts."+region+".amazonaws.com" || u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("region %q leads to endpoint %q", region, v.Endpoint(region))
			}
		}
		r, err := ParseRequest(method, base64.StdEncoding.EncodeToString(body), base64.StdEncoding.EncodeToString(headers))
		check(r, err)
		if err == nil && string(r.Body) != string(body) {
			t.Fatalf("body %q decoded as %q", body, r.Body)
		}
		check(ParseRequest(method, rawBody, rawHeaders))
	})
}

// FuzzParseARN checks ParseARN on arbitrary strings (STS answers) and the
// allow-list matching built on it: no panic; a parsed ARN keeps its text and
// its parts; a pattern without '*' matches only itself; "*" matches any
// ARN; every candidate of an assumed role is a well-formed ARN.
func FuzzParseARN(f *testing.F) {
	for _, s := range [][2]string{
		{"arn:aws:iam::123456789012:user/ops/deployer", "arn:aws:iam::123456789012:user/*"},
		{"arn:aws:sts::210987654321:assumed-role/app-role/i-0123", "arn:aws:iam::210987654321:role/app-role"},
		{"arn:aws-us-gov:sts::210987654321:assumed-role/r/s/t", "arn:aws-us-gov:sts::*:assumed-role/r/*"},
		{"arn:aws:iam::123456789012:root", "*"},
		{"arn:aws:iam::123456789012:user", "arn:aws:iam::123456789012:user"},
		{"arn:aws:iam::123456789012:assumed-role/", "arn:aws:iam::123456789012:role/"},
		{"arn:::::", "(.*)[x]\\"},
		{"not-an-arn", "**"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, arn, pattern string) {
		p, err := ParseARN(arn)
		if err != nil {
			if strings.HasPrefix(arn, "arn:") && strings.Count(arn, ":") >= 5 {
				t.Fatalf("%q refused: %v", arn, err)
			}
			return
		}
		if p.ARN != arn || !strings.HasPrefix(arn, "arn:"+p.Partition+":"+p.Service+":") {
			t.Fatalf("parts of %q: %+v", arn, p)
		}
		if !strings.Contains(arn, p.ResourceName) {
			t.Fatalf("resource name %q not in %q", p.ResourceName, arn)
		}
		if !arnMatches(arn, arn) && !strings.Contains(arn, "*") {
			t.Fatalf("%q does not match itself", arn)
		}
		if !arnMatches("*", arn) {
			t.Fatalf("* does not match %q", arn)
		}
		if utf8.ValidString(pattern) && utf8.ValidString(arn) {
			// Reference: the pattern as an anchored regular expression.
			parts := strings.Split(pattern, "*")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			ref := regexp.MustCompile(`(?s)^` + strings.Join(parts, ".*") + `$`)
			if got := arnMatches(pattern, arn); got != ref.MatchString(arn) {
				t.Fatalf("arnMatches(%q, %q) = %v, reference says %v", pattern, arn, got, !got)
			}
		}
		if !strings.Contains(pattern, "*") && arnMatches(pattern, arn) != (pattern == arn) {
			t.Fatalf("literal pattern %q vs %q: %v", pattern, arn, arnMatches(pattern, arn))
		}
		for _, c := range p.candidates() {
			if _, err := ParseARN(c); err != nil {
				t.Fatalf("candidate %q of %q is not an ARN", c, arn)
			}
		}
	})
}

// FuzzSTSAnswer feeds arbitrary STS answers (JSON or XML, success or
// error) to the answer parsers: no panic, and an error code is never the
// raw body.
func FuzzSTSAnswer(f *testing.F) {
	for _, s := range []string{
		`{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/x","UserId":"AIDA"}}}`,
		`<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/x</Arn><UserId>u</UserId><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`,
		`{"Error":{"Code":"SignatureDoesNotMatch","Message":"m"}}`,
		`<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>`,
		`{"GetCallerIdentityResponse":null}`, `<a>`, `<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if ci, err := parseCallerIdentity(raw); err != nil && (ci != callerIdentity{}) {
			t.Fatalf("error with a result: %+v", ci)
		}
		code := stsErrorCode(raw, 403)
		if code == "" {
			t.Fatal("empty error code")
		}
	})
}
