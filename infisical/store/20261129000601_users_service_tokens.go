package store

func init() {
	migrations.MustRegister(ddlMigration(migrationUsersServiceTokens), nil)
}

// migrationUsersServiceTokens adds what user accounts and legacy service
// tokens need: user sessions (one row per issued session so that logout and
// membership changes revoke tokens), organization invitations (only a hash of
// the invitation code is kept), per-organization user metadata, the shared
// state of the login rate limiter, and service tokens (only a hash of the
// token secret is kept).
var migrationUsersServiceTokens = []string{
	`CREATE TABLE user_sessions (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		org_id TEXT,
		auth_method TEXT NOT NULL,
		access_version INTEGER NOT NULL DEFAULT 1,
		ip TEXT NOT NULL DEFAULT '',
		user_agent TEXT NOT NULL DEFAULT '',
		expires_at {{TIME}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, org_id)`,
	`CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at)`,
	`CREATE TABLE org_invites (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		code_hash {{BYTES}} NOT NULL,
		expires_at {{TIME}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		UNIQUE (user_id, org_id)
	)`,
	`CREATE TABLE user_metadata (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		value TEXT NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX user_metadata_user_idx ON user_metadata (org_id, user_id)`,
	`CREATE INDEX users_email_idx ON users (email)`,
	`CREATE INDEX org_memberships_user_idx ON org_memberships (user_id)`,
	`CREATE TABLE auth_rate_limits (
		key TEXT PRIMARY KEY,
		tat {{TIME}} NOT NULL
	)`,
	`CREATE INDEX auth_rate_limits_tat_idx ON auth_rate_limits (tat)`,
	`CREATE TABLE service_tokens (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		scopes {{JSON}} NOT NULL,
		permissions {{JSON}} NOT NULL,
		secret_hash {{BYTES}} NOT NULL,
		created_by TEXT NOT NULL,
		expires_at {{TIME}},
		last_used {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX service_tokens_project_idx ON service_tokens (project_id, created_at)`,
}
