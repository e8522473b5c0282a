// Package awskms talks to AWS KMS (or anything speaking its JSON protocol)
// through aws-sdk-go-v2. It serves two purposes:
//
//   - a root-key provider (Provider): the instance root key is wrapped by an
//     AWS KMS key with Encrypt/Decrypt, the blob being AWS's CiphertextBlob
//     verbatim (spec §2.2);
//   - an organization's external KMS (Client): a project's data key is
//     wrapped by the customer's own AWS KMS key.
//
// Credentials are static access keys, an assumed role (STS AssumeRole,
// session name infisical-kms-<uuid>, 900 s, optional external id) or, for
// the root-key provider, the default AWS credential chain. The KMS and STS
// endpoints are configurable so tests run against a local server.
package awskms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/infisical-go/engine/kms"
)

// Config selects an AWS KMS key and how to reach it.
type Config struct {
	// KeyID is a key id, key ARN, alias name or alias ARN. Empty is allowed
	// only for Client.CreateKey.
	KeyID string
	// Region is the AWS region (required).
	Region string
	// Endpoint overrides the KMS endpoint URL (AWS_KMS_ENDPOINT; tests,
	// VPC endpoints, KMS-compatible services).
	Endpoint string
	// STSEndpoint overrides the STS endpoint used to assume a role.
	STSEndpoint string

	// Static credentials. When both are empty and AssumeRoleARN is empty,
	// the default AWS credential chain is used (environment, shared config,
	// instance role, ...).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// AssumeRoleARN, when set, is assumed (with the static or default
	// credentials) before calling KMS.
	AssumeRoleARN string
	ExternalID    string

	// HTTPClient overrides the HTTP client (tests).
	HTTPClient *http.Client
	// Timeout bounds each call (default 15s).
	Timeout time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Region) == "" {
		return errors.New("awskms: region is required")
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return errors.New("awskms: access key id and secret access key must be given together")
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	return nil
}

// Client is an AWS KMS client bound to one configuration.
type Client struct {
	cfg Config
	kms *awskms.Client
}

// NewClient builds a client. It makes no call.
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(cfg.Region)}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("awskms: load AWS configuration: %w", err)
	}
	if cfg.AssumeRoleARN != "" {
		stsClient := sts.NewFromConfig(awsCfg, func(o *sts.Options) {
			if cfg.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.STSEndpoint)
			}
		})
		prov := stscreds.NewAssumeRoleProvider(stsClient, cfg.AssumeRoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "infisical-kms-" + uuid.NewString()
			o.Duration = 900 * time.Second
			if cfg.ExternalID != "" {
				o.ExternalID = aws.String(cfg.ExternalID)
			}
		})
		awsCfg.Credentials = aws.NewCredentialsCache(prov)
	}
	c := awskms.NewFromConfig(awsCfg, func(o *awskms.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Client{cfg: cfg, kms: c}, nil
}

// KeyID returns the configured key.
func (c *Client) KeyID() string { return c.cfg.KeyID }

func (c *Client) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// KeyInfo is what DescribeKey tells about a key.
type KeyInfo struct {
	KeyID   string
	ARN     string
	Enabled bool
	Usage   string
	Spec    string
}

// Describe checks that the key exists and is a usable symmetric
// encrypt/decrypt key (Infisical's connection check).
func (c *Client) Describe(ctx context.Context) (*KeyInfo, error) {
	if c.cfg.KeyID == "" {
		return nil, errors.New("awskms: no key id configured")
	}
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	out, err := c.kms.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(c.cfg.KeyID)})
	if err != nil {
		return nil, fmt.Errorf("awskms: describe key: %w", safeErr(err))
	}
	md := out.KeyMetadata
	if md == nil {
		return nil, errors.New("awskms: describe key: no metadata in response")
	}
	info := &KeyInfo{KeyID: aws.ToString(md.KeyId), ARN: aws.ToString(md.Arn), Enabled: md.Enabled,
		Usage: string(md.KeyUsage), Spec: string(md.KeySpec)}
	if !info.Enabled {
		return info, fmt.Errorf("awskms: key %s is disabled", info.KeyID)
	}
	if md.KeyUsage != "" && md.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
		return info, fmt.Errorf("awskms: key %s has usage %s, want ENCRYPT_DECRYPT", info.KeyID, md.KeyUsage)
	}
	return info, nil
}

