package permission

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
)

// mustParse parses JSON rules for tests.
func mustParse(t *testing.T, js string) []Rule {
	t.Helper()
	rules, err := ParseRules([]byte(js))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	return rules
}

func secretAttrs(env, path, name string, tags ...string) Attributes {
	a := Attributes{FieldEnvironment: env, FieldSecretPath: path, FieldSecretName: name}
	if tags != nil {
		a[FieldSecretTags] = tags
	}
	return a
}

type check struct {
	name    string
	action  string
	subject string
	attrs   Attributes
	want    bool
}

func runChecks(t *testing.T, s *Set, checks []check) {
	t.Helper()
	for _, c := range checks {
		if got := s.Can(c.action, c.subject, c.attrs); got != c.want {
			t.Errorf("%s: Can(%q, %q, %v) = %v, want %v", c.name, c.action, c.subject, c.attrs, got, c.want)
		}
	}
}

func TestAllowDenyPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		rules  string
		checks []check
	}{
		{
			name:  "deny after allow wins",
			rules: `[{"subject":"secrets","action":["read"]},{"subject":"secrets","action":["read"],"inverted":true,"conditions":{"environment":"prod"}}]`,
			checks: []check{
				{"dev allowed", ActionReadValue, SubjectSecrets, secretAttrs("dev", "/", "A"), true},
				{"prod denied", ActionReadValue, SubjectSecrets, secretAttrs("prod", "/", "A"), false},
			},
		},
		{
			name:  "deny before allow still wins",
			rules: `[{"subject":"secrets","action":["read"],"inverted":true,"conditions":{"environment":"prod"}},{"subject":"secrets","action":["read"]}]`,
			checks: []check{
				{"dev allowed", ActionReadValue, SubjectSecrets, secretAttrs("dev", "/", "A"), true},
				{"prod denied", ActionReadValue, SubjectSecrets, secretAttrs("prod", "/", "A"), false},
			},
		},
		{
			name:  "unconditional deny blocks everything",
			rules: `[{"subject":"secrets","action":["edit"],"conditions":{"environment":"dev"}},{"subject":"secrets","action":"edit","inverted":true}]`,
			checks: []check{
				{"dev", ActionEdit, SubjectSecrets, secretAttrs("dev", "/", "A"), false},
				{"no attrs", ActionEdit, SubjectSecrets, nil, false},
			},
		},
		{
			name:  "deny alone grants nothing",
			rules: `[{"subject":"secrets","action":["read"],"inverted":true,"conditions":{"environment":"prod"}}]`,
			checks: []check{
				{"dev", ActionReadValue, SubjectSecrets, secretAttrs("dev", "/", "A"), false},
			},
		},
		{
			name:  "deny of another action does not interfere",
			rules: `[{"subject":"secrets","action":["read","edit"]},{"subject":"secrets","action":["delete"],"inverted":true}]`,
			checks: []check{
				{"edit", ActionEdit, SubjectSecrets, nil, true},
				{"delete", ActionDelete, SubjectSecrets, nil, false},
			},
		},
		{
			name:  "deny on another subject does not interfere",
			rules: `[{"subject":"secrets","action":["read"]},{"subject":"secret-folders","action":["read"],"inverted":true}]`,
			checks: []check{
				{"secrets", ActionDescribeSecret, SubjectSecrets, nil, true},
				{"folders", ActionRead, SubjectSecretFolders, nil, false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runChecks(t, MustCompile(mustParse(t, tt.rules)), tt.checks)
		})
	}
}

