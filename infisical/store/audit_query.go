package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Queries of the audit log (list with filters, retention) and of audit-log
// streams (configuration, per-stream outbox, delivery lease). The two SQL
// dialects differ only in how a JSON metadata value is read; that is
// isolated in metadataEquals.

// AuditLogFilter selects audit events of one organization. Empty fields do
// not filter. Results are ordered newest first (created_at, then id).
type AuditLogFilter struct {
	OrgID         string
	ProjectID     string
	Environment   string
	ActorType     string
	ActorID       string
	SecretPath    string
	SecretKey     string
	EventTypes    []string
	UserAgentType string
	// Metadata are exact matches on top-level event-metadata keys, compared
	// as text (a number 5 matches "5", a boolean matches "true"/"false").
	Metadata []MetadataMatch
	Start    time.Time
	End      time.Time
	Offset   int
	Limit    int
}

// MetadataMatch is one key=value condition on event metadata. Key must be a
// plain identifier (the engine validates it).
type MetadataMatch struct {
	Key   string
	Value string
}

// ListAuditLogs returns the events matching f, newest first.
func (q Q) ListAuditLogs(ctx context.Context, f AuditLogFilter) ([]AuditLog, error) {
	out := []AuditLog{}
	sq := q.db.NewSelect().Model(&out).
		Where("org_id = ?", f.OrgID).
		Where("created_at >= ?", f.Start).
		Where("created_at <= ?", f.End)
	eq := func(col, v string) {
		if v != "" {
			sq = sq.Where("? = ?", bun.Ident(col), v)
		}
	}
	eq("project_id", f.ProjectID)
	eq("environment", f.Environment)
	eq("actor_type", f.ActorType)
	eq("actor_id", f.ActorID)
	eq("secret_path", f.SecretPath)
	eq("secret_key", f.SecretKey)
	eq("user_agent_type", f.UserAgentType)
	if len(f.EventTypes) > 0 {
		sq = sq.Where("event_type IN (?)", bun.In(f.EventTypes))
	}
	for _, m := range f.Metadata {
		sq = q.metadataEquals(sq, m)
	}
	sq = sq.OrderExpr("created_at DESC, id DESC").Offset(int64(f.Offset))
	if f.Limit > 0 {
		sq = sq.Limit(int64(f.Limit))
	}
	err := sq.Scan(ctx)
	return out, classify(err)
}

// metadataEquals adds "event_metadata[key] as text = value". PostgreSQL's
// ->> already yields text; SQLite's json_extract yields SQL values, so
// booleans (1/0 there) are mapped back to JSON's true/false first.
func (q Q) metadataEquals(sq *bun.SelectQuery, m MetadataMatch) *bun.SelectQuery {
	if q.s.pg {
		return sq.Where("(event_metadata::jsonb ->> ?) = ?", m.Key, m.Value)
	}
	path := `$."` + m.Key + `"`
	return sq.Where(`(CASE json_type(event_metadata, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' `+
		`ELSE CAST(json_extract(event_metadata, ?) AS TEXT) END) = ?`, path, path, m.Value)
}

