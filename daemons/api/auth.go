package api

import (
	"mime"
	"net/http"
	"strings"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical"
)

// Routes of machine-identity authentication: universal auth, token auth and
// the token renew/revoke endpoints (spec §7.1–7.5).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerAuthRoutes) }

func (s *Server) registerAuthRoutes() {
	const tag = "Auth"
	s.handle(http.MethodPost, "/api/v1/auth/token/renew", authNone, tag, "Renew an identity access token", s.renewToken)
	s.handle(http.MethodPost, "/api/v1/auth/token/revoke", authNone, tag, "Revoke an identity access token", s.revokeToken)

	const ua = "Universal Auth"
	uaBase := "/api/v1/auth/universal-auth/identities/{identityId}"
	s.handle(http.MethodPost, "/api/v1/auth/universal-auth/login", authNone, ua, "Log in with a client id and client secret", s.universalAuthLogin)
	s.handle(http.MethodPost, uaBase, authUI, ua, "Attach universal auth to an identity", s.attachUniversalAuth)
	s.handle(http.MethodPatch, uaBase, authUI, ua, "Update universal auth of an identity", s.updateUniversalAuth)
	s.handle(http.MethodGet, uaBase, authUI, ua, "Get universal auth of an identity", s.getUniversalAuth)
	s.handle(http.MethodDelete, uaBase, authUI, ua, "Remove universal auth from an identity", s.revokeUniversalAuth)
	s.handle(http.MethodPost, uaBase+"/client-secrets", authUI, ua, "Create a client secret", s.createClientSecret)
	s.handle(http.MethodGet, uaBase+"/client-secrets", authUI, ua, "List client secrets", s.listClientSecrets)
	s.handle(http.MethodGet, uaBase+"/client-secrets/{clientSecretId}", authUI, ua, "Get a client secret", s.getClientSecret)
	s.handle(http.MethodPost, uaBase+"/client-secrets/{clientSecretId}/revoke", authUI, ua, "Revoke a client secret", s.revokeClientSecret)
	s.handle(http.MethodPost, uaBase+"/clear-lockouts", authUI, ua, "Clear universal-auth lockouts", s.clearLockouts)

	const tk = "Token Auth"
	tkBase := "/api/v1/auth/token-auth/identities/{identityId}"
	s.handle(http.MethodPost, tkBase, authUI, tk, "Attach token auth to an identity", s.attachTokenAuth)
	s.handle(http.MethodPatch, tkBase, authUI, tk, "Update token auth of an identity", s.updateTokenAuth)
	s.handle(http.MethodGet, tkBase, authUI, tk, "Get token auth of an identity", s.getTokenAuth)
	s.handle(http.MethodDelete, tkBase, authUI, tk, "Remove token auth from an identity", s.revokeTokenAuth)
	s.handle(http.MethodPost, tkBase+"/tokens", authUI, tk, "Create an access token", s.createTokenAuthToken)
	s.handle(http.MethodGet, tkBase+"/tokens", authUI, tk, "List access tokens", s.listTokenAuthTokens)
	s.handle(http.MethodGet, tkBase+"/tokens/{tokenId}", authUI, tk, "Get an access token (deprecated)", s.getIdentityTokenAuthToken)
	s.handle(http.MethodGet, "/api/v1/auth/token-auth/tokens/{tokenId}", authUI, tk, "Get an access token", s.getTokenAuthToken)
	s.handle(http.MethodPatch, "/api/v1/auth/token-auth/tokens/{tokenId}", authUI, tk, "Rename an access token", s.updateTokenAuthToken)
	s.handle(http.MethodPost, "/api/v1/auth/token-auth/tokens/{tokenId}/revoke", authUI, tk, "Revoke an access token", s.revokeTokenAuthToken)
}

// ---- shapes ----------------------------------------------------------------------

type loginResponse struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

func toLoginResponse(r *infisical.LoginResult) loginResponse {
	return loginResponse{AccessToken: r.AccessToken, ExpiresIn: r.ExpiresIn, AccessTokenMaxTTL: r.AccessTokenMaxTTL, TokenType: r.TokenType}
}

