package infisical

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/fetch"
	"github.com/infisical-go/engine/authn/jwks"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Machine logins that verify a credential against an outside issuer (AWS,
// GCP, Azure, Kubernetes, OIDC, JWT, LDAP) share one machinery: a registry
// of methods, each a small adapter (auth_methods_<name>.go) between the
// stored configuration and a verifier package in authn/. Attach, get,
// update, revoke and login are written once, here.

// AuthIssuers configures how the engine reaches the issuers machine logins
// are verified against. Per-identity settings (OIDC discovery URL,
// Kubernetes host, ...) live in each method's configuration; these are the
// process-wide endpoints, overridable for tests and air-gapped sites.
type AuthIssuers struct {
	// HTTPClient makes every outbound verification call (a CA configured on
	// a method is applied to a clone of its transport). Default: a client
	// with a 10 s timeout.
	HTTPClient *http.Client
	// AWSRegionalSTSEndpoint is where a signed sts:GetCallerIdentity is
	// forwarded; "{region}" is replaced by the region of the signature.
	// Default "https://sts.{region}.amazonaws.com/".
	AWSRegionalSTSEndpoint string
	// GoogleCertsURL is the JWKS of Google ID tokens (default
	// https://www.googleapis.com/oauth2/v3/certs).
	GoogleCertsURL string
	// GoogleIAMMetadataURL is the prefix of service-account x509 metadata
	// (default https://www.googleapis.com/service_accounts/v1/metadata/x509/).
	GoogleIAMMetadataURL string
	// AzureBaseURL serves <base>/<tenant>/discovery/keys (default
	// https://login.microsoftonline.com).
	AzureBaseURL string
	// KeyCacheTTL is how long fetched key sets and discovery documents are
	// reused (default 10 minutes).
	KeyCacheTTL time.Duration
	// LDAPTimeout bounds each LDAP login (default 10 s).
	LDAPTimeout time.Duration
}

// Identifiers of the registry's methods (the authMethod claim, audit event
// names, authMethods[] of identities).
const (
	AuthMethodAWS        = "aws-auth"
	AuthMethodGCP        = "gcp-auth"
	AuthMethodAzure      = "azure-auth"
	AuthMethodKubernetes = "kubernetes-auth"
	AuthMethodOIDC       = "oidc-auth"
	AuthMethodJWT        = "jwt-auth"
	AuthMethodLDAP       = "ldap-auth"
)

// AuthMethodSettings is the method-specific part of an attach or update
// request: *AWSAuthSettings, *GCPAuthSettings, *AzureAuthSettings,
// *KubernetesAuthSettings, *OIDCAuthSettings, *JWTAuthSettings or
// *LDAPAuthSettings. On attach nil fields take defaults; on update they are
// left unchanged.
type AuthMethodSettings interface {
	AuthMethod() string
}

// AuthMethodDetails is a configured login method of an identity: the common
// token settings and the method's own fields (*AWSAuthFields, ...), whose
// JSON names are Infisical's.
type AuthMethodDetails struct {
	AuthMethodConfig
	Method string
	Fields any
}

// MachineLogin is a login request. Which credential fields are used
// depends on Method.
type MachineLogin struct {
	Method           string
	IdentityID       string
	OrganizationSlug string
	// IP and UserAgent of the caller (audit).
	IP        string
	UserAgent string

	// JWT is the token of GCP, Azure, Kubernetes, OIDC and JWT logins.
	JWT string
	// AWS: the signed sts:GetCallerIdentity request as the SDK sends it.
	IAMHTTPRequestMethod string
	IAMRequestBody       string // base64
	IAMRequestHeaders    string // base64 of a JSON object
	// LDAP.
	Username string
	Password string
}

// configOp says which operation a configuration is rendered for; some
// methods leave secrets out of some responses.
type configOp int

const (
	opAttach configOp = iota
	opUpdate
	opGet
	opRevoke
)

// methodState is a stored configuration in clear: the public JSON and the
// JSON of the secret part (sealed with the organization key at rest).
type methodState struct {
	Config []byte
	Secret []byte
}

// loginProof is what a successful verification proved.
type loginProof struct {
	// identityAuth goes into the token's identityAuth claim and
	// Actor.Principal (nil: {}).
	identityAuth map[string]any
	// audit is non-secret detail for the login event.
	audit map[string]any
}

// authMethod is one registered login method.
type authMethod interface {
	// name is the method id ("aws-auth"); slug its short form in event
	// names ("aws") and label its display name ("AWS").
	name() string
	label() string
	// configure validates in and applies it onto st (which holds the
	// defaults on attach).
	configure(in AuthMethodSettings, st *methodState, attach bool) error
	// fields renders st for a response.
	fields(st *methodState, op configOp) any
	// verify checks a login credential.
	verify(ctx context.Context, env *loginEnv, st *methodState, in *MachineLogin) (*loginProof, error)
}

// loginEnv is what verifiers may use.
type loginEnv struct {
	e          *Engine
	issuers    AuthIssuers
	cache      *jwks.Cache
	clients    *fetch.ClientCache
	identityID string
}

// AuthMethodService manages the registry's login methods (auth_methods*.go).
type AuthMethodService struct {
	e       *Engine
	methods map[string]authMethod
	issuers AuthIssuers
	cache   *jwks.Cache
	clients *fetch.ClientCache
}

func newAuthMethodService(e *Engine, issuers AuthIssuers) *AuthMethodService {
	if issuers.KeyCacheTTL <= 0 {
		issuers.KeyCacheTTL = 10 * time.Minute
	}
	if issuers.LDAPTimeout <= 0 {
		issuers.LDAPTimeout = 10 * time.Second
	}
	if issuers.HTTPClient == nil {
		// One client for the process, so that connections to issuers are
		// reused between logins.
		issuers.HTTPClient = &http.Client{Timeout: fetch.DefaultTimeout}
	}
	s := &AuthMethodService{e: e, methods: map[string]authMethod{}, issuers: issuers,
		cache:   jwks.NewCache(jwks.CacheConfig{TTL: issuers.KeyCacheTTL, Now: e.cfg.Now}),
		clients: fetch.NewClientCache(256)}
	for _, m := range registeredAuthMethods() {
		s.methods[m.name()] = m
	}
	return s
}

// Methods lists the registered method ids, sorted.
func (s *AuthMethodService) Methods() []string {
	out := make([]string, 0, len(s.methods))
	for n := range s.methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *AuthMethodService) method(name string) (authMethod, error) {
	m, ok := s.methods[name]
	if !ok {
		return nil, BadRequest("Unknown auth method '%s'", name)
	}
	return m, nil
}

func slugOf(m authMethod) string { return strings.TrimSuffix(m.name(), "-auth") }

// ---- state storage ---------------------------------------------------------

// loadState opens a stored configuration with the organization key.
func (e *Engine) loadState(ctx context.Context, q store.Q, orgID string, row *store.AuthMethod) (*methodState, error) {
	st := &methodState{Config: []byte(row.Config)}
	if len(st.Config) == 0 {
		st.Config = []byte("{}")
	}
	if len(row.EncryptedConfig) > 0 {
		key, err := e.keys.orgKey(ctx, q, orgID)
		if err != nil {
			return nil, Internal("load organization key", err)
		}
		plain, err := key.OpenVersioned(row.EncryptedConfig)
		if err != nil {
			return nil, Internal("decrypt auth method configuration", err)
		}
		st.Secret = plain
	}
	return st, nil
}

// storeState writes st onto row, sealing the secret part.
func (e *Engine) storeState(ctx context.Context, q store.Q, orgID string, row *store.AuthMethod, st *methodState) error {
	row.Config = string(st.Config)
	row.EncryptedConfig = nil
	if len(st.Secret) > 0 && string(st.Secret) != "{}" && string(st.Secret) != "null" {
		key, err := e.keys.orgKey(ctx, q, orgID)
		if err != nil {
			return Internal("load organization key", err)
		}
		blob, err := key.SealVersioned(st.Secret)
		if err != nil {
			return Internal("encrypt auth method configuration", err)
		}
		row.EncryptedConfig = blob
	}
	return nil
}

// homeOrg is the organization whose key seals an identity's method
// secrets: its first organization membership.
// loadMethod loads an identity's configuration of m, its home organization
// and its decrypted state. A method that is not attached is reported as
// store.ErrNotFound itself, for the caller to word.
func (e *Engine) loadMethod(ctx context.Context, q store.Q, identityID string, m authMethod) (*store.AuthMethod, string, *methodState, error) {
	row, err := q.GetAuthMethod(ctx, identityID, m.name())
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil, store.ErrNotFound
	}
	if err != nil {
		return nil, "", nil, Internal("load auth method", err)
	}
	org, err := homeOrg(ctx, q, identityID)
	if err != nil {
		return nil, "", nil, err
	}
	st, err := e.loadState(ctx, q, org, row)
	if err != nil {
		return nil, "", nil, err
	}
	return row, org, st, nil
}

