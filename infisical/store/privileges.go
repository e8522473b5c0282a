package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// AdditionalPrivilege is an extra set of rules given to one member of a
// project, permanently or for a time window. It belongs to the membership
// and goes away with it. Permissions holds the V2 rules as JSON.
type AdditionalPrivilege struct {
	bun.BaseModel            `bun:"table:additional_privileges"`
	ID                       string     `bun:"id,pk"`
	MembershipID             string     `bun:"membership_id"`
	ProjectID                string     `bun:"project_id"`
	ActorType                string     `bun:"actor_type"`
	ActorID                  string     `bun:"actor_id"`
	Slug                     string     `bun:"slug"`
	Permissions              string     `bun:"permissions"`
	IsTemporary              bool       `bun:"is_temporary"`
	TemporaryMode            *string    `bun:"temporary_mode"`
	TemporaryRange           *string    `bun:"temporary_range"`
	TemporaryAccessStartTime *time.Time `bun:"temporary_access_start_time"`
	TemporaryAccessEndTime   *time.Time `bun:"temporary_access_end_time"`
	CreatedAt                time.Time  `bun:"created_at"`
	UpdatedAt                time.Time  `bun:"updated_at"`
}

// Active reports whether the privilege grants anything at t.
func (p *AdditionalPrivilege) Active(t time.Time) bool {
	if !p.IsTemporary {
		return true
	}
	if p.TemporaryAccessStartTime == nil || p.TemporaryAccessEndTime == nil {
		return false
	}
	return !t.Before(*p.TemporaryAccessStartTime) && t.Before(*p.TemporaryAccessEndTime)
}

// GetPrivilege loads a privilege by id.
func (q Q) GetPrivilege(ctx context.Context, id string) (*AdditionalPrivilege, error) {
	var p AdditionalPrivilege
	if err := q.GetByID(ctx, &p, id); err != nil {
		return nil, err
	}
	return &p, nil
}

// PrivilegeBySlug loads the privilege of a membership with the given slug.
func (q Q) PrivilegeBySlug(ctx context.Context, membershipID, slug string) (*AdditionalPrivilege, error) {
	var p AdditionalPrivilege
	err := q.db.NewSelect().Model(&p).Where("membership_id = ? AND slug = ?", membershipID, slug).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &p, nil
}

// ListPrivileges returns the privileges of a membership, oldest first.
func (q Q) ListPrivileges(ctx context.Context, membershipID string) ([]AdditionalPrivilege, error) {
	out := []AdditionalPrivilege{}
	err := q.db.NewSelect().Model(&out).Where("membership_id = ?", membershipID).Order("created_at ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// PrivilegesOfActor returns every privilege (active or not) an actor holds
// in a project.
func (q Q) PrivilegesOfActor(ctx context.Context, projectID, actorType, actorID string) ([]AdditionalPrivilege, error) {
	var out []AdditionalPrivilege
	err := q.db.NewSelect().Model(&out).Where("project_id = ? AND actor_type = ? AND actor_id = ?", projectID, actorType, actorID).
		Order("created_at ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}
