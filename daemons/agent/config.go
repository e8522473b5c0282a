// Package agent is the Infisical Agent as a library: it reads Infisical
// Agent's YAML configuration, authenticates with a machine identity whose
// credentials it reads from files, keeps the access token renewed and writes
// it to token sinks, renders Go templates of secrets to files, re-renders
// them only when the server's ETag changes, runs a command after a change,
// and keeps the last good files while the server is unreachable.
//
// The `infisical agent` command (daemons/cli) is a thin wrapper around
// Load, New and (*Agent).Run.
package agent

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// DefaultAddress is Infisical Cloud, the default of infisical.address as
// in Infisical's agent.
const DefaultAddress = "https://app.infisical.com"

// DefaultPollingInterval is how often a template is checked for changes
// when its config sets no polling-interval (Infisical's default).
const DefaultPollingInterval = 5 * time.Minute

// DefaultKubernetesTokenPath is where a pod's service-account token lives.
const DefaultKubernetesTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// ConfigBase64Env names the environment variable that may carry the whole
// configuration, base64-encoded, instead of a file (as in Infisical).
const ConfigBase64Env = "INFISICAL_AGENT_CONFIG_BASE64"

// Auth method names accepted in auth.type (Infisical's agent names).
const (
	AuthUniversal  = "universal-auth"
	AuthKubernetes = "kubernetes"
	AuthAzure      = "azure"
	AuthGCPIDToken = "gcp-id-token"
	AuthGCPIAM     = "gcp-iam"
	AuthAWSIAM     = "aws-iam"
	AuthLDAP       = "ldap-auth"
)

// Config is Infisical Agent's configuration file. Field names follow
// Infisical's YAML exactly; unknown keys are ignored as Infisical does.
type Config struct {
	Infisical InfisicalConfig `yaml:"infisical"`
	Auth      AuthConfig      `yaml:"auth"`
	Sinks     []Sink          `yaml:"sinks"`
	Templates []Template      `yaml:"templates"`
}

// InfisicalConfig is the `infisical:` section.
type InfisicalConfig struct {
	// Address is the server URL, with or without /api.
	Address string `yaml:"address"`
	// ExitAfterAuth makes the agent render every template once and exit.
	ExitAfterAuth bool `yaml:"exit-after-auth"`
	// RevokeCredentialsOnShutdown revokes the access token (and the
	// tokens found in the sinks) when the agent stops on a signal.
	RevokeCredentialsOnShutdown bool `yaml:"revoke-credentials-on-shutdown"`
	// RetryStrategy tunes the retries of single requests.
	RetryStrategy *RetryStrategy `yaml:"retry-strategy"`
}

// RetryStrategy is `infisical.retry-strategy`: retries of one request on a
// network error or a 429/502/503/504 answer, with exponential back-off.
type RetryStrategy struct {
	MaxRetries int    `yaml:"max-retries"`
	BaseDelay  string `yaml:"base-delay"`
	MaxDelay   string `yaml:"max-delay"`
}

// AuthConfig is the `auth:` section; Settings holds `auth.config`, whose
// keys depend on Type.
type AuthConfig struct {
	Type     string       `yaml:"type"`
	Settings AuthSettings `yaml:"config"`
}

// AuthSettings is the union of the `auth.config` keys of every method.
// Each value names a FILE holding the credential (Infisical's convention),
// except the boolean switches.
type AuthSettings struct {
	// universal-auth
	ClientID                 string `yaml:"client-id"`
	ClientSecret             string `yaml:"client-secret"`
	RemoveClientSecretOnRead bool   `yaml:"remove_client_secret_on_read"`
	// every other method
	IdentityID string `yaml:"identity-id"`
	// kubernetes
	ServiceAccountToken string `yaml:"service-account-token"`
	// gcp-iam
	ServiceAccountKey string `yaml:"service-account-key"`
	// ldap-auth
	Username             string `yaml:"username"`
	Password             string `yaml:"password"`
	RemovePasswordOnRead bool   `yaml:"remove-password-on-read"`
}

// Sink is one place where the agent writes the access token.
type Sink struct {
	Type   string     `yaml:"type"`
	Config SinkConfig `yaml:"config"`
}

// SinkConfig is `sinks[].config`.
type SinkConfig struct {
	Path string `yaml:"path"`
}

// Template is one rendered file.
type Template struct {
	// Exactly one of SourcePath, TemplateContent and
	// Base64TemplateContent gives the template text.
	SourcePath            string         `yaml:"source-path"`
	TemplateContent       string         `yaml:"template-content"`
	Base64TemplateContent string         `yaml:"base64-template-content"`
	DestinationPath       string         `yaml:"destination-path"`
	Config                TemplateConfig `yaml:"config"`

	// pollingInterval is Config.PollingInterval parsed by Parse.
	pollingInterval time.Duration
}

// TemplateConfig is `templates[].config`.
type TemplateConfig struct {
	PollingInterval string  `yaml:"polling-interval"`
	Execute         Execute `yaml:"execute"`
}