// CreateKey creates a symmetric key tagged author=infisical (an external KMS
// configured without a key id) and binds the client to it.
func (c *Client) CreateKey(ctx context.Context, description string) (string, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	out, err := c.kms.CreateKey(ctx, &awskms.CreateKeyInput{
		Description: aws.String(description),
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		KeySpec:     types.KeySpecSymmetricDefault,
		Tags:        []types.Tag{{TagKey: aws.String("author"), TagValue: aws.String("infisical")}},
	})
	if err != nil {
		return "", fmt.Errorf("awskms: create key: %w", safeErr(err))
	}
	if out.KeyMetadata == nil || out.KeyMetadata.KeyId == nil {
		return "", errors.New("awskms: create key: no key id in response")
	}
	c.cfg.KeyID = aws.ToString(out.KeyMetadata.KeyId)
	return c.cfg.KeyID, nil
}

// Encrypt wraps plaintext (at most 4096 bytes) with the key; the result is
// AWS's CiphertextBlob, stored verbatim.
func (c *Client) Encrypt(ctx context.Context, plaintext []byte) ([]byte, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	out, err := c.kms.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(c.cfg.KeyID), Plaintext: plaintext})
	if err != nil {
		return nil, fmt.Errorf("awskms: encrypt: %w", safeErr(err))
	}
	return out.CiphertextBlob, nil
}

// Decrypt unwraps a CiphertextBlob made by Encrypt with the same key.
func (c *Client) Decrypt(ctx context.Context, blob []byte) ([]byte, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	out, err := c.kms.Decrypt(ctx, &awskms.DecryptInput{KeyId: aws.String(c.cfg.KeyID), CiphertextBlob: blob})
	if err != nil {
		var ic *types.InvalidCiphertextException
		var ik *types.IncorrectKeyException
		if errors.As(err, &ic) || errors.As(err, &ik) {
			return nil, kms.ErrDecrypt
		}
		return nil, fmt.Errorf("awskms: decrypt: %w", safeErr(err))
	}
	return out.Plaintext, nil
}

// GenerateDataKey returns a fresh 256-bit data key in plaintext and wrapped
// by the key.
func (c *Client) GenerateDataKey(ctx context.Context) (plaintext, wrapped []byte, err error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	out, err := c.kms.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(c.cfg.KeyID), KeySpec: types.DataKeySpecAes256})
	if err != nil {
		return nil, nil, fmt.Errorf("awskms: generate data key: %w", safeErr(err))
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// safeErr keeps AWS's error code and message (they name the problem:
// AccessDenied, NotFoundException, ...) and drops request details.
func safeErr(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}

// Provider is the AWS KMS root-key provider.
type Provider struct{ c *Client }

// Open builds the provider, checks the key with DescribeKey and runs the
// wrap/unwrap self-test.
func Open(ctx context.Context, cfg Config) (*Provider, error) {
	if strings.TrimSpace(cfg.KeyID) == "" {
		return nil, errors.New("awskms: AWS_KMS_KEY_ID is required for the AWS KMS root-key provider")
	}
	c, err := NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.Describe(ctx); err != nil {
		return nil, err
	}
	p := &Provider{c: c}
	if err := kms.SelfTest(ctx, p, kms.KeySize); err != nil {
		return nil, err
	}
	return p, nil
}

// Strategy implements kms.RootKey.
func (p *Provider) Strategy() string { return kms.StrategyAWSKMS }

// Wrap implements kms.RootKey.
func (p *Provider) Wrap(ctx context.Context, plaintext []byte) ([]byte, error) {
	return p.c.Encrypt(ctx, plaintext)
}

// Unwrap implements kms.RootKey.
func (p *Provider) Unwrap(ctx context.Context, blob []byte) ([]byte, error) {
	return p.c.Decrypt(ctx, blob)
}

// Random implements kms.RandomSource with GenerateDataKey's plaintext, so
// the root key also draws from AWS's HSM-backed generator.
func (p *Provider) Random(ctx context.Context, n int) ([]byte, error) {
	if n != kms.KeySize {
		return nil, fmt.Errorf("awskms: random of %d bytes not supported", n)
	}
	pt, _, err := p.c.GenerateDataKey(ctx)
	return pt, err
}

// Close implements io.Closer (nothing to release).
func (p *Provider) Close() error { return nil }
