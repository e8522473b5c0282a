package infisical

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// AuditService queries the audit log and manages audit-log streams
// (audit*.go).
type AuditService struct{ e *Engine }

// Audit returns the audit service of the engine.
func (e *Engine) Audit() *AuditService { return &AuditService{e: e} }

// AuditLog is one recorded event.
type AuditLog struct {
	ID          string
	OrgID       *string
	ProjectID   *string
	ProjectName *string // as it was when the event was recorded
	// Project is the project's current name and slug (nil when the event
	// has no project or the project no longer exists).
	Project       *AuditProject
	ActorType     string
	ActorMetadata json.RawMessage
	EventType     string
	EventMetadata json.RawMessage
	IPAddress     *string
	UserAgent     *string
	UserAgentType *string
	ExpiresAt     *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AuditProject names the project of an event.
type AuditProject struct {
	Name string
	Slug string
}

// AuditMetadataMatch is one key=value condition on event metadata.
type AuditMetadataMatch struct {
	Key   string
	Value string
}

// AuditLogQuery filters the audit log. Empty fields do not filter.
type AuditLogQuery struct {
	// OrgID is the organization (only the platform actor may name one;
	// everyone else reads its own).
	OrgID       string
	ProjectID   string
	Environment string // environment slug
	ActorType   string // user, identity, service, platform, ...
	Actor       string // user, identity or service-token id
	// SecretPath is compared without its trailing slash.
	SecretPath    string
	SecretKey     string
	EventTypes    []string
	UserAgentType string
	EventMetadata []AuditMetadataMatch
	// StartDate defaults to the last midnight (UTC), EndDate to now; the
	// range may span at most three months.
	StartDate *time.Time
	EndDate   *time.Time
	Offset    int
	Limit     int // default 20, at most 1000
}

// Limits of audit-log queries.
const (
	DefaultAuditLimit    = 20
	MaxAuditLimit        = 1000
	maxAuditMetadataKeys = 20
	maxAuditEventTypes   = 100
)

// AuditUserAgentTypes are the values of userAgentType.
var AuditUserAgentTypes = []string{"web", "cli", "k8-operator", "terraform", "other", "InfisicalPythonSDK", "InfisicalNodeSDK"}

var (
	auditMetadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)
	auditEventTypeRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9\-]{0,127}$`)
	auditActorTypeRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-]{0,63}$`)
)

// ParseAuditMetadataFilter parses "k1=v1,k2=v2" (the eventMetadata query
// parameter): each pair is an exact match of a top-level metadata key.
func ParseAuditMetadataFilter(s string) ([]AuditMetadataMatch, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []AuditMetadataMatch
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || !auditMetadataKeyRE.MatchString(k) {
			return nil, Invalid("eventMetadata", "eventMetadata must be key=value pairs separated by commas, with keys of letters, digits, '_', '-' or '.'")
		}
		out = append(out, AuditMetadataMatch{Key: k, Value: strings.TrimSpace(v)})
	}
	if len(out) > maxAuditMetadataKeys {
		return nil, Invalid("eventMetadata", "eventMetadata accepts at most %d pairs", maxAuditMetadataKeys)
	}
	return out, nil
}