// Execute is the command run after the rendered file changed.
type Execute struct {
	Command string `yaml:"command"`
	// Timeout in seconds; 0 means none.
	Timeout int64 `yaml:"timeout"`
}

// PollingInterval is the parsed polling interval of the template.
func (t *Template) PollingInterval() time.Duration { return t.pollingInterval }

// FieldError names the configuration key that is wrong.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Load reads the configuration: the base64 text of
// INFISICAL_AGENT_CONFIG_BASE64 when lookupEnv finds it set, else the file
// at path.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var data []byte
	if b64, ok := lookupEnv(ConfigBase64Env); ok && strings.TrimSpace(b64) != "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, fieldErr(ConfigBase64Env, "not valid base64: %v", err)
		}
		data = raw
	} else {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read agent config: %w", err)
		}
		data = raw
	}
	return Parse(data)
}

// Parse decodes and validates a configuration, filling defaults. Errors
// name the offending key (for example templates[1].destination-path).
func Parse(data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse agent config: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) validate() error {
	c.Infisical.Address = strings.TrimSpace(c.Infisical.Address)
	if c.Infisical.Address != "" {
		if _, err := apiclient.NormalizeBaseURL(c.Infisical.Address); err != nil {
			return fieldErr("infisical.address", "%v", err)
		}
	}
	if rs := c.Infisical.RetryStrategy; rs != nil {
		if rs.MaxRetries < 0 {
			return fieldErr("infisical.retry-strategy.max-retries", "must not be negative")
		}
		for name, v := range map[string]string{"base-delay": rs.BaseDelay, "max-delay": rs.MaxDelay} {
			if v == "" {
				continue
			}
			if _, err := ParseInterval(v); err != nil {
				return fieldErr("infisical.retry-strategy."+name, "%v", err)
			}
		}
	}
	switch c.Auth.Type {
	case AuthUniversal, AuthKubernetes, AuthAzure, AuthGCPIDToken, AuthGCPIAM, AuthAWSIAM, AuthLDAP:
	case "":
		return fieldErr("auth.type", "is required (one of universal-auth, kubernetes, azure, gcp-id-token, gcp-iam, aws-iam, ldap-auth)")
	default:
		return fieldErr("auth.type", "unsupported auth method %q (want universal-auth, kubernetes, azure, gcp-id-token, gcp-iam, aws-iam or ldap-auth)", c.Auth.Type)
	}
	for i, s := range c.Sinks {
		f := fmt.Sprintf("sinks[%d]", i)
		if s.Type != "file" {
			return fieldErr(f+".type", "unsupported sink type %q: only \"file\" is supported", s.Type)
		}
		if strings.TrimSpace(s.Config.Path) == "" {
			return fieldErr(f+".config.path", "is required")
		}
	}
	dests := map[string]int{}
	for i := range c.Templates {
		t := &c.Templates[i]
		f := fmt.Sprintf("templates[%d]", i)
		n := 0
		for _, s := range []string{t.SourcePath, t.TemplateContent, t.Base64TemplateContent} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return fieldErr(f, "set exactly one of source-path, template-content and base64-template-content")
		}
		if t.Base64TemplateContent != "" {
			if _, err := base64.StdEncoding.DecodeString(t.Base64TemplateContent); err != nil {
				return fieldErr(f+".base64-template-content", "not valid base64: %v", err)
			}
		}
		if strings.TrimSpace(t.DestinationPath) == "" {
			return fieldErr(f+".destination-path", "is required")
		}
		if j, dup := dests[t.DestinationPath]; dup {
			return fieldErr(f+".destination-path", "is also the destination of templates[%d]", j)
		}
		dests[t.DestinationPath] = i
		t.pollingInterval = DefaultPollingInterval
		if t.Config.PollingInterval != "" {
			d, err := ParseInterval(t.Config.PollingInterval)
			if err != nil {
				return fieldErr(f+".config.polling-interval", "%v", err)
			}
			t.pollingInterval = d
		}
		if t.Config.Execute.Timeout < 0 {
			return fieldErr(f+".config.execute.timeout", "must not be negative")
		}
	}
	return nil
}

// ParseInterval parses a polling interval or delay the way Infisical writes
// them: a number followed by ms, s, m, h, d (days) or w (weeks), e.g. "60s",
// "5m", "1d", "1000ms". Go duration strings such as "1m30s" are accepted
// too. The value must be positive.
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		unit   time.Duration
	}{
		{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute},
		{"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
	}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			if n <= 0 {
				return 0, fmt.Errorf("interval %q must be positive", s)
			}
			if n > int64(1<<62)/int64(u.unit) {
				return 0, fmt.Errorf("interval %q is too long", s)
			}
			return time.Duration(n) * u.unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid interval %q: want a number followed by ms, s, m, h, d or w (e.g. 60s, 5m)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("interval %q must be positive", s)
	}
	return d, nil
}
