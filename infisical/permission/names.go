package permission

// Project-level subjects, spelled exactly as Infisical stores them in role
// JSON. "workspace" is the project itself (Infisical's old name for it).
const (
	SubjectRole                      = "role"
	SubjectMember                    = "member"
	SubjectGroups                    = "groups"
	SubjectSettings                  = "settings"
	SubjectIntegrations              = "integrations"
	SubjectWebhooks                  = "webhooks"
	SubjectServiceTokens             = "service-tokens"
	SubjectEnvironments              = "environments"
	SubjectTags                      = "tags"
	SubjectAuditLogs                 = "audit-logs"
	SubjectIPAllowList               = "ip-allowlist"
	SubjectWorkspace                 = "workspace"
	SubjectSecrets                   = "secrets"
	SubjectSecretFolders             = "secret-folders"
	SubjectSecretImports             = "secret-imports"
	SubjectDynamicSecrets            = "dynamic-secrets"
	SubjectSecretRollback            = "secret-rollback"
	SubjectSecretApproval            = "secret-approval"
	SubjectSecretRotation            = "secret-rotation"
	SubjectSecretSyncs               = "secret-syncs"
	SubjectCommits                   = "commits"
	SubjectIdentity                  = "identity"
	SubjectKMS                       = "kms"
	SubjectCmek                      = "cmek"
	SubjectCertificateAuthorities    = "certificate-authorities"
	SubjectCertificates              = "certificates"
	SubjectCertificateTemplates      = "certificate-templates"
	SubjectCertificateProfiles       = "certificate-profiles"
	SubjectPKIAlerts                 = "pki-alerts"
	SubjectPKICollections            = "pki-collections"
	SubjectPKISubscribers            = "pki-subscribers"
	SubjectPKISyncs                  = "pki-syncs"
	SubjectSSHCertificateAuthorities = "ssh-certificate-authorities"
	SubjectSSHCertificates           = "ssh-certificates"
	SubjectSSHCertificateTemplates   = "ssh-certificate-templates"
	SubjectSSHHosts                  = "ssh-hosts"
	SubjectSSHHostGroups             = "ssh-host-groups"
	SubjectKMIP                      = "kmip"
	SubjectSecretScanningDataSources = "secret-scanning-data-sources"
	SubjectSecretScanningFindings    = "secret-scanning-findings"
	SubjectSecretScanningConfigs     = "secret-scanning-configs"
	SubjectSecretEvents              = "secret-events"
	SubjectAppConnections            = "app-connections"
	SubjectPAMFolders                = "pam-folders"
	SubjectPAMResources              = "pam-resources"
	SubjectPAMAccounts               = "pam-accounts"
	SubjectPAMSessions               = "pam-sessions"
	SubjectApprovalRequests          = "approval-requests"
	SubjectApprovalRequestGrants     = "approval-request-grants"
)

// Organization-level subjects. Several share their spelling with a project
// subject; they are distinct because org and project rules are compiled into
// different Sets.
const (
	OrgSubjectWorkspace        = "workspace"
	OrgSubjectRole             = "role"
	OrgSubjectMember           = "member"
	OrgSubjectSettings         = "settings"
	OrgSubjectIncidentContact  = "incident-contact"
	OrgSubjectSSO              = "sso"
	OrgSubjectSCIM             = "scim"
	OrgSubjectLDAP             = "ldap"
	OrgSubjectGroups           = "groups"
	OrgSubjectSecretScanning   = "secret-scanning"
	OrgSubjectBilling          = "billing"
	OrgSubjectIdentity         = "identity"
	OrgSubjectKMS              = "kms"
	OrgSubjectAuditLogs        = "audit-logs"
	OrgSubjectProjectTemplates = "project-templates"
	OrgSubjectAppConnections   = "app-connections"
	// OrgSubjectAdminConsole is spelled as Infisical stores it. ParseOrgRules
	// also accepts the short form "admin-console" and rewrites it to this.
	OrgSubjectAdminConsole      = "organization-admin-console"
	orgSubjectAdminConsoleAlias = "admin-console"
)