func homeOrg(ctx context.Context, q store.Q, identityID string) (string, error) {
	all, err := q.IdentityOrgMembershipsOf(ctx, identityID)
	if err != nil {
		return "", Internal("load identity memberships", err)
	}
	if len(all) == 0 {
		return "", Unauthorized("Identity does not belong to any organization")
	}
	return all[0].OrgID, nil
}

func (s *AuthMethodService) details(m authMethod, row *store.AuthMethod, st *methodState, op configOp) *AuthMethodDetails {
	return &AuthMethodDetails{AuthMethodConfig: authMethodConfigFromRow(row), Method: m.name(), Fields: m.fields(st, op)}
}

func (s *AuthMethodService) notConfigured(m authMethod) error {
	return NotFound("The identity does not have %s Auth configured", m.label())
}

func tokenSettingsMetadata(row *store.AuthMethod, identityID string) map[string]any {
	return map[string]any{"identityId": identityID, "accessTokenTTL": row.AccessTokenTTL, "accessTokenMaxTTL": row.AccessTokenMax,
		"accessTokenNumUsesLimit": row.NumUsesLimit, "accessTokenPeriod": row.Period,
		"accessTokenTrustedIps": decodeTrustedIPs(row.TrustedIPs)}
}

// ---- attach / get / update / revoke ---------------------------------------

