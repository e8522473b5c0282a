package infisical

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/store"
)

// AuditEvent is something an actor did. Type is Infisical's event type
// ("get-secrets", "create-secret", "login-identity-universal-auth", ...);
// Metadata describes it and must never contain a secret value, a client
// secret or a token.
type AuditEvent struct {
	Type      string
	OrgID     string // defaults to the actor's organization
	ProjectID string
	// ProjectName is recorded with the event; when empty it is looked up
	// (it must be given when the project is created in the same
	// transaction).
	ProjectName string
	Metadata    map[string]any

	// lazy builds Metadata in the writer when Metadata is nil, so that hot
	// read paths queue one small allocation instead of a map.
	lazy lazyMetadata
}

// lazyMetadata is metadata built off the request path.
type lazyMetadata interface{ metadata() map[string]any }

// ClientInfo is where a request came from. The API attaches it to the
// context of unauthenticated requests (logins, token renewal) whose actor is
// only known inside the engine.
type ClientInfo struct {
	IP        string
	UserAgent string
}

type clientInfoKey struct{}

// WithClientInfo returns ctx carrying the caller's address and user agent;
// audit events recorded under ctx use them when the actor has none.
func WithClientInfo(ctx context.Context, ip, userAgent string) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, ClientInfo{IP: ip, UserAgent: userAgent})
}

func clientInfoOf(ctx context.Context) (ClientInfo, bool) {
	ci, ok := ctx.Value(clientInfoKey{}).(ClientInfo)
	return ci, ok
}

// withClient fills the actor's address and user agent from ctx when unset.
func withClient(ctx context.Context, actor Actor) Actor {
	if actor.IP == "" && actor.UserAgent == "" {
		if ci, ok := clientInfoOf(ctx); ok {
			actor.IP, actor.UserAgent = ci.IP, ci.UserAgent
		}
	}
	return actor
}

// audit records a change inside the transaction that makes it, so the event
// exists if and only if the change does. The event is queued for the
// organization's audit-log streams in the same transaction.
func (e *Engine) audit(ctx context.Context, q store.Q, actor Actor, ev AuditEvent) error {
	rows := []store.AuditLog{e.auditRowAt(ctx, q, withClient(ctx, actor), ev, e.now())}
	if err := q.InsertAuditLogs(ctx, rows); err != nil {
		return Internal("record audit event", err)
	}
	if err := e.enqueueStreams(ctx, q, rows); err != nil {
		return Internal("queue audit event for streams", err)
	}
	e.auditHooks(rows[0])
	return nil
}

// auditRead records a read. Reads are queued and written in batches off the
// request path; when the queue is full the event is dropped and counted
// (AuditDropped), never blocking the request. The queued item holds the
// actor and metadata as given: encoding happens in the writer.
func (e *Engine) auditRead(actor Actor, ev AuditEvent) {
	item := queuedEvent{actor: actor, ev: ev, at: e.now()}
	e.auditMu.RLock()
	defer e.auditMu.RUnlock()
	if e.auditClosed {
		e.auditDropped.Add(1)
		return
	}
	select {
	case e.auditQ <- item:
	default:
		e.auditDropped.Add(1)
	}
}

// closeAudit stops accepting read events, waits for the queue to drain and
// for the background audit jobs (retention, streams) to stop. Close calls
// it after the engine's stop channel is closed.
func (e *Engine) closeAudit() {
	e.auditMu.Lock()
	e.auditClosed = true
	close(e.auditQ)
	e.auditMu.Unlock()
	<-e.auditDone
	e.auditJobs.Wait()
}

// AuditDropped returns how many read events were dropped because the queue
// was full or could not be written (exported as a metric).
func (e *Engine) AuditDropped() uint64 { return e.auditDropped.Load() }

// auditHooks lets observers (tests, embedding programs) see recorded
// events. Note that events recorded by audit run the hook before their
// transaction commits; streams do not rely on it.
func (e *Engine) auditHooks(row store.AuditLog) {
	if h := e.onAudit.Load(); h != nil {
		(*h)(row)
	}
}