func TestOperators(t *testing.T) {
	tests := []struct {
		name   string
		cond   string
		attrs  Attributes
		expect bool
	}{
		{"plain string equal", `{"environment":"dev"}`, Attributes{"environment": "dev"}, true},
		{"plain string differs", `{"environment":"dev"}`, Attributes{"environment": "prod"}, false},
		{"$eq", `{"environment":{"$eq":"dev"}}`, Attributes{"environment": "dev"}, true},
		{"$eq differs", `{"environment":{"$eq":"dev"}}`, Attributes{"environment": "Dev"}, false},
		{"$ne", `{"environment":{"$ne":"prod"}}`, Attributes{"environment": "dev"}, true},
		{"$ne equal", `{"environment":{"$ne":"prod"}}`, Attributes{"environment": "prod"}, false},
		{"$in member", `{"environment":{"$in":["dev","staging"]}}`, Attributes{"environment": "staging"}, true},
		{"$in not member", `{"environment":{"$in":["dev","staging"]}}`, Attributes{"environment": "prod"}, false},
		{"$in empty list", `{"environment":{"$in":[]}}`, Attributes{"environment": "prod"}, false},
		{"$glob", `{"secretPath":{"$glob":"/app/**"}}`, Attributes{"secretPath": "/app/x"}, true},
		{"$glob miss", `{"secretPath":{"$glob":"/app/**"}}`, Attributes{"secretPath": "/other"}, false},
		{"$glob on name", `{"secretName":{"$glob":"DB_*"}}`, Attributes{"secretName": "DB_PASS"}, true},
		{"operators AND in one field", `{"secretPath":{"$glob":"/app/**","$ne":"/app/private"}}`, Attributes{"secretPath": "/app/private"}, false},
		{"operators AND in one field, ok", `{"secretPath":{"$glob":"/app/**","$ne":"/app/private"}}`, Attributes{"secretPath": "/app/public"}, true},
		{"fields AND", `{"environment":"dev","secretPath":"/a"}`, Attributes{"environment": "dev", "secretPath": "/b"}, false},
		{"fields AND, ok", `{"environment":"dev","secretPath":"/a"}`, Attributes{"environment": "dev", "secretPath": "/a"}, true},
		{"tags $in any", `{"secretTags":{"$in":["pci","hipaa"]}}`, Attributes{"secretTags": []string{"x", "hipaa"}}, true},
		{"tags $in none", `{"secretTags":{"$in":["pci"]}}`, Attributes{"secretTags": []string{"x", "y"}}, false},
		{"tags $in no tags", `{"secretTags":{"$in":["pci"]}}`, Attributes{"secretTags": []string{}}, false},
		{"tags $eq any", `{"secretTags":"pci"}`, Attributes{"secretTags": []string{"a", "pci"}}, true},
		{"tags as []any", `{"secretTags":{"$in":["pci"]}}`, Attributes{"secretTags": []any{"pci"}}, true},
		{"wrong attribute type equals nothing", `{"environment":"dev"}`, Attributes{"environment": 42}, false},
		{"wrong attribute type passes $ne", `{"environment":{"$ne":"dev"}}`, Attributes{"environment": 42}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := `[{"subject":"secrets","action":["read"],"conditions":` + tt.cond + `}]`
			s := MustCompile(mustParse(t, js))
			if got := s.Can(ActionReadValue, SubjectSecrets, tt.attrs); got != tt.expect {
				t.Errorf("Can = %v, want %v", got, tt.expect)
			}
		})
	}
}

func TestListNeOperator(t *testing.T) {
	// $ne on a list holds when no element equals the operand (MongoDB).
	s := MustCompile([]Rule{{Subject: SubjectSecrets, Action: []string{ActionRead},
		Conditions: map[string]any{FieldSecretTags: map[string]any{OpNe: "secret"}}}})
	runChecks(t, s, []check{
		{"no such tag", ActionReadValue, SubjectSecrets, Attributes{FieldSecretTags: []string{"a", "b"}}, true},
		{"has the tag", ActionReadValue, SubjectSecrets, Attributes{FieldSecretTags: []string{"a", "secret"}}, false},
		{"has the tag ([]any)", ActionReadValue, SubjectSecrets, Attributes{FieldSecretTags: []any{"secret"}}, false},
	})
}

