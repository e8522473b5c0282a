package infisical

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/duration"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// RoleAssignment is one role given to a project member, permanently or for
// a time window (temporaryMode "relative": from TemporaryAccessStartTime for
// TemporaryRange).
type RoleAssignment struct {
	Role                     string
	IsTemporary              bool
	TemporaryMode            string
	TemporaryRange           string
	TemporaryAccessStartTime *time.Time
}

// MembershipRole is an assigned role as stored.
type MembershipRole struct {
	ID                       string
	Role                     string
	CustomRoleID             *string
	CustomRoleName           *string
	CustomRoleSlug           *string
	IsTemporary              bool
	TemporaryMode            *string
	TemporaryRange           *string
	TemporaryAccessStartTime *time.Time
	TemporaryAccessEndTime   *time.Time
	MembershipID             string
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

func membershipRoleFromRow(r *store.MembershipRole) MembershipRole {
	return MembershipRole{ID: r.ID, Role: r.Role, CustomRoleID: r.CustomRoleID, IsTemporary: r.IsTemporary,
		TemporaryMode: r.TemporaryMode, TemporaryRange: r.TemporaryRange,
		TemporaryAccessStartTime: r.TemporaryAccessStartTime, TemporaryAccessEndTime: r.TemporaryAccessEndTime,
		MembershipID: r.MembershipID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// roleRows validates assignments and turns them into rows for membershipID.
// The customRole hook resolves non-built-in slugs; without it only built-in
// roles are accepted.
func (e *Engine) roleRows(ctx context.Context, q store.Q, projectID, membershipID string, roles []RoleAssignment) ([]store.MembershipRole, error) {
	if len(roles) == 0 {
		return nil, Invalid("roles", "At least one role is required")
	}
	now := e.now()
	permanent := false
	out := make([]store.MembershipRole, 0, len(roles))
	for i, ra := range roles {
		slug := strings.TrimSpace(ra.Role)
		if slug == "" {
			return nil, Invalid("roles", "roles[%d].role is required", i)
		}
		row := store.MembershipRole{ID: uuid.NewString(), MembershipID: membershipID, Role: slug, CreatedAt: now, UpdatedAt: now}
		if _, ok := permission.BuiltinProjectRole(slug); !ok {
			if e.resolveCustomRole == nil {
				return nil, NotFound("Role with slug '%s' not found", slug)
			}
			id, err := e.resolveCustomRole(ctx, q, projectID, slug)
			if err != nil {
				return nil, err
			}
			row.Role = "custom"
			row.CustomRoleID = &id
		}
		if ra.IsTemporary {
			if ra.TemporaryMode != "relative" {
				return nil, Invalid("roles", "roles[%d].temporaryMode must be \"relative\"", i)
			}
			d, err := duration.ParsePositive(ra.TemporaryRange)
			if err != nil {
				return nil, Invalid("roles", "roles[%d].temporaryRange: %v", i, err)
			}
			if ra.TemporaryAccessStartTime == nil {
				return nil, Invalid("roles", "roles[%d].temporaryAccessStartTime is required", i)
			}
			start := ra.TemporaryAccessStartTime.UTC()
			end := start.Add(d)
			mode, rng := ra.TemporaryMode, ra.TemporaryRange
			row.IsTemporary = true
			row.TemporaryMode = &mode
			row.TemporaryRange = &rng
			row.TemporaryAccessStartTime = &start
			row.TemporaryAccessEndTime = &end
		} else {
			permanent = true
		}
		out = append(out, row)
	}
	if !permanent {
		return nil, Invalid("roles", "At least one permanent role is required")
	}
	return out, nil
}

// insertMembership creates a project membership with its roles inside q.
func (e *Engine) insertMembership(ctx context.Context, q store.Q, projectID, actorType, actorID string, roles []RoleAssignment) (*store.ProjectMembership, error) {
	now := e.now()
	m := &store.ProjectMembership{ID: uuid.NewString(), ProjectID: projectID, ActorType: actorType, ActorID: actorID, CreatedAt: now, UpdatedAt: now}
	rows, err := e.roleRows(ctx, q, projectID, m.ID, roles)
	if err != nil {
		return nil, err
	}
	if err := q.Insert(ctx, m); err != nil {
		if isDuplicate(err) {
			return nil, BadRequest("This %s is already a member of the project", actorType)
		}
		return nil, Internal("create membership", err)
	}
	for i := range rows {
		if err := q.Insert(ctx, &rows[i]); err != nil {
			return nil, Internal("create membership role", err)
		}
	}
	q.Invalidate(topicAccess, projectID)
	return m, nil
}
