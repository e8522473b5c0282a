package permission

import (
	"errors"
	"fmt"
)

// Set is the compiled union of one actor's rules (all its roles, privileges
// and so on). It is immutable once built and safe for concurrent use. Build it
// with Compile and cache it: compiling globs is the expensive step, checking
// is cheap and does not allocate.
type Set struct {
	rules    []Rule // deep copies, in input order
	subjects map[string]*subjectIndex
}

type subjectIndex struct {
	actions map[string]*bucket
}

// bucket holds the rules relevant to one (subject, action) pair.
type bucket struct {
	deny    []*compiledRule
	allow   []*compiledRule
	explain []*compiledRule // every rule relevant to the pair, in input order
}

type compiledRule struct {
	index int // into Set.rules
	conds []compiledCond
}

type compiledCond struct {
	field string
	ops   []compiledOp
}

type opKind uint8

const (
	opEq opKind = iota
	opNe
	opIn
	opGlob
)

type compiledOp struct {
	kind   opKind
	value  string
	values []string
	glob   *Glob // nil for an empty $glob, which matches nothing
}

// Compile builds a Set from the union of several rule lists (one per role or
// privilege). It checks the structure of every rule (a subject, at least one
// action, known operators with well-typed operands, globs that compile) but
// not whether subjects and actions are known: the same code compiles project
// and organization rules. Use ParseRules or ValidateRules for that. Unlike
// validation it accepts empty operands, because placeholder substitution can
// produce them; an empty $glob matches nothing. Errors are *ValidationError
// whose Index counts rules across all lists in order.
//
// The input is deep-copied; later changes to it do not affect the Set.
func Compile(rules ...[]Rule) (*Set, error) {
	s := &Set{subjects: make(map[string]*subjectIndex)}
	globs := make(map[string]*Glob) // the same pattern often recurs across roles
	idx := 0
	for _, list := range rules {
		for _, r := range list {
			if err := s.add(idx, r, globs); err != nil {
				return nil, err
			}
			idx++
		}
	}
	return s, nil
}

// MustCompile is Compile for rules known to be valid (built-in roles, tests).
// It panics on error.
func MustCompile(rules ...[]Rule) *Set {
	s, err := Compile(rules...)
	if err != nil {
		panic(err)
	}
	return s
}

func (s *Set) add(idx int, r Rule, globs map[string]*Glob) error {
	if r.Subject == "" {
		return invalid(idx, "subject", "is required")
	}
	if len(r.Action) == 0 {
		return invalid(idx, "action", "must name at least one action")
	}
	for j, a := range r.Action {
		if a == "" {
			return invalid(idx, fmt.Sprintf("action[%d]", j), "must not be empty")
		}
	}
	conds, err := compileConditions(idx, r.Conditions, globs)
	if err != nil {
		return err
	}
	cr := &compiledRule{index: len(s.rules), conds: conds}
	s.rules = append(s.rules, cloneRule(r))

	si := s.subjects[r.Subject]
	if si == nil {
		si = &subjectIndex{actions: make(map[string]*bucket)}
		s.subjects[r.Subject] = si
	}
	for _, a := range r.Action {
		for _, target := range evalTargets(r.Subject, a) {
			b := si.bucket(target)
			if r.Inverted {
				b.deny = appendOnce(b.deny, cr)
			} else {
				b.allow = appendOnce(b.allow, cr)
			}
		}
		for _, target := range explainTargets(r.Subject, a) {
			b := si.bucket(target)
			b.explain = appendOnce(b.explain, cr)
		}
	}
	return nil
}

// evalTargets lists the actions whose checks a rule naming action decides.
// Legacy secrets "read" is describeSecret plus readValue; Can("read") on
// secrets is answered from those two, so "read" itself needs no eval bucket.
func evalTargets(subject, action string) []string {
	if subject == SubjectSecrets && action == ActionRead {
		return []string{ActionDescribeSecret, ActionReadValue}
	}
	return []string{action}
}

