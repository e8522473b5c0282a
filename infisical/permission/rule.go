package permission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Rule is one permission rule in Infisical's V2 ("unpacked CASL") form, the
// form roles, privileges and templates are stored and returned in.
type Rule struct {
	Subject string `json:"subject"`
	// Action lists the actions granted (or denied). On input a single string
	// is accepted too, as Infisical does.
	Action []string `json:"action"`
	// Conditions maps a field to either a string (meaning $eq) or an object of
	// operators {$eq, $ne, $in, $glob}. Values decoded from JSON are string,
	// map[string]any and []any; map[string]string and []string are accepted
	// from Go callers.
	Conditions map[string]any `json:"conditions,omitempty"`
	// Inverted makes this a deny rule (CASL "cannot").
	Inverted bool `json:"inverted,omitempty"`
}

// V1Rule is the legacy input form: one action per rule and conditions limited
// to {environment: "slug", secretPath: {$glob: "..."}}. Convert it with
// ConvertV1 before storing or compiling.
type V1Rule struct {
	Action     string         `json:"action"`
	Subject    string         `json:"subject"`
	Conditions map[string]any `json:"conditions,omitempty"`
	// Inverted is accepted because Infisical's V1 schema accepts it too.
	Inverted bool `json:"inverted,omitempty"`
}

// Attributes describe the object an action is checked against: for secrets
// "environment", "secretPath", "secretName" (strings) and "secretTags"
// ([]string of tag slugs). A missing key means the attribute is unknown; see
// the package documentation for how unknown attributes are treated. A nil
// value counts as missing.
type Attributes map[string]any

// ValidationError reports an invalid rule. It names the rule by its index in
// the input and the offending field by its JSON path inside the rule, so an
// HTTP layer can answer 400 with a message that points at the problem.
type ValidationError struct {
	// Index is the position of the rule in the input list, or -1 when the
	// error concerns the input as a whole or the index is not known.
	Index int
	// Field is the JSON path inside the rule, e.g. "action[1]" or
	// "conditions.secretPath.$glob"; empty when the rule as a whole is bad.
	Field string
	// Reason says what is wrong, in words fit for an API client.
	Reason string
}

func (e *ValidationError) Error() string {
	switch {
	case e.Index >= 0 && e.Field != "":
		return fmt.Sprintf("permissions[%d].%s: %s", e.Index, e.Field, e.Reason)
	case e.Index >= 0:
		return fmt.Sprintf("permissions[%d]: %s", e.Index, e.Reason)
	case e.Field != "":
		return fmt.Sprintf("permissions: %s: %s", e.Field, e.Reason)
	default:
		return "permissions: " + e.Reason
	}
}

