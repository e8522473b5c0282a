package infisical

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/egress"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// AuditLogStream is an organization's HTTPS endpoint that receives every
// audit event of the organization as JSON, one event per POST, in order.
type AuditLogStream struct {
	ID    string
	OrgID string
	URL   string
	// Headers are sent with every request. Their values are secrets: they
	// are stored sealed with the organization key and shown masked
	// (MaskedHeaderValue).
	Headers []AuditStreamHeader
	// LastError describes the last failed delivery (nil after a success).
	LastError   *string
	LastErrorAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// AuditStreamHeader is one custom HTTP header of a stream.
type AuditStreamHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MaskedHeaderValue replaces header values in every answer. An update that
// sends it back as a header's value keeps that header's stored value.
const MaskedHeaderValue = "******"

// CreateAuditStreamInput is the body of POST /api/v1/audit-log-streams.
type CreateAuditStreamInput struct {
	URL     string
	Headers []AuditStreamHeader
}

// UpdateAuditStreamInput changes a stream; nil leaves a field unchanged and
// Headers, when set, replaces every header.
type UpdateAuditStreamInput struct {
	URL     *string
	Headers *[]AuditStreamHeader
}

// Limits of audit-log streams.
const (
	MaxAuditStreamsPerOrg  = 10
	maxStreamHeaders       = 50
	maxStreamURLLen        = 2048
	maxStreamHeaderKeyLen  = 256
	maxStreamHeaderValLen  = 8192
	streamPageSize         = 100
	maxStreamResponseBytes = 64 << 10
)

// streamAccess checks action on the organization settings, which govern
// audit-log streams (as in Infisical).
func (e *Engine) streamAccess(ctx context.Context, actor Actor, action string) (string, error) {
	if actor.Type == ActorService {
		return "", Forbidden("Service tokens cannot manage audit log streams")
	}
	orgID := actor.OrgID
	if orgID == "" {
		return "", BadRequest("Missing organization")
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return "", err
	}
	if err := set.Check(action, permission.OrgSubjectSettings, nil); err != nil {
		return "", err
	}
	return orgID, nil
}

// validStreamURL accepts absolute https URLs only, and, unless private
// targets are allowed, refuses hosts that are non-public IP literals or
// localhost names at once (names resolving to such addresses are refused
// when connecting).
func (e *Engine) validStreamURL(field, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Invalid(field, "%s is required", field)
	}
	if len(raw) > maxStreamURLLen {
		return "", Invalid(field, "%s must be at most %d characters", field, maxStreamURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", Invalid(field, "%s must be an absolute URL", field)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", Invalid(field, "%s must use https", field)
	}
	if !e.cfg.Audit.AllowPrivateStreamTargets {
		if err := egress.CheckHost(u.Host); err != nil {
			return "", Invalid(field, "%s must point to a public address (%v); set ALLOW_INTERNAL_IP_CONNECTIONS=true to allow internal ones", field, err)
		}
	}
	return raw, nil
}

// validHeaderName reports whether k is an RFC 9110 field name (a token).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// reservedStreamHeaders are set by the transport and may not be overridden.
var reservedStreamHeaders = map[string]bool{"host": true, "content-length": true, "transfer-encoding": true, "connection": true}

// validStreamHeaders checks headers; old supplies the stored values of
// headers sent back masked.
func validStreamHeaders(in []AuditStreamHeader, old []AuditStreamHeader) ([]AuditStreamHeader, error) {
	if len(in) > maxStreamHeaders {
		return nil, Invalid("headers", "headers accepts at most %d headers", maxStreamHeaders)
	}
	out := make([]AuditStreamHeader, 0, len(in))
	seen := map[string]bool{}
	for i, h := range in {
		k, v := strings.TrimSpace(h.Key), strings.TrimSpace(h.Value)
		kf, vf := fmt.Sprintf("headers[%d].key", i), fmt.Sprintf("headers[%d].value", i)
		if !validHeaderName(k) || len(k) > maxStreamHeaderKeyLen {
			return nil, Invalid(kf, "%s must be an HTTP header name", kf)
		}
		if reservedStreamHeaders[strings.ToLower(k)] {
			return nil, Invalid(kf, "%s '%s' is set by the server and cannot be changed", kf, k)
		}
		if seen[strings.ToLower(k)] {
			return nil, Invalid(kf, "%s '%s' appears twice", kf, k)
		}
		seen[strings.ToLower(k)] = true
		if v == MaskedHeaderValue {
			found := false
			for _, o := range old {
				if strings.EqualFold(o.Key, k) {
					v, found = o.Value, true
					break
				}
			}
			if !found {
				return nil, Invalid(vf, "%s is masked but no stored header '%s' exists", vf, k)
			}
		}
		if v == "" || len(v) > maxStreamHeaderValLen || strings.ContainsAny(v, "\r\n\x00") {
			return nil, Invalid(vf, "%s must be 1 to %d characters on one line", vf, maxStreamHeaderValLen)
		}
		out = append(out, AuditStreamHeader{Key: k, Value: v})
	}
	return out, nil
}

func (e *Engine) sealStreamHeaders(ctx context.Context, q store.Q, orgID string, h []AuditStreamHeader) ([]byte, error) {
	if len(h) == 0 {
		return nil, nil
	}
	key, err := e.keys.orgKey(ctx, q, orgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	plain, err := json.Marshal(h)
	if err != nil {
		return nil, Internal("encode stream headers", err)
	}
	defer clear(plain)
	sealed, err := key.SealVersioned(plain)
	if err != nil {
		return nil, Internal("seal stream headers", err)
	}
	return sealed, nil
}

func (e *Engine) openStreamHeaders(ctx context.Context, q store.Q, orgID string, blob []byte) ([]AuditStreamHeader, error) {
	if len(blob) == 0 {
		return nil, nil
	}
	key, err := e.keys.orgKey(ctx, q, orgID)
	if err != nil {
		return nil, fmt.Errorf("load organization key: %w", err)
	}
	plain, err := key.OpenVersioned(blob)
	if err != nil {
		return nil, fmt.Errorf("open stream headers: %w", err)
	}
	defer clear(plain)
	var h []AuditStreamHeader
	if err := json.Unmarshal(plain, &h); err != nil {
		return nil, errors.New("decode stream headers: malformed")
	}
	return h, nil
}

// streamFromRow presents a stream with masked header values.
func (e *Engine) streamFromRow(ctx context.Context, r *store.AuditLogStream) (*AuditLogStream, error) {
	h, err := e.openStreamHeaders(ctx, e.store.Read(), r.OrgID, r.EncryptedHeaders)
	if err != nil {
		return nil, Internal("read stream headers", err)
	}
	out := &AuditLogStream{ID: r.ID, OrgID: r.OrgID, URL: r.URL, Headers: make([]AuditStreamHeader, len(h)),
		LastError: r.LastError, LastErrorAt: r.LastErrorAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for i := range h {
		out.Headers[i] = AuditStreamHeader{Key: h[i].Key, Value: MaskedHeaderValue}
	}
	return out, nil
}

// pingStream checks that an endpoint accepts posts, as Infisical does when
// a stream is set up.
func (e *Engine) pingStream(ctx context.Context, rawURL string, headers []AuditStreamHeader) error {
	if e.cfg.Audit.SkipStreamPing {
		return nil
	}
	if err := e.postToStream(ctx, rawURL, headers, []byte(`{"ping":"ok"}`)); err != nil {
		return BadRequest("Failed to connect with upstream source: %s", err.Error())
	}
	return nil
}

// CreateStream registers an HTTPS endpoint for the caller's organization.
// Events committed from then on are delivered to it.
func (s *AuditService) CreateStream(ctx context.Context, actor Actor, in CreateAuditStreamInput) (*AuditLogStream, error) {
	e := s.e
	u, err := e.validStreamURL("url", in.URL)
	if err != nil {
		return nil, err
	}
	headers, err := validStreamHeaders(in.Headers, nil)
	if err != nil {
		return nil, err
	}
	orgID, err := e.streamAccess(ctx, actor, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	if err := e.pingStream(ctx, u, headers); err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.AuditLogStream{ID: uuid.NewString(), OrgID: orgID, URL: u, CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		existing, err := q.ListAuditLogStreams(ctx, orgID)
		if err != nil {
			return Internal("list audit log streams", err)
		}
		if len(existing) >= MaxAuditStreamsPerOrg {
			return BadRequest("Failed to create audit log stream: an organization may have at most %d streams", MaxAuditStreamsPerOrg)
		}
		if row.EncryptedHeaders, err = e.sealStreamHeaders(ctx, q, orgID, headers); err != nil {
			return err
		}
		if err := q.Insert(ctx, row); err != nil {
			return Internal("create audit log stream", err)
		}
		q.Invalidate(topicAuditStreams, orgID)
		// The stream set is re-read inside this transaction, so this event
		// is the first the new stream receives.
		e.streamGen.Add(1)
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-audit-log-stream", OrgID: orgID,
			Metadata: map[string]any{"auditLogStreamId": row.ID, "url": redactURL(u), "headerKeys": headerKeys(headers)}})
	})
	if err != nil {
		return nil, err
	}
	return e.streamFromRow(ctx, row)
}

// UpdateStream changes a stream's URL and/or headers.
func (s *AuditService) UpdateStream(ctx context.Context, actor Actor, id string, in UpdateAuditStreamInput) (*AuditLogStream, error) {
	e := s.e
	orgID, err := e.streamAccess(ctx, actor, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	row, err := e.loadStream(ctx, e.store.Read(), orgID, id)
	if err != nil {
		return nil, err
	}
	old, err := e.openStreamHeaders(ctx, e.store.Read(), orgID, row.EncryptedHeaders)
	if err != nil {
		return nil, Internal("read stream headers", err)
	}
	u, headers := row.URL, old
	if in.URL != nil {
		if u, err = e.validStreamURL("url", *in.URL); err != nil {
			return nil, err
		}
	}
	if in.Headers != nil {
		if headers, err = validStreamHeaders(*in.Headers, old); err != nil {
			return nil, err
		}
	}
	if in.URL != nil || in.Headers != nil {
		if err := e.pingStream(ctx, u, headers); err != nil {
			return nil, err
		}
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		cur, err := e.loadStream(ctx, q, orgID, id)
		if err != nil {
			return err
		}
		cur.URL = u
		if cur.EncryptedHeaders, err = e.sealStreamHeaders(ctx, q, orgID, headers); err != nil {
			return err
		}
		cur.UpdatedAt = e.now()
		if err := q.UpdateAuditLogStreamConfig(ctx, cur); err != nil {
			return Internal("update audit log stream", err)
		}
		row = cur
		q.Invalidate(topicAuditStreams, orgID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-audit-log-stream", OrgID: orgID,
			Metadata: map[string]any{"auditLogStreamId": id, "url": redactURL(u), "headerKeys": headerKeys(headers)}})
	})
	if err != nil {
		return nil, err
	}
	return e.streamFromRow(ctx, row)
}