// Actions. The four generic ones apply to most subjects; the rest belong to
// the subjects named in their comment.
const (
	ActionRead   = "read"
	ActionCreate = "create"
	ActionEdit   = "edit"
	ActionDelete = "delete"

	// secrets: "read" is the legacy action meaning describeSecret + readValue.
	ActionDescribeSecret = "describeSecret"
	ActionReadValue      = "readValue"
	ActionSubscribe      = "subscribe"

	// member, identity, groups.
	ActionGrantPrivileges  = "grant-privileges"
	ActionRevokePrivileges = "revoke-privileges"
	ActionAssumePrivileges = "assume-privileges"
	// identity.
	ActionRevokeAuth  = "revoke-auth"
	ActionCreateToken = "create-token"
	ActionGetToken    = "get-token"
	ActionDeleteToken = "delete-token"
	// groups (org).
	ActionAddMembers    = "add-members"
	ActionRemoveMembers = "remove-members"

	// dynamic-secrets.
	ActionReadRootCredential   = "read-root-credential"
	ActionCreateRootCredential = "create-root-credential"
	ActionEditRootCredential   = "edit-root-credential"
	ActionDeleteRootCredential = "delete-root-credential"
	ActionLease                = "lease"

	// cmek.
	ActionEncrypt = "encrypt"
	ActionDecrypt = "decrypt"
	ActionSign    = "sign"
	ActionVerify  = "verify"

	// commits.
	ActionPerformRollback = "perform-rollback"

	// secret-rotation.
	ActionReadGeneratedCredentials = "read-generated-credentials"
	ActionRotateSecrets            = "rotate-secrets"

	// secret-syncs.
	ActionSyncSecrets   = "sync-secrets"
	ActionImportSecrets = "import-secrets"
	ActionRemoveSecrets = "remove-secrets"

	// PKI.
	ActionRenew               = "renew"
	ActionSignIntermediate    = "sign-intermediate"
	ActionIssueCACertificate  = "issue-ca-certificate"
	ActionReadPrivateKey      = "read-private-key"
	ActionImport              = "import"
	ActionIssueCert           = "issue-cert"
	ActionListCerts           = "list-certs"
	ActionRevealAcmeEabSecret = "reveal-acme-eab-secret"
	ActionRotateAcmeEabSecret = "rotate-acme-eab-secret"
	ActionSyncCertificates    = "sync-certificates"
	ActionImportCertificates  = "import-certificates"
	ActionRemoveCertificates  = "remove-certificates"
	ActionIssueHostCert       = "issue-host-cert"

	// kmip.
	ActionCreateClients              = "create-clients"
	ActionUpdateClients              = "update-clients"
	ActionDeleteClients              = "delete-clients"
	ActionReadClients                = "read-clients"
	ActionGenerateClientCertificates = "generate-client-certificates"

	// secret scanning (project).
	ActionReadDataSources         = "read-data-sources"
	ActionCreateDataSources       = "create-data-sources"
	ActionEditDataSources         = "edit-data-sources"
	ActionDeleteDataSources       = "delete-data-sources"
	ActionTriggerDataSourceScans  = "trigger-data-source-scans"
	ActionReadDataSourceScans     = "read-data-source-scans"
	ActionReadDataSourceResources = "read-data-source-resources"
	ActionReadFindings            = "read-findings"
	ActionUpdateFindings          = "update-findings"
	ActionReadConfigs             = "read-configs"
	ActionUpdateConfigs           = "update-configs"

	// secret-events.
	ActionSubscribeOnCreated         = "subscribe-on-created"
	ActionSubscribeOnUpdated         = "subscribe-on-updated"
	ActionSubscribeOnDeleted         = "subscribe-on-deleted"
	ActionSubscribeOnImportMutations = "subscribe-on-import-mutations"

	// app-connections (project; the org subject uses the generic actions plus connect).
	ActionReadAppConnections    = "read-app-connections"
	ActionCreateAppConnections  = "create-app-connections"
	ActionEditAppConnections    = "edit-app-connections"
	ActionDeleteAppConnections  = "delete-app-connections"
	ActionConnectAppConnections = "connect-app-connections"
	ActionConnect               = "connect"

	// pam-accounts.
	ActionAccess = "access"

	// approval-request-grants.
	ActionRevoke = "revoke"

	// Organization only.
	ActionAccessAllProjects = "access-all-projects"
	ActionManageBilling     = "manage-billing"
)

