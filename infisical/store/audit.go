package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// AuditLog is one audit event. Metadata never holds secret values.
type AuditLog struct {
	bun.BaseModel `bun:"table:audit_logs"`
	ID            string     `bun:"id,pk"`
	OrgID         *string    `bun:"org_id"`
	ProjectID     *string    `bun:"project_id"`
	ProjectName   *string    `bun:"project_name"`
	ActorType     string     `bun:"actor_type"`
	ActorID       *string    `bun:"actor_id"`
	ActorMetadata string     `bun:"actor_metadata"`
	EventType     string     `bun:"event_type"`
	EventMetadata string     `bun:"event_metadata"`
	Environment   *string    `bun:"environment"`
	SecretPath    *string    `bun:"secret_path"`
	SecretKey     *string    `bun:"secret_key"`
	IPAddress     *string    `bun:"ip_address"`
	UserAgent     *string    `bun:"user_agent"`
	UserAgentType *string    `bun:"user_agent_type"`
	ExpiresAt     *time.Time `bun:"expires_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

// InsertAuditLogs writes events (one statement).
func (q Q) InsertAuditLogs(ctx context.Context, rows []AuditLog) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := q.db.NewInsert().Model(&rows).Exec(ctx)
	return classify(err)
}
