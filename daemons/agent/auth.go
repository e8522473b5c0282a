package agent

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// Environment variables that take precedence over the credential files,
// with the names Infisical's agent reads (note the agent's own spelling of
// the client-secret variable, without AUTH).
const (
	envClientID         = "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"
	envClientSecret     = "INFISICAL_UNIVERSAL_CLIENT_SECRET"
	envIdentityID       = "INFISICAL_MACHINE_IDENTITY_ID"
	envK8sTokenPath     = "INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH"
	envGCPKeyPath       = "INFISICAL_GCP_IAM_SERVICE_ACCOUNT_KEY_FILE_PATH"
	envLDAPUsername     = "INFISICAL_LDAP_USERNAME"
	envLDAPPassword     = "INFISICAL_LDAP_PASSWORD"
	envOrganizationSlug = "INFISICAL_AUTH_ORGANIZATION_SLUG"
	envAzureClientID    = "INFISICAL_AZURE_AUTH_CLIENT_ID"
	envAWSRegion        = "AWS_REGION"
)

// Endpoints override the cloud metadata services the machine auth methods
// query (tests, unusual networks). Empty fields mean the real ones.
type Endpoints struct {
	// AzureIMDS is the base URL of Azure's instance metadata service.
	AzureIMDS string
	// GCPMetadata is the base URL of GCP's metadata server.
	GCPMetadata string
}

// authenticator logs in with the configured machine auth method, reading
// the credentials from their files (or environment variables) at every
// login, so rotated files are picked up.
type authenticator struct {
	method    string
	s         AuthSettings
	lookupEnv func(string) (string, bool)
	api       *api
	ep        Endpoints
	now       func() time.Time

	mu sync.Mutex
	// Credentials whose files are removed after the first read
	// (remove_client_secret_on_read, remove-password-on-read) stay here
	// for later logins.
	cachedSecret, cachedPassword string
}

func (a *authenticator) env(name string) string {
	v, _ := a.lookupEnv(name)
	return strings.TrimSpace(v)
}

// envOrFile returns the variable's value when set, else the trimmed
// content of the file at path.
func (a *authenticator) envOrFile(what, envName, path string) (string, error) {
	if v := a.env(envName); v != "" {
		return v, nil
	}
	if strings.TrimSpace(path) == "" {
		return "", fmt.Errorf("no %s: set it in auth.config or in %s", what, envName)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	v := strings.TrimSpace(string(raw))
	if v == "" {
		return "", fmt.Errorf("the %s file %s is empty", what, path)
	}
	return v, nil
}

// removable reads a credential that may be deleted after its first read,
// falling back to the copy kept in memory.
func (a *authenticator) removable(what, envName, path string, remove bool, cache *string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, err := a.envOrFile(what, envName, path)
	if err != nil {
		if *cache == "" {
			return "", err
		}
		return *cache, nil
	}
	*cache = v
	if remove && a.env(envName) == "" {
		// Best effort: the value stays in memory for later logins.
		_ = os.Remove(path)
	}
	return v, nil
}

// options gathers the credential of the configured method.
func (a *authenticator) options() (apiclient.CredentialOptions, error) {
	o := apiclient.CredentialOptions{
		Method:           apiclient.Method(a.method),
		OrganizationSlug: a.env(envOrganizationSlug),
		GCPMetadataURL:   a.ep.GCPMetadata,
		AzureIMDSURL:     a.ep.AzureIMDS,
		Now:              a.now,
	}
	var err error
	if a.method == AuthUniversal {
		if o.ClientID, err = a.envOrFile("client id", envClientID, a.s.ClientID); err != nil {
			return o, err
		}
		o.ClientSecret, err = a.removable("client secret", envClientSecret, a.s.ClientSecret, a.s.RemoveClientSecretOnRead, &a.cachedSecret)
		return o, err
	}
	if o.IdentityID, err = a.envOrFile("identity id", envIdentityID, a.s.IdentityID); err != nil {
		return o, err
	}
	switch a.method {
	case AuthKubernetes:
		o.ServiceAccountTokenPath = firstNonEmpty(a.env(envK8sTokenPath), a.s.ServiceAccountToken, DefaultKubernetesTokenPath)
	case AuthGCPIAM:
		o.ServiceAccountKeyFilePath = firstNonEmpty(a.env(envGCPKeyPath), a.s.ServiceAccountKey)
		if o.ServiceAccountKeyFilePath == "" {
			return o, fmt.Errorf("no GCP service account key: set auth.config.service-account-key or %s", envGCPKeyPath)
		}
	case AuthAzure:
		o.AzureClientID = a.env(envAzureClientID)
	case AuthAWSIAM:
		o.AWSRegion = a.env(envAWSRegion)
	case AuthLDAP:
		if o.Username, err = a.envOrFile("LDAP username", envLDAPUsername, a.s.Username); err != nil {
			return o, err
		}
		o.Password, err = a.removable("LDAP password", envLDAPPassword, a.s.Password, a.s.RemovePasswordOnRead, &a.cachedPassword)
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func (a *authenticator) login(ctx context.Context) (*apiclient.Token, error) {
	o, err := a.options()
	if err != nil {
		return nil, err
	}
	return a.api.login(ctx, o)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
