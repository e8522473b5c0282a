package permission

import (
	"testing"
)

func TestCovers(t *testing.T) {
	admin, _ := BuiltinProjectRole(RoleAdmin)
	member, _ := BuiltinProjectRole(RoleMember)
	viewer, _ := BuiltinProjectRole(RoleViewer)
	cond := func(env, glob string) map[string]any {
		c := map[string]any{}
		if env != "" {
			c[FieldEnvironment] = env
		}
		if glob != "" {
			c[FieldSecretPath] = map[string]any{OpGlob: glob}
		}
		return c
	}
	read := func(env, glob string) Rule {
		return Rule{Subject: SubjectSecrets, Action: []string{ActionRead}, Conditions: cond(env, glob)}
	}
	tests := []struct {
		name   string
		caller [][]Rule
		grant  []Rule
		want   bool
	}{
		{"admin covers admin", [][]Rule{admin}, admin, true},
		{"admin covers member", [][]Rule{admin}, member, true},
		{"member does not cover admin", [][]Rule{member}, admin, false},
		{"viewer does not cover member", [][]Rule{viewer}, member, false},
		{"member covers viewer", [][]Rule{member}, viewer, true},
		{"nothing covers no-access", nil, []Rule{}, true},
		{"deny rules of the grant are ignored", nil, []Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}, Inverted: true}}, true},
		{"env-limited caller, unconditioned grant", [][]Rule{{read("dev", "")}}, []Rule{read("", "")}, false},
		{"env-limited caller, same env", [][]Rule{{read("dev", "")}}, []Rule{read("dev", "/app/**")}, true},
		{"env-limited caller, other env", [][]Rule{{read("dev", "")}}, []Rule{read("prod", "")}, false},
		{"caller glob wider", [][]Rule{{read("dev", "/app/**")}}, []Rule{read("dev", "/app/a/*")}, true},
		{"caller glob narrower (depth)", [][]Rule{{read("dev", "/app/*")}}, []Rule{read("dev", "/app/**")}, false},
		{"caller glob narrower (folder)", [][]Rule{{read("dev", "/app/a/**")}}, []Rule{read("dev", "/app/**")}, false},
		{"caller $in covers $eq", [][]Rule{{{Subject: SubjectSecrets, Action: []string{ActionRead},
			Conditions: map[string]any{FieldEnvironment: map[string]any{OpIn: []any{"dev", "staging"}}}}}}, []Rule{read("staging", "")}, true},
		{"caller $in misses one grant $in value", [][]Rule{{{Subject: SubjectSecrets, Action: []string{ActionRead},
			Conditions: map[string]any{FieldEnvironment: map[string]any{OpIn: []any{"dev"}}}}}},
			[]Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}, Conditions: map[string]any{FieldEnvironment: map[string]any{OpIn: []any{"dev", "prod"}}}}}, false},
		{"caller deny prod, unconditioned grant", [][]Rule{{read("", ""), {Subject: SubjectSecrets, Action: []string{ActionRead}, Inverted: true, Conditions: cond("prod", "")}}},
			[]Rule{read("", "")}, false},
		{"caller deny prod, grant dev only", [][]Rule{{read("", ""), {Subject: SubjectSecrets, Action: []string{ActionRead}, Inverted: true, Conditions: cond("prod", "")}}},
			[]Rule{read("dev", "")}, true},
		{"caller $ne prod, unconditioned grant", [][]Rule{{{Subject: SubjectSecrets, Action: []string{ActionRead},
			Conditions: map[string]any{FieldEnvironment: map[string]any{OpNe: "prod"}}}}}, []Rule{read("", "")}, false},
		{"caller deny secret name, grant folder", [][]Rule{{read("", ""), {Subject: SubjectSecrets, Action: []string{ActionReadValue}, Inverted: true,
			Conditions: map[string]any{FieldSecretName: "DB_PASSWORD"}}}}, []Rule{read("dev", "/")}, false},
		{"union of two roles covers", [][]Rule{{read("dev", "")}, {read("prod", "")}}, []Rule{{Subject: SubjectSecrets, Action: []string{ActionRead},
			Conditions: map[string]any{FieldEnvironment: map[string]any{OpIn: []any{"dev", "prod"}}}}}, true},
		{"describeSecret is half of read", [][]Rule{{{Subject: SubjectSecrets, Action: []string{ActionDescribeSecret}}}}, []Rule{read("", "")}, false},
		{"read covers describeSecret", [][]Rule{{read("", "")}}, []Rule{{Subject: SubjectSecrets, Action: []string{ActionDescribeSecret}}}, true},
		{"other subject", [][]Rule{{read("", "")}}, []Rule{{Subject: SubjectRole, Action: []string{ActionRead}}}, false},
		{"brace alternatives", [][]Rule{{read("dev", "/{a,b}/**")}}, []Rule{read("dev", "/a/x")}, true},
		{"brace alternatives miss", [][]Rule{{read("dev", "/{a,b}/**")}}, []Rule{read("dev", "/c/x")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var set *Set
			if tc.caller != nil {
				set = MustCompile(tc.caller...)
			} else {
				set = MustCompile()
			}
			got, missing := set.Covers(tc.grant)
			if got != tc.want {
				t.Fatalf("Covers = %v (missing %+v), want %v", got, missing, tc.want)
			}
			if !got && missing.Subject == "" {
				t.Fatal("refusal without the uncovered rule")
			}
		})
	}
}

func TestCoversNilSet(t *testing.T) {
	var s *Set
	if ok, _ := s.Covers([]Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}}}); ok {
		t.Fatal("nil set covers a grant")
	}
	if ok, _ := s.Covers(nil); !ok {
		t.Fatal("nil set does not cover an empty grant")
	}
}

func TestAuthPlaceholders(t *testing.T) {
	p := Placeholders{IdentityID: "id-1", Auth: map[string]any{
		"oidc":       map[string]any{"claims": map[string]any{"sub": "repo:acme/*", "n": float64(3), "ok": true}},
		"kubernetes": map[string]any{"namespace": "payments"},
	}}
	rules := p.Apply([]Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}, Conditions: map[string]any{
		FieldEnvironment: "{{ identity.auth.kubernetes.namespace }}",
		FieldSecretPath:  map[string]any{OpGlob: "/{{identity.auth.oidc.claims.sub}}/**"},
		FieldSecretName:  map[string]any{OpIn: []any{"{{identity.auth.oidc.claims.n}}", "{{identity.auth.oidc.claims.ok}}", "{{identity.auth.missing.x}}"}},
	}}})
	c := rules[0].Conditions
	if c[FieldEnvironment] != "payments" {
		t.Errorf("environment = %v", c[FieldEnvironment])
	}
	if g := c[FieldSecretPath].(map[string]any)[OpGlob]; g != "/repo:acme/\\*/**" {
		t.Errorf("glob = %v (a wildcard in a substituted value must be escaped)", g)
	}
	in := c[FieldSecretName].(map[string]any)[OpIn].([]any)
	if in[0] != "3" || in[1] != "true" || in[2] != "" {
		t.Errorf("$in = %v", in)
	}
	if !HasPlaceholders([]Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}, Conditions: map[string]any{FieldSecretPath: map[string]any{OpGlob: "/{{identity.id}}"}}}}) {
		t.Error("HasPlaceholders missed a placeholder")
	}
	if HasPlaceholders([]Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}, Conditions: map[string]any{FieldSecretPath: "/a"}}}) {
		t.Error("HasPlaceholders found one where there is none")
	}
}
