package permission

import "testing"

// benchRules is a realistic custom role plus privileges: about twenty rules,
// most of them on secrets with globs, two of them denies.
const benchRules = `[
	{"subject":"secrets","action":["read"],"conditions":{"environment":"dev","secretPath":{"$glob":"/**"}}},
	{"subject":"secrets","action":["read","edit"],"conditions":{"environment":"staging","secretPath":{"$glob":"/services/*/config/**"}}},
	{"subject":"secrets","action":["read"],"conditions":{"environment":"prod","secretPath":{"$glob":"/{public,shared}/**"}}},
	{"subject":"secrets","action":["describeSecret"],"conditions":{"environment":{"$in":["prod","dr"]},"secretPath":{"$glob":"/services/**"}}},
	{"subject":"secrets","action":["readValue"],"conditions":{"environment":"prod","secretPath":{"$glob":"/services/payments/**"},"secretName":{"$glob":"PAYMENTS_*"}}},
	{"subject":"secrets","action":["readValue"],"conditions":{"environment":"prod","secretPath":{"$glob":"/services/auth/**"},"secretTags":{"$in":["auth","oidc"]}}},
	{"subject":"secrets","action":["create","delete"],"conditions":{"environment":"dev","secretPath":{"$glob":"/sandbox/**"}}},
	{"subject":"secrets","action":["readValue"],"inverted":true,"conditions":{"secretName":{"$glob":"*_ROOT_*"}}},
	{"subject":"secrets","action":["edit","delete"],"inverted":true,"conditions":{"environment":"prod"}},
	{"subject":"secret-folders","action":["read"],"conditions":{"environment":{"$in":["dev","staging","prod"]}}},
	{"subject":"secret-folders","action":["create"],"conditions":{"environment":"dev","secretPath":{"$glob":"/sandbox/**"}}},
	{"subject":"secret-imports","action":["read"],"conditions":{"environment":{"$ne":"dr"}}},
	{"subject":"dynamic-secrets","action":["lease"],"conditions":{"environment":"dev","secretPath":{"$glob":"/db/*"}}},
	{"subject":"secret-rotation","action":["read"]},
	{"subject":"tags","action":["read"]},
	{"subject":"environments","action":["read"]},
	{"subject":"member","action":["read"]},
	{"subject":"role","action":["read"]},
	{"subject":"audit-logs","action":["read"]},
	{"subject":"cmek","action":["encrypt","decrypt"]}
]`

func benchSet(tb testing.TB) *Set {
	tb.Helper()
	rules, err := ParseRules([]byte(benchRules))
	if err != nil {
		tb.Fatal(err)
	}
	return MustCompile(rules)
}

func BenchmarkCan(b *testing.B) {
	s := benchSet(b)
	cases := []struct {
		name    string
		action  string
		subject string
		attrs   Attributes
	}{
		{"secret-allowed", ActionReadValue, SubjectSecrets, Attributes{
			FieldEnvironment: "prod", FieldSecretPath: "/services/payments/api", FieldSecretName: "PAYMENTS_KEY", FieldSecretTags: []string{"x"}}},
		{"secret-denied", ActionReadValue, SubjectSecrets, Attributes{
			FieldEnvironment: "prod", FieldSecretPath: "/services/payments/api", FieldSecretName: "DB_ROOT_PASSWORD", FieldSecretTags: []string{"x"}}},
		{"secret-read-both-halves", ActionRead, SubjectSecrets, Attributes{
			FieldEnvironment: "staging", FieldSecretPath: "/services/web/config/db", FieldSecretName: "URL"}},
		{"folder-level", ActionRead, SubjectSecrets, Attributes{
			FieldEnvironment: "prod", FieldSecretPath: "/shared/x"}},
		{"no-rule", ActionEdit, SubjectSecretApproval, nil},
		{"unconditional", ActionRead, SubjectTags, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Can(c.action, c.subject, c.attrs)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	rules, err := ParseRules([]byte(benchRules))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(rules); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCanDoesNotAllocate(t *testing.T) {
	s := benchSet(t)
	attrs := Attributes{FieldEnvironment: "prod", FieldSecretPath: "/services/auth/x", FieldSecretName: "OIDC_SECRET", FieldSecretTags: []string{"oidc"}}
	allocs := testing.AllocsPerRun(200, func() {
		if !s.Can(ActionReadValue, SubjectSecrets, attrs) {
			t.Fatal("expected allow")
		}
		s.Can(ActionRead, SubjectSecrets, attrs)
		s.Can(ActionEdit, SubjectSecrets, attrs)
	})
	if allocs != 0 {
		t.Errorf("Can allocates %v times per run", allocs)
	}
}
