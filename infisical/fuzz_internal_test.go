package infisical

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// FuzzValidateAWSInput checks the provider inputs of an AWS external KMS
// (JSON from the API, later sealed and used to build AWS clients).
// Properties: no panic; a refusal is a 422 naming a provider.inputs field;
// accepted inputs are trimmed, carry only the fields of their credential
// type, and name a region that is a DNS label (the region becomes part of
// the AWS endpoint host: "kms.<region>.amazonaws.com"); validation is
// idempotent and survives the JSON round trip of sealing.
func FuzzValidateAWSInput(f *testing.F) {
	for _, s := range []string{
		`{"awsRegion":"eu-central-1","kmsKeyId":"id","credential":{"type":"access-key","data":{"accessKey":"a","secretKey":"s","assumeRoleArn":"x"}}}`,
		`{"awsRegion":" us-gov-west-1 ","credential":{"type":"assume-role","data":{"assumeRoleArn":"arn:aws:iam::1:role/r","externalId":"e","accessKey":"a"}}}`,
		`{"awsRegion":"evil.example/#","credential":{"type":"access-key","data":{"accessKey":"a","secretKey":"s"}}}`,
		`{"awsRegion":"attacker.com:8443?","credential":{"type":"assume-role","data":{"assumeRoleArn":"r"}}}`,
		`{"awsRegion":"","credential":{"type":"access-key"}}`, `{"awsRegion":"x","credential":{"type":"other"}}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	label := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in AWSKMSInput
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		if err := validateAWSInput(&in); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindValidation || !strings.HasPrefix(e.Details.([]ValidationIssue)[0].Path[0], "provider.inputs.") {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if !label.MatchString(in.Region) || len(in.Region) > 32 {
			t.Fatalf("region %q accepted", in.Region)
		}
		d := in.Credential.Data
		for _, s := range []string{in.Region, in.KeyID, d.AccessKey, d.SecretKey, d.AssumeRoleArn, d.ExternalID} {
			if s != strings.TrimSpace(s) {
				t.Fatalf("untrimmed field %q", s)
			}
		}
		switch in.Credential.Type {
		case AWSCredentialAccessKey:
			if d.AccessKey == "" || d.SecretKey == "" || d.AssumeRoleArn != "" || d.ExternalID != "" {
				t.Fatalf("access-key credential %+v", d)
			}
		case AWSCredentialAssumeRole:
			if d.AssumeRoleArn == "" || d.AccessKey != "" || d.SecretKey != "" {
				t.Fatalf("assume-role credential %+v", d)
			}
		default:
			t.Fatalf("credential type %q accepted", in.Credential.Type)
		}
		again := in
		if err := validateAWSInput(&again); err != nil || again != in {
			t.Fatalf("validation is not idempotent: %+v, %v", again, err)
		}
		enc, _ := json.Marshal(in)
		var back AWSKMSInput
		if err := json.Unmarshal(enc, &back); err != nil || back != in {
			t.Fatalf("sealed inputs do not round-trip: %+v", back)
		}
	})
}