// explainTargets lists the actions for which a rule naming action is reported
// by Explain.
func explainTargets(subject, action string) []string {
	if subject == SubjectSecrets {
		switch action {
		case ActionRead:
			return []string{ActionRead, ActionDescribeSecret, ActionReadValue}
		case ActionDescribeSecret, ActionReadValue:
			return []string{action, ActionRead}
		}
	}
	return []string{action}
}

func (si *subjectIndex) bucket(action string) *bucket {
	b := si.actions[action]
	if b == nil {
		b = &bucket{}
		si.actions[action] = b
	}
	return b
}

// appendOnce avoids listing a rule twice when it names two actions that map
// to the same bucket (e.g. ["read", "describeSecret"]). A rule's actions are
// processed together, so a duplicate can only be the last element.
func appendOnce(list []*compiledRule, r *compiledRule) []*compiledRule {
	if n := len(list); n > 0 && list[n-1] == r {
		return list
	}
	return append(list, r)
}

// compileConditions checks and compiles a rule's conditions. Any operator or
// operand it does not understand is an error: silently ignoring a condition
// would widen an allow rule. globs may be nil.
func compileConditions(idx int, conds map[string]any, globs map[string]*Glob) ([]compiledCond, error) {
	if len(conds) == 0 {
		return nil, nil
	}
	if globs == nil {
		globs = make(map[string]*Glob)
	}
	out := make([]compiledCond, 0, len(conds))
	for _, field := range sortedKeys(conds) {
		path := "conditions." + field
		if field == "" {
			return nil, invalid(idx, "conditions", "field name must not be empty")
		}
		cc := compiledCond{field: field}
		switch v := conds[field].(type) {
		case string:
			cc.ops = []compiledOp{{kind: opEq, value: v}}
		default:
			ops, ok := asOperatorMap(v)
			if !ok {
				return nil, invalid(idx, path, "must be a string or an object of operators")
			}
			for _, name := range sortedKeys(ops) {
				op, err := compileOp(idx, path+"."+name, name, ops[name], globs)
				if err != nil {
					return nil, err
				}
				cc.ops = append(cc.ops, op)
			}
		}
		out = append(out, cc)
	}
	return out, nil
}

func compileOp(idx int, path, name string, v any, globs map[string]*Glob) (compiledOp, error) {
	switch name {
	case OpEq, OpNe, OpGlob:
		s, ok := v.(string)
		if !ok {
			return compiledOp{}, invalid(idx, path, "must be a string")
		}
		// Empty operands are rejected by validation, not here: a placeholder
		// that renders empty (a metadata key the actor lacks) must still
		// compile, as it does upstream.
		switch name {
		case OpEq:
			return compiledOp{kind: opEq, value: s}, nil
		case OpNe:
			return compiledOp{kind: opNe, value: s}, nil
		}
		if s == "" {
			// Infisical's matcher treats an empty glob as matching nothing.
			return compiledOp{kind: opGlob}, nil
		}
		g := globs[s]
		if g == nil {
			var err error
			if g, err = CompileGlob(s); err != nil {
				reason := err.Error()
				var ge *GlobError
				if errors.As(err, &ge) {
					reason = ge.Reason
				}
				return compiledOp{}, invalid(idx, path, "invalid glob: %s", reason)
			}
			globs[s] = g
		}
		return compiledOp{kind: opGlob, value: s, glob: g}, nil
	case OpIn:
		list, ok := asStringList(v)
		if !ok {
			return compiledOp{}, invalid(idx, path, "must be an array of strings")
		}
		return compiledOp{kind: opIn, values: append([]string(nil), list...)}, nil
	}
	return compiledOp{}, invalid(idx, path, "unknown operator %q (want $eq, $ne, $in or $glob)", name)
}

