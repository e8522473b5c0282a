package permission

// The built-in roles are data, not code paths: the engine compiles them like
// any custom role, and the roles API returns them for GET .../roles/slug/{slug}.
// Each call builds fresh slices so callers may modify what they get.

// BuiltinProjectRole returns the rules of a built-in project role: "admin",
// "member" (shown as "Developer" in Infisical's UI), "viewer" or "no-access".
// The second result is false for any other slug.
func BuiltinProjectRole(slug string) ([]Rule, bool) {
	switch slug {
	case RoleAdmin:
		return projectAdminRules(), true
	case RoleMember:
		return projectMemberRules(), true
	case RoleViewer:
		return projectViewerRules(), true
	case RoleNoAccess:
		return []Rule{}, true
	}
	return nil, false
}

// BuiltinOrgRole returns the rules of a built-in organization role: "admin",
// "member" or "no-access". The second result is false for any other slug.
func BuiltinOrgRole(slug string) ([]Rule, bool) {
	switch slug {
	case RoleAdmin:
		return orgAdminRules(), true
	case RoleMember:
		return orgMemberRules(), true
	case RoleNoAccess:
		return []Rule{}, true
	}
	return nil, false
}

func allow(subject string, actions ...string) Rule {
	return Rule{Subject: subject, Action: actions}
}

// projectAdminRules grants every action this package knows on every project
// subject, so a subject added to the catalogue is automatically an admin's.
func projectAdminRules() []Rule {
	specs := projectSubjects()
	out := make([]Rule, len(specs))
	for i, s := range specs {
		out[i] = allow(s.subject, s.actions...)
	}
	return out
}

// projectMemberRules follows Infisical's member ("developer") role: full use
// of secrets and everything around them, day-to-day integrations, but no
// project administration. One deliberate difference: member, identity and
// settings are read-only here, because this project's design keeps all
// access management with admins (upstream also lets members invite members,
// manage project identities and edit settings).
func projectMemberRules() []Rule {
	return []Rule{
		allow(SubjectSecrets, ActionRead, ActionDescribeSecret, ActionReadValue, ActionCreate, ActionEdit, ActionDelete, ActionSubscribe),
		allow(SubjectSecretFolders, withCRUD()...),
		allow(SubjectSecretImports, withCRUD()...),
		allow(SubjectDynamicSecrets, ActionReadRootCredential, ActionCreateRootCredential, ActionEditRootCredential, ActionDeleteRootCredential, ActionLease),
		allow(SubjectCommits, ActionRead, ActionPerformRollback),
		allow(SubjectSecretApproval, ActionRead),
		allow(SubjectSecretRotation, ActionRead),
		allow(SubjectSecretRollback, ActionRead, ActionCreate),
		allow(SubjectMember, ActionRead),
		allow(SubjectGroups, ActionRead),
		allow(SubjectIdentity, ActionRead),
		allow(SubjectRole, ActionRead),
		allow(SubjectSettings, ActionRead),
		allow(SubjectIntegrations, withCRUD()...),
		allow(SubjectWebhooks, withCRUD()...),
		allow(SubjectServiceTokens, withCRUD()...),
		allow(SubjectEnvironments, withCRUD()...),
		allow(SubjectTags, withCRUD()...),
		allow(SubjectAuditLogs, ActionRead),
		allow(SubjectIPAllowList, ActionRead),
		allow(SubjectCertificateAuthorities, ActionRead),
		allow(SubjectCertificateTemplates, ActionRead),
		allow(SubjectCertificates, withCRUD(ActionImport)...),
		allow(SubjectCertificateProfiles, withCRUD()...),
		allow(SubjectPKIAlerts, ActionRead),
		allow(SubjectPKICollections, ActionRead),
		allow(SubjectPKISubscribers, ActionRead),
		allow(SubjectSSHCertificates, ActionRead, ActionCreate),
		allow(SubjectSSHCertificateTemplates, ActionRead),
		allow(SubjectSSHHosts, ActionRead),
		allow(SubjectCmek, withCRUD(ActionEncrypt, ActionDecrypt, ActionSign, ActionVerify)...),
		allow(SubjectSecretSyncs, withCRUD(ActionSyncSecrets, ActionImportSecrets, ActionRemoveSecrets)...),
		allow(SubjectPKISyncs, withCRUD(ActionSyncCertificates, ActionImportCertificates, ActionRemoveCertificates)...),
		allow(SubjectSecretScanningDataSources, ActionReadDataSources, ActionTriggerDataSourceScans, ActionReadDataSourceScans, ActionReadDataSourceResources),
		allow(SubjectSecretScanningFindings, ActionReadFindings, ActionUpdateFindings),
		allow(SubjectSecretScanningConfigs, ActionReadConfigs),
		allow(SubjectSecretEvents, ActionSubscribeOnCreated, ActionSubscribeOnUpdated, ActionSubscribeOnDeleted, ActionSubscribeOnImportMutations),
		allow(SubjectAppConnections, ActionConnectAppConnections),
		allow(SubjectPAMFolders, ActionRead),
		allow(SubjectPAMResources, ActionRead),
		allow(SubjectPAMAccounts, ActionAccess, ActionRead),
		allow(SubjectApprovalRequests, ActionCreate),
	}
}