// queuedEvent is a read event waiting for the writer; the row is built
// there, off the request path.
type queuedEvent struct {
	actor Actor
	ev    AuditEvent
	at    time.Time
}

// auditRowAt builds the stored row of an event. q serves the project lookup
// when the project is not cached (inside a write transaction it is that
// transaction).
func (e *Engine) auditRowAt(ctx context.Context, q store.Q, actor Actor, ev AuditEvent, now time.Time) store.AuditLog {
	org := ev.OrgID
	if org == "" {
		org = actor.OrgID
	}
	if ev.Metadata == nil && ev.lazy != nil {
		ev.Metadata = ev.lazy.metadata()
	}
	meta, _ := json.Marshal(ev.Metadata)
	if ev.Metadata == nil {
		meta = []byte("{}")
	}
	am, _ := json.Marshal(actorMetadata(actor))
	// Version-7 ids grow with time (and, within one process, within a
	// millisecond), so (created_at, id) is the order events were made in.
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	row := store.AuditLog{
		ID: id.String(), ActorType: string(actor.Type), ActorMetadata: string(am),
		EventType: ev.Type, EventMetadata: string(meta), CreatedAt: now, UpdatedAt: now,
	}
	if actor.Type == ActorPlatform {
		row.ActorType = "platform"
	}
	setStr := func(p **string, v string) {
		if v != "" {
			*p = &v
		}
	}
	setStr(&row.OrgID, org)
	setStr(&row.ProjectID, ev.ProjectID)
	setStr(&row.ActorID, actor.ID)
	setStr(&row.IPAddress, actor.IP)
	setStr(&row.UserAgent, actor.UserAgent)
	if actor.UserAgent != "" || actor.IP != "" {
		t := UserAgentType(actor.UserAgent)
		row.UserAgentType = &t
	}
	if s, ok := ev.Metadata["environment"].(string); ok {
		setStr(&row.Environment, s)
	}
	if s, ok := ev.Metadata["secretPath"].(string); ok {
		setStr(&row.SecretPath, s)
	}
	if s, ok := ev.Metadata["secretKey"].(string); ok {
		setStr(&row.SecretKey, s)
	}
	days := e.cfg.Audit.RetentionDays
	if ev.ProjectID != "" {
		name, projectDays := e.auditProjectInfo(ctx, q, ev.ProjectID)
		if ev.ProjectName != "" {
			name = ev.ProjectName
		}
		setStr(&row.ProjectName, name)
		if projectDays != nil && *projectDays > 0 {
			days = *projectDays
		}
	}
	if days > 0 {
		exp := now.Add(time.Duration(days) * 24 * time.Hour)
		row.ExpiresAt = &exp
	}
	return row
}

// auditProjectInfo returns a project's name and retention setting, from the
// project cache or, on a miss, through q.
func (e *Engine) auditProjectInfo(ctx context.Context, q store.Q, projectID string) (string, *int) {
	if m, ok := e.metas.c.get(projectID, projectID); ok {
		return m.project.Name, m.project.AuditLogsRetentionDays
	}
	p, err := q.GetProject(ctx, projectID)
	if err != nil {
		return "", nil
	}
	return p.Name, p.AuditLogsRetentionDays
}

// actorMetadata is the actor part of an audit entry (spec §8.9).
func actorMetadata(a Actor) map[string]any {
	switch a.Type {
	case ActorUser:
		return map[string]any{"userId": a.ID, "email": a.Email, "username": a.Username, "authMethod": a.AuthMethod}
	case ActorIdentity:
		m := map[string]any{"identityId": a.ID, "name": a.Name, "authMethod": a.AuthMethod}
		for k, v := range a.Principal {
			m[k] = v
		}
		return m
	case ActorService:
		return map[string]any{"serviceId": a.ID, "name": a.Name}
	}
	return map[string]any{}
}