func invalid(index int, field, format string, args ...any) *ValidationError {
	return &ValidationError{Index: index, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// UnmarshalJSON decodes a rule, accepting "action" as a string or an array of
// strings. Unknown keys (CASL's "fields", "reason", ...) are ignored, as
// Infisical ignores them. Type errors are returned as *ValidationError with
// Index -1.
func (r *Rule) UnmarshalJSON(data []byte) error {
	var w struct {
		Subject    json.RawMessage `json:"subject"`
		Action     json.RawMessage `json:"action"`
		Conditions json.RawMessage `json:"conditions"`
		Inverted   json.RawMessage `json:"inverted"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return invalid(-1, "", "must be an object")
	}
	var out Rule
	if err := decodeField(w.Subject, &out.Subject); err != nil {
		return invalid(-1, "subject", "must be a string")
	}
	acts, err := decodeActions(w.Action)
	if err != nil {
		return err
	}
	out.Action = acts
	if isJSONValue(w.Conditions) {
		if err := json.Unmarshal(w.Conditions, &out.Conditions); err != nil {
			return invalid(-1, "conditions", "must be an object")
		}
	}
	if err := decodeField(w.Inverted, &out.Inverted); err != nil {
		return invalid(-1, "inverted", "must be a boolean")
	}
	*r = out
	return nil
}

// isJSONValue reports whether a raw field was present and not null.
func isJSONValue(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func decodeField(raw json.RawMessage, dst any) error {
	if !isJSONValue(raw) {
		return nil
	}
	return json.Unmarshal(raw, dst)
}

func decodeActions(raw json.RawMessage) ([]string, error) {
	if !isJSONValue(raw) {
		return nil, nil // validation reports the missing action
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, invalid(-1, "action", "must be a string or an array of strings")
	}
	if many == nil {
		many = []string{}
	}
	return many, nil
}

// ParseRules decodes a JSON array of V2 project rules and validates subjects,
// actions, condition fields and operators against what Infisical accepts for
// project roles. Errors are *ValidationError.
func ParseRules(data []byte) ([]Rule, error) {
	return parseRules(data, projectSubjects(), false)
}

// ParseOrgRules is ParseRules for organization roles. The short subject name
// "admin-console" is rewritten to OrgSubjectAdminConsole.
func ParseOrgRules(data []byte) ([]Rule, error) {
	return parseRules(data, orgSubjects(), true)
}

func parseRules(data []byte, specs []subjectSpec, org bool) ([]Rule, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, invalid(-1, "", "must be a JSON array of rules")
	}
	rules := make([]Rule, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &rules[i]); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Index = i
				return nil, ve
			}
			return nil, invalid(i, "", "must be an object")
		}
		if org && rules[i].Subject == orgSubjectAdminConsoleAlias {
			rules[i].Subject = OrgSubjectAdminConsole
		}
	}
	if err := validateRules(rules, specs); err != nil {
		return nil, err
	}
	return rules, nil
}

// ValidateRules checks already-decoded project rules the way ParseRules does.
func ValidateRules(rules []Rule) error { return validateRules(rules, projectSubjects()) }

// ValidateOrgRules checks already-decoded organization rules.
func ValidateOrgRules(rules []Rule) error { return validateRules(rules, orgSubjects()) }

func validateRules(rules []Rule, specs []subjectSpec) error {
	for i, r := range rules {
		if err := validateRule(i, r, specs); err != nil {
			return err
		}
	}
	return nil
}

func validateRule(i int, r Rule, specs []subjectSpec) error {
	if r.Subject == "" {
		return invalid(i, "subject", "is required")
	}
	spec, ok := findSpec(specs, r.Subject)
	if !ok {
		return invalid(i, "subject", "unknown subject %q", r.Subject)
	}
	if len(r.Action) == 0 {
		return invalid(i, "action", "must name at least one action")
	}
	for j, a := range r.Action {
		if !contains(spec.actions, a) {
			return invalid(i, fmt.Sprintf("action[%d]", j), "action %q is not valid for subject %q", a, r.Subject)
		}
	}
	if len(r.Conditions) == 0 {
		return nil
	}
	if len(spec.fields) == 0 {
		return invalid(i, "conditions", "subject %q does not accept conditions", r.Subject)
	}
	for _, field := range sortedKeys(r.Conditions) {
		if !contains(spec.fields, field) {
			return invalid(i, "conditions."+field, "unknown condition field for subject %q", r.Subject)
		}
		if err := validateConditionValue(i, field, r.Conditions[field]); err != nil {
			return err
		}
	}
	// The structural checks (operator names, value types, glob syntax) are
	// exactly what Compile enforces; run them here so a role that validates
	// always compiles.
	if _, err := compileConditions(i, r.Conditions, nil); err != nil {
		return err
	}
	return nil
}

// validateConditionValue applies Infisical's per-field restrictions on top of
// the structural checks: secretTags only supports list membership, and path
// fields compared for equality must be absolute.
func validateConditionValue(i int, field string, v any) error {
	path := "conditions." + field
	pathField := field == FieldSecretPath || field == FieldAccountPath
	if s, ok := v.(string); ok {
		if pathField && !strings.HasPrefix(s, "/") {
			return invalid(i, path, "must start with '/'")
		}
		return nil
	}
	ops, ok := asOperatorMap(v)
	if !ok {
		return nil // compileConditions reports the type error
	}
	for _, op := range sortedKeys(ops) {
		if field == FieldSecretTags && op != OpIn && op != OpEq {
			return invalid(i, path+"."+op, "secretTags supports only $in and $eq")
		}
		needSlash := pathField && op != OpGlob
		switch val := ops[op].(type) {
		case string:
			if val == "" {
				return invalid(i, path+"."+op, "must not be empty")
			}
			if needSlash && !strings.HasPrefix(val, "/") {
				return invalid(i, path+"."+op, "must start with '/'")
			}
		default:
			list, _ := asStringList(val) // a non-list is reported by compileConditions
			for k, s := range list {
				elem := fmt.Sprintf("%s.%s[%d]", path, op, k)
				if strings.TrimSpace(s) == "" {
					return invalid(i, elem, "must not be empty")
				}
				if needSlash && !strings.HasPrefix(s, "/") {
					return invalid(i, elem, "must start with '/'")
				}
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// asOperatorMap views a condition value as an operator object.
func asOperatorMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, s := range m {
			out[k] = s
		}
		return out, true
	}
	return nil, false
}

// asStringList views an $in operand as a list of strings.
func asStringList(v any) ([]string, bool) {
	switch l := v.(type) {
	case []string:
		return l, true
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// cloneRule deep-copies a rule so that a Set (or a caller of Explain) never
// shares mutable maps or slices with someone else.
func cloneRule(r Rule) Rule {
	out := Rule{Subject: r.Subject, Inverted: r.Inverted}
	if r.Action != nil {
		out.Action = append([]string(nil), r.Action...)
	}
	if r.Conditions != nil {
		out.Conditions = make(map[string]any, len(r.Conditions))
		for k, v := range r.Conditions {
			out.Conditions[k] = cloneValue(v)
		}
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case map[string]string:
		m := make(map[string]string, len(x))
		for k, e := range x {
			m[k] = e
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	case []string:
		return append([]string(nil), x...)
	}
	return v
}

// CloneRules deep-copies a list of rules.
func CloneRules(rules []Rule) []Rule {
	if rules == nil {
		return nil
	}
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = cloneRule(r)
	}
	return out
}
