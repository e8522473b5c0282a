package store

import "strings"

// The schema is written once with three type placeholders that each dialect
// fills in, so that SQLite and PostgreSQL get the same tables.
//
//	{{TIME}}  timestamp with zone   {{BYTES}} binary   {{JSON}} JSON text
//
// Ownership chains use ON DELETE CASCADE (organization → project →
// environment → folder → secret …) so that deleting a parent is one
// statement inside the caller's transaction.
var migration0001 = []string{
	`CREATE TABLE kms_root_config (
		id TEXT PRIMARY KEY,
		encrypted_root_key {{BYTES}} NOT NULL,
		encryption_strategy TEXT NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE TABLE instance_config (
		id TEXT PRIMARY KEY,
		initialized BOOLEAN NOT NULL DEFAULT FALSE,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE TABLE users (
		id TEXT PRIMARY KEY,
		email TEXT,
		username TEXT NOT NULL UNIQUE,
		first_name TEXT,
		last_name TEXT,
		password_hash TEXT,
		super_admin BOOLEAN NOT NULL DEFAULT FALSE,
		is_email_verified BOOLEAN NOT NULL DEFAULT FALSE,
		is_accepted BOOLEAN NOT NULL DEFAULT TRUE,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE TABLE organizations (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		slug TEXT NOT NULL UNIQUE,
		parent_org_id TEXT,
		kms_key_id TEXT,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE TABLE kms_keys (
		id TEXT PRIMARY KEY,
		org_id TEXT REFERENCES organizations(id) ON DELETE CASCADE,
		project_id TEXT,
		name TEXT NOT NULL,
		description TEXT,
		is_reserved BOOLEAN NOT NULL DEFAULT TRUE,
		is_disabled BOOLEAN NOT NULL DEFAULT FALSE,
		algorithm TEXT NOT NULL,
		version INTEGER NOT NULL DEFAULT 1,
		encrypted_key {{BYTES}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX kms_keys_org_idx ON kms_keys (org_id)`,
	`CREATE TABLE org_memberships (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
		role TEXT NOT NULL,
		role_id TEXT,
		status TEXT NOT NULL,
		is_active BOOLEAN NOT NULL DEFAULT TRUE,
		invite_email TEXT,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, user_id)
	)`,
	`CREATE TABLE identities (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		has_delete_protection BOOLEAN NOT NULL DEFAULT FALSE,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE TABLE identity_org_memberships (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
		role TEXT NOT NULL,
		role_id TEXT,
		last_login_auth_method TEXT,
		last_login_time {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, identity_id)
	)`,
	`CREATE INDEX identity_org_memberships_identity_idx ON identity_org_memberships (identity_id)`,
	`CREATE TABLE identity_metadata (
		id TEXT PRIMARY KEY,
		identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
		org_id TEXT NOT NULL,
		key TEXT NOT NULL,
		value TEXT NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX identity_metadata_identity_idx ON identity_metadata (identity_id)`,
	`CREATE TABLE projects (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		slug TEXT NOT NULL,
		description TEXT,
		type TEXT NOT NULL,
		default_product TEXT,
		version INTEGER NOT NULL DEFAULT 3,
		auto_capitalization BOOLEAN,
		has_delete_protection BOOLEAN NOT NULL DEFAULT FALSE,
		pit_version_limit INTEGER NOT NULL DEFAULT 10,
		audit_logs_retention_days INTEGER,
		secret_sharing BOOLEAN NOT NULL DEFAULT TRUE,
		show_snapshots_legacy BOOLEAN NOT NULL DEFAULT FALSE,
		secret_detection_ignore_values {{JSON}},
		kms_key_id TEXT,
		kms_encrypted_data_key {{BYTES}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, slug)
	)`,
	`CREATE TABLE project_environments (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		slug TEXT NOT NULL,
		position INTEGER NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (project_id, slug)
	)`,
	`CREATE TABLE secret_folders (
		id TEXT PRIMARY KEY,
		env_id TEXT NOT NULL REFERENCES project_environments(id) ON DELETE CASCADE,
		parent_id TEXT REFERENCES secret_folders(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		version INTEGER NOT NULL DEFAULT 1,
		description TEXT,
		is_reserved BOOLEAN NOT NULL DEFAULT FALSE,
		last_secret_modified {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (env_id, parent_id, name)
	)`,
	`CREATE INDEX secret_folders_parent_idx ON secret_folders (parent_id)`,
	`CREATE TABLE secrets (
		id TEXT PRIMARY KEY,
		folder_id TEXT NOT NULL REFERENCES secret_folders(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		type TEXT NOT NULL,
		owner_id TEXT NOT NULL DEFAULT '',
		version INTEGER NOT NULL,
		encrypted_value {{BYTES}},
		encrypted_comment {{BYTES}},
		skip_multiline_encoding BOOLEAN,
		reminder_note TEXT,
		reminder_repeat_days INTEGER,
		metadata {{JSON}},
		actor_type TEXT,
		actor_id TEXT,
		actor_name TEXT,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (folder_id, key, owner_id)
	)`,
	`CREATE TABLE secret_versions (
		id TEXT PRIMARY KEY,
		secret_id TEXT NOT NULL,
		folder_id TEXT NOT NULL REFERENCES secret_folders(id) ON DELETE CASCADE,
		version INTEGER NOT NULL,
		key TEXT NOT NULL,
		type TEXT NOT NULL,
		owner_id TEXT NOT NULL DEFAULT '',
		encrypted_value {{BYTES}},
		encrypted_comment {{BYTES}},
		skip_multiline_encoding BOOLEAN,
		metadata {{JSON}},
		tag_ids {{JSON}},
		actor_type TEXT,
		actor_id TEXT,
		actor_name TEXT,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX secret_versions_secret_idx ON secret_versions (secret_id, version)`,
	`CREATE TABLE secret_tags (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		slug TEXT NOT NULL,
		color TEXT,
		created_by TEXT,
		created_by_actor_type TEXT NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (project_id, slug)
	)`,
	`CREATE TABLE secret_tag_links (
		secret_id TEXT NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
		tag_id TEXT NOT NULL REFERENCES secret_tags(id) ON DELETE CASCADE,
		PRIMARY KEY (secret_id, tag_id)
	)`,
	`CREATE INDEX secret_tag_links_tag_idx ON secret_tag_links (tag_id)`,
	`CREATE TABLE secret_imports (
		id TEXT PRIMARY KEY,
		folder_id TEXT NOT NULL REFERENCES secret_folders(id) ON DELETE CASCADE,
		import_env_id TEXT NOT NULL REFERENCES project_environments(id) ON DELETE CASCADE,
		import_path TEXT NOT NULL,
		position INTEGER NOT NULL,
		version INTEGER NOT NULL DEFAULT 1,
		is_replication BOOLEAN NOT NULL DEFAULT FALSE,
		is_reserved BOOLEAN NOT NULL DEFAULT FALSE,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX secret_imports_folder_idx ON secret_imports (folder_id, position)`,
	`CREATE TABLE project_memberships (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		actor_type TEXT NOT NULL,
		actor_id TEXT NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (project_id, actor_type, actor_id)
	)`,
	`CREATE INDEX project_memberships_actor_idx ON project_memberships (actor_type, actor_id)`,
	`CREATE TABLE project_membership_roles (
		id TEXT PRIMARY KEY,
		membership_id TEXT NOT NULL REFERENCES project_memberships(id) ON DELETE CASCADE,
		role TEXT NOT NULL,
		custom_role_id TEXT,
		is_temporary BOOLEAN NOT NULL DEFAULT FALSE,
		temporary_mode TEXT,
		temporary_range TEXT,
		temporary_access_start_time {{TIME}},
		temporary_access_end_time {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX project_membership_roles_membership_idx ON project_membership_roles (membership_id)`,
	`CREATE TABLE identity_auth_methods (
		id TEXT PRIMARY KEY,
		identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
		method TEXT NOT NULL,
		lookup_key TEXT UNIQUE,
		access_token_ttl BIGINT NOT NULL,
		access_token_max_ttl BIGINT NOT NULL,
		access_token_num_uses_limit BIGINT NOT NULL DEFAULT 0,
		access_token_period BIGINT NOT NULL DEFAULT 0,
		access_token_trusted_ips {{JSON}} NOT NULL,
		config {{JSON}},
		encrypted_config {{BYTES}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (identity_id, method)
	)`,
	`CREATE TABLE identity_ua_client_secrets (
		id TEXT PRIMARY KEY,
		auth_method_id TEXT NOT NULL REFERENCES identity_auth_methods(id) ON DELETE CASCADE,
		description TEXT NOT NULL DEFAULT '',
		prefix TEXT NOT NULL,
		secret_hash {{BYTES}} NOT NULL,
		num_uses BIGINT NOT NULL DEFAULT 0,
		num_uses_limit BIGINT NOT NULL DEFAULT 0,
		ttl BIGINT NOT NULL DEFAULT 0,
		is_revoked BOOLEAN NOT NULL DEFAULT FALSE,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX identity_ua_client_secrets_auth_idx ON identity_ua_client_secrets (auth_method_id, prefix)`,
	`CREATE TABLE identity_access_tokens (
		id TEXT PRIMARY KEY,
		identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
		org_id TEXT NOT NULL,
		auth_method TEXT NOT NULL,
		auth_method_id TEXT,
		client_secret_id TEXT,
		name TEXT,
		ttl BIGINT NOT NULL,
		max_ttl BIGINT NOT NULL,
		period BIGINT NOT NULL DEFAULT 0,
		num_uses BIGINT NOT NULL DEFAULT 0,
		num_uses_limit BIGINT NOT NULL DEFAULT 0,
		trusted_ips {{JSON}} NOT NULL,
		principal {{JSON}},
		last_used_at {{TIME}},
		last_renewed_at {{TIME}},
		is_revoked BOOLEAN NOT NULL DEFAULT FALSE,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX identity_access_tokens_identity_idx ON identity_access_tokens (identity_id)`,
	`CREATE INDEX identity_access_tokens_method_idx ON identity_access_tokens (auth_method_id)`,
	`CREATE TABLE auth_lockouts (
		key TEXT PRIMARY KEY,
		failures INTEGER NOT NULL,
		window_start {{TIME}} NOT NULL,
		locked_until {{TIME}}
	)`,
}

func renderDDL(stmt string, pg bool) string {
	r := strings.NewReplacer("{{TIME}}", "TIMESTAMP", "{{BYTES}}", "BLOB", "{{JSON}}", "TEXT")
	if pg {
		r = strings.NewReplacer("{{TIME}}", "TIMESTAMPTZ", "{{BYTES}}", "BYTEA", "{{JSON}}", "TEXT")
	}
	return r.Replace(stmt)
}