// authMethodJSON holds the columns every auth-method row has (§3.10).
type authMethodJSON struct {
	ID                      string            `json:"id"`
	IdentityID              string            `json:"identityId"`
	AccessTokenTTL          int64             `json:"accessTokenTTL"`
	AccessTokenMaxTTL       int64             `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit int64             `json:"accessTokenNumUsesLimit"`
	AccessTokenTrustedIPs   []authn.TrustedIP `json:"accessTokenTrustedIps"`
	AccessTokenPeriod       int64             `json:"accessTokenPeriod"`
	CreatedAt               isoTime           `json:"createdAt"`
	UpdatedAt               isoTime           `json:"updatedAt"`
}

func toAuthMethodJSON(c *infisical.AuthMethodConfig) authMethodJSON {
	ips := c.AccessTokenTrustedIPs
	if ips == nil {
		ips = []authn.TrustedIP{}
	}
	return authMethodJSON{ID: c.ID, IdentityID: c.IdentityID, AccessTokenTTL: c.AccessTokenTTL, AccessTokenMaxTTL: c.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit: c.AccessTokenNumUsesLimit, AccessTokenTrustedIPs: ips, AccessTokenPeriod: c.AccessTokenPeriod,
		CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt)}
}

type universalAuthJSON struct {
	authMethodJSON
	ClientID                   string            `json:"clientId"`
	ClientSecretTrustedIPs     []authn.TrustedIP `json:"clientSecretTrustedIps"`
	LockoutEnabled             bool              `json:"lockoutEnabled"`
	LockoutThreshold           int               `json:"lockoutThreshold"`
	LockoutDurationSeconds     int               `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int               `json:"lockoutCounterResetSeconds"`
}

func toUniversalAuthJSON(c *infisical.UniversalAuthConfig) map[string]any {
	ips := c.ClientSecretTrustedIPs
	if ips == nil {
		ips = []authn.TrustedIP{}
	}
	return map[string]any{"identityUniversalAuth": universalAuthJSON{authMethodJSON: toAuthMethodJSON(&c.AuthMethodConfig), ClientID: c.ClientID,
		ClientSecretTrustedIPs: ips, LockoutEnabled: c.LockoutEnabled, LockoutThreshold: c.LockoutThreshold,
		LockoutDurationSeconds: c.LockoutDurationSeconds, LockoutCounterResetSeconds: c.LockoutCounterResetSeconds}}
}

func toTokenAuthJSON(c *infisical.TokenAuthConfig) map[string]any {
	return map[string]any{"identityTokenAuth": toAuthMethodJSON(&c.AuthMethodConfig)}
}

// clientSecretJSON is a sanitized client secret (§3.12).
type clientSecretJSON struct {
	ID                       string  `json:"id"`
	CreatedAt                isoTime `json:"createdAt"`
	UpdatedAt                isoTime `json:"updatedAt"`
	Description              string  `json:"description"`
	ClientSecretPrefix       string  `json:"clientSecretPrefix"`
	ClientSecretNumUses      int64   `json:"clientSecretNumUses"`
	ClientSecretNumUsesLimit int64   `json:"clientSecretNumUsesLimit"`
	ClientSecretTTL          int64   `json:"clientSecretTTL"`
	IdentityUAID             string  `json:"identityUAId"`
	IsClientSecretRevoked    bool    `json:"isClientSecretRevoked"`
}

func toClientSecretJSON(c *infisical.ClientSecret) clientSecretJSON {
	return clientSecretJSON{ID: c.ID, CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt), Description: c.Description,
		ClientSecretPrefix: c.Prefix, ClientSecretNumUses: c.NumUses, ClientSecretNumUsesLimit: c.NumUsesLimit,
		ClientSecretTTL: c.TTL, IdentityUAID: c.AuthMethodID, IsClientSecretRevoked: c.IsRevoked}
}

// accessTokenJSON is an identity access-token row (§3.11).
type accessTokenJSON struct {
	ID                       string   `json:"id"`
	AccessTokenTTL           int64    `json:"accessTokenTTL"`
	AccessTokenMaxTTL        int64    `json:"accessTokenMaxTTL"`
	AccessTokenNumUses       int64    `json:"accessTokenNumUses"`
	AccessTokenNumUsesLimit  int64    `json:"accessTokenNumUsesLimit"`
	AccessTokenLastUsedAt    *isoTime `json:"accessTokenLastUsedAt"`
	AccessTokenLastRenewedAt *isoTime `json:"accessTokenLastRenewedAt"`
	IsAccessTokenRevoked     bool     `json:"isAccessTokenRevoked"`
	IdentityUAClientSecretID *string  `json:"identityUAClientSecretId"`
	IdentityID               string   `json:"identityId"`
	CreatedAt                isoTime  `json:"createdAt"`
	UpdatedAt                isoTime  `json:"updatedAt"`
	Name                     *string  `json:"name"`
	AuthMethod               string   `json:"authMethod"`
	AccessTokenPeriod        int64    `json:"accessTokenPeriod"`
	SubOrganizationID        *string  `json:"subOrganizationId"`
}

