package permission

import "fmt"

// ConvertV1 converts legacy V1 rules (the slug-addressed roles API and the
// v1 identity privileges API) to V2 rules, validating them on the way.
//
// Besides the one-to-one translation, every secrets rule also yields the
// rules Infisical derives from it, because in V1 the secrets permission
// implicitly covered what later became separate subjects:
//   - secret-imports with the same actions and conditions;
//   - dynamic-secrets with read/create/edit/delete mapped to the matching
//     *-root-credential action, and lease added when edit is granted;
//   - secret-folders with the same actions minus read, unless the input has
//     its own secret-folders rule (which then wins and is kept as is).
//
// The output lists the translated rules first, then the derived imports,
// dynamic-secrets and folder rules. Errors are *ValidationError indexed by
// the V1 rule.
func ConvertV1(rules []V1Rule) ([]Rule, error) {
	specs := projectSubjects()
	out := make([]Rule, 0, len(rules))
	hasFolderRule := false
	for i, v := range rules {
		if err := validateV1(i, v, specs); err != nil {
			return nil, err
		}
		if v.Subject == SubjectSecretFolders {
			hasFolderRule = true
		}
		r := Rule{Subject: v.Subject, Action: []string{v.Action}, Inverted: v.Inverted}
		if len(v.Conditions) > 0 {
			r.Conditions = cloneRule(Rule{Conditions: v.Conditions}).Conditions
		}
		out = append(out, r)
	}

	n := len(out)
	var imports, dynamic, folders []Rule
	for _, r := range out[:n] {
		if r.Subject != SubjectSecrets {
			continue
		}
		imp := cloneRule(r)
		imp.Subject = SubjectSecretImports
		imports = append(imports, imp)

		dyn := cloneRule(r)
		dyn.Subject = SubjectDynamicSecrets
		dyn.Action = dynamicActionsFor(r.Action[0])
		dynamic = append(dynamic, dyn)

		if r.Action[0] != ActionRead {
			f := cloneRule(r)
			f.Subject = SubjectSecretFolders
			folders = append(folders, f)
		}
	}
	out = append(out, imports...)
	out = append(out, dynamic...)
	if !hasFolderRule {
		out = append(out, folders...)
	}
	return out, nil
}

// dynamicActionsFor maps a V1 secrets action to the dynamic-secrets actions
// Infisical backfills for it. Editing a secret used to include leasing one.
func dynamicActionsFor(action string) []string {
	switch action {
	case ActionCreate:
		return []string{ActionCreateRootCredential}
	case ActionEdit:
		return []string{ActionEditRootCredential, ActionLease}
	case ActionDelete:
		return []string{ActionDeleteRootCredential}
	}
	return []string{ActionReadRootCredential}
}

// v1ConditionFields returns the condition fields a V1 rule on subject may
// use: only secret-like subjects take conditions, and V1 predates the
// secretName and secretTags fields.
func v1ConditionFields(subject string) []string {
	switch subject {
	case SubjectSecrets, SubjectSecretImports, SubjectDynamicSecrets:
		return []string{FieldEnvironment, FieldSecretPath}
	}
	return nil
}

func validateV1(i int, v V1Rule, specs []subjectSpec) error {
	if v.Subject == "" {
		return invalid(i, "subject", "is required")
	}
	spec, ok := findSpec(specs, v.Subject)
	if !ok {
		return invalid(i, "subject", "unknown subject %q", v.Subject)
	}
	if v.Action == "" {
		return invalid(i, "action", "is required")
	}
	if !contains(spec.actions, v.Action) {
		return invalid(i, "action", "action %q is not valid for subject %q", v.Action, v.Subject)
	}
	if v.Subject == SubjectSecrets && !contains(withCRUD(), v.Action) {
		// describeSecret/readValue arrived with V2; V1 "read" is the legacy whole.
		return invalid(i, "action", "V1 secrets rules accept only read, create, edit or delete")
	}
	if v.Subject == SubjectSecretFolders && v.Action != ActionRead {
		return invalid(i, "action", "V1 secret-folders rules accept only %q", ActionRead)
	}
	if len(v.Conditions) == 0 {
		return nil
	}
	fields := v1ConditionFields(v.Subject)
	if len(fields) == 0 {
		return invalid(i, "conditions", "subject %q does not accept conditions", v.Subject)
	}
	for _, f := range sortedKeys(v.Conditions) {
		if !contains(fields, f) {
			return invalid(i, "conditions."+f, "unknown condition field (V1 accepts %s and %s)", FieldEnvironment, FieldSecretPath)
		}
		if f == FieldEnvironment {
			if ops, ok := asOperatorMap(v.Conditions[f]); ok {
				if _, has := ops[OpGlob]; has {
					return invalid(i, fmt.Sprintf("conditions.%s.%s", f, OpGlob), "V1 environment conditions do not accept $glob")
				}
			}
		}
		if err := validateConditionValue(i, f, v.Conditions[f]); err != nil {
			return err
		}
	}
	if _, err := compileConditions(i, v.Conditions, nil); err != nil {
		return err
	}
	return nil
}

// V1RoleView shapes V2 rules for the V1 role responses: dynamic-secrets and
// secret-imports rules are dropped (V1 clients do not know them) and
// secret-folders rules keep only their read action (dropped if none is left).
func V1RoleView(rules []Rule) []Rule {
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		switch r.Subject {
		case SubjectDynamicSecrets, SubjectSecretImports:
			continue
		case SubjectSecretFolders:
			if !contains(r.Action, ActionRead) {
				continue
			}
			c := cloneRule(r)
			c.Action = []string{ActionRead}
			out = append(out, c)
			continue
		}
		out = append(out, cloneRule(r))
	}
	return out
}

// V1PrivilegeView shapes V2 rules for the V1 privilege responses, which hide
// dynamic-secrets, secret-imports and secret-folders rules altogether.
func V1PrivilegeView(rules []Rule) []Rule {
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		switch r.Subject {
		case SubjectDynamicSecrets, SubjectSecretImports, SubjectSecretFolders:
			continue
		}
		out = append(out, cloneRule(r))
	}
	return out
}
