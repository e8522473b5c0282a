package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infisical-go/engine/infisical"
)

// Audit logs (spec §8.9) and audit-log streams (features §4.2).

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerAuditRoutes) }

func (s *Server) registerAuditRoutes() {
	const tag = "Audit Logs"
	s.handle(http.MethodGet, "/api/v1/organization/audit-logs", authUI, tag, "Export the organization's audit logs", s.listAuditLogs)
	s.handle(http.MethodGet, "/api/v1/workspace/{workspaceId}/audit-logs", authUI, tag, "Export a project's audit logs (deprecated)", s.listProjectAuditLogs)
	const st = "Audit Log Streams"
	s.handle(http.MethodPost, "/api/v1/audit-log-streams", authUI, st, "Create an audit log stream", s.createAuditStream)
	s.handle(http.MethodGet, "/api/v1/audit-log-streams", authUI, st, "List audit log streams", s.listAuditStreams)
	s.handle(http.MethodGet, "/api/v1/audit-log-streams/{id}", authUI, st, "Get an audit log stream", s.getAuditStream)
	s.handle(http.MethodPatch, "/api/v1/audit-log-streams/{id}", authUI, st, "Update an audit log stream", s.updateAuditStream)
	s.handle(http.MethodDelete, "/api/v1/audit-log-streams/{id}", authUI, st, "Delete an audit log stream", s.deleteAuditStream)
	s.registerAuditMetrics()
}

// registerAuditMetrics exports the engine's audit counters.
func (s *Server) registerAuditMetrics() {
	eng := s.eng
	counters := []struct {
		name, help string
		fn         func() uint64
	}{
		{"infisical_audit_read_events_dropped_total", "Read audit events dropped because the queue was full or could not be written.", eng.AuditDropped},
		{"infisical_audit_stream_delivery_failures_total", "Failed delivery attempts to audit log streams.", eng.AuditStreamFailures},
		{"infisical_audit_stream_events_delivered_total", "Audit events delivered to audit log streams.", eng.AuditStreamDelivered},
		{"infisical_audit_events_pruned_total", "Audit events deleted by retention.", eng.AuditPruned},
	}
	for _, c := range counters {
		fn := c.fn
		// A registry shared by several servers of one process already has
		// them: keep the first.
		_ = s.cfg.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(fn()) }))
	}
}

// auditLogJSON is one item of auditLogs (spec §8.9).
type auditLogJSON struct {
	ID            string            `json:"id"`
	IPAddress     *string           `json:"ipAddress"`
	UserAgent     *string           `json:"userAgent"`
	UserAgentType *string           `json:"userAgentType"`
	ExpiresAt     *isoTime          `json:"expiresAt"`
	CreatedAt     isoTime           `json:"createdAt"`
	UpdatedAt     isoTime           `json:"updatedAt"`
	OrgID         *string           `json:"orgId"`
	ProjectID     *string           `json:"projectId"`
	ProjectName   *string           `json:"projectName"`
	Event         auditRefJSON      `json:"event"`
	Actor         auditRefJSON      `json:"actor"`
	Project       *auditProjectJSON `json:"project,omitempty"`
}

type auditRefJSON struct {
	Type     string          `json:"type"`
	Metadata json.RawMessage `json:"metadata"`
}

type auditProjectJSON struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type auditLogsResponse struct {
	AuditLogs []auditLogJSON `json:"auditLogs"`
}

func toAuditLogs(list []infisical.AuditLog, withProject bool) auditLogsResponse {
	out := auditLogsResponse{AuditLogs: make([]auditLogJSON, len(list))}
	for i := range list {
		l := &list[i]
		out.AuditLogs[i] = auditLogJSON{ID: l.ID, IPAddress: l.IPAddress, UserAgent: l.UserAgent, UserAgentType: l.UserAgentType,
			ExpiresAt: tsp(l.ExpiresAt), CreatedAt: ts(l.CreatedAt), UpdatedAt: ts(l.UpdatedAt), OrgID: l.OrgID,
			ProjectID: l.ProjectID, ProjectName: l.ProjectName,
			Event: auditRefJSON{Type: l.EventType, Metadata: l.EventMetadata},
			Actor: auditRefJSON{Type: l.ActorType, Metadata: l.ActorMetadata}}
		if withProject && l.Project != nil {
			out.AuditLogs[i].Project = &auditProjectJSON{Name: l.Project.Name, Slug: l.Project.Slug}
		}
	}
	return out
}

// auditQuery reads the query parameters of both audit-log routes.
func (rq *request) auditQuery() (infisical.AuditLogQuery, error) {
	var q infisical.AuditLogQuery
	var err error
	q.ProjectID = rq.query("projectId")
	q.Environment = rq.query("environment")
	q.ActorType = rq.query("actorType")
	q.Actor = rq.query("actor")
	q.SecretPath = rq.query("secretPath")
	q.SecretKey = rq.query("secretKey")
	q.UserAgentType = rq.query("userAgentType")
	for _, v := range rq.r.URL.Query()["eventType"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				q.EventTypes = append(q.EventTypes, t)
			}
		}
	}
	if q.EventMetadata, err = infisical.ParseAuditMetadataFilter(rq.query("eventMetadata")); err != nil {
		return q, err
	}
	if q.StartDate, err = rq.qtime("startDate"); err != nil {
		return q, err
	}
	if q.EndDate, err = rq.qtime("endDate"); err != nil {
		return q, err
	}
	if q.Offset, err = rq.qint("offset", 0, 0, 1<<31-1); err != nil {
		return q, err
	}
	if q.Limit, err = rq.qint("limit", infisical.DefaultAuditLimit, 1, infisical.MaxAuditLimit); err != nil {
		return q, err
	}
	return q, nil
}