func TestUnknownAttributes(t *testing.T) {
	s := MustCompile(mustParse(t, `[
		{"subject":"secrets","action":["read"],"conditions":{"environment":"dev","secretPath":{"$glob":"/app/**"}}},
		{"subject":"secrets","action":["read"],"inverted":true,"conditions":{"environment":"dev","secretName":"MASTER_KEY"}},
		{"subject":"secrets","action":["read"],"inverted":true,"conditions":{"secretPath":"/app/locked"}}
	]`))
	runChecks(t, s, []check{
		{"no attributes at all: allow may apply, conditioned denies do not",
			ActionRead, SubjectSecrets, nil, true},
		{"folder-level question, allowed folder",
			ActionRead, SubjectSecrets, Attributes{"environment": "dev", "secretPath": "/app/api"}, true},
		{"folder-level question: deny on secretName does not hide the folder",
			ActionRead, SubjectSecrets, Attributes{"environment": "dev", "secretPath": "/app"}, true},
		{"per-secret question: the named secret is denied",
			ActionReadValue, SubjectSecrets, secretAttrs("dev", "/app", "MASTER_KEY"), false},
		{"per-secret question: another secret is fine",
			ActionReadValue, SubjectSecrets, secretAttrs("dev", "/app", "OTHER"), true},
		{"folder outside the allow glob",
			ActionRead, SubjectSecrets, Attributes{"environment": "dev", "secretPath": "/other"}, false},
		{"environment unknown, path known: allow still possible",
			ActionRead, SubjectSecrets, Attributes{"secretPath": "/app/x"}, true},
		{"deny with every field known applies",
			ActionRead, SubjectSecrets, Attributes{"secretPath": "/app/locked"}, false},
		{"nil value counts as unknown",
			ActionRead, SubjectSecrets, Attributes{"environment": "dev", "secretPath": "/app", "secretName": nil}, true},
	})
}

func TestSecretsReadImplication(t *testing.T) {
	tests := []struct {
		name   string
		rules  string
		checks []check
	}{
		{
			name:  "legacy read grants both halves",
			rules: `[{"subject":"secrets","action":"read"}]`,
			checks: []check{
				{"read", ActionRead, SubjectSecrets, nil, true},
				{"describe", ActionDescribeSecret, SubjectSecrets, nil, true},
				{"value", ActionReadValue, SubjectSecrets, nil, true},
			},
		},
		{
			name:  "describe only",
			rules: `[{"subject":"secrets","action":["describeSecret"]}]`,
			checks: []check{
				{"read", ActionRead, SubjectSecrets, nil, false},
				{"describe", ActionDescribeSecret, SubjectSecrets, nil, true},
				{"value", ActionReadValue, SubjectSecrets, nil, false},
			},
		},
		{
			name:  "both halves make a read",
			rules: `[{"subject":"secrets","action":["describeSecret","readValue"]}]`,
			checks: []check{
				{"read", ActionRead, SubjectSecrets, nil, true},
			},
		},
		{
			name:  "deny of legacy read denies both halves",
			rules: `[{"subject":"secrets","action":["describeSecret","readValue"]},{"subject":"secrets","action":["read"],"inverted":true}]`,
			checks: []check{
				{"describe", ActionDescribeSecret, SubjectSecrets, nil, false},
				{"value", ActionReadValue, SubjectSecrets, nil, false},
			},
		},
		{
			name:  "deny of readValue leaves describe and blocks read",
			rules: `[{"subject":"secrets","action":["read"]},{"subject":"secrets","action":["readValue"],"inverted":true}]`,
			checks: []check{
				{"read", ActionRead, SubjectSecrets, nil, false},
				{"describe", ActionDescribeSecret, SubjectSecrets, nil, true},
				{"value", ActionReadValue, SubjectSecrets, nil, false},
			},
		},
		{
			name:  "implication is only for secrets",
			rules: `[{"subject":"secret-folders","action":["read"]}]`,
			checks: []check{
				{"folders describe", ActionDescribeSecret, SubjectSecretFolders, nil, false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runChecks(t, MustCompile(mustParse(t, tt.rules)), tt.checks)
		})
	}
}

func TestUnionOfRoles(t *testing.T) {
	dev := mustParse(t, `[{"subject":"secrets","action":["read","edit"],"conditions":{"environment":"dev"}}]`)
	prodRead := mustParse(t, `[{"subject":"secrets","action":["read"],"conditions":{"environment":"prod","secretPath":{"$glob":"/public/**"}}}]`)
	s := MustCompile(dev, prodRead)
	runChecks(t, s, []check{
		{"dev edit from role 1", ActionEdit, SubjectSecrets, secretAttrs("dev", "/", "A"), true},
		{"prod public read from role 2", ActionReadValue, SubjectSecrets, secretAttrs("prod", "/public/x", "A"), true},
		{"prod private read from neither", ActionReadValue, SubjectSecrets, secretAttrs("prod", "/private", "A"), false},
		{"prod edit from neither", ActionEdit, SubjectSecrets, secretAttrs("prod", "/public", "A"), false},
	})
	// A deny in one role overrides an allow in another.
	deny := mustParse(t, `[{"subject":"secrets","action":["edit"],"inverted":true,"conditions":{"secretName":"LOCKED"}}]`)
	s2 := MustCompile(dev, deny)
	if s2.Can(ActionEdit, SubjectSecrets, secretAttrs("dev", "/", "LOCKED")) {
		t.Error("deny from a second role did not override")
	}
}

func TestExplainAndCheck(t *testing.T) {
	rules := mustParse(t, `[
		{"subject":"secrets","action":["read"],"conditions":{"environment":"dev"}},
		{"subject":"secrets","action":["edit"]},
		{"subject":"secrets","action":["readValue"],"inverted":true,"conditions":{"secretName":"X"}},
		{"subject":"tags","action":["read"]}
	]`)
	s := MustCompile(rules)

	got := s.Explain(ActionReadValue, SubjectSecrets)
	want := []Rule{rules[0], rules[2]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Explain(readValue) = %+v, want %+v", got, want)
	}
	if got := s.Explain(ActionRead, SubjectSecrets); len(got) != 2 {
		t.Errorf("Explain(read) returned %d rules, want 2", len(got))
	}
	if got := s.Explain(ActionDelete, SubjectSecrets); got != nil {
		t.Errorf("Explain(delete) = %+v, want nil", got)
	}

	if err := s.Check(ActionEdit, SubjectSecrets, nil); err != nil {
		t.Errorf("Check(edit) = %v, want nil", err)
	}
	err := s.Check(ActionReadValue, SubjectSecrets, secretAttrs("prod", "/", "A"))
	var denied *DeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("Check = %v, want *DeniedError", err)
	}
	if msg := err.Error(); msg != "You are not allowed to readValue on secrets" {
		t.Errorf("message = %q", msg)
	}
	if len(denied.Rules) != 2 {
		t.Errorf("denied.Rules has %d rules, want 2", len(denied.Rules))
	}
	// The details serialize in the 403 body shape.
	b, _ := json.Marshal(denied.Rules[0])
	if string(b) != `{"subject":"secrets","action":["read"],"conditions":{"environment":"dev"}}` {
		t.Errorf("details JSON = %s", b)
	}

	// Explain hands out copies.
	got[0].Conditions["environment"] = "mutated"
	if s.Explain(ActionReadValue, SubjectSecrets)[0].Conditions["environment"] != "dev" {
		t.Error("Explain exposed internal state")
	}
}

