package infisical

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/ldap"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// LDAPAllowedField requires a user attribute to hold one of the
// comma-separated values.
type LDAPAllowedField struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LDAPAuthSettings configures LDAP auth (§7.11): the service account that
// searches users, the search, required attributes and the lockout after
// failed logins.
type LDAPAuthSettings struct {
	URL        *string `json:"url"`
	BindDN     *string `json:"bindDN"`
	BindPass   *string `json:"bindPass"`
	SearchBase *string `json:"searchBase"`
	// SearchFilter is the user filter; {{username}} is replaced (default
	// "(uid={{username}})").
	SearchFilter      *string             `json:"searchFilter"`
	AllowedFields     *[]LDAPAllowedField `json:"allowedFields"`
	LDAPCACertificate *string             `json:"ldapCaCertificate"`
	TemplateID        *string             `json:"templateId"`

	LockoutEnabled             *bool `json:"lockoutEnabled"`
	LockoutThreshold           *int  `json:"lockoutThreshold"`
	LockoutDurationSeconds     *int  `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds *int  `json:"lockoutCounterResetSeconds"`
}

// AuthMethod names the method the settings belong to.
func (LDAPAuthSettings) AuthMethod() string { return AuthMethodLDAP }

// LDAPAuthFields are the LDAP-specific columns of identityLdapAuth. The
// bind DN, bind password and CA certificate appear only in get responses.
type LDAPAuthFields struct {
	URL                        string             `json:"url"`
	BindDN                     string             `json:"bindDN,omitempty"`
	BindPass                   string             `json:"bindPass,omitempty"`
	SearchBase                 string             `json:"searchBase"`
	SearchFilter               string             `json:"searchFilter"`
	AllowedFields              []LDAPAllowedField `json:"allowedFields"`
	LDAPCACertificate          string             `json:"ldapCaCertificate,omitempty"`
	TemplateID                 *string            `json:"templateId"`
	LockoutEnabled             bool               `json:"lockoutEnabled"`
	LockoutThreshold           int                `json:"lockoutThreshold"`
	LockoutDurationSeconds     int                `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int                `json:"lockoutCounterResetSeconds"`
}

type ldapSecret struct {
	BindDN            string `json:"bindDN"`
	BindPass          string `json:"bindPass"`
	LDAPCACertificate string `json:"ldapCaCertificate"`
}

type ldapMethod struct{}

func (ldapMethod) name() string  { return AuthMethodLDAP }
func (ldapMethod) label() string { return "LDAP" }

func (ldapMethod) load(st *methodState) LDAPAuthFields {
	f := decodeInto[LDAPAuthFields](st.Config)
	sec := decodeInto[ldapSecret](st.Secret)
	f.BindDN, f.BindPass, f.LDAPCACertificate = sec.BindDN, sec.BindPass, sec.LDAPCACertificate
	if f.AllowedFields == nil {
		f.AllowedFields = []LDAPAllowedField{}
	}
	return f
}

func (ldapMethod) save(st *methodState, f LDAPAuthFields) {
	sec := ldapSecret{BindDN: f.BindDN, BindPass: f.BindPass, LDAPCACertificate: f.LDAPCACertificate}
	f.BindDN, f.BindPass, f.LDAPCACertificate = "", "", ""
	st.Config, st.Secret = mustJSON(f), mustJSON(sec)
}

func (m ldapMethod) configure(in AuthMethodSettings, st *methodState, attach bool) error {
	s, err := settingsOf[LDAPAuthSettings](in)
	if err != nil {
		return err
	}
	f := m.load(st)
	if attach {
		f = LDAPAuthFields{SearchFilter: ldap.DefaultSearchFilter, AllowedFields: []LDAPAllowedField{}, LockoutEnabled: true,
			LockoutThreshold: defaultLockoutThreshold, LockoutDurationSeconds: defaultLockoutDuration, LockoutCounterResetSeconds: defaultLockoutCounterReset}
	}
	if s.TemplateID != nil && strings.TrimSpace(*s.TemplateID) != "" {
		return Invalid("templateId", "identity auth templates are not supported by this server; configure url, bindDN, bindPass and searchBase")
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&f.URL, s.URL)
	set(&f.BindDN, s.BindDN)
	set(&f.SearchBase, s.SearchBase)
	set(&f.SearchFilter, s.SearchFilter)
	if s.BindPass != nil {
		// Passwords are kept as given (spaces may be part of them).
		f.BindPass = *s.BindPass
	}
	if s.LDAPCACertificate != nil {
		ca := strings.TrimSpace(*s.LDAPCACertificate)
		if !fetch.ValidCA(ca) {
			return Invalid("ldapCaCertificate", "ldapCaCertificate must be a PEM certificate")
		}
		f.LDAPCACertificate = ca
	}
	if s.AllowedFields != nil {
		fields := make([]LDAPAllowedField, 0, len(*s.AllowedFields))
		for i, af := range *s.AllowedFields {
			af.Key, af.Value = strings.TrimSpace(af.Key), strings.TrimSpace(af.Value)
			if af.Key == "" {
				return Invalid("allowedFields", "allowedFields[%d].key is required", i)
			}
			fields = append(fields, af)
		}
		f.AllowedFields = fields
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return Invalid("url", "url must be ldap://host[:port] or ldaps://host[:port]")
	}
	if f.BindDN == "" {
		return Invalid("bindDN", "bindDN is required")
	}
	if f.BindPass == "" {
		return Invalid("bindPass", "bindPass is required")
	}
	if f.SearchBase == "" {
		return Invalid("searchBase", "searchBase is required")
	}
	if f.SearchFilter == "" {
		f.SearchFilter = ldap.DefaultSearchFilter
	}
	if err := ldap.ValidFilter(f.SearchFilter); err != nil {
		return Invalid("searchFilter", "Invalid LDAP search filter")
	}
	lock := UniversalAuthSettings{LockoutEnabled: s.LockoutEnabled, LockoutThreshold: s.LockoutThreshold,
		LockoutDurationSeconds: s.LockoutDurationSeconds, LockoutCounterResetSeconds: s.LockoutCounterResetSeconds}
	lc := uaConfig{LockoutEnabled: f.LockoutEnabled, LockoutThreshold: f.LockoutThreshold, LockoutDurationSeconds: f.LockoutDurationSeconds,
		LockoutCounterResetSeconds: f.LockoutCounterResetSeconds}
	if err := lock.apply(&lc); err != nil {
		return err
	}
	f.LockoutEnabled, f.LockoutThreshold, f.LockoutDurationSeconds, f.LockoutCounterResetSeconds =
		lc.LockoutEnabled, lc.LockoutThreshold, lc.LockoutDurationSeconds, lc.LockoutCounterResetSeconds
	m.save(st, f)
	return nil
}

