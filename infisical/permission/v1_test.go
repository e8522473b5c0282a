package permission

import (
	"errors"
	"reflect"
	"testing"
)

func TestConvertV1(t *testing.T) {
	cond := map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/app/**"}}
	tests := []struct {
		name string
		in   []V1Rule
		want []Rule
	}{
		{
			name: "secrets read derives imports and dynamic secrets, not folders",
			in:   []V1Rule{{Action: "read", Subject: "secrets", Conditions: cond}},
			want: []Rule{
				{Subject: "secrets", Action: []string{"read"}, Conditions: cond},
				{Subject: "secret-imports", Action: []string{"read"}, Conditions: cond},
				{Subject: "dynamic-secrets", Action: []string{"read-root-credential"}, Conditions: cond},
			},
		},
		{
			name: "secrets edit also derives folders and lease",
			in:   []V1Rule{{Action: "edit", Subject: "secrets"}},
			want: []Rule{
				{Subject: "secrets", Action: []string{"edit"}},
				{Subject: "secret-imports", Action: []string{"edit"}},
				{Subject: "dynamic-secrets", Action: []string{"edit-root-credential", "lease"}},
				{Subject: "secret-folders", Action: []string{"edit"}},
			},
		},
		{
			name: "explicit folder rule suppresses derived folder rules",
			in:   []V1Rule{{Action: "create", Subject: "secrets"}, {Action: "read", Subject: "secret-folders"}},
			want: []Rule{
				{Subject: "secrets", Action: []string{"create"}},
				{Subject: "secret-folders", Action: []string{"read"}},
				{Subject: "secret-imports", Action: []string{"create"}},
				{Subject: "dynamic-secrets", Action: []string{"create-root-credential"}},
			},
		},
		{
			name: "delete maps to delete-root-credential; other subjects pass through",
			in:   []V1Rule{{Action: "delete", Subject: "secrets", Inverted: true}, {Action: "read", Subject: "member"}},
			want: []Rule{
				{Subject: "secrets", Action: []string{"delete"}, Inverted: true},
				{Subject: "member", Action: []string{"read"}},
				{Subject: "secret-imports", Action: []string{"delete"}, Inverted: true},
				{Subject: "dynamic-secrets", Action: []string{"delete-root-credential"}, Inverted: true},
				{Subject: "secret-folders", Action: []string{"delete"}, Inverted: true},
			},
		},
		{
			name: "empty input",
			in:   nil,
			want: []Rule{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertV1(tt.in)
			if err != nil {
				t.Fatalf("ConvertV1: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if err := ValidateRules(got); err != nil {
				t.Errorf("converted rules do not validate: %v", err)
			}
		})
	}
}

func TestConvertV1Semantics(t *testing.T) {
	rules, err := ConvertV1([]V1Rule{{Action: "read", Subject: "secrets", Conditions: map[string]any{
		"environment": "dev", "secretPath": map[string]any{"$glob": "/app/**"}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := MustCompile(rules)
	runChecks(t, s, []check{
		{"read in scope", ActionReadValue, SubjectSecrets, secretAttrs("dev", "/app/x", "A"), true},
		{"read out of scope", ActionReadValue, SubjectSecrets, secretAttrs("dev", "/other", "A"), false},
		{"imports readable", ActionRead, SubjectSecretImports, Attributes{"environment": "dev", "secretPath": "/app"}, true},
	})
}

func TestConvertV1Errors(t *testing.T) {
	tests := []struct {
		name  string
		in    []V1Rule
		index int
		field string
	}{
		{"unknown subject", []V1Rule{{Action: "read", Subject: "x"}}, 0, "subject"},
		{"missing action", []V1Rule{{Subject: "secrets"}}, 0, "action"},
		{"V2-only secrets action", []V1Rule{{Action: "readValue", Subject: "secrets"}}, 0, "action"},
		{"folder write", []V1Rule{{Action: "read", Subject: "secrets"}, {Action: "edit", Subject: "secret-folders"}}, 1, "action"},
		{"secretName condition", []V1Rule{{Action: "read", Subject: "secrets", Conditions: map[string]any{"secretName": "A"}}}, 0, "conditions.secretName"},
		{"glob on environment", []V1Rule{{Action: "read", Subject: "secrets", Conditions: map[string]any{"environment": map[string]any{"$glob": "d*"}}}}, 0, "conditions.environment.$glob"},
		{"conditions on role", []V1Rule{{Action: "read", Subject: "role", Conditions: map[string]any{"environment": "dev"}}}, 0, "conditions"},
		{"relative path", []V1Rule{{Action: "read", Subject: "secrets", Conditions: map[string]any{"secretPath": "app"}}}, 0, "conditions.secretPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConvertV1(tt.in)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error = %v, want *ValidationError", err)
			}
			if ve.Index != tt.index || ve.Field != tt.field {
				t.Errorf("error at [%d].%q, want [%d].%q (%v)", ve.Index, ve.Field, tt.index, tt.field, err)
			}
		})
	}
}

func TestV1Views(t *testing.T) {
	rules := []Rule{
		{Subject: "secrets", Action: []string{"read"}},
		{Subject: "secret-imports", Action: []string{"read"}},
		{Subject: "dynamic-secrets", Action: []string{"lease"}},
		{Subject: "secret-folders", Action: []string{"read", "edit"}},
		{Subject: "secret-folders", Action: []string{"edit"}},
	}
	wantRole := []Rule{
		{Subject: "secrets", Action: []string{"read"}},
		{Subject: "secret-folders", Action: []string{"read"}},
	}
	if got := V1RoleView(rules); !reflect.DeepEqual(got, wantRole) {
		t.Errorf("V1RoleView = %#v", got)
	}
	wantPriv := []Rule{{Subject: "secrets", Action: []string{"read"}}}
	if got := V1PrivilegeView(rules); !reflect.DeepEqual(got, wantPriv) {
		t.Errorf("V1PrivilegeView = %#v", got)
	}
	if rules[3].Action[1] != "edit" {
		t.Error("V1RoleView modified its input")
	}
}
