package permission

import (
	"sort"
	"strings"
)

// maxCoverCombos bounds the attribute combinations tried per granted rule
// and action. Past it the check stops trying further combinations (it can
// then miss an excess in exotic rule sets, never refuse a valid grant).
const maxCoverCombos = 4096

// coverSentinel is an attribute value no real environment, path or name
// equals: a rule restricted by a condition on the field does not match it.
const coverSentinel = "\x00unmatched\x00"

// Covers reports whether s allows everything the allow rules of rules grant:
// the check behind Infisical's "permission boundary" (nobody may hand out
// more than they hold). Deny rules in rules only take away and are ignored.
// When it returns false, the second result is (a copy of) the first granted
// rule that s does not cover.
//
// For each granted (subject, action) the check tries objects built from the
// values that the granted rule and the rules of s name for each condition
// field ($eq, $ne and $in operands, $glob patterns and sample paths that the
// patterns match, such as "/a/x/y" and "/a" for "/a/**"), plus a value that
// no condition names. It refuses when the granted rule matches such an
// object and s does not allow it, so a refusal always points at an object
// the grant would open and s cannot reach. Globs are compared through these
// samples, not symbolically, so a caller rule "/a/*/b" against a grant
// "/a/**" is decided by the samples tried.
func (s *Set) Covers(rules []Rule) (bool, Rule) {
	for _, r := range rules {
		if r.Inverted {
			continue
		}
		grant, err := Compile([]Rule{{Subject: r.Subject, Action: r.Action, Conditions: r.Conditions}})
		if err != nil {
			return false, cloneRule(r)
		}
		var fields []string
		var values [][]string
		prepared := false
		for _, a := range r.Action {
			if s.coversTrivially(a, r.Subject) {
				continue
			}
			if s == nil {
				return false, cloneRule(r)
			}
			if !prepared {
				fields, values = s.coverCandidates(r)
				prepared = true
			}
			if !s.coversAction(grant, a, r.Subject, fields, values) {
				return false, cloneRule(r)
			}
		}
	}
	return true, Rule{}
}

// coversTrivially reports whether s allows action on subject without
// conditions and denies nothing there.
func (s *Set) coversTrivially(action, subject string) bool {
	if s == nil {
		return false
	}
	si := s.subjects[subject]
	if si == nil {
		return false
	}
	actions := []string{action}
	if subject == SubjectSecrets && action == ActionRead {
		actions = []string{ActionDescribeSecret, ActionReadValue}
	}
	for _, a := range actions {
		b := si.actions[a]
		if b == nil || len(b.deny) > 0 {
			return false
		}
		free := false
		for _, cr := range b.allow {
			if len(cr.conds) == 0 {
				free = true
				break
			}
		}
		if !free {
			return false
		}
	}
	return true
}

// coverCandidates lists, per condition field relevant to r's subject, the
// values worth trying: what r names, what s's rules on the subject name, and
// the sentinel.
func (s *Set) coverCandidates(r Rule) ([]string, [][]string) {
	byField := map[string]map[string]bool{}
	add := func(conds map[string]any) {
		for field, v := range conds {
			set := byField[field]
			if set == nil {
				set = map[string]bool{coverSentinel: true}
				byField[field] = set
			}
			for _, val := range coverValues(v) {
				set[val] = true
			}
		}
	}
	add(r.Conditions)
	for _, own := range s.rules {
		if own.Subject == r.Subject {
			add(own.Conditions)
		}
	}
	fields := make([]string, 0, len(byField))
	for f := range byField {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	values := make([][]string, len(fields))
	for i, f := range fields {
		for v := range byField[f] {
			values[i] = append(values[i], v)
		}
		sort.Strings(values[i])
	}
	return fields, values
}

// coversAction tries every combination of candidate values (bounded).
func (s *Set) coversAction(grant *Set, action, subject string, fields []string, values [][]string) bool {
	idx := make([]int, len(fields))
	attrs := make(Attributes, len(fields))
	for n := 0; n < maxCoverCombos; n++ {
		for i, f := range fields {
			attrs[f] = values[i][idx[i]]
		}
		if grant.Can(action, subject, attrs) && !s.Can(action, subject, attrs) {
			return false
		}
		// Advance the odometer; stop after the last combination.
		i := 0
		for ; i < len(idx); i++ {
			idx[i]++
			if idx[i] < len(values[i]) {
				break
			}
			idx[i] = 0
		}
		if i == len(idx) {
			break
		}
	}
	return true
}

// coverValues returns the values a condition names: string and operator
// operands, $in elements, and for $glob the pattern itself plus sample
// values the pattern matches.
func coverValues(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return coverValues(m)
	case map[string]any:
		var out []string
		for op, arg := range x {
			switch op {
			case OpEq, OpNe:
				if s, ok := arg.(string); ok {
					out = append(out, s)
				}
			case OpGlob:
				if s, ok := arg.(string); ok {
					out = append(out, s)
					out = append(out, globSamples(s)...)
				}
			case OpIn:
				if l, ok := asStringList(arg); ok {
					out = append(out, l...)
				}
			}
		}
		return out
	}
	return nil
}

// globSamples returns concrete values a glob pattern matches: one where
// "**" spans two segments and one where it spans none; "*" and "?" become a
// plain name and the first alternative of a brace group is taken.
func globSamples(p string) []string {
	deep := strings.ReplaceAll(p, "**", "sample-a/sample-b")
	shallow := strings.ReplaceAll(p, "/**", "")
	shallow = strings.ReplaceAll(shallow, "**", "sample")
	out := make([]string, 0, 2)
	for _, s := range []string{deep, shallow} {
		s = strings.ReplaceAll(s, "*", "sample")
		s = strings.ReplaceAll(s, "?", "s")
		s = firstAlternatives(s)
		if s == "" {
			s = "/"
		}
		out = append(out, s)
	}
	return out
}

// firstAlternatives replaces each {a,b,...} group by its first alternative.
func firstAlternatives(s string) string {
	for {
		open := strings.LastIndexByte(s, '{')
		if open < 0 {
			return s
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return s
		}
		end += open
		alt := s[open+1 : end]
		if i := strings.IndexByte(alt, ','); i >= 0 {
			alt = alt[:i]
		}
		s = s[:open] + alt + s[end+1:]
	}
}
