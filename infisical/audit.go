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
	Metadata  map[string]any
}

// audit records a change inside the transaction that makes it, so the event
// exists if and only if the change does.
func (e *Engine) audit(ctx context.Context, q store.Q, actor Actor, ev AuditEvent) error {
	row := e.auditRow(actor, ev)
	if err := q.InsertAuditLogs(ctx, []store.AuditLog{row}); err != nil {
		return Internal("record audit event", err)
	}
	e.auditHooks(row)
	return nil
}

// auditRead records a read. Reads are queued and written in batches off the
// request path; when the queue is full the event is dropped and counted
// (AuditDropped), never blocking the request.
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

// closeAudit stops accepting read events and waits for the queue to drain.
func (e *Engine) closeAudit() {
	e.auditMu.Lock()
	e.auditClosed = true
	close(e.auditQ)
	e.auditMu.Unlock()
	<-e.auditDone
}

// AuditDropped returns how many read events were dropped because the queue
// was full (exported as a metric).
func (e *Engine) AuditDropped() uint64 { return e.auditDropped.Load() }

// auditHooks lets the stream forwarder see committed events (set by the
// streams subsystem; nil when there is none).
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

func (e *Engine) auditRow(actor Actor, ev AuditEvent) store.AuditLog {
	return e.auditRowAt(actor, ev, e.now())
}

func (e *Engine) auditRowAt(actor Actor, ev AuditEvent, now time.Time) store.AuditLog {
	org := ev.OrgID
	if org == "" {
		org = actor.OrgID
	}
	meta, _ := json.Marshal(ev.Metadata)
	if ev.Metadata == nil {
		meta = []byte("{}")
	}
	am, _ := json.Marshal(actorMetadata(actor))
	row := store.AuditLog{
		ID: uuid.NewString(), ActorType: string(actor.Type), ActorMetadata: string(am),
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
	return row
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
// on close it flushes what is left.
func (e *Engine) auditWriter() {
	defer close(e.auditDone)
	batch := make([]store.AuditLog, 0, 256)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := e.store.Tx(ctx, func(q store.Q) error { return q.InsertAuditLogs(ctx, batch) })
		cancel()
		if err != nil {
			e.auditDropped.Add(uint64(len(batch)))
			e.log.Warn("could not write audit events", "events", len(batch), "err", err)
		} else {
			for _, r := range batch {
				e.auditHooks(r)
			}
		}
		batch = batch[:0]
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case item, ok := <-e.auditQ:
			if !ok {
				flush()
				return
			}
			batch = append(batch, e.auditRowAt(item.actor, item.ev, item.at))
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		}
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
}