// qtime parses an ISO date-time (or date) query parameter; absent gives nil.
func (rq *request) qtime(name string) (*time.Time, error) {
	v := rq.query(name)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, infisical.Invalid(name, "'%s' must be an ISO 8601 date-time", name)
}

func (s *Server) listAuditLogs(rq *request) (any, error) {
	q, err := rq.auditQuery()
	if err != nil {
		return nil, err
	}
	list, err := s.eng.Audit().List(rq.ctx(), rq.actor, q)
	if err != nil {
		return nil, err
	}
	return toAuditLogs(list, false), nil
}

func (s *Server) listProjectAuditLogs(rq *request) (any, error) {
	q, err := rq.auditQuery()
	if err != nil {
		return nil, err
	}
	list, err := s.eng.Audit().ListProject(rq.ctx(), rq.actor, infisical.ProjectRef{ID: rq.path("workspaceId")}, q)
	if err != nil {
		return nil, err
	}
	return toAuditLogs(list, true), nil
}

// ---- streams ----------------------------------------------------------------

type auditStreamHeaderJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// auditStreamJSON is Infisical's sanitized stream; headers (values masked)
// appear only on GET by id.
type auditStreamJSON struct {
	ID        string                   `json:"id"`
	URL       string                   `json:"url"`
	CreatedAt isoTime                  `json:"createdAt"`
	UpdatedAt isoTime                  `json:"updatedAt"`
	Headers   *[]auditStreamHeaderJSON `json:"headers,omitempty"`
}

type auditStreamResponse struct {
	AuditLogStream auditStreamJSON `json:"auditLogStream"`
}

func toAuditStream(st *infisical.AuditLogStream, withHeaders bool) auditStreamJSON {
	out := auditStreamJSON{ID: st.ID, URL: st.URL, CreatedAt: ts(st.CreatedAt), UpdatedAt: ts(st.UpdatedAt)}
	if withHeaders {
		h := make([]auditStreamHeaderJSON, len(st.Headers))
		for i := range st.Headers {
			h[i] = auditStreamHeaderJSON{Key: st.Headers[i].Key, Value: st.Headers[i].Value}
		}
		out.Headers = &h
	}
	return out
}

func toEngineHeaders(in []auditStreamHeaderJSON) []infisical.AuditStreamHeader {
	out := make([]infisical.AuditStreamHeader, len(in))
	for i := range in {
		out[i] = infisical.AuditStreamHeader{Key: in[i].Key, Value: in[i].Value}
	}
	return out
}

func (s *Server) createAuditStream(rq *request) (any, error) {
	var b struct {
		URL     string                  `json:"url"`
		Headers []auditStreamHeaderJSON `json:"headers"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	st, err := s.eng.Audit().CreateStream(rq.ctx(), rq.actor, infisical.CreateAuditStreamInput{URL: b.URL, Headers: toEngineHeaders(b.Headers)})
	if err != nil {
		return nil, err
	}
	return auditStreamResponse{AuditLogStream: toAuditStream(st, false)}, nil
}

func (s *Server) updateAuditStream(rq *request) (any, error) {
	var b struct {
		URL     *string                  `json:"url"`
		Headers *[]auditStreamHeaderJSON `json:"headers"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	in := infisical.UpdateAuditStreamInput{URL: b.URL}
	if b.URL != nil && strings.TrimSpace(*b.URL) == "" {
		in.URL = nil // empty = absent
	}
	if b.Headers != nil {
		h := toEngineHeaders(*b.Headers)
		in.Headers = &h
	}
	st, err := s.eng.Audit().UpdateStream(rq.ctx(), rq.actor, rq.path("id"), in)
	if err != nil {
		return nil, err
	}
	return auditStreamResponse{AuditLogStream: toAuditStream(st, false)}, nil
}

func (s *Server) deleteAuditStream(rq *request) (any, error) {
	st, err := s.eng.Audit().DeleteStream(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return auditStreamResponse{AuditLogStream: toAuditStream(st, false)}, nil
}

func (s *Server) getAuditStream(rq *request) (any, error) {
	st, err := s.eng.Audit().GetStream(rq.ctx(), rq.actor, rq.path("id"))
	if err != nil {
		return nil, err
	}
	return auditStreamResponse{AuditLogStream: toAuditStream(st, true)}, nil
}

func (s *Server) listAuditStreams(rq *request) (any, error) {
	list, err := s.eng.Audit().ListStreams(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	out := struct {
		AuditLogStreams []auditStreamJSON `json:"auditLogStreams"`
	}{AuditLogStreams: make([]auditStreamJSON, len(list))}
	for i := range list {
		out.AuditLogStreams[i] = toAuditStream(&list[i], false)
	}
	return out, nil
}