// Attach configures a login method on an identity of the caller's
// organization.
func (s *AuthMethodService) Attach(ctx context.Context, actor Actor, identityID string, common TokenSettings, in AuthMethodSettings) (*AuthMethodDetails, error) {
	e := s.e
	if in == nil {
		return nil, BadRequest("Missing auth method settings")
	}
	m, err := s.method(in.AuthMethod())
	if err != nil {
		return nil, err
	}
	mem, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	row := &store.AuthMethod{Method: m.name(), IdentityID: ident.ID}
	if err := applyTokenSettings(row, common, true); err != nil {
		return nil, err
	}
	st := &methodState{Config: []byte("{}")}
	if err := m.configure(in, st, true); err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		org, err := homeOrg(ctx, q, ident.ID)
		if err != nil {
			return err
		}
		if err := e.storeState(ctx, q, org, row, st); err != nil {
			return err
		}
		now := e.now()
		row.ID, row.CreatedAt, row.UpdatedAt = uuid.NewString(), now, now
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("Failed to add %s Auth to already configured identity", m.label())
			}
			return Internal("store auth method", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "add-identity-" + m.name(), OrgID: mem.OrgID, Metadata: tokenSettingsMetadata(row, ident.ID)})
	})
	if err != nil {
		return nil, err
	}
	return s.details(m, row, st, opAttach), nil
}

// Get returns the configuration of a login method of an identity.
func (s *AuthMethodService) Get(ctx context.Context, actor Actor, identityID, method string) (*AuthMethodDetails, error) {
	e := s.e
	m, err := s.method(method)
	if err != nil {
		return nil, err
	}
	mem, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	row, _, st, err := e.loadMethod(ctx, e.store.Read(), ident.ID, m)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.notConfigured(m)
	}
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-identity-" + m.name(), OrgID: mem.OrgID, Metadata: map[string]any{"identityId": ident.ID}})
	return s.details(m, row, st, opGet), nil
}