func TestCompileCopiesInput(t *testing.T) {
	rules := []Rule{{Subject: SubjectSecrets, Action: []string{ActionRead}, Conditions: map[string]any{"environment": "dev"}}}
	s := MustCompile(rules)
	rules[0].Conditions["environment"] = "prod"
	rules[0].Action[0] = ActionDelete
	if !s.Can(ActionReadValue, SubjectSecrets, Attributes{"environment": "dev"}) {
		t.Error("mutating the input changed the Set")
	}
	if got := s.Rules()[0].Conditions["environment"]; got != "dev" {
		t.Errorf("Rules() = %v, want the original", got)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		index int
		field string
	}{
		{"no subject", []Rule{{Action: []string{"read"}}}, 0, "subject"},
		{"no action", []Rule{{Subject: "secrets"}}, 0, "action"},
		{"empty action", []Rule{{Subject: "secrets", Action: []string{"read", ""}}}, 0, "action[1]"},
		{"unknown operator", []Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": map[string]any{"$regex": "x"}}}}, 0, "conditions.environment.$regex"},
		{"bad $in", []Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": map[string]any{"$in": "dev"}}}}, 0, "conditions.environment.$in"},
		{"bad value type", []Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"environment": 3.0}}}, 0, "conditions.environment"},
		{"bad glob", []Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{"secretPath": map[string]any{"$glob": "/[z-a]"}}}}, 0, "conditions.secretPath.$glob"},
		{"index counts across lists", []Rule{{Subject: "secrets", Action: []string{"read"}}, {Subject: "secrets"}}, 1, "action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.rules)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile error = %v, want *ValidationError", err)
			}
			if ve.Index != tt.index || ve.Field != tt.field {
				t.Errorf("error at [%d].%s, want [%d].%s (%v)", ve.Index, ve.Field, tt.index, tt.field, err)
			}
		})
	}
}

