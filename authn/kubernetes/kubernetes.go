// Package kubernetes verifies Kubernetes service-account tokens with the
// cluster's TokenReview API, authenticated with a reviewer token or, when
// none is configured, with the presented token itself (which then needs
// the system:auth-delegator role), and checks the namespace, the service
// account name and the audience against allow-lists.
package kubernetes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
)

// ErrorName is the error name Infisical gives TokenReview failures.
const ErrorName = "KubernetesTokenReviewError"

// Config configures a verifier.
type Config struct {
	// Host is the API server: a URL, host or host:port (https assumed).
	Host string
	// CACert (PEM) verifies the API server. Empty: TLS is not verified, as
	// upstream does; configure it.
	CACert string
	// ReviewerJWT authenticates the TokenReview call; empty means the
	// presented token authenticates its own review.
	ReviewerJWT string
	// AllowedNamespaces and AllowedNames, when non-empty, must contain the
	// service account's namespace and name.
	AllowedNamespaces []string
	AllowedNames      []string
	// AllowedAudience, when set, is asked of the review and must be among
	// the audiences the API server reports.
	AllowedAudience string

	// HTTPClient is the base client; the CA (or, without one, skipping
	// verification) is applied to a clone of its transport. A client with a
	// custom round tripper is used as is.
	HTTPClient *http.Client
	// Clients reuses the HTTP clients derived for CACert (optional), so
	// connections to the API server are kept between logins.
	Clients *fetch.ClientCache
	// Timeout bounds the review (default 10 s).
	Timeout time.Duration
}

var hostChars = regexp.MustCompile(`^[A-Za-z0-9:./\-\[\]]+$`)

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Host == "" {
		return errors.New("kubernetes: host is required")
	}
	if !hostChars.MatchString(c.Host) {
		return errors.New("kubernetes: host may contain only letters, digits, ':', '.', '/' and '-'")
	}
	if _, err := c.reviewURL(); err != nil {
		return err
	}
	if !fetch.ValidCA(c.CACert) {
		return errors.New("kubernetes: CA certificate is not valid PEM")
	}
	if c.Timeout <= 0 {
		c.Timeout = fetch.DefaultTimeout
	}
	return nil
}

func (c *Config) reviewURL() (string, error) {
	h := strings.TrimRight(c.Host, "/")
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("kubernetes: %q is not a valid API server address", c.Host)
	}
	return h + "/apis/authentication.k8s.io/v1/tokenreviews", nil
}

// Principal is the service account a token belongs to.
type Principal struct {
	Namespace string
	Name      string
	Username  string
	UID       string
	Audiences []string
}

// IdentityAuth is the identityAuth claim of an Infisical access token
// minted for this principal: {"kubernetes": {"namespace", "name"}}.
func (p Principal) IdentityAuth() map[string]any {
	return map[string]any{"kubernetes": map[string]any{"namespace": p.Namespace, "name": p.Name}}
}

// Verifier verifies tokens for one configuration.
type Verifier struct {
	cfg    Config
	url    string
	client *http.Client
}

// New validates cfg and returns a verifier.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := cfg.reviewURL()
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: cfg.Timeout}
	}
	client, err := cfg.Clients.WithCA(base, cfg.CACert, cfg.CACert == "")
	if err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg, url: u, client: client}, nil
}

type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences,omitempty"`
	} `json:"spec"`
	Status struct {
		Authenticated bool `json:"authenticated"`
		User          struct {
			Username string `json:"username"`
			UID      string `json:"uid"`
		} `json:"user"`
		Audiences []string `json:"audiences"`
		Error     string   `json:"error"`
	} `json:"status"`
}

func reviewError(format string, args ...any) *authn.LoginError {
	e := authn.Refuse(authn.ReasonNotAuthenticated, format, args...)
	e.Name = ErrorName
	return e
}

// Verify reviews token and returns its service account. Refusals are
// *authn.LoginError.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Principal{}, authn.Reject(authn.ReasonMalformed, "jwt is required")
	}
	var rv tokenReview
	rv.APIVersion, rv.Kind = "authentication.k8s.io/v1", "TokenReview"
	rv.Spec.Token = token
	if v.cfg.AllowedAudience != "" {
		rv.Spec.Audiences = []string{v.cfg.AllowedAudience}
	}
	body, _ := json.Marshal(rv)
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url, bytes.NewReader(body))
	if err != nil {
		return Principal{}, reviewError("Failed to build the TokenReview request").Wrap(err)
	}
	bearer := v.cfg.ReviewerJWT
	if bearer == "" {
		bearer = token
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return Principal{}, reviewError("Failed to reach the Kubernetes API server for TokenReview").Wrap(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, fetch.MaxDocument))
	if err != nil {
		return Principal{}, reviewError("Failed to read the TokenReview response").Wrap(err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return Principal{}, reviewError("Failed to validate the Kubernetes token: the API server refused the TokenReview (%d); check the token reviewer JWT and its system:auth-delegator binding", resp.StatusCode)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Principal{}, reviewError("Failed to validate the Kubernetes token: TokenReview returned status %d", resp.StatusCode)
	}
	var out tokenReview
	if err := json.Unmarshal(raw, &out); err != nil {
		return Principal{}, reviewError("Failed to decode the TokenReview response").Wrap(err)
	}
	if out.Status.Error != "" {
		return Principal{}, reviewError("Kubernetes token review failed: %s", out.Status.Error)
	}
	if !out.Status.Authenticated {
		return Principal{}, authn.Refuse(authn.ReasonNotAuthenticated, "Kubernetes token not authenticated")
	}
	parts := strings.Split(out.Status.User.Username, ":")
	if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" || parts[2] == "" || parts[3] == "" {
		return Principal{}, authn.Refuse(authn.ReasonNotAuthenticated, "Access denied: the token does not belong to a service account")
	}
	p := Principal{Namespace: parts[2], Name: parts[3], Username: out.Status.User.Username, UID: out.Status.User.UID, Audiences: out.Status.Audiences}
	if len(v.cfg.AllowedNamespaces) > 0 && !slices.Contains(v.cfg.AllowedNamespaces, p.Namespace) {
		return Principal{}, authn.Refuse(authn.ReasonNamespace, "Access denied: K8s namespace not allowed.")
	}
	if len(v.cfg.AllowedNames) > 0 && !slices.Contains(v.cfg.AllowedNames, p.Name) {
		return Principal{}, authn.Refuse(authn.ReasonName, "Access denied: K8s name not allowed.")
	}
	if v.cfg.AllowedAudience != "" && !slices.Contains(p.Audiences, v.cfg.AllowedAudience) {
		return Principal{}, authn.Refuse(authn.ReasonAudience, "Access denied: K8s audience not allowed.")
	}
	return p, nil
}