// Update changes the token settings and method fields of a configured
// login method in one transaction. Tokens already issued keep the settings
// they were issued with.
func (s *AuthMethodService) Update(ctx context.Context, actor Actor, identityID string, common TokenSettings, in AuthMethodSettings) (*AuthMethodDetails, error) {
	e := s.e
	if in == nil {
		return nil, BadRequest("Missing auth method settings")
	}
	m, err := s.method(in.AuthMethod())
	if err != nil {
		return nil, err
	}
	mem, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	var row *store.AuthMethod
	var st *methodState
	err = e.store.Tx(ctx, func(q store.Q) error {
		var org string
		row, org, st, err = e.loadMethod(ctx, q, ident.ID, m)
		if errors.Is(err, store.ErrNotFound) {
			return s.notConfigured(m)
		}
		if err != nil {
			return err
		}
		if err := applyTokenSettings(row, common, false); err != nil {
			return err
		}
		if err := m.configure(in, st, false); err != nil {
			return err
		}
		if err := e.storeState(ctx, q, org, row, st); err != nil {
			return err
		}
		row.UpdatedAt = e.now()
		if err := q.Update(ctx, row); err != nil {
			return Internal("update auth method", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-identity-" + m.name(), OrgID: mem.OrgID, Metadata: tokenSettingsMetadata(row, ident.ID)})
	})
	if err != nil {
		return nil, err
	}
	return s.details(m, row, st, opUpdate), nil
}

// Revoke removes a login method from an identity and revokes every access
// token issued through it; it returns the removed configuration.
func (s *AuthMethodService) Revoke(ctx context.Context, actor Actor, identityID, method string) (*AuthMethodDetails, error) {
	e := s.e
	m, err := s.method(method)
	if err != nil {
		return nil, err
	}
	mem, ident, err := e.authConfigAccess(ctx, actor, identityID, permission.ActionRevokeAuth)
	if err != nil {
		return nil, err
	}
	var row *store.AuthMethod
	var st *methodState
	err = e.store.Tx(ctx, func(q store.Q) error {
		row, _, st, err = e.loadMethod(ctx, q, ident.ID, m)
		if errors.Is(err, store.ErrNotFound) {
			return s.notConfigured(m)
		}
		if err != nil {
			return err
		}
		if err := e.revokeMethodTokens(ctx, q, row.ID); err != nil {
			return Internal("revoke auth method tokens", err)
		}
		if _, err := q.DeleteLockoutsWithPrefix(ctx, methodLockoutPrefix(m.name(), ident.ID)); err != nil {
			return Internal("delete lockouts", err)
		}
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete auth method", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "revoke-identity-" + m.name(), OrgID: mem.OrgID, Metadata: map[string]any{"identityId": ident.ID}})
	})
	if err != nil {
		return nil, err
	}
	return s.details(m, row, st, opRevoke), nil
}

// methodLockoutPrefix prefixes the login-failure counters of a method of
// an identity (LDAP counts failures per username).
func methodLockoutPrefix(method, identityID string) string {
	return method + ":" + identityID + ":"
}

// ---- login ----------------------------------------------------------------------

// Login verifies a machine credential with the identity's configuration of
// Method and issues an access token that records what was proved.
func (s *AuthMethodService) Login(ctx context.Context, in MachineLogin) (*LoginResult, error) {
	e := s.e
	m, err := s.method(in.Method)
	if err != nil {
		return nil, err
	}
	identityID := strings.TrimSpace(in.IdentityID)
	if identityID == "" {
		return nil, Invalid("identityId", "identityId is required")
	}
	if _, err := uuid.Parse(identityID); err != nil {
		return nil, Invalid("identityId", "Identity ID must be a valid UUID")
	}
	q := e.store.Read()
	row, _, st, err := e.loadMethod(ctx, q, identityID, m)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("%s auth method not found for identity, did you configure %s auth?", m.label(), m.label())
	}
	if err != nil {
		return nil, err
	}
	env := &loginEnv{e: e, issuers: s.issuers, cache: s.cache, clients: s.clients, identityID: identityID}
	proof, err := m.verify(ctx, env, st, &in)
	if err != nil {
		return nil, loginRefusal(e, m, identityID, err)
	}
	// Reads happen before the write transaction so that it holds the
	// (SQLite: single) writer only for the token row and the audit event;
	// a membership removed meanwhile is caught when the token is used.
	mem, err := e.loginOrg(ctx, q, identityID, in.OrganizationSlug)
	if err != nil {
		return nil, err
	}
	ident, err := q.GetIdentity(ctx, identityID)
	if err != nil {
		return nil, Internal("load identity", err)
	}
	var res *LoginResult
	err = e.store.Tx(ctx, func(q store.Q) error {
		r, tok, err := e.issueToken(ctx, q, TokenIssue{IdentityID: ident.ID, IdentityName: ident.Name, OrgID: mem.OrgID,
			Method: row, Principal: proof.identityAuth, IP: in.IP})
		if err != nil {
			return err
		}
		res = r
		meta := map[string]any{"identityId": ident.ID, "identityAccessTokenId": tok.ID, "authMethodId": row.ID}
		for k, v := range proof.audit {
			meta[k] = v
		}
		actor := Actor{Type: ActorIdentity, ID: ident.ID, Name: ident.Name, OrgID: mem.OrgID, AuthMethod: m.name(),
			TokenID: tok.ID, IP: in.IP, UserAgent: in.UserAgent, Principal: proof.identityAuth}
		return e.audit(ctx, q, actor, AuditEvent{Type: "login-identity-" + m.name(), OrgID: mem.OrgID, Metadata: meta})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// loginRefusal maps a verifier refusal to an engine error. The cause is
// logged (it may name an unreachable issuer), never returned.
func loginRefusal(e *Engine, m authMethod, identityID string, err error) error {
	var le *authn.LoginError
	if !errors.As(err, &le) {
		var ee *Error
		if errors.As(err, &ee) {
			return err
		}
		return Internal(m.name()+" login", err)
	}
	e.log.Debug("machine login refused", "method", m.name(), "identityId", identityID, "reason", string(le.Reason), "err", le)
	kind := KindUnauthorized
	switch le.Class {
	case authn.RefusedForbidden:
		kind = KindForbidden
	case authn.RefusedInvalid:
		kind = KindBadRequest
	}
	return &Error{Kind: kind, Name: le.Name, Message: le.Message, Details: map[string]any{"reasonCode": string(le.Reason)}}
}

// ---- helpers for method adapters -------------------------------------------------

// settingsOf returns in as *T (accepting T or *T).
func settingsOf[T any](in AuthMethodSettings) (*T, error) {
	if v, ok := any(in).(*T); ok {
		if v == nil {
			return new(T), nil
		}
		return v, nil
	}
	if v, ok := any(in).(T); ok {
		return &v, nil
	}
	return nil, BadRequest("Settings of type %T do not belong to this auth method", in)
}

// decodeInto decodes stored JSON (empty = zero value).
func decodeInto[T any](raw []byte) T {
	var v T
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &v)
	}
	return v
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode auth method state: %v", err))
	}
	return b
}

// normList trims the entries of a comma-separated list, drops empty ones and
// joins them with ", " as upstream stores them.
func normList(s string) string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// splitList splits a stored comma-separated list.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// httpClient is the base client of outbound verification calls.
func (env *loginEnv) httpClient() *http.Client { return env.issuers.HTTPClient }

// Environment variables read by AuthIssuersFromEnv.
const (
	EnvAuthAWSSTSEndpoint    = "INFISICAL_AUTH_AWS_STS_ENDPOINT"     // e.g. https://sts.{region}.amazonaws.com/
	EnvAuthGCPCertsURL       = "INFISICAL_AUTH_GCP_CERTS_URL"        // Google ID-token JWKS
	EnvAuthGCPIAMMetadataURL = "INFISICAL_AUTH_GCP_IAM_METADATA_URL" // prefix of service-account x509 metadata
	EnvAuthAzureLoginURL     = "INFISICAL_AUTH_AZURE_LOGIN_URL"      // replaces https://login.microsoftonline.com
	EnvAuthKeyCacheTTL       = "INFISICAL_AUTH_KEY_CACHE_TTL"        // Go duration, e.g. 10m
	EnvAuthLDAPTimeout       = "INFISICAL_AUTH_LDAP_TIMEOUT"         // Go duration, e.g. 10s
)

// AuthIssuersFromEnv reads the issuer endpoints from the environment (the
// server command passes os.LookupEnv), so that air-gapped sites can point
// logins at their own STS, Google or Entra ID mirrors. Unset variables keep
// the defaults; an unparsable duration is an error naming the variable.
func AuthIssuersFromEnv(lookup func(string) (string, bool)) (AuthIssuers, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	out := AuthIssuers{AWSRegionalSTSEndpoint: get(EnvAuthAWSSTSEndpoint), GoogleCertsURL: get(EnvAuthGCPCertsURL),
		GoogleIAMMetadataURL: get(EnvAuthGCPIAMMetadataURL), AzureBaseURL: get(EnvAuthAzureLoginURL)}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{EnvAuthKeyCacheTTL, &out.KeyCacheTTL}, {EnvAuthLDAPTimeout, &out.LDAPTimeout}} {
		if v := get(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				return AuthIssuers{}, fmt.Errorf("%s: %q is not a positive duration", d.name, v)
			}
			*d.dst = dur
		}
	}
	return out, nil
}
