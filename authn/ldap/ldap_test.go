package ldap_test

import (
	"context"
	"testing"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/authn/authntest"
	"github.com/infisical-go/engine/authn/ldap"
)

func TestVerifyAgainstSlapd(t *testing.T) {
	s := authntest.StartSlapd(t)
	s.AddUser(t, "deployer", "s3cret-pass", "deployer@example.org", map[string][]string{"employeeType": {"service"}})
	s.AddUser(t, "intern", "intern-pass", "intern@example.org", map[string][]string{"employeeType": {"human"}})
	base := ldap.Config{URL: s.URL, BindDN: s.AdminDN, BindPass: s.AdminPassword, SearchBase: s.PeopleDN}
	tests := []struct {
		name   string
		mod    func(*ldap.Config)
		cred   ldap.Credential
		reason authn.Reason
	}{
		{name: "bind as the user", cred: ldap.Credential{Username: "deployer", Password: "s3cret-pass"}},
		{name: "allowed field matches", mod: func(c *ldap.Config) { c.AllowedFields = []ldap.Field{{Key: "employeeType", Value: "service,robot"}} },
			cred: ldap.Credential{Username: "deployer", Password: "s3cret-pass"}},
		{name: "allowed field does not match", mod: func(c *ldap.Config) { c.AllowedFields = []ldap.Field{{Key: "employeeType", Value: "service"}} },
			cred: ldap.Credential{Username: "intern", Password: "intern-pass"}, reason: authn.ReasonClaim},
		{name: "wrong password", cred: ldap.Credential{Username: "deployer", Password: "guess"}, reason: authn.ReasonNotAuthenticated},
		{name: "unknown user", cred: ldap.Credential{Username: "nobody", Password: "x"}, reason: authn.ReasonNotAuthenticated},
		{name: "filter injection is escaped", cred: ldap.Credential{Username: "*", Password: "s3cret-pass"}, reason: authn.ReasonNotAuthenticated},
		{name: "empty password never binds", cred: ldap.Credential{Username: "deployer", Password: ""}, reason: authn.ReasonMalformed},
		{name: "custom filter", mod: func(c *ldap.Config) { c.SearchFilter = "(&(objectClass=inetOrgPerson)(mail={{username}}))" },
			cred: ldap.Credential{Username: "deployer@example.org", Password: "s3cret-pass"}},
		{name: "wrong service account password", mod: func(c *ldap.Config) { c.BindPass = "nope" },
			cred: ldap.Credential{Username: "deployer", Password: "s3cret-pass"}, reason: authn.ReasonIssuerUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			v, err := ldap.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), tc.cred)
			if got := authn.ReasonOf(err); got != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("err %v (reason %q), want %q", err, got, tc.reason)
			}
			if tc.reason == "" && (p.DN == "" || len(p.Attributes["mail"]) != 1) {
				t.Fatalf("principal %+v", p)
			}
		})
	}
	v, _ := ldap.New(base)
	if err := v.TestConnection(context.Background()); err != nil {
		t.Fatalf("test connection: %v", err)
	}
	for _, bad := range []ldap.Config{{URL: "http://x", SearchBase: "dc=x"}, {URL: "ldap://x"}, {URL: "ldap://x", SearchBase: "dc=x", SearchFilter: "(uid={{username}}"}} {
		if _, err := ldap.New(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
