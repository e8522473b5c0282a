package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

type loginJSON struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

func TestUniversalAuthRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		admin := boot.AdminToken
		var ident struct {
			Identity struct{ ID string } `json:"identity"`
		}
		ts.must("POST", "/api/v1/identities", admin, map[string]any{"name": "svc", "organizationId": boot.OrgID}, &ident)
		id := ident.Identity.ID
		uaPath := "/api/v1/auth/universal-auth/identities/" + id

		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"ttl > max", map[string]any{"accessTokenTTL": 100, "accessTokenMaxTTL": 10}, "accessTokenTTL"},
			{"ttl too large", map[string]any{"accessTokenTTL": 315360001}, "accessTokenTTL"},
			{"ttl string", map[string]any{"accessTokenTTL": "100"}, "accessTokenTTL"},
			{"bad ip", map[string]any{"accessTokenTrustedIps": []map[string]string{{"ipAddress": "300.1.1.1"}}}, "accessTokenTrustedIps"},
			{"no secret ips", map[string]any{"clientSecretTrustedIps": []any{}}, "clientSecretTrustedIps"},
			{"threshold", map[string]any{"lockoutThreshold": 0}, "lockoutThreshold"},
		} {
			code, raw, _ := ts.do("POST", uaPath, admin, tc.body)
			idWantError(t, tc.name, code, raw, 422, "ValidationFailure", tc.field)
		}
		code, raw, _ := ts.do("POST", uaPath, admin, map[string]any{"accessTokenTTL": 100, "accessTokenMaxTTL": 10})
		if !strings.Contains(string(raw), "Access Token TTL cannot be greater than Access Token Max TTL.") {
			t.Fatalf("ttl message: %d %s", code, raw)
		}

		var attached struct {
			UA json.RawMessage `json:"identityUniversalAuth"`
		}
		ts.must("POST", uaPath, admin, map[string]any{"accessTokenTTL": 600, "accessTokenMaxTTL": 1200, "lockoutThreshold": 2}, &attached)
		if k := idKeys(t, attached.UA); k != "accessTokenMaxTTL,accessTokenNumUsesLimit,accessTokenPeriod,accessTokenTTL,accessTokenTrustedIps,clientId,clientSecretTrustedIps,createdAt,id,identityId,lockoutCounterResetSeconds,lockoutDurationSeconds,lockoutEnabled,lockoutThreshold,updatedAt" {
			t.Fatalf("ua keys %s", k)
		}
		var ua struct {
			ClientID              string `json:"clientId"`
			AccessTokenTTL        int64  `json:"accessTokenTTL"`
			AccessTokenTrustedIps []struct {
				IPAddress string `json:"ipAddress"`
				Type      string `json:"type"`
				Prefix    *int   `json:"prefix"`
			} `json:"accessTokenTrustedIps"`
		}
		_ = json.Unmarshal(attached.UA, &ua)
		if ua.ClientID == "" || ua.AccessTokenTTL != 600 || len(ua.AccessTokenTrustedIps) != 2 || ua.AccessTokenTrustedIps[0].IPAddress != "0.0.0.0" ||
			ua.AccessTokenTrustedIps[0].Prefix == nil || *ua.AccessTokenTrustedIps[0].Prefix != 0 || ua.AccessTokenTrustedIps[1].Type != "ipv6" {
			t.Fatalf("attached %s", attached.UA)
		}
		code, raw, _ = ts.do("POST", uaPath, admin, map[string]any{})
		idWantError(t, "attach twice", code, raw, 400, "BadRequest", "")
		ts.must("GET", uaPath, admin, nil, &attached)
		ts.must("PATCH", uaPath, admin, map[string]any{"accessTokenNumUsesLimit": 0}, &attached)

		var cs struct {
			ClientSecret     string          `json:"clientSecret"`
			ClientSecretData json.RawMessage `json:"clientSecretData"`
		}
		ts.must("POST", uaPath+"/client-secrets", admin, map[string]any{"description": "deploy", "numUsesLimit": 0, "ttl": 0}, &cs)
		if len(cs.ClientSecret) != 64 {
			t.Fatalf("client secret length %d", len(cs.ClientSecret))
		}
		if k := idKeys(t, cs.ClientSecretData); k != "clientSecretNumUses,clientSecretNumUsesLimit,clientSecretPrefix,clientSecretTTL,createdAt,description,id,identityUAId,isClientSecretRevoked,updatedAt" {
			t.Fatalf("client secret keys %s", k)
		}
		if strings.Contains(string(cs.ClientSecretData), cs.ClientSecret) {
			t.Fatal("client secret data contains the secret")
		}
		var csd struct {
			ID     string `json:"id"`
			Prefix string `json:"clientSecretPrefix"`
		}
		_ = json.Unmarshal(cs.ClientSecretData, &csd)
		if csd.Prefix != cs.ClientSecret[:4] {
			t.Fatalf("prefix %q", csd.Prefix)
		}
		code, raw, _ = ts.do("POST", uaPath+"/client-secrets", admin, map[string]any{"numUsesLimit": -1})
		idWantError(t, "negative uses", code, raw, 422, "ValidationFailure", "numUsesLimit")

		// Login: JSON, trailing slash, form body.
		var login loginJSON
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret}, &login)
		if login.TokenType != "Bearer" || login.ExpiresIn != 600 || login.AccessTokenMaxTTL != 1200 || login.AccessToken == "" {
			t.Fatalf("login %+v", login)
		}
		ts.must("POST", "/api/v1/auth/universal-auth/login/", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret,
			"organizationSlug": ""}, &login)
		form := url.Values{"clientId": {ua.ClientID}, "clientSecret": {cs.ClientSecret}}
		resp, err := http.Post(ts.srv.URL+"/api/v1/auth/universal-auth/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("form login: %d", resp.StatusCode)
		}
		var det struct {
			IdentityDetails struct {
				Organization struct{ ID string } `json:"organization"`
			} `json:"identityDetails"`
		}
		ts.must("GET", "/api/v1/identities/details", login.AccessToken, nil, &det)
		if det.IdentityDetails.Organization.ID != boot.OrgID {
			t.Fatalf("details %+v", det)
		}

		code, raw, _ = ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID})
		idWantError(t, "no secret", code, raw, 422, "ValidationFailure", "clientSecret")
		code, raw, _ = ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": strings.Repeat("a", 64)})
		idWantError(t, "wrong secret", code, raw, 401, "UnauthorizedError", "")
		if !strings.Contains(string(raw), "Invalid credentials") {
			t.Fatalf("wrong secret message %s", raw)
		}
		code, raw, _ = ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": strings.Repeat("b", 64)})
		idWantError(t, "wrong secret twice", code, raw, 401, "UnauthorizedError", "")
		code, raw, _ = ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret})
		idWantError(t, "locked", code, raw, 401, "UnauthorizedError", "")
		if !strings.Contains(string(raw), "This identity auth method is temporarily locked, please try again later") {
			t.Fatalf("lock message %s", raw)
		}
		var cleared struct {
			Deleted int `json:"deleted"`
		}
		ts.must("POST", uaPath+"/clear-lockouts", admin, nil, &cleared)
		if cleared.Deleted != 1 {
			t.Fatalf("cleared %d", cleared.Deleted)
		}
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret}, &login)
		code, raw, _ = ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret, "organizationSlug": "nope"})
		idWantError(t, "unknown org slug", code, raw, 404, "NotFound", "")

		// Renew and revoke need no Authorization header.
		var renewed loginJSON
		ts.must("POST", "/api/v1/auth/token/renew", "", map[string]string{"accessToken": login.AccessToken}, &renewed)
		if renewed.AccessToken == "" || renewed.ExpiresIn <= 0 || renewed.TokenType != "Bearer" {
			t.Fatalf("renew %+v", renewed)
		}
		code, raw, _ = ts.do("POST", "/api/v1/auth/token/renew", "", map[string]string{})
		idWantError(t, "renew without token", code, raw, 422, "ValidationFailure", "accessToken")
		code, raw, _ = ts.do("POST", "/api/v1/auth/token/renew", "", map[string]string{"accessToken": "garbage"})
		idWantError(t, "renew garbage", code, raw, 401, "UnauthorizedError", "")
		var msg struct {
			Message string `json:"message"`
		}
		ts.must("POST", "/api/v1/auth/token/revoke", "", map[string]string{"accessToken": renewed.AccessToken}, &msg)
		if msg.Message != "Successfully revoked access token" {
			t.Fatalf("revoke %+v", msg)
		}
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", renewed.AccessToken, nil)
		idWantError(t, "revoked token", code, raw, 401, "UnauthorizedError", "")
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", login.AccessToken, nil)
		idWantError(t, "revoked token (old jwt, same id)", code, raw, 401, "UnauthorizedError", "")

		// Client secrets: list, get, revoke.
		var secrets struct {
			ClientSecretData []struct {
				ID      string `json:"id"`
				NumUses int64  `json:"clientSecretNumUses"`
			} `json:"clientSecretData"`
		}
		ts.must("GET", uaPath+"/client-secrets", admin, nil, &secrets)
		if len(secrets.ClientSecretData) != 1 || secrets.ClientSecretData[0].NumUses != 4 {
			t.Fatalf("secrets %+v", secrets)
		}
		var one struct {
			ClientSecretData struct {
				ID      string `json:"id"`
				Revoked bool   `json:"isClientSecretRevoked"`
			} `json:"clientSecretData"`
		}
		ts.must("GET", uaPath+"/client-secrets/"+csd.ID, admin, nil, &one)
		ts.must("POST", uaPath+"/client-secrets/"+csd.ID+"/revoke", admin, nil, &one)
		if !one.ClientSecretData.Revoked {
			t.Fatalf("revoked %+v", one)
		}
		code, raw, _ = ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret})
		idWantError(t, "revoked secret", code, raw, 401, "UnauthorizedError", "")
		code, raw, _ = ts.do("GET", uaPath+"/client-secrets/00000000-0000-0000-0000-000000000000", admin, nil)
		idWantError(t, "unknown secret", code, raw, 404, "NotFound", "")

		// Removing the config revokes tokens issued through it.
		ts.must("POST", uaPath+"/client-secrets", admin, nil, &cs)
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": ua.ClientID, "clientSecret": cs.ClientSecret}, &login)
		ts.must("GET", "/api/v1/identities/details", login.AccessToken, nil, nil)
		ts.must("DELETE", uaPath, admin, nil, &attached)
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", login.AccessToken, nil)
		idWantError(t, "token of removed config", code, raw, 401, "UnauthorizedError", "")
		code, raw, _ = ts.do("GET", uaPath, admin, nil)
		idWantError(t, "get removed", code, raw, 404, "NotFound", "")
	})
}

