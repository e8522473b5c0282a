package ldap

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// FuzzRenderFilter checks that a username cannot change the structure of
// the user search filter (LDAP filter injection). Properties: for any
// template ValidFilter accepts and any username, the rendered filter
// compiles; with the default template it is exactly one equality match on
// uid whose value is the username, byte for byte.
func FuzzRenderFilter(f *testing.F) {
	for _, s := range [][2]string{
		{DefaultSearchFilter, "alice"},
		{DefaultSearchFilter, "*"},
		{DefaultSearchFilter, "a)(uid=*"},
		{DefaultSearchFilter, "x\\2a\x00\xff"},
		{"(&(objectClass=person)(|(uid={{username}})(mail={{username}})))", "bob)(|(uid=*"},
		{"(cn=*{{username}}*)", "(*)"},
		{"(uid={{username}}", "x"},
		{"{{username}}", "(uid=*)"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tmpl, username string) {
		p, err := goldap.CompileFilter(render(DefaultSearchFilter, username))
		if err != nil {
			t.Fatalf("default filter with username %q does not compile: %v", username, err)
		}
		if p.Tag != goldap.FilterEqualityMatch || len(p.Children) != 2 || p.Children[0].Value != "uid" ||
			p.Children[1].Data.String() != username {
			back, _ := goldap.DecompileFilter(p)
			t.Fatalf("username %q changed the filter: %s", username, back)
		}
		if ValidFilter(tmpl) != nil {
			return
		}
		if _, err := goldap.CompileFilter(render(tmpl, username)); err != nil {
			t.Fatalf("template %q with username %q does not compile: %v", tmpl, username, err)
		}
	})
}
