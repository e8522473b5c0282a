package permission

import (
	"strconv"
	"strings"
)

// Placeholders are the actor attributes that ABAC rules may reference as
// {{identity.id}}, {{identity.username}} and {{identity.metadata.<key>}}
// (whitespace inside the braces is allowed), and what a machine identity's
// login proved as {{identity.auth.<path>}}, e.g.
// {{identity.auth.oidc.claims.sub}} or {{identity.auth.kubernetes.namespace}}.
type Placeholders struct {
	IdentityID string
	Username   string
	Metadata   map[string]string
	// Auth holds the login principal (nested maps decoded from JSON). A
	// dotted path reaches a string, number or boolean leaf; anything else
	// (a missing key, an object, a list) renders as the empty string.
	Auth map[string]any
}

// Apply returns a deep copy of rules with every placeholder in condition
// string values replaced by the actor's value; call it before Compile.
//
// A metadata key the actor does not have becomes the empty string, as with
// Infisical's template rendering. Text in double braces that is not one of
// the three forms is left untouched (it may be a nested glob brace group).
// Values substituted into a $glob pattern are escaped so that they match
// literally: metadata can come from an outside identity provider, and a value
// such as "*" must not widen the rule.
func (p Placeholders) Apply(rules []Rule) []Rule {
	out := CloneRules(rules)
	for i := range out {
		for field, v := range out[i].Conditions {
			out[i].Conditions[field] = p.applyValue(v, false)
		}
	}
	return out
}

// applyValue rewrites one condition value (already a private copy).
func (p Placeholders) applyValue(v any, glob bool) any {
	switch x := v.(type) {
	case string:
		return p.substitute(x, glob)
	case map[string]any:
		for op, e := range x {
			x[op] = p.applyValue(e, op == OpGlob)
		}
		return x
	case map[string]string:
		for op, e := range x {
			x[op] = p.substitute(e, op == OpGlob)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = p.applyValue(e, glob)
		}
		return x
	case []string:
		for i, e := range x {
			x[i] = p.substitute(e, glob)
		}
		return x
	}
	return v
}

func (p Placeholders) substitute(s string, glob bool) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.Index(s, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(s[open+2:], "}}")
		if end < 0 {
			break
		}
		end += open + 2
		val, ok := p.resolve(strings.TrimSpace(s[open+2 : end]))
		if !ok {
			// Not ours: keep the opening brace and rescan after it so that
			// "{{{identity.id}}" still finds the placeholder inside.
			b.WriteString(s[:open+1])
			s = s[open+1:]
			continue
		}
		if glob {
			val = escapeGlob(val)
		}
		b.WriteString(s[:open])
		b.WriteString(val)
		s = s[end+2:]
	}
	b.WriteString(s)
	return b.String()
}

func (p Placeholders) resolve(name string) (string, bool) {
	switch name {
	case "identity.id":
		return p.IdentityID, true
	case "identity.username":
		return p.Username, true
	}
	if key, ok := strings.CutPrefix(name, "identity.metadata."); ok && key != "" {
		return p.Metadata[key], true
	}
	if path, ok := strings.CutPrefix(name, "identity.auth."); ok && path != "" {
		return authLeaf(p.Auth, path), true
	}
	return "", false
}

// authLeaf walks a dotted path through nested maps and formats the leaf.
func authLeaf(m map[string]any, path string) string {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			if sm, isStr := cur.(map[string]string); isStr {
				v, found := sm[part]
				if !found {
					return ""
				}
				cur = v
				continue
			}
			return ""
		}
		cur = obj[part]
	}
	switch v := cur.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// HasPlaceholders reports whether any condition value of rules contains
// "{{", so that callers load the actor's attributes only when needed.
func HasPlaceholders(rules []Rule) bool {
	for _, r := range rules {
		for _, v := range r.Conditions {
			if valueHasPlaceholder(v) {
				return true
			}
		}
	}
	return false
}

func valueHasPlaceholder(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{")
	case map[string]any:
		for _, e := range x {
			if valueHasPlaceholder(e) {
				return true
			}
		}
	case map[string]string:
		for _, e := range x {
			if strings.Contains(e, "{{") {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if valueHasPlaceholder(e) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if strings.Contains(e, "{{") {
				return true
			}
		}
	}
	return false
}
