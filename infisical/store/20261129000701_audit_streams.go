package store

func init() {
	migrations.MustRegister(ddlMigration(migrationAuditStreams), nil)
}

// migrationAuditStreams adds audit-log streams (an organization's HTTPS
// endpoints) with a per-stream outbox of committed events still to deliver,
// and an index for the most common filter of the audit-log list, the event
// type. (Organization, project and time are indexed already; every further
// index makes each recorded read noticeably dearer on SQLite, so other
// filters run on the rows of the organization and time window.)
//
// The outbox is filled in the transaction that commits an event, so an
// event is queued for delivery if and only if it exists; the deliverer
// removes a row once the endpoint has accepted it. Both foreign keys
// cascade: deleting a stream drops its backlog, and retention deleting an
// event drops it from every backlog.
var migrationAuditStreams = []string{
	`CREATE TABLE audit_log_streams (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		url TEXT NOT NULL,
		encrypted_headers {{BYTES}},
		lease_owner TEXT,
		lease_until {{TIME}},
		last_error TEXT,
		last_error_at {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL
	)`,
	`CREATE INDEX audit_log_streams_org_idx ON audit_log_streams (org_id)`,
	`CREATE TABLE audit_log_stream_outbox (
		stream_id TEXT NOT NULL REFERENCES audit_log_streams(id) ON DELETE CASCADE,
		created_at {{TIME}} NOT NULL,
		audit_log_id TEXT NOT NULL REFERENCES audit_logs(id) ON DELETE CASCADE,
		PRIMARY KEY (stream_id, created_at, audit_log_id)
	)`,
	`CREATE INDEX audit_log_stream_outbox_log_idx ON audit_log_stream_outbox (audit_log_id)`,
	`CREATE INDEX audit_logs_org_event_idx ON audit_logs (org_id, event_type, created_at)`,
}