// DeleteStream removes a stream and its undelivered backlog.
func (s *AuditService) DeleteStream(ctx context.Context, actor Actor, id string) (*AuditLogStream, error) {
	e := s.e
	orgID, err := e.streamAccess(ctx, actor, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	row, err := e.loadStream(ctx, e.store.Read(), orgID, id)
	if err != nil {
		return nil, err
	}
	out, err := e.streamFromRow(ctx, row)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if _, err := e.loadStream(ctx, q, orgID, id); err != nil {
			return err
		}
		if err := q.Delete(ctx, &store.AuditLogStream{ID: id}); err != nil {
			return Internal("delete audit log stream", err)
		}
		q.Invalidate(topicAuditStreams, orgID)
		e.streamGen.Add(1)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-audit-log-stream", OrgID: orgID,
			Metadata: map[string]any{"auditLogStreamId": id, "url": redactURL(row.URL)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetStream returns one stream of the caller's organization.
func (s *AuditService) GetStream(ctx context.Context, actor Actor, id string) (*AuditLogStream, error) {
	e := s.e
	orgID, err := e.streamAccess(ctx, actor, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	row, err := e.loadStream(ctx, e.store.Read(), orgID, id)
	if err != nil {
		return nil, err
	}
	e.auditRead(actor, AuditEvent{Type: "get-audit-log-stream", OrgID: orgID, Metadata: map[string]any{"auditLogStreamId": id}})
	return e.streamFromRow(ctx, row)
}

// ListStreams returns the streams of the caller's organization, oldest
// first.
func (s *AuditService) ListStreams(ctx context.Context, actor Actor) ([]AuditLogStream, error) {
	e := s.e
	orgID, err := e.streamAccess(ctx, actor, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.Read().ListAuditLogStreams(ctx, orgID)
	if err != nil {
		return nil, Internal("list audit log streams", err)
	}
	out := make([]AuditLogStream, 0, len(rows))
	for i := range rows {
		st, err := e.streamFromRow(ctx, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	e.auditRead(actor, AuditEvent{Type: "get-audit-log-streams", OrgID: orgID, Metadata: map[string]any{"numberOfStreams": len(out)}})
	return out, nil
}

// StreamBacklog returns how many events wait for delivery to a stream.
func (s *AuditService) StreamBacklog(ctx context.Context, actor Actor, id string) (int, error) {
	e := s.e
	orgID, err := e.streamAccess(ctx, actor, permission.ActionRead)
	if err != nil {
		return 0, err
	}
	if _, err := e.loadStream(ctx, e.store.Read(), orgID, id); err != nil {
		return 0, err
	}
	n, err := e.store.Read().CountPendingAuditStreamEvents(ctx, id)
	if err != nil {
		return 0, Internal("count stream backlog", err)
	}
	return n, nil
}

func (e *Engine) loadStream(ctx context.Context, q store.Q, orgID, id string) (*store.AuditLogStream, error) {
	id = strings.TrimSpace(id)
	row, err := q.GetAuditLogStream(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Audit log stream with ID '%s' not found", id)
	}
	if err != nil {
		return nil, Internal("load audit log stream", err)
	}
	return row, nil
}

// redactURL drops credentials and the query string (which may carry an API
// key) from a URL before it is recorded.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment = "", false, ""
	return u.String()
}

func headerKeys(h []AuditStreamHeader) []string {
	out := make([]string, len(h))
	for i := range h {
		out[i] = h[i].Key
	}
	return out
}

// AuditStreamFailures returns how many deliveries to audit-log streams
// failed (each failed attempt counts; exported as a metric).
func (e *Engine) AuditStreamFailures() uint64 { return e.streamFailures.Load() }

// AuditStreamDelivered returns how many events were delivered to
// audit-log streams.
func (e *Engine) AuditStreamDelivered() uint64 { return e.streamDelivered.Load() }

// ---- delivery ----------------------------------------------------------------

// streamConfig is what a deliverer needs to post to a stream.
type streamConfig struct {
	url     string
	headers []AuditStreamHeader
	updated time.Time
}

// streamWorker delivers one stream's backlog, in order.
type streamWorker struct {
	id      string
	cfg     atomic.Pointer[streamConfig]
	wake    chan struct{} // new events (or a poll tick)
	changed chan struct{} // the configuration changed: retry at once
	cancel  context.CancelFunc
	done    chan struct{}
}

// streamManager keeps one worker per stream of any organization. Workers
// take a lease on their stream, so with several servers on one database
// each stream is delivered by one server at a time.
func (e *Engine) streamManager() {
	defer e.auditJobs.Done()
	ctx, cancel := context.WithCancel(context.Background())
	workers := map[string]*streamWorker{}
	defer func() {
		cancel()
		for _, w := range workers {
			<-w.done
		}
	}()
	tick := time.NewTicker(e.cfg.Audit.StreamPoll)
	defer tick.Stop()
	reload := true
	for {
		if reload {
			e.syncStreamWorkers(ctx, workers)
			reload = false
		}
		select {
		case <-e.stop:
			return
		case <-e.streamReload:
			reload = true
		case <-e.streamWake:
			for _, w := range workers {
				poke(w.wake)
			}
		case <-tick.C:
			reload = true
			for _, w := range workers {
				poke(w.wake)
			}
		}
	}
}

// syncStreamWorkers starts workers for new streams, hands changed
// configurations to running ones and stops those of deleted streams.
func (e *Engine) syncStreamWorkers(ctx context.Context, workers map[string]*streamWorker) {
	rows, err := e.store.Read().ListAuditLogStreams(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("could not list audit log streams", "err", err)
		}
		return
	}
	seen := make(map[string]bool, len(rows))
	for i := range rows {
		r := &rows[i]
		seen[r.ID] = true
		w := workers[r.ID]
		if w == nil {
			wctx, wcancel := context.WithCancel(ctx)
			w = &streamWorker{id: r.ID, wake: make(chan struct{}, 1), changed: make(chan struct{}, 1), cancel: wcancel, done: make(chan struct{})}
			workers[r.ID] = w
			go e.runStreamWorker(wctx, w)
		}
		if c := w.cfg.Load(); c != nil && c.updated.Equal(r.UpdatedAt) && c.url == r.URL {
			continue
		}
		h, err := e.openStreamHeaders(ctx, e.store.Read(), r.OrgID, r.EncryptedHeaders)
		if err != nil {
			e.log.Warn("could not read audit log stream headers", "streamId", r.ID, "err", err)
			continue
		}
		w.cfg.Store(&streamConfig{url: r.URL, headers: h, updated: r.UpdatedAt})
		poke(w.changed)
		poke(w.wake)
	}
	for id, w := range workers {
		if !seen[id] {
			w.cancel()
			<-w.done
			delete(workers, id)
		}
	}
}

// runStreamWorker delivers while it holds the stream's lease and sleeps
// until woken otherwise.
func (e *Engine) runStreamWorker(ctx context.Context, w *streamWorker) {
	defer close(w.done)
	var leaseUntil time.Time
	defer func() {
		if !leaseUntil.IsZero() {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = e.store.Write().ReleaseAuditStreamLease(rctx, w.id, e.instanceID)
			cancel()
		}
	}()
	for {
		if ctx.Err() != nil {
			return
		}
		if w.cfg.Load() != nil && e.holdStreamLease(ctx, w.id, &leaseUntil) {
			if e.deliverPage(ctx, w, &leaseUntil) {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
	}
}

// holdStreamLease takes or renews this server's lease on a stream; it only
// writes when less than half of the lease is left.
func (e *Engine) holdStreamLease(ctx context.Context, streamID string, until *time.Time) bool {
	now := e.now()
	lease := e.cfg.Audit.StreamLease
	if !until.IsZero() && now.Before(until.Add(-lease/2)) {
		return true
	}
	ok, err := e.store.Write().AcquireAuditStreamLease(ctx, streamID, e.instanceID, now, now.Add(lease))
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("could not take audit log stream lease", "streamId", streamID, "err", err)
		}
		return false
	}
	if !ok {
		*until = time.Time{}
		return false
	}
	*until = now.Add(lease)
	return true
}

// deliverPage posts the oldest waiting events of a stream one by one,
// retrying each with capped exponential back-off until the endpoint takes
// it, so events arrive in order and none is skipped. It reports whether it
// made progress (the caller then looks for more at once).
func (e *Engine) deliverPage(ctx context.Context, w *streamWorker, leaseUntil *time.Time) bool {
	rows, err := e.store.Read().PendingAuditStreamEvents(ctx, w.id, streamPageSize)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("could not load audit events for stream", "streamId", w.id, "err", err)
		}
		return false
	}
	if len(rows) == 0 {
		return false
	}
	var acked []string
	ack := func() {
		if len(acked) == 0 {
			return
		}
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.store.Write().AckAuditStreamEvents(actx, w.id, acked); err != nil {
			// They will be delivered again: at least once, never lost.
			e.log.Warn("could not record delivered audit events", "streamId", w.id, "events", len(acked), "err", err)
		}
		acked = acked[:0]
	}
	defer ack()
	for i := range rows {
		payload, err := encodeAuditPayload(&rows[i])
		if err != nil {
			e.log.Error("could not encode audit event for stream", "streamId", w.id, "err", err)
			return false
		}
		failures := 0
		backoff := e.cfg.Audit.StreamBackoffMin
		for {
			if !e.holdStreamLease(ctx, w.id, leaseUntil) {
				return false
			}
			cfg := w.cfg.Load()
			err := e.postToStream(ctx, cfg.url, cfg.headers, payload)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return false
			}
			failures++
			e.streamFailures.Add(1)
			ack()
			if failures == 1 || failures%10 == 0 {
				e.log.Warn("audit log stream delivery failed; retrying", "streamId", w.id, "failures", failures, "retryIn", backoff, "err", err)
			}
			if err := e.store.Write().SetAuditStreamError(ctx, w.id, err.Error(), e.now()); err != nil && ctx.Err() == nil {
				e.log.Warn("could not record audit log stream error", "streamId", w.id, "err", err)
			}
			timer := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				timer.Stop()
				return false
			case <-w.changed:
				timer.Stop()
			case <-timer.C:
			}
			if backoff *= 2; backoff > e.cfg.Audit.StreamBackoffMax {
				backoff = e.cfg.Audit.StreamBackoffMax
			}
		}
		acked = append(acked, rows[i].ID)
		e.streamDelivered.Add(1)
		if failures > 0 {
			_ = e.store.Write().SetAuditStreamError(ctx, w.id, "", e.now())
			// Events committed during the outage may sort before the rest
			// of this page: read the backlog again.
			return true
		}
	}
	return true
}

// postToStream sends one JSON body; any 2xx answer is success. Errors never
// carry the URL or header values.
func (e *Engine) postToStream(ctx context.Context, rawURL string, headers []AuditStreamHeader, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("invalid stream URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "infisical-audit-stream")
	for _, h := range headers {
		req.Header.Set(h.Key, h.Value)
	}
	resp, err := e.cfg.Audit.StreamClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("request failed: %v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxStreamResponseBytes))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("endpoint answered HTTP %d", resp.StatusCode)
	}
	return nil
}