// Condition fields (the keys of a rule's "conditions" and of Attributes).
const (
	FieldEnvironment    = "environment"
	FieldSecretPath     = "secretPath"
	FieldSecretName     = "secretName"
	FieldSecretTags     = "secretTags"
	FieldEventType      = "eventType"
	FieldIdentityID     = "identityId"
	FieldHostname       = "hostname"
	FieldName           = "name"
	FieldSubscriberName = "subscriberName"
	FieldCommonName     = "commonName"
	FieldAltNames       = "altNames"
	FieldSerialNumber   = "serialNumber"
	FieldFriendlyName   = "friendlyName"
	FieldStatus         = "status"
	FieldSlug           = "slug"
	FieldConnectionID   = "connectionId"
	FieldResourceName   = "resourceName"
	FieldAccountName    = "accountName"
	FieldAccountPath    = "accountPath"
)

// Condition operators.
const (
	OpEq   = "$eq"
	OpNe   = "$ne"
	OpIn   = "$in"
	OpGlob = "$glob"
)

// Built-in role slugs.
const (
	RoleAdmin    = "admin"
	RoleMember   = "member"
	RoleViewer   = "viewer"
	RoleNoAccess = "no-access"
	// RoleCustom marks a membership whose role is a custom role.
	RoleCustom = "custom"
)

// IsReservedProjectRoleSlug reports whether slug names a built-in project role
// (or the "custom" marker) and therefore cannot be used for a custom role.
func IsReservedProjectRoleSlug(slug string) bool {
	switch slug {
	case RoleAdmin, RoleMember, RoleViewer, RoleNoAccess, RoleCustom:
		return true
	}
	return false
}

// IsReservedOrgRoleSlug reports whether slug names a built-in organization
// role (or the "custom" marker). "owner" is included because older Infisical
// organizations still carry it and it must not be shadowed by a custom role.
func IsReservedOrgRoleSlug(slug string) bool {
	switch slug {
	case RoleAdmin, RoleMember, RoleNoAccess, RoleCustom, "owner":
		return true
	}
	return false
}

// subjectSpec describes one subject: the actions a rule may name and the
// condition fields it may use. The lists are what validation accepts and what
// the admin roles grant.
type subjectSpec struct {
	subject string
	actions []string
	fields  []string
}

// withCRUD returns the generic actions followed by extra ones. It returns a
// fresh slice so that no caller can alias another's catalogue.
func withCRUD(extra ...string) []string {
	out := make([]string, 0, 4+len(extra))
	out = append(out, ActionRead, ActionCreate, ActionEdit, ActionDelete)
	return append(out, extra...)
}