// projectViewerRules is read-only access to everything, secret values
// included, and nothing that changes state. Subscribing to secret events is
// a form of reading. As upstream, viewers may read dynamic-secret root
// credentials but not private keys, generated rotation credentials or
// anything encrypted with a customer-managed key.
func projectViewerRules() []Rule {
	return []Rule{
		allow(SubjectSecrets, ActionRead, ActionDescribeSecret, ActionReadValue),
		allow(SubjectSecretFolders, ActionRead),
		allow(SubjectSecretImports, ActionRead),
		allow(SubjectDynamicSecrets, ActionReadRootCredential),
		allow(SubjectSecretApproval, ActionRead),
		allow(SubjectSecretRollback, ActionRead),
		allow(SubjectSecretRotation, ActionRead),
		allow(SubjectSecretSyncs, ActionRead),
		allow(SubjectCommits, ActionRead),
		allow(SubjectSecretEvents, ActionSubscribeOnCreated, ActionSubscribeOnUpdated, ActionSubscribeOnDeleted, ActionSubscribeOnImportMutations),
		allow(SubjectMember, ActionRead),
		allow(SubjectGroups, ActionRead),
		allow(SubjectIdentity, ActionRead),
		allow(SubjectRole, ActionRead),
		allow(SubjectIntegrations, ActionRead),
		allow(SubjectWebhooks, ActionRead),
		allow(SubjectServiceTokens, ActionRead),
		allow(SubjectSettings, ActionRead),
		allow(SubjectEnvironments, ActionRead),
		allow(SubjectTags, ActionRead),
		allow(SubjectAuditLogs, ActionRead),
		allow(SubjectIPAllowList, ActionRead),
		allow(SubjectCmek, ActionRead),
		allow(SubjectCertificateAuthorities, ActionRead),
		allow(SubjectCertificates, ActionRead),
		allow(SubjectCertificateTemplates, ActionRead),
		allow(SubjectPKIAlerts, ActionRead),
		allow(SubjectPKICollections, ActionRead),
		allow(SubjectPKISyncs, ActionRead),
		allow(SubjectSSHCertificates, ActionRead),
		allow(SubjectSSHCertificateTemplates, ActionRead),
		allow(SubjectSecretScanningDataSources, ActionReadDataSources, ActionReadDataSourceScans, ActionReadDataSourceResources),
		allow(SubjectSecretScanningFindings, ActionReadFindings),
		allow(SubjectSecretScanningConfigs, ActionReadConfigs),
		allow(SubjectPAMFolders, ActionRead),
		allow(SubjectPAMResources, ActionRead),
		allow(SubjectPAMAccounts, ActionRead),
	}
}

// orgAdminRules grants every action on every organization subject, including
// access-all-projects through the admin console.
func orgAdminRules() []Rule {
	specs := orgSubjects()
	out := make([]Rule, len(specs))
	for i, s := range specs {
		out[i] = allow(s.subject, s.actions...)
	}
	return out
}

// orgMemberRules: members see the organization and may create projects, but
// administer nothing (no member, role, identity, SSO or billing changes).
// Secret scanning stays open to members as upstream.
func orgMemberRules() []Rule {
	return []Rule{
		allow(OrgSubjectWorkspace, ActionRead, ActionCreate),
		allow(OrgSubjectMember, ActionRead),
		allow(OrgSubjectGroups, ActionRead),
		allow(OrgSubjectRole, ActionRead),
		allow(OrgSubjectIdentity, ActionRead),
		allow(OrgSubjectSettings, ActionRead),
		allow(OrgSubjectProjectTemplates, ActionRead),
		allow(OrgSubjectBilling, ActionRead),
		allow(OrgSubjectIncidentContact, ActionRead),
		allow(OrgSubjectAuditLogs, ActionRead),
		allow(OrgSubjectAppConnections, ActionRead),
		allow(OrgSubjectSecretScanning, withCRUD()...),
	}
}
