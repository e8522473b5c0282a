package gcp_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/gcp"
)

const (
	audience = "2b0c5d6e-0000-4000-8000-000000000001"
	sa       = "app-runner@my-project.iam.gserviceaccount.com"
)

func TestVerify(t *testing.T) {
	g := authntest.NewGoogle(t)
	g.ServiceAccount(t, sa)
	inst := &authntest.GCEInstance{ProjectID: "my-project", Zone: "us-central1-a", InstanceID: "1", InstanceName: "vm-1"}
	forger := authntest.NewSigningKey(t, g.Key.ID)
	tests := []struct {
		name   string
		cfg    gcp.Config
		token  func() string
		reason authn.Reason
		want   gcp.Principal
	}{
		{name: "gce ID token with instance checks", cfg: gcp.Config{Type: gcp.TypeGCE, AllowedServiceAccounts: []string{sa},
			AllowedProjects: []string{"my-project"}, AllowedZones: []string{"us-central1-a"}},
			token: func() string { return g.IDToken(audience, sa, inst, time.Hour) },
			want:  gcp.Principal{Type: gcp.TypeGCE, ServiceAccount: sa, ProjectID: "my-project", Zone: "us-central1-a"}},
		{name: "gce service account not allowed", cfg: gcp.Config{Type: gcp.TypeGCE, AllowedServiceAccounts: []string{"x@y.iam.gserviceaccount.com"}},
			token: func() string { return g.IDToken(audience, sa, nil, time.Hour) }, reason: authn.ReasonPrincipal},
		{name: "gce project not allowed", cfg: gcp.Config{Type: gcp.TypeGCE, AllowedProjects: []string{"other"}},
			token: func() string { return g.IDToken(audience, sa, inst, time.Hour) }, reason: authn.ReasonAccount},
		{name: "gce zone not allowed", cfg: gcp.Config{Type: gcp.TypeGCE, AllowedZones: []string{"europe-west1-b"}},
			token: func() string { return g.IDToken(audience, sa, inst, time.Hour) }, reason: authn.ReasonZone},
		{name: "gce wrong audience", cfg: gcp.Config{Type: gcp.TypeGCE},
			token: func() string { return g.IDToken("another-identity", sa, nil, time.Hour) }, reason: authn.ReasonAudience},
		{name: "gce expired", cfg: gcp.Config{Type: gcp.TypeGCE},
			token: func() string { return g.IDToken(audience, sa, nil, -time.Minute) }, reason: authn.ReasonExpired},
		{name: "gce wrong issuer", cfg: gcp.Config{Type: gcp.TypeGCE, Issuer: "https://issuer.example"},
			token: func() string { return g.IDToken(audience, sa, nil, time.Hour) }, reason: authn.ReasonIssuer},
		{name: "gce bad signature", cfg: gcp.Config{Type: gcp.TypeGCE}, token: func() string {
			return forger.Sign(authntest.Claims{"iss": "https://accounts.google.com", "aud": audience, "email": sa, "exp": time.Now().Add(time.Hour).Unix()})
		}, reason: authn.ReasonBadSignature},
		{name: "iam signJwt without exp", cfg: gcp.Config{Type: gcp.TypeIAM, AllowedServiceAccounts: []string{sa}},
			token: func() string { return g.SignJwt(t, sa, authntest.Claims{"sub": sa, "aud": audience}) },
			want:  gcp.Principal{Type: gcp.TypeIAM, ServiceAccount: sa}},
		{name: "iam wrong audience", cfg: gcp.Config{Type: gcp.TypeIAM},
			token: func() string { return g.SignJwt(t, sa, authntest.Claims{"sub": sa, "aud": "x"}) }, reason: authn.ReasonAudience},
		{name: "iam expired", cfg: gcp.Config{Type: gcp.TypeIAM}, token: func() string {
			return g.SignJwt(t, sa, authntest.Claims{"sub": sa, "aud": audience, "exp": time.Now().Add(-time.Minute).Unix()})
		}, reason: authn.ReasonExpired},
		{name: "iam service account not allowed", cfg: gcp.Config{Type: gcp.TypeIAM, AllowedServiceAccounts: []string{"a@b.iam.gserviceaccount.com"}},
			token: func() string { return g.SignJwt(t, sa, authntest.Claims{"sub": sa, "aud": audience}) }, reason: authn.ReasonPrincipal},
		{name: "iam token signed by another account's key", cfg: gcp.Config{Type: gcp.TypeIAM}, token: func() string {
			k := authntest.NewSigningKey(t, "sa-app-runner")
			return k.Sign(authntest.Claims{"sub": sa, "aud": audience})
		}, reason: authn.ReasonBadSignature},
		{name: "iam subject is not a service account", cfg: gcp.Config{Type: gcp.TypeIAM},
			token: func() string { return g.SignJwt(t, sa, authntest.Claims{"sub": "someone@gmail.com", "aud": audience}) }, reason: authn.ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Audience, cfg.CertsURL, cfg.IAMMetadataURL, cfg.HTTPClient = audience, g.CertsURL, g.IAMMetadataURL, g.Server.Client()
			v, err := gcp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), tc.token())
			if got := authn.ReasonOf(err); got != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v (reason %q), want %q", err, got, tc.reason)
			}
			if tc.reason == "" && (p.Type != tc.want.Type || p.ServiceAccount != tc.want.ServiceAccount || p.ProjectID != tc.want.ProjectID || p.Zone != tc.want.Zone) {
				t.Fatalf("principal %+v, want %+v", p, tc.want)
			}
		})
	}
}
