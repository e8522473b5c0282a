package infisical

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/egress"
)

// AuditConfig tunes the audit log: retention and delivery to audit-log
// streams. Zero values get defaults (see fill).
type AuditConfig struct {
	// RetentionDays is how long events are kept when their project does
	// not set auditLogsRetentionDays (default 90; negative keeps events
	// forever). The expiry is fixed when an event is written.
	RetentionDays int
	// PruneInterval is how often expired events are deleted (default 1h).
	PruneInterval time.Duration
	// PruneBatch bounds the rows one delete statement removes (default
	// 1000), so that retention never holds the database for long.
	PruneBatch int

	// StreamClient sends events to audit-log streams. The default has a
	// 10s timeout and the system's root CAs, and connects only to public
	// addresses (package egress) unless AllowPrivateStreamTargets is set.
	// Tests pass a client that trusts their local TLS receiver.
	StreamClient *http.Client
	// AllowPrivateStreamTargets lets audit-log streams point at loopback,
	// private, link-local and other non-public addresses
	// (ALLOW_INTERNAL_IP_CONNECTIONS). Off by default: a stream URL is
	// chosen by an organization admin, and must not be a way to reach the
	// server's own network or the cloud metadata service.
	AllowPrivateStreamTargets bool
	// StreamPoll is how often stream deliverers look for work they were not
	// woken for, e.g. events committed by another server (default 1s).
	StreamPoll time.Duration
	// StreamBackoffMin and StreamBackoffMax bound the exponential back-off
	// between delivery attempts to a failing endpoint (defaults 250ms and
	// 1m).
	StreamBackoffMin time.Duration
	StreamBackoffMax time.Duration
	// StreamLease is how long a server owns the delivery of a stream
	// without renewing it (default 30s); another server takes over a
	// stream whose lease expired.
	StreamLease time.Duration
	// SkipStreamPing turns off the check Infisical makes when a stream is
	// created or its URL or headers change: post {"ping":"ok"} and refuse
	// the change unless the endpoint answers 2xx.
	SkipStreamPing bool
}

func (c *AuditConfig) fill() {
	if c.RetentionDays == 0 {
		c.RetentionDays = 90
	}
	if c.PruneInterval <= 0 {
		c.PruneInterval = time.Hour
	}
	if c.PruneBatch <= 0 {
		c.PruneBatch = 1000
	}
	if c.StreamClient == nil {
		if c.AllowPrivateStreamTargets {
			c.StreamClient = &http.Client{Timeout: 10 * time.Second}
		} else {
			c.StreamClient = egress.Client(10 * time.Second)
		}
	}
	if c.StreamPoll <= 0 {
		c.StreamPoll = time.Second
	}
	if c.StreamBackoffMin <= 0 {
		c.StreamBackoffMin = 250 * time.Millisecond
	}
	if c.StreamBackoffMax <= 0 {
		c.StreamBackoffMax = time.Minute
	}
	if c.StreamBackoffMax < c.StreamBackoffMin {
		c.StreamBackoffMax = c.StreamBackoffMin
	}
	if c.StreamLease <= 0 {
		c.StreamLease = 30 * time.Second
	}
}

// startAuditJobs starts the retention janitor and the stream deliverers;
// they stop when the engine's stop channel closes (closeAudit waits).
func (e *Engine) startAuditJobs() {
	e.cfg.Audit.fill()
	e.instanceID = uuid.NewString()
	e.streamWake = make(chan struct{}, 1)
	e.streamReload = make(chan struct{}, 1)
	e.store.Subscribe(e.onAuditInvalidate)
	e.auditJobs.Add(2)
	go e.auditJanitor()
	go e.streamManager()
}

// auditJanitor deletes expired events every PruneInterval, starting
// shortly after the engine opens.
func (e *Engine) auditJanitor() {
	defer e.auditJobs.Done()
	first := time.NewTimer(time.Minute)
	defer first.Stop()
	tick := time.NewTicker(e.cfg.Audit.PruneInterval)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-first.C:
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if _, err := e.pruneAudit(ctx, 0); err != nil {
			e.log.Warn("could not delete expired audit events", "err", err)
		}
		cancel()
	}
}

// maxPruneBatches bounds one janitor run; the rest waits for the next.
const maxPruneBatches = 1000

// pruneAudit deletes events that expired before now in batches of
// PruneBatch (each its own short statement) until none is left or
// maxBatches (0 = maxPruneBatches) have run, and returns how many it deleted.
// Several servers may run it at once.
func (e *Engine) pruneAudit(ctx context.Context, maxBatches int) (int, error) {
	if maxBatches <= 0 {
		maxBatches = maxPruneBatches
	}
	total := 0
	for i := 0; i < maxBatches; i++ {
		select {
		case <-e.stop:
			return total, nil
		default:
		}
		n, err := e.store.Write().DeleteExpiredAuditLogs(ctx, e.now(), e.cfg.Audit.PruneBatch)
		total += n
		e.auditPruned.Add(uint64(n))
		if err != nil {
			return total, Internal("delete expired audit events", err)
		}
		if n < e.cfg.Audit.PruneBatch {
			break
		}
	}
	return total, nil
}

// PruneExpired deletes every audit event whose retention has passed and
// returns how many were deleted. The engine runs it every PruneInterval; it
// is exported for tools and tests.
func (s *AuditService) PruneExpired(ctx context.Context) (int, error) {
	return s.e.pruneAudit(ctx, 0)
}

// AuditPruned returns how many expired events retention has deleted since
// the engine opened (exported as a metric).
func (e *Engine) AuditPruned() uint64 { return e.auditPruned.Load() }
