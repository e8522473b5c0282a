// Package ldap verifies a username and password against an LDAP directory
// (OpenLDAP, Active Directory, JumpCloud, ...): it binds with a service
// account, searches the user with a filter template, binds as the user with
// the presented password, and checks required attribute values.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/infisical-go/engine/authn"
)

// DefaultSearchFilter finds a user by uid; "{{username}}" is replaced by
// the escaped login name.
const DefaultSearchFilter = "(uid={{username}})"

// Field is a required attribute value: the user's attribute Key must hold
// one of the comma-separated Value entries.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Config configures a verifier.
type Config struct {
	// URL of the server: ldap://host[:389] or ldaps://host[:636].
	URL string
	// BindDN and BindPass are the service account that searches users.
	BindDN   string
	BindPass string
	// SearchBase is the subtree searched for users.
	SearchBase string
	// SearchFilter is the user filter template (default DefaultSearchFilter).
	SearchFilter string
	// CACert (PEM) verifies the server of an ldaps:// URL.
	CACert string
	// AllowedFields are attribute values the user must have.
	AllowedFields []Field
	// Timeout bounds dialing and each operation (default 10 s).
	Timeout time.Duration
	// Dialer, when set, opens the TCP connection (tests, proxies).
	Dialer *net.Dialer
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return errors.New("ldap: URL must be ldap://host[:port] or ldaps://host[:port]")
	}
	if strings.TrimSpace(c.SearchBase) == "" {
		return errors.New("ldap: search base is required")
	}
	if c.SearchFilter == "" {
		c.SearchFilter = DefaultSearchFilter
	}
	if err := ValidFilter(c.SearchFilter); err != nil {
		return err
	}
	if c.CACert != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(c.CACert)) {
		return errors.New("ldap: CA certificate is not valid PEM")
	}
	for i, f := range c.AllowedFields {
		if strings.TrimSpace(f.Key) == "" {
			return fmt.Errorf("ldap: allowed field #%d has no key", i)
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	return nil
}

// ValidFilter checks that a filter template compiles once "{{username}}"
// is filled in.
func ValidFilter(tmpl string) error {
	if _, err := goldap.CompileFilter(render(tmpl, "probe")); err != nil {
		return fmt.Errorf("ldap: invalid search filter: %w", err)
	}
	return nil
}

func render(tmpl, username string) string {
	return strings.ReplaceAll(tmpl, "{{username}}", goldap.EscapeFilter(username))
}

// Credential is what the client presents.
type Credential struct {
	Username string
	Password string
}

// Principal is the directory entry the credential proved.
type Principal struct {
	DN       string
	Username string
	// Attributes of the entry that were read (uid, mail, cn and the keys
	// of AllowedFields).
	Attributes map[string][]string
}

// Verifier verifies credentials for one configuration.
type Verifier struct{ cfg Config }

// New validates cfg and returns a verifier.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg}, nil
}

func (v *Verifier) dial(ctx context.Context) (*goldap.Conn, error) {
	d := v.cfg.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: v.cfg.Timeout}
	}
	opts := []goldap.DialOpt{goldap.DialWithDialer(d)}
	if strings.HasPrefix(v.cfg.URL, "ldaps://") {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if v.cfg.CACert != "" {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM([]byte(v.cfg.CACert))
			tc.RootCAs = pool
		}
		if u, err := url.Parse(v.cfg.URL); err == nil {
			tc.ServerName = u.Hostname()
		}
		opts = append(opts, goldap.DialWithTLSConfig(tc))
	}
	conn, err := goldap.DialURL(v.cfg.URL, opts...)
	if err != nil {
		return nil, err
	}
	timeout := v.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	conn.SetTimeout(timeout)
	return conn, nil
}

// TestConnection binds with the service account.
func (v *Verifier) TestConnection(ctx context.Context) error {
	conn, err := v.dial(ctx)
	if err != nil {
		return fmt.Errorf("ldap: connect: %w", err)
	}
	defer conn.Close()
	if err := conn.Bind(v.cfg.BindDN, v.cfg.BindPass); err != nil {
		return fmt.Errorf("ldap: bind as %s: %w", v.cfg.BindDN, err)
	}
	return nil
}

// Verify checks a username and password. Refusals are *authn.LoginError;
// a wrong password, an unknown user and an ambiguous search all read
// "LDAP authentication failed" so that callers cannot probe the directory.
func (v *Verifier) Verify(ctx context.Context, cred Credential) (Principal, error) {
	username := strings.TrimSpace(cred.Username)
	if username == "" || cred.Password == "" {
		return Principal{}, authn.Refuse(authn.ReasonMalformed, "Invalid request. Missing username or password.")
	}
	conn, err := v.dial(ctx)
	if err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "LDAP server unavailable").Wrap(err)
	}
	defer conn.Close()
	if err := conn.Bind(v.cfg.BindDN, v.cfg.BindPass); err != nil {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "LDAP service account bind failed; check the bind DN and password").Wrap(err)
	}
	attrs := []string{"dn", "uid", "mail", "cn"}
	for _, f := range v.cfg.AllowedFields {
		attrs = append(attrs, f.Key)
	}
	res, err := conn.Search(goldap.NewSearchRequest(v.cfg.SearchBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, int(v.cfg.Timeout/time.Second), false, render(v.cfg.SearchFilter, username), attrs, nil))
	if err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		return Principal{}, authn.Refuse(authn.ReasonIssuerUnavailable, "LDAP user search failed").Wrap(err)
	}
	if res == nil || len(res.Entries) != 1 {
		return Principal{}, authn.Refuse(authn.ReasonNotAuthenticated, "LDAP authentication failed")
	}
	entry := res.Entries[0]
	// Bind as the user: the directory checks the password (and account
	// state: locked, expired) itself.
	if err := conn.Bind(entry.DN, cred.Password); err != nil {
		return Principal{}, authn.Refuse(authn.ReasonNotAuthenticated, "LDAP authentication failed").Wrap(errors.New("user bind refused"))
	}
	p := Principal{DN: entry.DN, Username: username, Attributes: map[string][]string{}}
	for _, a := range entry.Attributes {
		p.Attributes[a.Name] = a.Values
	}
	for _, f := range v.cfg.AllowedFields {
		vals := entry.GetAttributeValues(f.Key)
		if len(vals) == 0 {
			return Principal{}, authn.Refuse(authn.ReasonClaim, "Invalid request. Missing field %s on user.", f.Key)
		}
		allowed := strings.Split(f.Value, ",")
		for i := range allowed {
			allowed[i] = strings.TrimSpace(allowed[i])
		}
		if !slices.ContainsFunc(vals, func(s string) bool { return slices.Contains(allowed, s) }) {
			return Principal{}, authn.Refuse(authn.ReasonClaim, "Invalid request. User field '%s' does not match required fields.", f.Key)
		}
	}
	return p, nil
}