// DeleteExpiredAuditLogs deletes at most limit events that expired before
// now and reports how many it deleted. The victims are chosen in a
// sub-select so that each call is one bounded statement; on PostgreSQL rows
// another server is deleting at the same moment are skipped, not waited
// for, so concurrent janitors never block each other.
func (q Q) DeleteExpiredAuditLogs(ctx context.Context, now time.Time, limit int) (int, error) {
	lock := ""
	if q.s.pg {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	res, err := q.db.NewRaw("DELETE FROM audit_logs WHERE id IN (SELECT id FROM audit_logs WHERE expires_at IS NOT NULL AND expires_at < ? ORDER BY expires_at LIMIT ?"+lock+")",
		now, limit).Exec(ctx)
	if err != nil {
		return 0, classify(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// AuditLogStream is an organization's HTTPS endpoint receiving its audit
// events. Header values are sealed with the organization key.
type AuditLogStream struct {
	bun.BaseModel    `bun:"table:audit_log_streams"`
	ID               string     `bun:"id,pk"`
	OrgID            string     `bun:"org_id"`
	URL              string     `bun:"url"`
	EncryptedHeaders []byte     `bun:"encrypted_headers"`
	LeaseOwner       *string    `bun:"lease_owner"`
	LeaseUntil       *time.Time `bun:"lease_until"`
	LastError        *string    `bun:"last_error"`
	LastErrorAt      *time.Time `bun:"last_error_at"`
	CreatedAt        time.Time  `bun:"created_at"`
	UpdatedAt        time.Time  `bun:"updated_at"`
}

// ListAuditLogStreams returns the streams of an organization (all streams
// when orgID is empty), oldest first.
func (q Q) ListAuditLogStreams(ctx context.Context, orgID string) ([]AuditLogStream, error) {
	out := []AuditLogStream{}
	sq := q.db.NewSelect().Model(&out)
	if orgID != "" {
		sq = sq.Where("org_id = ?", orgID)
	}
	err := sq.Order("created_at ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// GetAuditLogStream loads a stream of an organization.
func (q Q) GetAuditLogStream(ctx context.Context, orgID, id string) (*AuditLogStream, error) {
	var s AuditLogStream
	err := q.db.NewSelect().Model(&s).Where("id = ? AND org_id = ?", id, orgID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &s, nil
}

// UpdateAuditLogStreamConfig writes a stream's URL and headers.
func (q Q) UpdateAuditLogStreamConfig(ctx context.Context, s *AuditLogStream) error {
	res, err := q.db.NewUpdate().Model(s).Column("url", "encrypted_headers", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// AuditStreamOrgIDs returns the organizations that have at least one
// stream.
func (q Q) AuditStreamOrgIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*AuditLogStream)(nil)).Distinct().Column("org_id").Scan(ctx, &ids)
	return ids, classify(err)
}

// EnqueueAuditStreamEvents queues the given events for every stream of
// their organizations, in one statement (inside the transaction that
// writes the events).
func (q Q) EnqueueAuditStreamEvents(ctx context.Context, auditLogIDs []string) (int, error) {
	if len(auditLogIDs) == 0 {
		return 0, nil
	}
	res, err := q.db.NewRaw(`INSERT INTO audit_log_stream_outbox (stream_id, created_at, audit_log_id)
		SELECT s.id, a.created_at, a.id FROM audit_logs AS a JOIN audit_log_streams AS s ON s.org_id = a.org_id
		WHERE a.id IN (?)`, bun.In(auditLogIDs)).Exec(ctx)
	if err != nil {
		return 0, classify(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PendingAuditStreamEvents returns up to limit events waiting for a
// stream, in delivery order (created_at, id).
func (q Q) PendingAuditStreamEvents(ctx context.Context, streamID string, limit int) ([]AuditLog, error) {
	out := []AuditLog{}
	err := q.db.NewSelect().Model(&out).ModelTableExpr("audit_logs AS a").ColumnExpr("a.*").
		Join("JOIN audit_log_stream_outbox AS o ON o.audit_log_id = a.id").
		Where("o.stream_id = ?", streamID).
		OrderExpr("o.created_at ASC, o.audit_log_id ASC").Limit(int64(limit)).Scan(ctx)
	return out, classify(err)
}

// CountPendingAuditStreamEvents counts the backlog of a stream.
func (q Q) CountPendingAuditStreamEvents(ctx context.Context, streamID string) (int, error) {
	n, err := q.db.NewSelect().TableExpr("audit_log_stream_outbox").Where("stream_id = ?", streamID).Count(ctx)
	return int(n), classify(err)
}

// AckAuditStreamEvents removes delivered events from a stream's backlog.
func (q Q) AckAuditStreamEvents(ctx context.Context, streamID string, auditLogIDs []string) error {
	if len(auditLogIDs) == 0 {
		return nil
	}
	_, err := q.db.NewDelete().TableExpr("audit_log_stream_outbox").
		Where("stream_id = ? AND audit_log_id IN (?)", streamID, bun.In(auditLogIDs)).Exec(ctx)
	return classify(err)
}

// AcquireAuditStreamLease makes owner the deliverer of a stream until
// `until`, if nobody else holds an unexpired lease (renewing its own lease
// always succeeds). It reports whether owner holds the lease. With several
// servers on one database exactly one of them delivers a stream at a time.
func (q Q) AcquireAuditStreamLease(ctx context.Context, streamID, owner string, now, until time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*AuditLogStream)(nil)).
		Set("lease_owner = ?", owner).Set("lease_until = ?", until).
		Where("id = ?", streamID).
		Where("(lease_owner IS NULL OR lease_owner = ? OR lease_until IS NULL OR lease_until < ?)", owner, now).
		Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseAuditStreamLease gives up owner's lease (on shutdown), so another
// server can take over at once.
func (q Q) ReleaseAuditStreamLease(ctx context.Context, streamID, owner string) error {
	_, err := q.db.NewUpdate().Model((*AuditLogStream)(nil)).
		Set("lease_owner = NULL").Set("lease_until = NULL").
		Where("id = ? AND lease_owner = ?", streamID, owner).Exec(ctx)
	return classify(err)
}

// SetAuditStreamError records the last delivery error of a stream ("" =
// clear it).
func (q Q) SetAuditStreamError(ctx context.Context, streamID, msg string, at time.Time) error {
	uq := q.db.NewUpdate().Model((*AuditLogStream)(nil)).Where("id = ?", streamID)
	if msg == "" {
		uq = uq.Set("last_error = NULL").Set("last_error_at = NULL")
	} else {
		uq = uq.Set("last_error = ?", msg).Set("last_error_at = ?", at)
	}
	_, err := uq.Exec(ctx)
	if err != nil {
		return fmt.Errorf("record stream error: %w", classify(err))
	}
	return nil
}