// TestTrustedIPRoutes: the test client connects from 127.0.0.1.
func TestTrustedIPRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		_, clientID, secret := ts.uaIdentity(boot.AdminToken, boot.OrgID, "fenced", "", "", map[string]any{
			"clientSecretTrustedIps": []map[string]string{{"ipAddress": "10.0.0.0/8"}}})
		code, raw, _ := ts.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": secret})
		idWantError(t, "client secret from 127.0.0.1", code, raw, 403, "ForbiddenError", "")

		_, clientID, secret = ts.uaIdentity(boot.AdminToken, boot.OrgID, "token-fenced", "", "", map[string]any{
			"accessTokenTrustedIps": []map[string]string{{"ipAddress": "10.0.0.0/8"}, {"ipAddress": "192.168.1.1"}}})
		var login loginJSON
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": secret}, &login)
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", login.AccessToken, nil)
		idWantError(t, "access token from 127.0.0.1", code, raw, 403, "ForbiddenError", "")
	})
}

func TestTokenAuthRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		admin := boot.AdminToken
		var ident struct {
			Identity struct{ ID string } `json:"identity"`
		}
		ts.must("POST", "/api/v1/identities", admin, map[string]any{"name": "bot", "organizationId": boot.OrgID, "role": "member"}, &ident)
		id := ident.Identity.ID
		base := "/api/v1/auth/token-auth/identities/" + id

		code, raw, _ := ts.do("POST", base+"/tokens", admin, map[string]any{})
		idWantError(t, "token without config", code, raw, 404, "NotFound", "")
		var cfg struct {
			TokenAuth json.RawMessage `json:"identityTokenAuth"`
		}
		ts.must("POST", base, admin, map[string]any{"accessTokenTTL": 3600, "accessTokenNumUsesLimit": 3}, &cfg)
		if k := idKeys(t, cfg.TokenAuth); k != "accessTokenMaxTTL,accessTokenNumUsesLimit,accessTokenPeriod,accessTokenTTL,accessTokenTrustedIps,createdAt,id,identityId,updatedAt" {
			t.Fatalf("token auth keys %s", k)
		}
		ts.must("PATCH", base, admin, map[string]any{"accessTokenNumUsesLimit": 2}, &cfg)
		ts.must("GET", base, admin, nil, &cfg)
		if !strings.Contains(string(cfg.TokenAuth), `"accessTokenNumUsesLimit":2`) {
			t.Fatalf("config %s", cfg.TokenAuth)
		}

		var created struct {
			loginJSON
			TokenData json.RawMessage `json:"tokenData"`
		}
		ts.must("POST", base+"/tokens", admin, map[string]any{"name": "ci"}, &created)
		if created.AccessToken == "" || created.ExpiresIn != 3600 || created.TokenType != "Bearer" {
			t.Fatalf("created %+v", created.loginJSON)
		}
		if k := idKeys(t, created.TokenData); k != "accessTokenLastRenewedAt,accessTokenLastUsedAt,accessTokenMaxTTL,accessTokenNumUses,accessTokenNumUsesLimit,accessTokenPeriod,accessTokenTTL,authMethod,createdAt,id,identityId,identityUAClientSecretId,isAccessTokenRevoked,name,subOrganizationId,updatedAt" {
			t.Fatalf("token keys %s", k)
		}
		var td struct {
			ID         string `json:"id"`
			Name       string `json:"name"`
			AuthMethod string `json:"authMethod"`
		}
		_ = json.Unmarshal(created.TokenData, &td)
		if td.Name != "ci" || td.AuthMethod != "token-auth" {
			t.Fatalf("token data %s", created.TokenData)
		}

		// Two uses, then 401.
		ts.must("GET", "/api/v1/identities/details", created.AccessToken, nil, nil)
		ts.must("GET", "/api/v1/identities/details", created.AccessToken, nil, nil)
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", created.AccessToken, nil)
		idWantError(t, "use limit", code, raw, 401, "UnauthorizedError", "")

		var tokens struct {
			Tokens []struct {
				ID string `json:"id"`
			} `json:"tokens"`
		}
		ts.must("GET", base+"/tokens?offset=0&limit=5", admin, nil, &tokens)
		if len(tokens.Tokens) != 1 || tokens.Tokens[0].ID != td.ID {
			t.Fatalf("tokens %+v", tokens)
		}
		code, raw, _ = ts.do("GET", base+"/tokens?limit=101", admin, nil)
		idWantError(t, "limit", code, raw, 422, "ValidationFailure", "limit")
		var tok struct {
			Token struct {
				Name string `json:"name"`
			} `json:"token"`
		}
		ts.must("PATCH", "/api/v1/auth/token-auth/tokens/"+td.ID, admin, map[string]any{"name": "renamed"}, &tok)
		ts.must("GET", "/api/v1/auth/token-auth/tokens/"+td.ID, admin, nil, &tok)
		if tok.Token.Name != "renamed" {
			t.Fatalf("token %+v", tok)
		}
		ts.must("GET", base+"/tokens/"+td.ID, admin, nil, &tok)
		var msg struct {
			Message string `json:"message"`
		}
		ts.must("POST", "/api/v1/auth/token-auth/tokens/"+td.ID+"/revoke", admin, nil, &msg)
		if msg.Message != "Successfully revoked access token" {
			t.Fatalf("revoke %+v", msg)
		}
		ts.must("GET", base+"/tokens", admin, nil, &tokens)
		if len(tokens.Tokens) != 0 {
			t.Fatalf("revoked token listed %+v", tokens)
		}

		// A member-role identity cannot configure others (org identity edit is admin-only).
		ts.must("POST", base+"/tokens", admin, nil, &created)
		code, raw, _ = ts.do("POST", "/api/v1/identities", created.AccessToken, map[string]any{"name": "x", "organizationId": boot.OrgID, "role": "admin"})
		idWantError(t, "member creates admin identity", code, raw, 403, "PermissionDenied", "")
		code, raw, _ = ts.do("POST", base+"/tokens", created.AccessToken, nil)
		idWantError(t, "member mints tokens", code, raw, 403, "PermissionDenied", "")

		ts.must("DELETE", base, admin, nil, &cfg)
		code, raw, _ = ts.do("GET", "/api/v1/identities/details", created.AccessToken, nil)
		idWantError(t, "token of removed config", code, raw, 401, "UnauthorizedError", "")
	})
}
