package permission

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestParseRulesValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Rule
	}{
		{"empty array", `[]`, []Rule{}},
		{"action as a string", `[{"subject":"secrets","action":"read"}]`,
			[]Rule{{Subject: "secrets", Action: []string{"read"}}}},
		{"action array, inverted, conditions", `[{"subject":"secrets","action":["read","edit"],"inverted":true,"conditions":{"environment":"dev","secretPath":{"$glob":"/a/**"}}}]`,
			[]Rule{{Subject: "secrets", Action: []string{"read", "edit"}, Inverted: true,
				Conditions: map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/a/**"}}}}},
		{"unknown keys ignored, null fields", `[{"subject":"tags","action":["read"],"fields":null,"reason":"x","conditions":null,"inverted":null}]`,
			[]Rule{{Subject: "tags", Action: []string{"read"}}}},
		{"all operators", `[{"subject":"secrets","action":["readValue"],"conditions":{"secretName":{"$eq":"A","$ne":"B","$in":["A"],"$glob":"A*"},"secretTags":{"$in":["t"]}}}]`,
			[]Rule{{Subject: "secrets", Action: []string{"readValue"}, Conditions: map[string]any{
				"secretName": map[string]any{"$eq": "A", "$ne": "B", "$in": []any{"A"}, "$glob": "A*"},
				"secretTags": map[string]any{"$in": []any{"t"}}}}}},
		{"dynamic secrets and cmek actions", `[{"subject":"dynamic-secrets","action":["lease"],"conditions":{"environment":"dev"}},{"subject":"cmek","action":["encrypt","sign"]}]`,
			[]Rule{{Subject: "dynamic-secrets", Action: []string{"lease"}, Conditions: map[string]any{"environment": "dev"}},
				{Subject: "cmek", Action: []string{"encrypt", "sign"}}}},
		{"identity conditions", `[{"subject":"identity","action":["grant-privileges"],"conditions":{"identityId":{"$in":["id1"]}}}]`,
			[]Rule{{Subject: "identity", Action: []string{"grant-privileges"}, Conditions: map[string]any{"identityId": map[string]any{"$in": []any{"id1"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRules([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseRules: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			if _, err := Compile(got); err != nil {
				t.Errorf("a parsed rule list must compile: %v", err)
			}
		})
	}
}

func TestParseRulesInvalid(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		index int
		field string
	}{
		{"not JSON", `{`, -1, ""},
		{"not an array", `{"subject":"secrets"}`, -1, ""},
		{"rule not an object", `[1]`, 0, ""},
		{"subject not a string", `[{"subject":1,"action":"read"}]`, 0, "subject"},
		{"missing subject", `[{"action":"read"}]`, 0, "subject"},
		{"unknown subject", `[{"subject":"nope","action":"read"}]`, 0, "subject"},
		{"org-only subject in a project role", `[{"subject":"billing","action":"read"}]`, 0, "subject"},
		{"missing action", `[{"subject":"secrets"}]`, 0, "action"},
		{"empty action list", `[{"subject":"secrets","action":[]}]`, 0, "action"},
		{"action wrong type", `[{"subject":"secrets","action":3}]`, 0, "action"},
		{"unknown action", `[{"subject":"secrets","action":["read","fly"]}]`, 0, "action[1]"},
		{"action of another subject", `[{"subject":"tags","action":["lease"]}]`, 0, "action[0]"},
		{"workspace read is not a project action", `[{"subject":"workspace","action":["read"]}]`, 0, "action[0]"},
		{"inverted wrong type", `[{"subject":"secrets","action":"read","inverted":"yes"}]`, 0, "inverted"},
		{"conditions wrong type", `[{"subject":"secrets","action":"read","conditions":[]}]`, 0, "conditions"},
		{"conditions on a subject without any", `[{"subject":"tags","action":"read","conditions":{"environment":"dev"}}]`, 0, "conditions"},
		{"unknown condition field", `[{"subject":"secrets","action":"read","conditions":{"color":"red"}}]`, 0, "conditions.color"},
		{"unknown operator", `[{"subject":"secrets","action":"read","conditions":{"environment":{"$regex":"d.*"}}}]`, 0, "conditions.environment.$regex"},
		{"number value", `[{"subject":"secrets","action":"read","conditions":{"environment":1}}]`, 0, "conditions.environment"},
		{"$in not array", `[{"subject":"secrets","action":"read","conditions":{"environment":{"$in":"dev"}}}]`, 0, "conditions.environment.$in"},
		{"$in with non-string", `[{"subject":"secrets","action":"read","conditions":{"environment":{"$in":["dev",2]}}}]`, 0, "conditions.environment.$in"},
		{"$in with empty string", `[{"subject":"secrets","action":"read","conditions":{"environment":{"$in":["dev",""]}}}]`, 0, "conditions.environment.$in[1]"},
		{"empty $eq", `[{"subject":"secrets","action":"read","conditions":{"environment":{"$eq":""}}}]`, 0, "conditions.environment.$eq"},
		{"empty $glob", `[{"subject":"secrets","action":"read","conditions":{"secretPath":{"$glob":""}}}]`, 0, "conditions.secretPath.$glob"},
		{"relative secretPath", `[{"subject":"secrets","action":"read","conditions":{"secretPath":"app"}}]`, 0, "conditions.secretPath"},
		{"relative secretPath in $in", `[{"subject":"secrets","action":"read","conditions":{"secretPath":{"$in":["/a","b"]}}}]`, 0, "conditions.secretPath.$in[1]"},
		{"secretTags $glob", `[{"subject":"secrets","action":"read","conditions":{"secretTags":{"$glob":"a*"}}}]`, 0, "conditions.secretTags.$glob"},
		{"bad glob", `[{"subject":"secrets","action":"read","conditions":{"secretPath":{"$glob":"/[z-a]"}}}]`, 0, "conditions.secretPath.$glob"},
		{"second rule bad", `[{"subject":"secrets","action":"read"},{"subject":"secrets","action":"nope"}]`, 1, "action[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error = %v, want *ValidationError", err)
			}
			if ve.Index != tt.index || ve.Field != tt.field {
				t.Errorf("error at [%d].%q, want [%d].%q (%v)", ve.Index, ve.Field, tt.index, tt.field, err)
			}
			if ve.Error() == "" || ve.Reason == "" {
				t.Error("error has no message")
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	tests := []struct {
		err  ValidationError
		want string
	}{
		{ValidationError{Index: 2, Field: "action[0]", Reason: "bad"}, "permissions[2].action[0]: bad"},
		{ValidationError{Index: 2, Reason: "bad"}, "permissions[2]: bad"},
		{ValidationError{Index: -1, Field: "action", Reason: "bad"}, "permissions: action: bad"},
		{ValidationError{Index: -1, Reason: "bad"}, "permissions: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseOrgRules(t *testing.T) {
	rules, err := ParseOrgRules([]byte(`[{"subject":"admin-console","action":"access-all-projects"},{"subject":"billing","action":["manage-billing"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if rules[0].Subject != OrgSubjectAdminConsole {
		t.Errorf("alias not rewritten: %q", rules[0].Subject)
	}
	if _, err := ParseOrgRules([]byte(`[{"subject":"secrets","action":"read"}]`)); err == nil {
		t.Error("project subject accepted in an org role")
	}
}

func TestRuleJSONRoundTrip(t *testing.T) {
	in := []Rule{{Subject: "secrets", Action: []string{"read"}, Inverted: true, Conditions: map[string]any{"environment": "dev"}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `[{"subject":"secrets","action":["read"],"conditions":{"environment":"dev"},"inverted":true}]` {
		t.Errorf("marshal = %s", b)
	}
	var out []Rule
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: %#v", out)
	}
}

func TestValidateRulesMatchesParse(t *testing.T) {
	if err := ValidateRules([]Rule{{Subject: "secrets", Action: []string{"readValue"}}}); err != nil {
		t.Errorf("ValidateRules: %v", err)
	}
	if err := ValidateRules([]Rule{{Subject: "secrets", Action: []string{"manage"}}}); err == nil {
		t.Error("ValidateRules accepted an unknown action")
	}
	if err := ValidateOrgRules([]Rule{{Subject: "sso", Action: []string{"edit"}}}); err != nil {
		t.Errorf("ValidateOrgRules: %v", err)
	}
}

func TestReservedSlugs(t *testing.T) {
	for _, s := range []string{"admin", "member", "viewer", "no-access", "custom"} {
		if !IsReservedProjectRoleSlug(s) {
			t.Errorf("%q should be reserved", s)
		}
	}
	for _, s := range []string{"developer", "sre", "Admin", ""} {
		if IsReservedProjectRoleSlug(s) {
			t.Errorf("%q should not be reserved", s)
		}
	}
	if !IsReservedOrgRoleSlug("no-access") || IsReservedOrgRoleSlug("viewer") {
		t.Error("org reserved slugs wrong")
	}
}
