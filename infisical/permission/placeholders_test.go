package permission

import (
	"reflect"
	"testing"
)

func TestPlaceholdersApply(t *testing.T) {
	p := Placeholders{
		IdentityID: "id-123",
		Username:   "alice",
		Metadata:   map[string]string{"team": "payments", "location": "eu", "wild": "*"},
	}
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"plain string", map[string]any{"secretName": "{{identity.username}}_TOKEN"},
			map[string]any{"secretName": "alice_TOKEN"}},
		{"whitespace inside braces", map[string]any{"secretPath": "/users/{{ identity.id }}"},
			map[string]any{"secretPath": "/users/id-123"}},
		{"metadata in $glob", map[string]any{"secretPath": map[string]any{"$glob": "/{{identity.metadata.team}}/**"}},
			map[string]any{"secretPath": map[string]any{"$glob": "/payments/**"}}},
		{"metadata in $eq and $ne", map[string]any{"environment": map[string]any{"$eq": "{{identity.metadata.location}}", "$ne": "x{{identity.username}}"}},
			map[string]any{"environment": map[string]any{"$eq": "eu", "$ne": "xalice"}}},
		{"$in elements", map[string]any{"environment": map[string]any{"$in": []any{"{{identity.metadata.location}}", "global"}}},
			map[string]any{"environment": map[string]any{"$in": []any{"eu", "global"}}}},
		{"missing metadata key renders empty", map[string]any{"secretPath": "/t/{{identity.metadata.nope}}"},
			map[string]any{"secretPath": "/t/"}},
		{"glob value is escaped", map[string]any{"secretPath": map[string]any{"$glob": "/t/{{identity.metadata.wild}}"}},
			map[string]any{"secretPath": map[string]any{"$glob": `/t/\*`}}},
		{"plain value is not escaped", map[string]any{"secretName": "{{identity.metadata.wild}}"},
			map[string]any{"secretName": "*"}},
		{"unknown placeholder untouched", map[string]any{"secretPath": map[string]any{"$glob": "/{{a,b}}/{{ user.id }}"}},
			map[string]any{"secretPath": map[string]any{"$glob": "/{{a,b}}/{{ user.id }}"}}},
		{"several placeholders", map[string]any{"secretPath": "/{{identity.metadata.team}}/{{identity.username}}/{{identity.id}}"},
			map[string]any{"secretPath": "/payments/alice/id-123"}},
		{"unterminated", map[string]any{"secretName": "{{identity.id"},
			map[string]any{"secretName": "{{identity.id"}},
		{"extra brace before", map[string]any{"secretName": "{{{identity.id}}"},
			map[string]any{"secretName": "{id-123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []Rule{{Subject: "secrets", Action: []string{"read"}, Conditions: tt.in}}
			before := cloneRule(in[0])
			got := p.Apply(in)
			if !reflect.DeepEqual(got[0].Conditions, tt.want) {
				t.Errorf("got %#v, want %#v", got[0].Conditions, tt.want)
			}
			if !reflect.DeepEqual(in[0], before) {
				t.Error("Apply modified its input")
			}
		})
	}
}

func TestPlaceholdersEscapedGlobStaysLiteral(t *testing.T) {
	rules := []Rule{{Subject: "secrets", Action: []string{"read"},
		Conditions: map[string]any{"secretPath": map[string]any{"$glob": "/t/{{identity.metadata.team}}/**"}}}}
	s := MustCompile(Placeholders{Metadata: map[string]string{"team": "{a,b}"}}.Apply(rules))
	runChecks(t, s, []check{
		{"literal braces", ActionReadValue, SubjectSecrets, Attributes{"secretPath": "/t/{a,b}/x"}, true},
		{"no alternative a", ActionReadValue, SubjectSecrets, Attributes{"secretPath": "/t/a/x"}, false},
	})
}

func TestPlaceholdersRenderingEmptyStillCompiles(t *testing.T) {
	rules := []Rule{
		{Subject: "secrets", Action: []string{"read"}, Conditions: map[string]any{
			"environment": map[string]any{"$eq": "{{identity.metadata.missing}}"}}},
		{Subject: "secrets", Action: []string{"edit"}, Conditions: map[string]any{
			"secretPath": map[string]any{"$glob": "{{identity.id}}"}}},
	}
	s, err := Compile(Placeholders{}.Apply(rules))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	runChecks(t, s, []check{
		{"empty $eq grants nothing real", ActionReadValue, SubjectSecrets, Attributes{"environment": "dev"}, false},
		{"empty $glob matches nothing", ActionEdit, SubjectSecrets, Attributes{"secretPath": "/"}, false},
		{"empty $glob matches nothing, even empty", ActionEdit, SubjectSecrets, Attributes{"secretPath": ""}, false},
	})
}