func toAccessTokenJSON(t *infisical.AccessToken) accessTokenJSON {
	return accessTokenJSON{ID: t.ID, AccessTokenTTL: t.AccessTokenTTL, AccessTokenMaxTTL: t.AccessTokenMaxTTL, AccessTokenNumUses: t.AccessTokenNumUses,
		AccessTokenNumUsesLimit: t.AccessTokenNumUsesLimit, AccessTokenLastUsedAt: tsp(t.AccessTokenLastUsedAt),
		AccessTokenLastRenewedAt: tsp(t.AccessTokenLastRenewed), IsAccessTokenRevoked: t.IsAccessTokenRevoked,
		IdentityUAClientSecretID: t.ClientSecretID, IdentityID: t.IdentityID, CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt),
		Name: t.Name, AuthMethod: t.AuthMethod, AccessTokenPeriod: t.AccessTokenPeriod}
}

// ---- bodies ------------------------------------------------------------------------

type trustedIPBody struct {
	IPAddress string `json:"ipAddress"`
}

// ipList turns [{ipAddress}] into strings; nil stays nil (absent).
func ipList(in *[]trustedIPBody) []string {
	if in == nil {
		return nil
	}
	out := make([]string, 0, len(*in))
	for _, e := range *in {
		out = append(out, e.IPAddress)
	}
	return out
}

