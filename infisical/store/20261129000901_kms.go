package store

func init() {
	migrations.MustRegister(ddlMigration(migrationKMS), nil)
}

// migrationKMS adds key management: the root-key generation and rotation
// link, customer-managed keys with their versions, and external KMS
// configurations of organizations.
var migrationKMS = []string{
	// root_key_id names the current root key (a new one per rotation); a
	// server that still holds the previous root key finds the new one in
	// previous_link = AEAD(previous root key, new root key) until the
	// rotation's grace period ends.
	`ALTER TABLE kms_root_config ADD COLUMN root_key_id TEXT`,
	`ALTER TABLE kms_root_config ADD COLUMN previous_root_key_id TEXT`,
	`ALTER TABLE kms_root_config ADD COLUMN previous_link {{BYTES}}`,
	`CREATE TABLE kms_customer_keys (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		description TEXT,
		is_disabled BOOLEAN NOT NULL DEFAULT FALSE,
		key_usage TEXT NOT NULL,
		algorithm TEXT NOT NULL,
		version INTEGER NOT NULL DEFAULT 1,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (project_id, name)
	)`,
	`CREATE TABLE kms_customer_key_versions (
		key_id TEXT NOT NULL REFERENCES kms_customer_keys(id) ON DELETE CASCADE,
		version INTEGER NOT NULL,
		encrypted_key {{BYTES}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		PRIMARY KEY (key_id, version)
	)`,
	`CREATE TABLE external_kms (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		description TEXT,
		provider TEXT NOT NULL,
		status TEXT NOT NULL,
		status_details TEXT,
		is_disabled BOOLEAN NOT NULL DEFAULT FALSE,
		encrypted_provider_inputs {{BYTES}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, name)
	)`,
	`CREATE INDEX projects_kms_key_idx ON projects (kms_key_id)`,
}