// Can reports whether the Set allows action on subject for an object with the
// given attributes: some allow rule matches and no deny rule does. Attributes
// absent from attrs are unknown (see the package documentation). A nil Set
// allows nothing. Can does not allocate.
func (s *Set) Can(action, subject string, attrs Attributes) bool {
	if s == nil {
		return false
	}
	si := s.subjects[subject]
	if si == nil {
		return false
	}
	if subject == SubjectSecrets && action == ActionRead {
		return si.can(ActionDescribeSecret, attrs) && si.can(ActionReadValue, attrs)
	}
	return si.can(action, attrs)
}

func (si *subjectIndex) can(action string, attrs Attributes) bool {
	b := si.actions[action]
	if b == nil {
		return false
	}
	for _, r := range b.deny {
		if r.matches(attrs, true) {
			return false
		}
	}
	for _, r := range b.allow {
		if r.matches(attrs, false) {
			return true
		}
	}
	return false
}

func (r *compiledRule) matches(attrs Attributes, deny bool) bool {
	for i := range r.conds {
		c := &r.conds[i]
		v, ok := attrs[c.field]
		if !ok || v == nil {
			if deny {
				return false // an unknown attribute never triggers a deny
			}
			continue // ... but may satisfy an allow
		}
		for j := range c.ops {
			if !c.ops[j].holds(v) {
				return false
			}
		}
	}
	return true
}

// holds evaluates one operator against an attribute value. Lists follow
// MongoDB: $eq/$in/$glob hold if any element satisfies them, $ne if no
// element equals the operand. A value of any other type equals nothing.
func (op *compiledOp) holds(v any) bool {
	switch x := v.(type) {
	case string:
		return op.scalar(x)
	case []string:
		if op.kind == opNe {
			for _, e := range x {
				if e == op.value {
					return false
				}
			}
			return true
		}
		for _, e := range x {
			if op.scalar(e) {
				return true
			}
		}
		return false
	case []any:
		if op.kind == opNe {
			for _, e := range x {
				if s, ok := e.(string); ok && s == op.value {
					return false
				}
			}
			return true
		}
		for _, e := range x {
			if s, ok := e.(string); ok && op.scalar(s) {
				return true
			}
		}
		return false
	}
	return op.kind == opNe
}

func (op *compiledOp) scalar(s string) bool {
	switch op.kind {
	case opEq:
		return s == op.value
	case opNe:
		return s != op.value
	case opIn:
		for _, e := range op.values {
			if s == e {
				return true
			}
		}
		return false
	case opGlob:
		return op.glob != nil && op.glob.Match(s)
	}
	return false
}

// Explain returns (copies of) the rules relevant to action on subject, allow
// and deny alike, in input order: what Infisical puts in the "details" of a
// 403 body. For secrets, "read" and its two halves explain each other.
func (s *Set) Explain(action, subject string) []Rule {
	if s == nil {
		return nil
	}
	si := s.subjects[subject]
	if si == nil {
		return nil
	}
	b := si.actions[action]
	if b == nil || len(b.explain) == 0 {
		return nil
	}
	// Rules are indexed one after another, so every bucket is already in
	// input order.
	out := make([]Rule, len(b.explain))
	for i, r := range b.explain {
		out[i] = cloneRule(s.rules[r.index])
	}
	return out
}

// Rules returns a copy of every rule in the Set, in input order.
func (s *Set) Rules() []Rule {
	if s == nil {
		return nil
	}
	return CloneRules(s.rules)
}

// Check is Can returning an error: nil when allowed, otherwise a
// *DeniedError carrying the relevant rules.
func (s *Set) Check(action, subject string, attrs Attributes) error {
	if s.Can(action, subject, attrs) {
		return nil
	}
	return &DeniedError{Action: action, Subject: subject, Rules: s.Explain(action, subject)}
}

// DeniedError is a permission denial. Its message is exactly Infisical's 403
// "message" and Rules is what goes into "details".
type DeniedError struct {
	Action  string
	Subject string
	Rules   []Rule
}

func (e *DeniedError) Error() string {
	return "You are not allowed to " + e.Action + " on " + e.Subject
}