func (m ldapMethod) fields(st *methodState, op configOp) any {
	f := m.load(st)
	if op != opGet {
		f.BindDN, f.BindPass, f.LDAPCACertificate = "", "", ""
	}
	return &f
}

func (m ldapMethod) verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error) {
	e := env.e
	f := m.load(st)
	username := strings.TrimSpace(in.Username)
	if username == "" {
		return nil, Invalid("username", "Username is required")
	}
	if strings.TrimSpace(in.Password) == "" {
		return nil, Invalid("password", "Password is required")
	}
	lc := uaConfig{LockoutEnabled: f.LockoutEnabled, LockoutThreshold: f.LockoutThreshold, LockoutDurationSeconds: f.LockoutDurationSeconds,
		LockoutCounterResetSeconds: f.LockoutCounterResetSeconds}
	key := methodLockoutPrefix(m.name(), env.identityID) + strings.ToLower(username)
	now := e.now()
	if lc.LockoutEnabled {
		l, err := e.store.Read().GetLockout(ctx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, Internal("load lockout", err)
		}
		if err == nil && l.LockedUntil != nil && now.Before(*l.LockedUntil) {
			return nil, Unauthorized(lockedOutMessage)
		}
	}
	fields := make([]ldap.Field, len(f.AllowedFields))
	for i, af := range f.AllowedFields {
		fields[i] = ldap.Field{Key: af.Key, Value: af.Value}
	}
	v, err := ldap.New(ldap.Config{URL: f.URL, BindDN: f.BindDN, BindPass: f.BindPass, SearchBase: f.SearchBase,
		SearchFilter: f.SearchFilter, CACert: f.LDAPCACertificate, AllowedFields: fields, Timeout: env.issuers.LDAPTimeout})
	if err != nil {
		return nil, BadRequest("Invalid LDAP auth configuration: %s", err.Error())
	}
	p, err := v.Verify(ctx, ldap.Credential{Username: username, Password: in.Password})
	if err != nil {
		if lc.LockoutEnabled && authn.ReasonOf(err) == authn.ReasonNotAuthenticated {
			if ferr := e.recordLoginFailure(ctx, key, lc, now); ferr != nil {
				e.log.Warn("could not record failed LDAP login", "identityId", env.identityID, "err", ferr)
			}
		}
		return nil, err
	}
	if lc.LockoutEnabled {
		if err := e.store.Tx(ctx, func(q store.Q) error { return q.DeleteLockout(ctx, key) }); err != nil {
			e.log.Warn("could not clear LDAP lockout counter", "identityId", env.identityID, "err", err)
		}
	}
	audit := map[string]any{"ldapUsername": p.Username}
	if mail := p.Attributes["mail"]; len(mail) > 0 {
		audit["ldapEmail"] = mail[0]
	}
	return &loginProof{audit: audit}, nil
}

// ClearLDAPLockouts lifts every LDAP login lockout of an identity and
// returns how many counters were removed.
func (s *AuthMethodService) ClearLDAPLockouts(ctx context.Context, actor Actor, identityID string) (int, error) {
	e := s.e
	_, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return 0, err
	}
	if _, err := e.store.Read().GetAuthMethod(ctx, ident.ID, AuthMethodLDAP); errors.Is(err, store.ErrNotFound) {
		return 0, NotFound("The identity does not have LDAP Auth configured")
	} else if err != nil {
		return 0, Internal("load auth method", err)
	}
	var n int
	err = e.store.Tx(ctx, func(q store.Q) error {
		var err error
		n, err = q.DeleteLockoutsWithPrefix(ctx, methodLockoutPrefix(AuthMethodLDAP, ident.ID))
		if err != nil {
			return Internal("clear lockouts", err)
		}
		return nil
	})
	return n, err
}