// projectSubjects is the catalogue of project subjects, in the order the
// built-in roles list them. It is built on each call (it is small) so the
// package holds no mutable state.
func projectSubjects() []subjectSpec {
	secretFields := []string{FieldEnvironment, FieldSecretPath, FieldSecretName, FieldSecretTags}
	folderFields := []string{FieldEnvironment, FieldSecretPath}
	return []subjectSpec{
		{SubjectSecrets, []string{ActionRead, ActionDescribeSecret, ActionReadValue, ActionCreate, ActionEdit, ActionDelete, ActionSubscribe}, secretFields},
		{SubjectSecretFolders, withCRUD(), folderFields},
		{SubjectSecretImports, withCRUD(), folderFields},
		{SubjectDynamicSecrets, []string{ActionReadRootCredential, ActionCreateRootCredential, ActionEditRootCredential, ActionDeleteRootCredential, ActionLease}, folderFields},
		{SubjectSecretRollback, []string{ActionRead, ActionCreate}, nil},
		{SubjectSecretApproval, withCRUD(), nil},
		{SubjectSecretRotation, withCRUD(ActionReadGeneratedCredentials, ActionRotateSecrets), folderFields},
		{SubjectSecretSyncs, withCRUD(ActionSyncSecrets, ActionImportSecrets, ActionRemoveSecrets), folderFields},
		{SubjectCommits, []string{ActionRead, ActionPerformRollback}, nil},
		{SubjectSecretEvents, []string{ActionSubscribeOnCreated, ActionSubscribeOnUpdated, ActionSubscribeOnDeleted, ActionSubscribeOnImportMutations}, append(secretFields, FieldEventType)},
		{SubjectMember, withCRUD(ActionGrantPrivileges, ActionRevokePrivileges, ActionAssumePrivileges), nil},
		{SubjectGroups, withCRUD(ActionGrantPrivileges, ActionRevokePrivileges), nil},
		{SubjectIdentity, withCRUD(ActionGrantPrivileges, ActionRevokePrivileges, ActionAssumePrivileges, ActionRevokeAuth, ActionCreateToken, ActionGetToken, ActionDeleteToken), []string{FieldIdentityID}},
		{SubjectRole, withCRUD(), nil},
		{SubjectIntegrations, withCRUD(), nil},
		{SubjectWebhooks, withCRUD(), nil},
		{SubjectServiceTokens, withCRUD(), nil},
		{SubjectSettings, withCRUD(), nil},
		{SubjectEnvironments, withCRUD(), nil},
		{SubjectTags, withCRUD(), nil},
		// Older Infisical versions stored CRUD on audit-logs; only read means anything.
		{SubjectAuditLogs, withCRUD(), nil},
		{SubjectIPAllowList, withCRUD(), nil},
		{SubjectWorkspace, []string{ActionEdit, ActionDelete}, nil},
		{SubjectKMS, []string{ActionEdit}, nil},
		{SubjectCmek, withCRUD(ActionEncrypt, ActionDecrypt, ActionSign, ActionVerify), nil},
		{SubjectCertificateAuthorities, withCRUD(ActionRenew, ActionSignIntermediate, ActionIssueCACertificate), []string{FieldName}},
		{SubjectCertificates, withCRUD(ActionReadPrivateKey, ActionImport), []string{FieldCommonName, FieldAltNames, FieldSerialNumber, FieldFriendlyName, FieldStatus}},
		{SubjectCertificateTemplates, withCRUD(ActionIssueCert, ActionListCerts), []string{FieldName}},
		{SubjectCertificateProfiles, withCRUD(ActionIssueCert, ActionRevealAcmeEabSecret, ActionRotateAcmeEabSecret), []string{FieldSlug}},
		{SubjectPKIAlerts, withCRUD(), nil},
		{SubjectPKICollections, withCRUD(), nil},
		{SubjectPKISubscribers, withCRUD(ActionIssueCert, ActionListCerts), []string{FieldName}},
		{SubjectPKISyncs, withCRUD(ActionSyncCertificates, ActionImportCertificates, ActionRemoveCertificates), []string{FieldName, FieldSubscriberName}},
		{SubjectSSHCertificateAuthorities, withCRUD(), nil},
		{SubjectSSHCertificates, withCRUD(), nil},
		{SubjectSSHCertificateTemplates, withCRUD(), nil},
		{SubjectSSHHosts, withCRUD(ActionIssueHostCert), []string{FieldHostname}},
		{SubjectSSHHostGroups, withCRUD(), nil},
		{SubjectKMIP, []string{ActionCreateClients, ActionUpdateClients, ActionDeleteClients, ActionReadClients, ActionGenerateClientCertificates}, nil},
		{SubjectSecretScanningDataSources, []string{ActionReadDataSources, ActionCreateDataSources, ActionEditDataSources, ActionDeleteDataSources, ActionTriggerDataSourceScans, ActionReadDataSourceScans, ActionReadDataSourceResources}, nil},
		{SubjectSecretScanningFindings, []string{ActionReadFindings, ActionUpdateFindings}, nil},
		{SubjectSecretScanningConfigs, []string{ActionReadConfigs, ActionUpdateConfigs}, nil},
		{SubjectAppConnections, []string{ActionReadAppConnections, ActionCreateAppConnections, ActionEditAppConnections, ActionDeleteAppConnections, ActionConnectAppConnections}, []string{FieldConnectionID}},
		{SubjectPAMFolders, withCRUD(), nil},
		{SubjectPAMResources, withCRUD(), nil},
		{SubjectPAMAccounts, withCRUD(ActionAccess), []string{FieldResourceName, FieldAccountName, FieldAccountPath}},
		{SubjectPAMSessions, []string{ActionRead}, nil},
		{SubjectApprovalRequests, []string{ActionRead, ActionCreate}, nil},
		{SubjectApprovalRequestGrants, []string{ActionRead, ActionRevoke}, nil},
	}
}