// UserAgentType classifies a User-Agent header as Infisical does.
func UserAgentType(ua string) string {
	switch {
	case ua == "cli":
		return "cli"
	case ua == "k8-operator" || strings.HasPrefix(ua, "k8-operator/"):
		return "k8-operator"
	case ua == "terraform":
		return "terraform"
	case strings.Contains(strings.ToLower(ua), "mozilla"):
		return "web"
	case strings.Contains(ua, "InfisicalNodeSDK"):
		return "InfisicalNodeSDK"
	case strings.Contains(ua, "InfisicalPythonSDK"):
		return "InfisicalPythonSDK"
	}
	return "other"
}

// auditQueueSize bounds the read-event queue.
const auditQueueSize = 8192

// auditWriter drains queued read events in batches until the engine closes;
// on close it flushes what is left. Rows are built here, outside the write
// transaction, so the single SQLite writer is held only for the insert.
func (e *Engine) auditWriter() {
	defer close(e.auditDone)
	pending := make([]queuedEvent, 0, auditBatchMax)
	flush := func() {
		if len(pending) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rq := e.store.Read()
		rows := e.readRows(ctx, rq, pending)
		pending = pending[:0]
		err := e.store.Tx(ctx, func(q store.Q) error {
			if err := q.InsertAuditLogs(ctx, rows); err != nil {
				return err
			}
			return e.enqueueStreams(ctx, q, rows)
		})
		if err != nil {
			e.auditDropped.Add(uint64(len(rows)))
			e.log.Warn("could not write audit events", "events", len(rows), "err", err)
			return
		}
		for _, r := range rows {
			e.auditHooks(r)
		}
	}
	tick := time.NewTicker(auditFlushEvery)
	defer tick.Stop()
	for {
		select {
		case item, ok := <-e.auditQ:
			if !ok {
				flush()
				return
			}
			pending = append(pending, item)
			if len(pending) == auditBatchMax {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

const (
	// auditFlushEvery is how long a read event may wait in memory.
	auditFlushEvery = 250 * time.Millisecond
	// auditBatchMax bounds one flush.
	auditBatchMax = 4096
	// auditCoalesceAt is the batch size from which identical reads are
	// stored once (see readRows).
	auditCoalesceAt = 64
)

// readRows builds the rows of a batch of read events. Below
// auditCoalesceAt events every read gets its own row. In a burst — a client
// polling in a tight loop, a load test — identical reads (same credential,
// address, user agent, event type, project and metadata) queued in the same
// flush window are stored once, with "count" in the event metadata and the
// time of the first one: the record still says who read what, when and how
// often, but a read storm no longer costs one insert per request, which on
// SQLite would take more CPU than serving the reads.
func (e *Engine) readRows(ctx context.Context, q store.Q, batch []queuedEvent) []store.AuditLog {
	if len(batch) < auditCoalesceAt {
		rows := make([]store.AuditLog, len(batch))
		for i, it := range batch {
			rows[i] = e.auditRowAt(ctx, q, it.actor, it.ev, it.at)
		}
		return rows
	}
	type group struct {
		first queuedEvent
		n     int
	}
	index := map[string]int{}
	var groups []group
	var kb strings.Builder
	for _, it := range batch {
		if it.ev.Metadata == nil && it.ev.lazy != nil {
			it.ev.Metadata = it.ev.lazy.metadata()
			it.ev.lazy = nil
		}
		meta, _ := json.Marshal(it.ev.Metadata) // map keys are sorted: a canonical form
		kb.Reset()
		for _, part := range []string{string(it.actor.Type), it.actor.ID, it.actor.TokenID, it.actor.IP, it.actor.UserAgent,
			it.ev.Type, it.ev.OrgID, it.ev.ProjectID, it.ev.ProjectName, string(meta)} {
			kb.WriteString(part)
			kb.WriteByte(0)
		}
		k := kb.String()
		if i, ok := index[k]; ok {
			groups[i].n++
			continue
		}
		index[k] = len(groups)
		groups = append(groups, group{first: it, n: 1})
	}
	rows := make([]store.AuditLog, len(groups))
	for i, g := range groups {
		ev := g.first.ev
		if g.n > 1 {
			md := make(map[string]any, len(ev.Metadata)+1)
			for k, v := range ev.Metadata {
				md[k] = v
			}
			md["count"] = g.n
			ev.Metadata = md
		}
		rows[i] = e.auditRowAt(ctx, q, g.first.actor, ev, g.first.at)
	}
	return rows
}

// enqueueStreams queues committed-with-q events for the audit-log streams
// of their organizations and wakes the deliverers (here and, through
// PostgreSQL NOTIFY, in other servers) once q commits.
func (e *Engine) enqueueStreams(ctx context.Context, q store.Q, rows []store.AuditLog) error {
	orgs, err := e.streamOrgSet(ctx, q)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		return nil
	}
	var ids []string
	for i := range rows {
		if rows[i].OrgID != nil && orgs[*rows[i].OrgID] {
			ids = append(ids, rows[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	n, err := q.EnqueueAuditStreamEvents(ctx, ids)
	if err != nil {
		return err
	}
	if n > 0 {
		q.Invalidate(topicAuditOutbox, "")
	}
	return nil
}

// streamOrgSnapshot is the set of organizations with streams, as read at
// generation gen of the stream configuration.
type streamOrgSnapshot struct {
	gen  uint64
	orgs map[string]bool
}

// streamOrgSet returns the organizations that have streams. It is cached
// and re-read (through q) after any stream is created or deleted, here or in
// another server, so most writes pay nothing for streams.
func (e *Engine) streamOrgSet(ctx context.Context, q store.Q) (map[string]bool, error) {
	gen := e.streamGen.Load()
	if s := e.streamOrgs.Load(); s != nil && s.gen == gen {
		return s.orgs, nil
	}
	ids, err := q.AuditStreamOrgIDs(ctx)
	if err != nil {
		return nil, err
	}
	snap := &streamOrgSnapshot{gen: gen, orgs: make(map[string]bool, len(ids))}
	for _, id := range ids {
		snap.orgs[id] = true
	}
	// Never replace a snapshot read at a later generation.
	for {
		old := e.streamOrgs.Load()
		if old != nil && old.gen >= gen {
			break
		}
		if e.streamOrgs.CompareAndSwap(old, snap) {
			break
		}
	}
	return snap.orgs, nil
}

// Invalidation topics of the audit subsystem.
const (
	topicAuditStreams = "auditstreams" // stream configuration changed (key: org id)
	topicAuditOutbox  = "auditoutbox"  // events were queued for streams
)

// onAuditInvalidate reacts to storage events, local or from other servers.
func (e *Engine) onAuditInvalidate(ev store.Event) {
	switch ev.Topic {
	case topicAuditStreams:
		e.streamGen.Add(1)
		poke(e.streamReload)
	case topicAuditOutbox:
		poke(e.streamWake)
	case topicAll:
		e.streamGen.Add(1)
		poke(e.streamReload)
		poke(e.streamWake)
	}
}

// poke signals c without blocking (c has room for one pending signal).
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// auditState is embedded in Engine.
type auditState struct {
	auditMu      sync.RWMutex
	auditClosed  bool
	auditQ       chan queuedEvent
	auditDone    chan struct{}
	auditDropped atomic.Uint64
	onAudit      atomic.Pointer[func(store.AuditLog)]

	// Background jobs (retention, stream delivery) and their signals.
	auditJobs       sync.WaitGroup
	instanceID      string
	streamGen       atomic.Uint64
	streamOrgs      atomic.Pointer[streamOrgSnapshot]
	streamWake      chan struct{}
	streamReload    chan struct{}
	streamFailures  atomic.Uint64
	streamDelivered atomic.Uint64
	auditPruned     atomic.Uint64
}
