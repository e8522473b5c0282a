package kubernetes_test

import (
	"context"
	"testing"
	"time"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/kubernetes"
)

func TestVerify(t *testing.T) {
	k := authntest.NewKubernetes(t)
	k.AllowSelfReview("ops", "self-reviewer")
	app := func() string { return k.ServiceAccountToken("prod", "api", []string{"infisical"}, time.Hour) }
	tests := []struct {
		name   string
		cfg    kubernetes.Config
		token  func() string
		reason authn.Reason
		errNm  string
	}{
		{name: "reviewer JWT", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken, AllowedNamespaces: []string{"prod", "stage"},
			AllowedNames: []string{"api"}, AllowedAudience: "infisical"}, token: app},
		{name: "caller's own token reviews itself", cfg: kubernetes.Config{},
			token: func() string { return k.ServiceAccountToken("ops", "self-reviewer", nil, time.Hour) }},
		{name: "own token without auth-delegator", cfg: kubernetes.Config{}, token: app, reason: authn.ReasonNotAuthenticated, errNm: kubernetes.ErrorName},
		{name: "namespace not allowed", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken, AllowedNamespaces: []string{"stage"}},
			token: app, reason: authn.ReasonNamespace},
		{name: "name not allowed", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken, AllowedNames: []string{"worker"}},
			token: app, reason: authn.ReasonName},
		{name: "audience not in token", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken, AllowedAudience: "vault"},
			token: app, reason: authn.ReasonNotAuthenticated, errNm: kubernetes.ErrorName},
		{name: "expired token", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken},
			token: func() string { return k.ServiceAccountToken("prod", "api", nil, -time.Minute) }, reason: authn.ReasonNotAuthenticated, errNm: kubernetes.ErrorName},
		{name: "forged token", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken},
			token: func() string {
				return authntest.NewSigningKey(t, "k8s-sa-key").Sign(authntest.Claims{"sub": "system:serviceaccount:prod:api", "exp": time.Now().Add(time.Hour).Unix()})
			}, reason: authn.ReasonNotAuthenticated, errNm: kubernetes.ErrorName},
		{name: "wrong reviewer token", cfg: kubernetes.Config{ReviewerJWT: "not-a-token"}, token: app, reason: authn.ReasonNotAuthenticated, errNm: kubernetes.ErrorName},
		{name: "API server certificate not trusted", cfg: kubernetes.Config{ReviewerJWT: k.ReviewerToken, CACert: authntest.NewSigningKey(t, "x").CertPEM("other")},
			token: app, reason: authn.ReasonNotAuthenticated, errNm: kubernetes.ErrorName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Host = k.Host
			if cfg.CACert == "" {
				cfg.CACert = k.CAPEM
			}
			v, err := kubernetes.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), tc.token())
			if got := authn.ReasonOf(err); got != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v (reason %q), want %q", err, got, tc.reason)
			}
			if le, ok := err.(*authn.LoginError); ok && le.Name != tc.errNm {
				t.Fatalf("error name %q, want %q", le.Name, tc.errNm)
			}
			if tc.reason == "" && p.Namespace == "" {
				t.Fatalf("principal %+v", p)
			}
		})
	}
	for _, h := range []string{"", "https://host/x?y", "bad host"} {
		if _, err := kubernetes.New(kubernetes.Config{Host: h}); err == nil {
			t.Errorf("host %q accepted", h)
		}
	}
}
