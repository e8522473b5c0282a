package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/awskms"
	"github.com/infisical-go/engine/kms/kmstest"
)

const (
	akid   = "AKIAKMSTEST000000001"
	secret = "kms-test-secret-access-key-000000000000"
)

func server(t *testing.T) (*kmstest.Server, awskms.Config) {
	t.Helper()
	// Keep the process's AWS settings out of the tests.
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := kmstest.New(t, "eu-west-1")
	s.AddCredentials(akid, secret)
	return s, awskms.Config{Region: "eu-west-1", Endpoint: s.URL(), STSEndpoint: s.URL(), AccessKeyID: akid, SecretAccessKey: secret}
}

func TestProviderRoundTrip(t *testing.T) {
	s, cfg := server(t)
	ctx := context.Background()
	for _, ref := range []string{"id", "alias", "arn"} {
		t.Run(ref, func(t *testing.T) {
			id := s.CreateKey("root-" + ref)
			switch ref {
			case "id":
				cfg.KeyID = id
			case "alias":
				cfg.KeyID = "alias/root-" + ref
			case "arn":
				cfg.KeyID = "arn:aws:kms:eu-west-1:" + kmstest.Account + ":key/" + id
			}
			p, err := awskms.Open(ctx, cfg)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if p.Strategy() != kms.StrategyAWSKMS {
				t.Fatal(p.Strategy())
			}
			root, err := kms.NewRootKeyMaterial(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			blob, err := p.Wrap(ctx, root)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Unwrap(ctx, blob)
			if err != nil || !bytes.Equal(got, root) {
				t.Fatalf("unwrap: %v", err)
			}
			bad := append([]byte(nil), blob...)
			bad[len(bad)-1] ^= 1
			if _, err := p.Unwrap(ctx, bad); !errors.Is(err, kms.ErrDecrypt) {
				t.Fatalf("tampered blob: %v", err)
			}
		})
	}
	if s.Calls("DescribeKey") < 3 || s.Calls("GenerateDataKey") < 3 {
		t.Fatalf("calls: describe %d generate %d", s.Calls("DescribeKey"), s.Calls("GenerateDataKey"))
	}
}

func TestWrongKeyAndErrors(t *testing.T) {
	s, cfg := server(t)
	ctx := context.Background()
	a, b := s.CreateKey(""), s.CreateKey("")
	cfg.KeyID = a
	ca, err := awskms.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeyID = b
	cb, _ := awskms.NewClient(ctx, cfg)
	blob, err := ca.Encrypt(ctx, []byte("data key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Decrypt(ctx, blob); !errors.Is(err, kms.ErrDecrypt) {
		t.Fatalf("decrypt with other key: %v", err)
	}
	// GenerateDataKey's wrapped form opens with Decrypt.
	pt, wrapped, err := ca.GenerateDataKey(ctx)
	if err != nil || len(pt) != 32 {
		t.Fatalf("generate data key: %v", err)
	}
	if got, err := ca.Decrypt(ctx, wrapped); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("decrypt data key: %v", err)
	}

	cases := []struct {
		name string
		mod  func(*awskms.Config)
		want string
	}{
		{"unknown key", func(c *awskms.Config) { c.KeyID = "alias/nope" }, "NotFoundException"},
		{"bad secret", func(c *awskms.Config) { c.KeyID = a; c.SecretAccessKey = "wrong" }, "InvalidSignatureException"},
		{"unknown access key", func(c *awskms.Config) { c.KeyID = a; c.AccessKeyID = "AKIAUNKNOWN" }, "UnrecognizedClientException"},
		{"wrong region", func(c *awskms.Config) { c.KeyID = a; c.Region = "us-east-1" }, "region"},
		{"no key id", func(c *awskms.Config) { c.KeyID = "" }, "AWS_KMS_KEY_ID"},
		{"no region", func(c *awskms.Config) { c.KeyID = a; c.Region = "" }, "region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.mod(&c)
			_, err := awskms.Open(ctx, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want mention of %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatal("error contains the secret key")
			}
		})
	}
	s.SetEnabled(a, false)
	cfg.KeyID = a
	if _, err := awskms.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("disabled key: %v", err)
	}
}

func TestAssumeRoleAndCreateKey(t *testing.T) {
	s, cfg := server(t)
	ctx := context.Background()
	const roleARN = "arn:aws:iam::111122223333:role/infisical-kms"
	s.AddRole(roleARN, "project-123")
	cfg.AssumeRoleARN = roleARN
	cfg.ExternalID = "project-123"
	c, err := awskms.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateKey(ctx, "infisical external kms")
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	if s.KeyTags(id)["author"] != "infisical" {
		t.Fatalf("tags %v", s.KeyTags(id))
	}
	if _, err := c.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	blob, err := c.Encrypt(ctx, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decrypt(ctx, blob); err != nil || string(got) != "k" {
		t.Fatalf("decrypt: %v", err)
	}
	sess := s.Sessions()
	if len(sess) != 1 || !strings.HasPrefix(sess[0], "infisical-kms-") {
		t.Fatalf("sessions %v (credentials must be cached between calls)", sess)
	}
	// A wrong external id is refused by STS.
	cfg.ExternalID = "other"
	cfg.KeyID = id
	bad, _ := awskms.NewClient(ctx, cfg)
	if _, err := bad.Describe(ctx); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("wrong external id: %v", err)
	}
}
