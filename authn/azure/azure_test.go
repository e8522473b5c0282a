package azure_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/azure"
)

const (
	tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	spID   = "3c1d6f8e-7b0a-4c5d-9e2f-1a2b3c4d5e6f"
)

func TestVerify(t *testing.T) {
	az := authntest.NewAzure(t, tenant)
	other := authntest.NewAzure(t, "11111111-2222-3333-4444-555555555555")
	forger := authntest.NewSigningKey(t, az.Key.ID)
	tests := []struct {
		name   string
		cfg    azure.Config
		token  func() string
		reason authn.Reason
	}{
		{name: "managed identity", cfg: azure.Config{Resource: "https://management.azure.com/", AllowedServicePrincipalIDs: []string{spID}},
			token: func() string { return az.Token(spID, "https://management.azure.com/", time.Hour) }},
		{name: "aud without trailing slash", cfg: azure.Config{Resource: "https://management.azure.com/"},
			token: func() string { return az.Token(spID, "https://management.azure.com", time.Hour) }},
		{name: "wrong resource", cfg: azure.Config{Resource: "https://vault.azure.net"},
			token: func() string { return az.Token(spID, "https://management.azure.com/", time.Hour) }, reason: authn.ReasonAudience},
		{name: "service principal not allowed", cfg: azure.Config{Resource: "https://management.azure.com/", AllowedServicePrincipalIDs: []string{"someone-else"}},
			token: func() string { return az.Token(spID, "https://management.azure.com/", time.Hour) }, reason: authn.ReasonPrincipal},
		{name: "expired", cfg: azure.Config{Resource: "https://management.azure.com/"},
			token: func() string { return az.Token(spID, "https://management.azure.com/", -time.Minute) }, reason: authn.ReasonExpired},
		{name: "token of another tenant (unknown key)", cfg: azure.Config{Resource: "https://management.azure.com/"},
			token: func() string { return other.Token(spID, "https://management.azure.com/", time.Hour) }, reason: authn.ReasonUnknownKey},
		{name: "wrong issuer", cfg: azure.Config{Resource: "https://management.azure.com/", Issuer: "https://login.microsoftonline.com/{tenant}/v2.0"},
			token: func() string { return az.Token(spID, "https://management.azure.com/", time.Hour) }, reason: authn.ReasonIssuer},
		{name: "bad signature", cfg: azure.Config{Resource: "https://management.azure.com/"}, token: func() string {
			return forger.Sign(authntest.Claims{"aud": "https://management.azure.com/", "iss": "https://sts.windows.net/" + tenant + "/",
				"tid": tenant, "oid": spID, "exp": time.Now().Add(time.Hour).Unix()})
		}, reason: authn.ReasonBadSignature},
		{name: "tenant claim mismatch", cfg: azure.Config{Resource: "https://management.azure.com/"}, token: func() string {
			return az.Key.Sign(authntest.Claims{"aud": "https://management.azure.com/", "iss": "https://sts.windows.net/" + tenant + "/",
				"tid": "someone-else", "oid": spID, "exp": time.Now().Add(time.Hour).Unix()})
		}, reason: authn.ReasonAccount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.TenantID, cfg.BaseURL, cfg.HTTPClient = tenant, az.BaseURL, az.Server.Client()
			v, err := azure.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), tc.token())
			if got := authn.ReasonOf(err); got != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v (reason %q), want %q", err, got, tc.reason)
			}
			if tc.reason == "" && (p.ObjectID != spID || p.TenantID != tenant) {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}
