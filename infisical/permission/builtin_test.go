package permission

import "testing"

func builtinProject(t *testing.T, slug string) *Set {
	t.Helper()
	rules, ok := BuiltinProjectRole(slug)
	if !ok {
		t.Fatalf("no built-in project role %q", slug)
	}
	if err := ValidateRules(rules); err != nil {
		t.Fatalf("built-in project role %q does not validate: %v", slug, err)
	}
	return MustCompile(rules)
}

func builtinOrg(t *testing.T, slug string) *Set {
	t.Helper()
	rules, ok := BuiltinOrgRole(slug)
	if !ok {
		t.Fatalf("no built-in org role %q", slug)
	}
	if err := ValidateOrgRules(rules); err != nil {
		t.Fatalf("built-in org role %q does not validate: %v", slug, err)
	}
	return MustCompile(rules)
}

func TestBuiltinProjectRoles(t *testing.T) {
	prod := secretAttrs("prod", "/deep/path", "DB_PASSWORD", "pci")
	tests := []struct {
		role   string
		checks []check
	}{
		{RoleAdmin, []check{
			{"read secret", ActionRead, SubjectSecrets, prod, true},
			{"delete secret", ActionDelete, SubjectSecrets, prod, true},
			{"delete project", ActionDelete, SubjectWorkspace, nil, true},
			{"edit kms", ActionEdit, SubjectKMS, nil, true},
			{"cmek sign", ActionSign, SubjectCmek, nil, true},
			{"cmek verify", ActionVerify, SubjectCmek, nil, true},
			{"grant privileges to members", ActionGrantPrivileges, SubjectMember, nil, true},
			{"revoke identity privileges", ActionRevokePrivileges, SubjectIdentity, nil, true},
			{"group privileges", ActionGrantPrivileges, SubjectGroups, nil, true},
			{"lease dynamic secret", ActionLease, SubjectDynamicSecrets, nil, true},
			{"create role", ActionCreate, SubjectRole, nil, true},
			{"approval policies", ActionEdit, SubjectSecretApproval, nil, true},
		}},
		{RoleMember, []check{
			{"read secret", ActionRead, SubjectSecrets, prod, true},
			{"create secret", ActionCreate, SubjectSecrets, prod, true},
			{"delete secret", ActionDelete, SubjectSecrets, prod, true},
			{"folders", ActionCreate, SubjectSecretFolders, nil, true},
			{"imports", ActionDelete, SubjectSecretImports, nil, true},
			{"lease", ActionLease, SubjectDynamicSecrets, nil, true},
			{"rollback", ActionCreate, SubjectSecretRollback, nil, true},
			{"tags", ActionEdit, SubjectTags, nil, true},
			{"environments", ActionCreate, SubjectEnvironments, nil, true},
			{"integrations", ActionDelete, SubjectIntegrations, nil, true},
			{"webhooks", ActionCreate, SubjectWebhooks, nil, true},
			{"service tokens", ActionCreate, SubjectServiceTokens, nil, true},
			{"audit logs", ActionRead, SubjectAuditLogs, nil, true},
			{"cmek use", ActionEncrypt, SubjectCmek, nil, true},
			{"cmek manage", ActionCreate, SubjectCmek, nil, true},
			{"read roles", ActionRead, SubjectRole, nil, true},
			{"read members", ActionRead, SubjectMember, nil, true},
			{"read settings", ActionRead, SubjectSettings, nil, true},
			{"cannot delete project", ActionDelete, SubjectWorkspace, nil, false},
			{"cannot edit project", ActionEdit, SubjectWorkspace, nil, false},
			{"cannot create roles", ActionCreate, SubjectRole, nil, false},
			{"cannot edit members", ActionEdit, SubjectMember, nil, false},
			{"cannot add members", ActionCreate, SubjectMember, nil, false},
			{"cannot delete identities", ActionDelete, SubjectIdentity, nil, false},
			{"cannot edit groups", ActionEdit, SubjectGroups, nil, false},
			{"cannot edit settings", ActionEdit, SubjectSettings, nil, false},
			{"cannot grant privileges", ActionGrantPrivileges, SubjectMember, nil, false},
			{"cannot edit approval policies", ActionEdit, SubjectSecretApproval, nil, false},
			{"cannot edit kms", ActionEdit, SubjectKMS, nil, false},
		}},
		{RoleViewer, []check{
			{"read secret", ActionRead, SubjectSecrets, prod, true},
			{"read value", ActionReadValue, SubjectSecrets, prod, true},
			{"describe", ActionDescribeSecret, SubjectSecrets, prod, true},
			{"read folders", ActionRead, SubjectSecretFolders, nil, true},
			{"read members", ActionRead, SubjectMember, nil, true},
			{"cannot create secret", ActionCreate, SubjectSecrets, prod, false},
			{"cannot edit secret", ActionEdit, SubjectSecrets, prod, false},
			{"cannot delete folder", ActionDelete, SubjectSecretFolders, nil, false},
			{"cannot lease", ActionLease, SubjectDynamicSecrets, nil, false},
			{"cannot encrypt", ActionEncrypt, SubjectCmek, nil, false},
			{"cannot roll back", ActionCreate, SubjectSecretRollback, nil, false},
		}},
		{RoleNoAccess, []check{
			{"no read", ActionRead, SubjectSecrets, prod, false},
			{"no describe", ActionDescribeSecret, SubjectSecrets, nil, false},
			{"no members", ActionRead, SubjectMember, nil, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			runChecks(t, builtinProject(t, tt.role), tt.checks)
		})
	}
}

func TestProjectAdminHasEverything(t *testing.T) {
	admin := builtinProject(t, RoleAdmin)
	for _, subject := range ProjectSubjects() {
		for _, action := range ProjectSubjectActions(subject) {
			if !admin.Can(action, subject, nil) {
				t.Errorf("admin cannot %s on %s", action, subject)
			}
		}
	}
}

func TestViewerOnlyReads(t *testing.T) {
	rules, _ := BuiltinProjectRole(RoleViewer)
	for _, r := range rules {
		for _, a := range r.Action {
			switch a {
			case ActionRead, ActionDescribeSecret, ActionReadValue, ActionReadRootCredential,
				ActionReadDataSources, ActionReadDataSourceScans, ActionReadDataSourceResources,
				ActionReadFindings, ActionReadConfigs,
				ActionSubscribeOnCreated, ActionSubscribeOnUpdated, ActionSubscribeOnDeleted, ActionSubscribeOnImportMutations:
			default:
				t.Errorf("viewer has non-read action %q on %q", a, r.Subject)
			}
		}
	}
}

func TestBuiltinOrgRoles(t *testing.T) {
	tests := []struct {
		role   string
		checks []check
	}{
		{RoleAdmin, []check{
			{"delete members", ActionDelete, OrgSubjectMember, nil, true},
			{"manage billing", ActionManageBilling, OrgSubjectBilling, nil, true},
			{"all projects", ActionAccessAllProjects, OrgSubjectAdminConsole, nil, true},
			{"sso", ActionEdit, OrgSubjectSSO, nil, true},
			{"project templates", ActionCreate, OrgSubjectProjectTemplates, nil, true},
			{"app connections", ActionConnect, OrgSubjectAppConnections, nil, true},
		}},
		{RoleMember, []check{
			{"read projects", ActionRead, OrgSubjectWorkspace, nil, true},
			{"create project", ActionCreate, OrgSubjectWorkspace, nil, true},
			{"read members", ActionRead, OrgSubjectMember, nil, true},
			{"read roles", ActionRead, OrgSubjectRole, nil, true},
			{"read groups", ActionRead, OrgSubjectGroups, nil, true},
			{"read identities", ActionRead, OrgSubjectIdentity, nil, true},
			{"read settings", ActionRead, OrgSubjectSettings, nil, true},
			{"read templates", ActionRead, OrgSubjectProjectTemplates, nil, true},
			{"cannot edit members", ActionEdit, OrgSubjectMember, nil, false},
			{"cannot delete members", ActionDelete, OrgSubjectMember, nil, false},
			{"cannot edit roles", ActionEdit, OrgSubjectRole, nil, false},
			{"cannot manage billing", ActionManageBilling, OrgSubjectBilling, nil, false},
			{"cannot edit sso", ActionEdit, OrgSubjectSSO, nil, false},
			{"no admin console", ActionAccessAllProjects, OrgSubjectAdminConsole, nil, false},
			{"cannot delete projects", ActionDelete, OrgSubjectWorkspace, nil, false},
		}},
		{RoleNoAccess, []check{
			{"nothing", ActionRead, OrgSubjectWorkspace, nil, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			runChecks(t, builtinOrg(t, tt.role), tt.checks)
		})
	}
}

func TestOrgAdminHasEverything(t *testing.T) {
	admin := builtinOrg(t, RoleAdmin)
	for _, subject := range OrgSubjects() {
		for _, action := range OrgSubjectActions(subject) {
			if !admin.Can(action, subject, nil) {
				t.Errorf("org admin cannot %s on %s", action, subject)
			}
		}
	}
}

func TestUnknownBuiltinRoles(t *testing.T) {
	for _, slug := range []string{"custom", "developer", "owner", ""} {
		if _, ok := BuiltinProjectRole(slug); ok {
			t.Errorf("BuiltinProjectRole(%q) found", slug)
		}
	}
	if _, ok := BuiltinOrgRole(RoleViewer); ok {
		t.Error("there is no org viewer role")
	}
}

func TestBuiltinRolesAreFreshCopies(t *testing.T) {
	a, _ := BuiltinProjectRole(RoleMember)
	a[0].Action[0] = "tampered"
	b, _ := BuiltinProjectRole(RoleMember)
	if b[0].Action[0] == "tampered" {
		t.Error("built-in role data is shared between callers")
	}
}