// auditFilter validates a query and turns it into a store filter.
func (e *Engine) auditFilter(orgID string, in AuditLogQuery) (store.AuditLogFilter, error) {
	f := store.AuditLogFilter{OrgID: orgID, ProjectID: strings.TrimSpace(in.ProjectID), Environment: strings.TrimSpace(in.Environment),
		ActorType: strings.TrimSpace(in.ActorType), ActorID: strings.TrimSpace(in.Actor), SecretKey: strings.TrimSpace(in.SecretKey),
		UserAgentType: strings.TrimSpace(in.UserAgentType), Offset: in.Offset, Limit: in.Limit}
	if p := strings.TrimSpace(in.SecretPath); p != "" {
		if len(p) > 1 {
			p = strings.TrimRight(p, "/")
			if p == "" {
				p = "/"
			}
		}
		f.SecretPath = p
	}
	if f.ActorType != "" && !auditActorTypeRE.MatchString(f.ActorType) {
		return f, Invalid("actorType", "actorType must be an actor type such as user, identity or service")
	}
	if f.UserAgentType != "" {
		ok := false
		for _, t := range AuditUserAgentTypes {
			ok = ok || t == f.UserAgentType
		}
		if !ok {
			return f, Invalid("userAgentType", "userAgentType must be one of %s", strings.Join(AuditUserAgentTypes, ", "))
		}
	}
	for _, t := range in.EventTypes {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !auditEventTypeRE.MatchString(t) {
			return f, Invalid("eventType", "eventType must be a comma-separated list of event types such as get-secrets")
		}
		f.EventTypes = append(f.EventTypes, t)
	}
	if len(f.EventTypes) > maxAuditEventTypes {
		return f, Invalid("eventType", "eventType accepts at most %d event types", maxAuditEventTypes)
	}
	if len(in.EventMetadata) > maxAuditMetadataKeys {
		return f, Invalid("eventMetadata", "eventMetadata accepts at most %d pairs", maxAuditMetadataKeys)
	}
	for _, m := range in.EventMetadata {
		if !auditMetadataKeyRE.MatchString(m.Key) {
			return f, Invalid("eventMetadata", "eventMetadata key '%s' is not valid", m.Key)
		}
		f.Metadata = append(f.Metadata, store.MetadataMatch{Key: m.Key, Value: m.Value})
	}
	if f.Offset < 0 {
		return f, Invalid("offset", "offset must be ≥ 0")
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultAuditLimit
	case f.Limit < 0 || f.Limit > MaxAuditLimit:
		return f, Invalid("limit", "limit must be between 1 and %d", MaxAuditLimit)
	}
	now := e.now()
	f.Start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if in.StartDate != nil {
		f.Start = in.StartDate.UTC()
	}
	f.End = now
	if in.EndDate != nil {
		f.End = in.EndDate.UTC()
	}
	if f.End.Before(f.Start) {
		return f, Invalid("endDate", "endDate must not be before startDate")
	}
	if f.End.After(f.Start.AddDate(0, 3, 0)) {
		return f, Invalid("endDate", "endDate must be at most 3 months after startDate")
	}
	return f, nil
}

// auditReader decides whether actor may read orgID's audit log: the
// organization's audit-logs read permission, or, for a query restricted to
// one project, that project's audit-logs read permission.
func (e *Engine) auditReader(ctx context.Context, actor Actor, orgID, projectID string) error {
	if actor.Type == ActorService {
		return Forbidden("Service tokens cannot read audit logs")
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return err
	}
	orgErr := set.Check(permission.ActionRead, permission.OrgSubjectAuditLogs, nil)
	if orgErr == nil || projectID == "" {
		return orgErr
	}
	_, pset, err := e.project(ctx, actor, ProjectRef{ID: projectID})
	if err != nil {
		return err
	}
	return pset.Check(permission.ActionRead, permission.SubjectAuditLogs, nil)
}

// List returns the events of the caller's organization matching q, newest
// first (by time, then id, so pages are stable).
func (s *AuditService) List(ctx context.Context, actor Actor, q AuditLogQuery) ([]AuditLog, error) {
	e := s.e
	orgID := actor.OrgID
	if actor.Type == ActorPlatform && strings.TrimSpace(q.OrgID) != "" {
		orgID = strings.TrimSpace(q.OrgID)
	}
	if orgID == "" {
		return nil, BadRequest("Missing organization")
	}
	f, err := e.auditFilter(orgID, q)
	if err != nil {
		return nil, err
	}
	if err := e.auditReader(ctx, actor, orgID, f.ProjectID); err != nil {
		return nil, err
	}
	return e.listAudit(ctx, f)
}

