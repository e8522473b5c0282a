package store

func init() {
	migrations.MustRegister(ddlMigration(migrationAuditLogs), nil)
}

var migrationAuditLogs = []string{
	`CREATE TABLE audit_logs (
		id TEXT PRIMARY KEY,
		org_id TEXT,
		project_id TEXT,
		project_name TEXT,
		actor_type TEXT NOT NULL,
		actor_id TEXT,
		actor_metadata {{JSON}} NOT NULL,
		event_type TEXT NOT NULL,
		event_metadata {{JSON}} NOT NULL,
		environment TEXT,
		secret_path TEXT,
		secret_key TEXT,
		ip_address TEXT,
		user_agent TEXT,
		user_agent_type TEXT,
		expires_at {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX audit_logs_org_created_idx ON audit_logs (org_id, created_at)`,
	`CREATE INDEX audit_logs_project_created_idx ON audit_logs (project_id, created_at)`,
	`CREATE INDEX audit_logs_expires_idx ON audit_logs (expires_at)`,
}
