package infisical

import (
	"github.com/infisical-go/engine/infisical/permission"
)

// boundarySentinel is an attribute value no real environment, path or name
// equals: a caller rule restricted by a condition does not match it, so such
// a rule does not count as covering an unrestricted grant.
const boundarySentinel = "\x00boundary\x00"

// boundaryFields are the condition fields set to the sentinel unless the
// granted rule names a value for them.
var boundaryFields = []string{
	permission.FieldEnvironment, permission.FieldSecretPath, permission.FieldSecretName, permission.FieldSecretTags,
	permission.FieldEventType, permission.FieldIdentityID, permission.FieldHostname, permission.FieldName,
	permission.FieldSubscriberName, permission.FieldCommonName, permission.FieldAltNames, permission.FieldSerialNumber,
	permission.FieldFriendlyName, permission.FieldStatus, permission.FieldSlug, permission.FieldConnectionID,
	permission.FieldResourceName, permission.FieldAccountName, permission.FieldAccountPath,
}

// maxBoundaryCombos bounds the attribute combinations tried per rule ($in
// lists multiply).
const maxBoundaryCombos = 64

// setCovers reports whether the caller's permissions include everything the
// allow rules of a role grant (a caller may not hand out more than it has).
// Each granted (subject, action) is checked on an object that has exactly
// the attributes the granted rule's conditions name ($eq, $glob, each $in
// value) and unmatchable values for every other field. Deny rules of the
// granted role only take away, so they are ignored. The check is exact for
// the built-in roles; for conditioned custom rules it is a close, slightly
// permissive approximation ($ne conditions are not modelled).
func setCovers(caller *permission.Set, rules []permission.Rule) bool {
	if caller == nil {
		return len(rules) == 0
	}
	for _, r := range rules {
		if r.Inverted {
			continue
		}
		for _, attrs := range boundaryAttrs(r.Conditions) {
			for _, a := range r.Action {
				if !caller.Can(a, r.Subject, attrs) {
					return false
				}
			}
		}
	}
	return true
}

// boundaryAttrs expands a rule's conditions into attribute sets to test.
func boundaryAttrs(conds map[string]any) []permission.Attributes {
	base := permission.Attributes{}
	for _, f := range boundaryFields {
		base[f] = boundarySentinel
	}
	out := []permission.Attributes{base}
	for field, v := range conds {
		vals := conditionValues(v)
		if len(vals) == 0 {
			continue
		}
		var next []permission.Attributes
		for _, a := range out {
			for _, val := range vals {
				if len(next) >= maxBoundaryCombos {
					break
				}
				c := make(permission.Attributes, len(a))
				for k, x := range a {
					c[k] = x
				}
				c[field] = val
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// conditionValues returns the values a condition admits that can stand in
// for objects of the granted rule: the $eq operand, the $glob pattern (a
// pattern matches itself, and a caller glob that admits the pattern admits
// what it names), each $in element.
func conditionValues(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return conditionValues(m)
	case map[string]any:
		var out []string
		for op, arg := range x {
			switch op {
			case permission.OpEq, permission.OpGlob:
				if s, ok := arg.(string); ok {
					out = append(out, s)
				}
			case permission.OpIn:
				switch l := arg.(type) {
				case []string:
					out = append(out, l...)
				case []any:
					for _, e := range l {
						if s, ok := e.(string); ok {
							out = append(out, s)
						}
					}
				}
			}
		}
		return out
	}
	return nil
}