// ListProject returns the events of one project (the deprecated
// /api/v1/workspace/{id}/audit-logs); q.ProjectID is ignored.
func (s *AuditService) ListProject(ctx context.Context, actor Actor, ref ProjectRef, q AuditLogQuery) ([]AuditLog, error) {
	e := s.e
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot read audit logs")
	}
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	q.ProjectID = m.project.ID
	f, err := e.auditFilter(m.project.OrgID, q)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectAuditLogs, nil); err != nil {
		// Organization-wide readers may read every project's events.
		if orgErr := e.auditReader(ctx, actor, m.project.OrgID, ""); orgErr != nil {
			return nil, err
		}
	}
	return e.listAudit(ctx, f)
}

func (e *Engine) listAudit(ctx context.Context, f store.AuditLogFilter) ([]AuditLog, error) {
	rows, err := e.store.Read().ListAuditLogs(ctx, f)
	if err != nil {
		return nil, Internal("list audit logs", err)
	}
	projects := map[string]*AuditProject{}
	out := make([]AuditLog, len(rows))
	for i := range rows {
		out[i] = auditLogFromRow(&rows[i])
		if pid := rows[i].ProjectID; pid != nil {
			p, seen := projects[*pid]
			if !seen {
				if m, err := e.meta(ctx, *pid); err == nil {
					p = &AuditProject{Name: m.project.Name, Slug: m.project.Slug}
				}
				projects[*pid] = p
			}
			out[i].Project = p
		}
	}
	return out, nil
}

func auditLogFromRow(r *store.AuditLog) AuditLog {
	return AuditLog{ID: r.ID, OrgID: r.OrgID, ProjectID: r.ProjectID, ProjectName: r.ProjectName, ActorType: r.ActorType,
		ActorMetadata: jsonOrEmpty(r.ActorMetadata), EventType: r.EventType, EventMetadata: jsonOrEmpty(r.EventMetadata),
		IPAddress: r.IPAddress, UserAgent: r.UserAgent, UserAgentType: r.UserAgentType, ExpiresAt: r.ExpiresAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func jsonOrEmpty(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

// auditPayload is an event as audit-log streams receive it: the same shape
// as an item of GET /api/v1/organization/audit-logs.
type auditPayload struct {
	ID            string          `json:"id"`
	IPAddress     *string         `json:"ipAddress"`
	UserAgent     *string         `json:"userAgent"`
	UserAgentType *string         `json:"userAgentType"`
	ExpiresAt     *string         `json:"expiresAt"`
	CreatedAt     string          `json:"createdAt"`
	UpdatedAt     string          `json:"updatedAt"`
	OrgID         *string         `json:"orgId"`
	ProjectID     *string         `json:"projectId"`
	ProjectName   *string         `json:"projectName"`
	Event         auditPayloadRef `json:"event"`
	Actor         auditPayloadRef `json:"actor"`
}

type auditPayloadRef struct {
	Type     string          `json:"type"`
	Metadata json.RawMessage `json:"metadata"`
}

// isoMillis formats like JavaScript's toISOString.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func encodeAuditPayload(r *store.AuditLog) ([]byte, error) {
	p := auditPayload{ID: r.ID, IPAddress: r.IPAddress, UserAgent: r.UserAgent, UserAgentType: r.UserAgentType,
		CreatedAt: isoMillis(r.CreatedAt), UpdatedAt: isoMillis(r.UpdatedAt), OrgID: r.OrgID, ProjectID: r.ProjectID,
		ProjectName: r.ProjectName,
		Event:       auditPayloadRef{Type: r.EventType, Metadata: jsonOrEmpty(r.EventMetadata)},
		Actor:       auditPayloadRef{Type: r.ActorType, Metadata: jsonOrEmpty(r.ActorMetadata)}}
	if r.ExpiresAt != nil {
		s := isoMillis(*r.ExpiresAt)
		p.ExpiresAt = &s
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode audit event %s: %w", r.ID, err)
	}
	return b, nil
}
