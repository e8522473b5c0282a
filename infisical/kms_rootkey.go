package infisical

import (
	"context"
	"fmt"
	"io"

	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/awskms"
	"github.com/infisical-go/engine/kms/pkcs11"
)

// RootKeyConfig selects and configures the root-key provider, in the manner
// of step-ca's KMS setting: one provider name and the settings of each
// provider; only the named provider's settings are used.
//
//	software  ENCRYPTION_KEY (32 characters) or ROOT_ENCRYPTION_KEY (base64 of 32 bytes)
//	hsm       HSM_LIB_PATH, HSM_PIN, HSM_SLOT, HSM_KEY_LABEL (PKCS#11, needs a cgo build)
//	awskms    AWS_KMS_KEY_ID, AWS_KMS_REGION, optional AWS_KMS_ENDPOINT and credentials
type RootKeyConfig struct {
	// Provider is "software" (default), "hsm" or "awskms".
	Provider string
	Software kms.SoftwareConfig
	HSM      pkcs11.Config
	AWS      awskms.Config
}

// Validate checks the settings of the selected provider without contacting
// it.
func (c *RootKeyConfig) Validate() error {
	p, ok := kms.NormalizeProvider(c.Provider)
	if !ok {
		return fmt.Errorf("unknown root key provider %q: want software, hsm or awskms", c.Provider)
	}
	c.Provider = p
	switch p {
	case kms.ProviderHSM:
		return c.HSM.Validate()
	case kms.ProviderAWSKMS:
		if c.AWS.KeyID == "" {
			return fmt.Errorf("awskms: AWS_KMS_KEY_ID is required for the AWS KMS root-key provider")
		}
		return c.AWS.Validate()
	default:
		return c.Software.Validate()
	}
}

// OpenRootKey builds the configured provider. HSM and AWS KMS providers are
// checked at once (login, key creation, self-test; DescribeKey and a round
// trip). Close the provider with CloseRootKey when done.
func OpenRootKey(ctx context.Context, cfg RootKeyConfig) (kms.RootKey, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Provider {
	case kms.ProviderHSM:
		p, err := pkcs11.Open(ctx, cfg.HSM)
		if err != nil {
			return nil, err
		}
		return p, nil
	case kms.ProviderAWSKMS:
		p, err := awskms.Open(ctx, cfg.AWS)
		if err != nil {
			return nil, err
		}
		return p, nil
	default:
		return kms.NewSoftware(cfg.Software)
	}
}

// CloseRootKey releases a provider that holds resources (an HSM session).
func CloseRootKey(p kms.RootKey) error {
	if c, ok := p.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