// orgSubjects is the catalogue of organization subjects.
func orgSubjects() []subjectSpec {
	return []subjectSpec{
		// Infisical today grants only create on the org workspace subject; read
		// is kept because older roles (and our member role) use it.
		{OrgSubjectWorkspace, withCRUD(), nil},
		{OrgSubjectRole, withCRUD(), nil},
		{OrgSubjectMember, withCRUD(), nil},
		{OrgSubjectSettings, withCRUD(), nil},
		{OrgSubjectIncidentContact, withCRUD(), nil},
		{OrgSubjectSSO, withCRUD(), nil},
		{OrgSubjectSCIM, withCRUD(), nil},
		{OrgSubjectLDAP, withCRUD(), nil},
		{OrgSubjectGroups, withCRUD(ActionGrantPrivileges, ActionRevokePrivileges, ActionAddMembers, ActionRemoveMembers), nil},
		{OrgSubjectSecretScanning, withCRUD(), nil},
		{OrgSubjectBilling, withCRUD(ActionManageBilling), nil},
		{OrgSubjectIdentity, withCRUD(ActionGrantPrivileges, ActionRevokePrivileges, ActionRevokeAuth, ActionCreateToken, ActionGetToken, ActionDeleteToken), []string{FieldIdentityID}},
		{OrgSubjectKMS, withCRUD(), nil},
		{OrgSubjectAdminConsole, []string{ActionAccessAllProjects}, nil},
		{OrgSubjectAuditLogs, withCRUD(), nil},
		{OrgSubjectProjectTemplates, withCRUD(), nil},
		{OrgSubjectAppConnections, withCRUD(ActionConnect), []string{FieldConnectionID}},
	}
}

func findSpec(specs []subjectSpec, subject string) (subjectSpec, bool) {
	for _, s := range specs {
		if s.subject == subject {
			return s, true
		}
	}
	return subjectSpec{}, false
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// ProjectSubjects lists every project subject this package knows, in a stable
// order (for UIs and the roles API).
func ProjectSubjects() []string { return subjectNames(projectSubjects()) }

// OrgSubjects lists every organization subject this package knows.
func OrgSubjects() []string { return subjectNames(orgSubjects()) }

// ProjectSubjectActions returns the actions a project rule may name for
// subject, or nil when the subject is unknown.
func ProjectSubjectActions(subject string) []string {
	s, ok := findSpec(projectSubjects(), subject)
	if !ok {
		return nil
	}
	return s.actions
}

// OrgSubjectActions returns the actions an organization rule may name for
// subject, or nil when the subject is unknown.
func OrgSubjectActions(subject string) []string {
	s, ok := findSpec(orgSubjects(), subject)
	if !ok {
		return nil
	}
	return s.actions
}

func subjectNames(specs []subjectSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.subject
	}
	return out
}