func TestGoTypedConditions(t *testing.T) {
	s := MustCompile([]Rule{{
		Subject: SubjectSecrets, Action: []string{ActionRead},
		Conditions: map[string]any{
			FieldSecretPath:  map[string]string{OpGlob: "/a/**"},
			FieldEnvironment: map[string]any{OpIn: []string{"dev", "qa"}},
		},
	}})
	if !s.Can(ActionReadValue, SubjectSecrets, Attributes{FieldSecretPath: "/a/b", FieldEnvironment: "qa"}) {
		t.Error("Go-typed conditions not honoured")
	}
}

func TestNilAndEmptySet(t *testing.T) {
	var s *Set
	if s.Can(ActionRead, SubjectSecrets, nil) || s.Explain(ActionRead, SubjectSecrets) != nil || s.Rules() != nil {
		t.Error("nil Set must allow and explain nothing")
	}
	if err := s.Check(ActionRead, SubjectSecrets, nil); err == nil {
		t.Error("nil Set Check must deny")
	}
	empty := MustCompile()
	if empty.Can(ActionRead, SubjectSecrets, nil) {
		t.Error("empty Set allowed something")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := MustCompile(mustParse(t, `[
		{"subject":"secrets","action":["read"],"conditions":{"secretPath":{"$glob":"/a/**"}}},
		{"subject":"secrets","action":["read"],"inverted":true,"conditions":{"secretName":"X"}}
	]`))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				if !s.Can(ActionReadValue, SubjectSecrets, secretAttrs("dev", "/a/b", "Y")) {
					t.Error("unexpected deny")
					return
				}
				_ = s.Explain(ActionRead, SubjectSecrets)
			}
		}()
	}
	wg.Wait()
}

// Examples taken from the spec text (api-core §8.7, features §3.2–§3.4).
func TestSpecExamples(t *testing.T) {
	t.Run("V2 rule with every operator form", func(t *testing.T) {
		s := MustCompile(mustParse(t, `[{"subject":"secrets","action":["read","create"],
			"conditions":{"environment":{"$in":["dev","staging"]},"secretPath":{"$glob":"/folder-name/*/**"},
			"secretName":{"$ne":"ROOT"},"secretTags":{"$in":["backend"]}}}]`))
		runChecks(t, s, []check{
			{"matches", ActionCreate, SubjectSecrets, secretAttrs("dev", "/folder-name/x/y", "A", "backend"), true},
			{"path must be below a sub-folder", ActionCreate, SubjectSecrets, secretAttrs("dev", "/folder-name", "A", "backend"), false},
			{"excluded name", ActionCreate, SubjectSecrets, secretAttrs("dev", "/folder-name/x", "ROOT", "backend"), false},
			{"edit never granted", ActionEdit, SubjectSecrets, secretAttrs("dev", "/folder-name/x", "A", "backend"), false},
		})
	})
	t.Run("additional privilege on top of viewer", func(t *testing.T) {
		viewer, _ := BuiltinProjectRole(RoleViewer)
		priv := mustParse(t, `[{"subject":"secrets","action":["edit"],"conditions":{"environment":"dev","secretPath":{"$glob":"/app/**"}}}]`)
		s := MustCompile(viewer, priv)
		runChecks(t, s, []check{
			{"viewer reads prod", ActionReadValue, SubjectSecrets, secretAttrs("prod", "/", "A"), true},
			{"privilege edits dev/app", ActionEdit, SubjectSecrets, secretAttrs("dev", "/app/x", "A"), true},
			{"no edit outside the privilege", ActionEdit, SubjectSecrets, secretAttrs("dev", "/", "A"), false},
		})
	})
	t.Run("ABAC location folder", func(t *testing.T) {
		rules := mustParse(t, `[{"subject":"secrets","action":["read"],"conditions":{"secretPath":{"$glob":"/appA/{{ identity.metadata.location }}"}}}]`)
		s := MustCompile(Placeholders{Metadata: map[string]string{"location": "berlin"}}.Apply(rules))
		runChecks(t, s, []check{
			{"own location", ActionReadValue, SubjectSecrets, Attributes{"secretPath": "/appA/berlin"}, true},
			{"other location", ActionReadValue, SubjectSecrets, Attributes{"secretPath": "/appA/paris"}, false},
		})
	})
}