// tokenSettingsBody holds the common attach/update fields.
type tokenSettingsBody struct {
	AccessTokenTTL          *int64           `json:"accessTokenTTL"`
	AccessTokenMaxTTL       *int64           `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit *int64           `json:"accessTokenNumUsesLimit"`
	AccessTokenPeriod       *int64           `json:"accessTokenPeriod"`
	AccessTokenTrustedIPs   *[]trustedIPBody `json:"accessTokenTrustedIps"`
}

func (b tokenSettingsBody) settings() infisical.TokenSettings {
	return infisical.TokenSettings{AccessTokenTTL: b.AccessTokenTTL, AccessTokenMaxTTL: b.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit: b.AccessTokenNumUsesLimit, AccessTokenPeriod: b.AccessTokenPeriod,
		AccessTokenTrustedIPs: ipList(b.AccessTokenTrustedIPs)}
}

// universalAuthBody repeats the common fields instead of embedding
// tokenSettingsBody so that type errors name the plain field.
type universalAuthBody struct {
	AccessTokenTTL             *int64           `json:"accessTokenTTL"`
	AccessTokenMaxTTL          *int64           `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit    *int64           `json:"accessTokenNumUsesLimit"`
	AccessTokenPeriod          *int64           `json:"accessTokenPeriod"`
	AccessTokenTrustedIPs      *[]trustedIPBody `json:"accessTokenTrustedIps"`
	ClientSecretTrustedIPs     *[]trustedIPBody `json:"clientSecretTrustedIps"`
	LockoutEnabled             *bool            `json:"lockoutEnabled"`
	LockoutThreshold           *int             `json:"lockoutThreshold"`
	LockoutDurationSeconds     *int             `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds *int             `json:"lockoutCounterResetSeconds"`
}

func (b universalAuthBody) settings() infisical.UniversalAuthSettings {
	common := tokenSettingsBody{AccessTokenTTL: b.AccessTokenTTL, AccessTokenMaxTTL: b.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit: b.AccessTokenNumUsesLimit, AccessTokenPeriod: b.AccessTokenPeriod, AccessTokenTrustedIPs: b.AccessTokenTrustedIPs}
	return infisical.UniversalAuthSettings{TokenSettings: common.settings(), ClientSecretTrustedIPs: ipList(b.ClientSecretTrustedIPs),
		LockoutEnabled: b.LockoutEnabled, LockoutThreshold: b.LockoutThreshold, LockoutDurationSeconds: b.LockoutDurationSeconds,
		LockoutCounterResetSeconds: b.LockoutCounterResetSeconds}
}

// ---- renew / revoke ---------------------------------------------------------------

type accessTokenBody struct {
	AccessToken string `json:"accessToken"`
}

func (rq *request) decodeAccessToken() (string, error) {
	var b accessTokenBody
	if err := rq.decode(&b); err != nil {
		return "", err
	}
	if strings.TrimSpace(b.AccessToken) == "" {
		return "", infisical.Invalid("accessToken", "accessToken is required")
	}
	return b.AccessToken, nil
}

func (s *Server) renewToken(rq *request) (any, error) {
	tok, err := rq.decodeAccessToken()
	if err != nil {
		return nil, err
	}
	res, err := s.eng.RenewToken(rq.ctx(), tok)
	if err != nil {
		return nil, err
	}
	return toLoginResponse(res), nil
}

func (s *Server) revokeToken(rq *request) (any, error) {
	tok, err := rq.decodeAccessToken()
	if err != nil {
		return nil, err
	}
	if err := s.eng.RevokeToken(rq.ctx(), tok); err != nil {
		return nil, err
	}
	return map[string]string{"message": "Successfully revoked access token"}, nil
}

// ---- universal auth ----------------------------------------------------------------

type uaLoginBody struct {
	ClientID            string `json:"clientId"`
	ClientSecret        string `json:"clientSecret"`
	OrganizationSlug    string `json:"organizationSlug"`
	SubOrganizationName string `json:"subOrganizationName"`
}

// decodeLogin reads a login body as JSON or, as upstream also accepts, as
// an URL-encoded form.
func (rq *request) decodeLogin(b *uaLoginBody) error {
	if ct, _, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if err := rq.r.ParseForm(); err != nil {
			return infisical.BadRequest("Request body is not a valid form")
		}
		f := rq.r.PostForm
		b.ClientID, b.ClientSecret = f.Get("clientId"), f.Get("clientSecret")
		b.OrganizationSlug, b.SubOrganizationName = f.Get("organizationSlug"), f.Get("subOrganizationName")
		return nil
	}
	return rq.decode(b)
}

func (s *Server) universalAuthLogin(rq *request) (any, error) {
	var b uaLoginBody
	if err := rq.decodeLogin(&b); err != nil {
		return nil, err
	}
	res, err := s.eng.UniversalAuth.Login(rq.ctx(), infisical.UniversalAuthLoginInput{ClientID: b.ClientID, ClientSecret: b.ClientSecret,
		OrganizationSlug: firstNonEmpty(b.OrganizationSlug, b.SubOrganizationName), IP: rq.clientIP(), UserAgent: rq.r.UserAgent()})
	if err != nil {
		return nil, err
	}
	return toLoginResponse(res), nil
}

func (s *Server) attachUniversalAuth(rq *request) (any, error) {
	var b universalAuthBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	c, err := s.eng.UniversalAuth.Attach(rq.ctx(), rq.actor, rq.path("identityId"), b.settings())
	if err != nil {
		return nil, err
	}
	return toUniversalAuthJSON(c), nil
}

func (s *Server) updateUniversalAuth(rq *request) (any, error) {
	var b universalAuthBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	c, err := s.eng.UniversalAuth.Update(rq.ctx(), rq.actor, rq.path("identityId"), b.settings())
	if err != nil {
		return nil, err
	}
	return toUniversalAuthJSON(c), nil
}

func (s *Server) getUniversalAuth(rq *request) (any, error) {
	c, err := s.eng.UniversalAuth.Get(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return toUniversalAuthJSON(c), nil
}

func (s *Server) revokeUniversalAuth(rq *request) (any, error) {
	c, err := s.eng.UniversalAuth.Revoke(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return toUniversalAuthJSON(c), nil
}

type createClientSecretBody struct {
	Description  string `json:"description"`
	NumUsesLimit int64  `json:"numUsesLimit"`
	TTL          int64  `json:"ttl"`
}

func (s *Server) createClientSecret(rq *request) (any, error) {
	var b createClientSecretBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	cs, err := s.eng.UniversalAuth.CreateClientSecret(rq.ctx(), rq.actor, rq.path("identityId"), infisical.CreateClientSecretInput{
		Description: b.Description, NumUsesLimit: b.NumUsesLimit, TTL: b.TTL})
	if err != nil {
		return nil, err
	}
	return map[string]any{"clientSecret": cs.Secret, "clientSecretData": toClientSecretJSON(&cs.Data)}, nil
}

func (s *Server) listClientSecrets(rq *request) (any, error) {
	list, err := s.eng.UniversalAuth.ListClientSecrets(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	out := make([]clientSecretJSON, 0, len(list))
	for i := range list {
		out = append(out, toClientSecretJSON(&list[i]))
	}
	return map[string]any{"clientSecretData": out}, nil
}

func (s *Server) getClientSecret(rq *request) (any, error) {
	cs, err := s.eng.UniversalAuth.GetClientSecret(rq.ctx(), rq.actor, rq.path("identityId"), rq.path("clientSecretId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"clientSecretData": toClientSecretJSON(cs)}, nil
}

func (s *Server) revokeClientSecret(rq *request) (any, error) {
	cs, err := s.eng.UniversalAuth.RevokeClientSecret(rq.ctx(), rq.actor, rq.path("identityId"), rq.path("clientSecretId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"clientSecretData": toClientSecretJSON(cs)}, nil
}

func (s *Server) clearLockouts(rq *request) (any, error) {
	n, err := s.eng.UniversalAuth.ClearLockouts(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]int{"deleted": n}, nil
}

// ---- token auth --------------------------------------------------------------------

func (s *Server) attachTokenAuth(rq *request) (any, error) {
	var b tokenSettingsBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	c, err := s.eng.TokenAuth.Attach(rq.ctx(), rq.actor, rq.path("identityId"), b.settings())
	if err != nil {
		return nil, err
	}
	return toTokenAuthJSON(c), nil
}

func (s *Server) updateTokenAuth(rq *request) (any, error) {
	var b tokenSettingsBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	c, err := s.eng.TokenAuth.Update(rq.ctx(), rq.actor, rq.path("identityId"), b.settings())
	if err != nil {
		return nil, err
	}
	return toTokenAuthJSON(c), nil
}

func (s *Server) getTokenAuth(rq *request) (any, error) {
	c, err := s.eng.TokenAuth.Get(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return toTokenAuthJSON(c), nil
}

func (s *Server) revokeTokenAuth(rq *request) (any, error) {
	c, err := s.eng.TokenAuth.Revoke(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return toTokenAuthJSON(c), nil
}

type createTokenBody struct {
	Name             string `json:"name"`
	OrganizationSlug string `json:"organizationSlug"`
}

type createdTokenJSON struct {
	loginResponse
	TokenData accessTokenJSON `json:"tokenData"`
}

func (s *Server) createTokenAuthToken(rq *request) (any, error) {
	var b createTokenBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	t, err := s.eng.TokenAuth.CreateToken(rq.ctx(), rq.actor, rq.path("identityId"), infisical.CreateTokenInput{Name: b.Name, OrganizationSlug: b.OrganizationSlug})
	if err != nil {
		return nil, err
	}
	return createdTokenJSON{loginResponse: toLoginResponse(&t.LoginResult), TokenData: toAccessTokenJSON(&t.Token)}, nil
}

func (s *Server) listTokenAuthTokens(rq *request) (any, error) {
	offset, err := rq.qint("offset", 0, 0, 100)
	if err != nil {
		return nil, err
	}
	limit, err := rq.qint("limit", 20, 1, 100)
	if err != nil {
		return nil, err
	}
	list, err := s.eng.TokenAuth.ListTokens(rq.ctx(), rq.actor, rq.path("identityId"), offset, limit)
	if err != nil {
		return nil, err
	}
	out := make([]accessTokenJSON, 0, len(list))
	for i := range list {
		out = append(out, toAccessTokenJSON(&list[i]))
	}
	return map[string]any{"tokens": out}, nil
}

func (s *Server) getTokenAuthToken(rq *request) (any, error) {
	t, err := s.eng.TokenAuth.GetToken(rq.ctx(), rq.actor, rq.path("tokenId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": toAccessTokenJSON(t)}, nil
}

func (s *Server) getIdentityTokenAuthToken(rq *request) (any, error) {
	t, err := s.eng.TokenAuth.GetIdentityToken(rq.ctx(), rq.actor, rq.path("identityId"), rq.path("tokenId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": toAccessTokenJSON(t)}, nil
}

type updateTokenBody struct {
	Name *string `json:"name"`
}

func (s *Server) updateTokenAuthToken(rq *request) (any, error) {
	var b updateTokenBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	t, err := s.eng.TokenAuth.UpdateToken(rq.ctx(), rq.actor, rq.path("tokenId"), b.Name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": toAccessTokenJSON(t)}, nil
}

func (s *Server) revokeTokenAuthToken(rq *request) (any, error) {
	if err := s.eng.TokenAuth.RevokeToken(rq.ctx(), rq.actor, rq.path("tokenId")); err != nil {
		return nil, err
	}
	return map[string]string{"message": "Successfully revoked access token"}, nil
}
