package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// ServiceTokenScope is one (environment, secret path glob) scope of a
// legacy service token.
type ServiceTokenScope struct {
	Environment string `json:"environment"`
	SecretPath  string `json:"secretPath"`
}

// ServiceToken is a legacy project-scoped service token ("st.<id>.<secret>").
// Only a hash of the secret part is stored.
type ServiceToken struct {
	bun.BaseModel `bun:"table:service_tokens"`
	ID            string              `bun:"id,pk"`
	ProjectID     string              `bun:"project_id"`
	Name          string              `bun:"name"`
	Scopes        []ServiceTokenScope `bun:"scopes,type:text"`
	Permissions   []string            `bun:"permissions,type:text"`
	SecretHash    []byte              `bun:"secret_hash"`
	CreatedBy     string              `bun:"created_by"`
	ExpiresAt     *time.Time          `bun:"expires_at"`
	LastUsed      *time.Time          `bun:"last_used"`
	CreatedAt     time.Time           `bun:"created_at"`
	UpdatedAt     time.Time           `bun:"updated_at"`
}

// ServiceTokenRow is a service token with its project's organization.
type ServiceTokenRow struct {
	ServiceToken `bun:",extend"`
	OrgID        string `bun:"project_org_id"`
}

// GetServiceToken loads a service token with its project's organization.
func (q Q) GetServiceToken(ctx context.Context, id string) (*ServiceTokenRow, error) {
	var out ServiceTokenRow
	err := q.db.NewSelect().TableExpr("service_tokens AS t").
		Join("JOIN projects AS p ON p.id = t.project_id").
		ColumnExpr("t.*").ColumnExpr("p.org_id AS project_org_id").
		Where("t.id = ?", id).Limit(1).Scan(ctx, &out)
	if err != nil {
		return nil, classify(err)
	}
	return &out, nil
}

// ListServiceTokens returns the service tokens of a project, newest first.
func (q Q) ListServiceTokens(ctx context.Context, projectID string) ([]ServiceToken, error) {
	out := []ServiceToken{}
	err := q.db.NewSelect().Model(&out).Where("project_id = ?", projectID).Order("created_at DESC", "id DESC").Scan(ctx)
	return out, classify(err)
}

// DeleteServiceToken removes a service token and reports whether it existed.
func (q Q) DeleteServiceToken(ctx context.Context, id string) (bool, error) {
	res, err := q.db.NewDelete().Model((*ServiceToken)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// TouchServiceToken records the last use of a service token (never moving
// it back in time).
func (q Q) TouchServiceToken(ctx context.Context, id string, at time.Time) error {
	_, err := q.db.NewUpdate().Model((*ServiceToken)(nil)).Set("last_used = ?", at).
		Where("id = ? AND (last_used IS NULL OR last_used < ?)", id, at).Exec(ctx)
	return classify(err)
}
