package store

import (
	"strings"
)

// NotifyChannel is the PostgreSQL channel carrying cache invalidations.
const NotifyChannel = "infisical_invalidate"

// Event tells caches that something changed. Topic names a cache
// ("token", "project", "perm", ...); Key names the entry ("" = all).
type Event struct {
	Topic string
	Key   string
}

func (e Event) encode() string { return e.Topic + "|" + e.Key }

// DecodeEvent parses a NOTIFY payload.
func DecodeEvent(payload string) (Event, bool) {
	t, k, ok := strings.Cut(payload, "|")
	if !ok || t == "" {
		return Event{}, false
	}
	return Event{Topic: t, Key: k}, true
}

func dedupe(in []Event) []Event {
	if len(in) < 2 {
		return in
	}
	seen := make(map[Event]struct{}, len(in))
	out := in[:0:0]
	for _, e := range in {
		if _, ok := seen[e]; ok {
			continue
		}
		seen[e] = struct{}{}
		out = append(out, e)
	}
	return out
}

// Subscribe registers fn for every invalidation, local or (on PostgreSQL,
// once a listener runs) from other processes.
func (s *Store) Subscribe(fn func(Event)) {
	s.mu.Lock()
	s.subs = append(s.subs, fn)
	s.mu.Unlock()
}

// Dispatch delivers an event received from another process.
func (s *Store) Dispatch(e Event) { s.dispatch(e) }

func (s *Store) dispatch(e Event) {
	s.mu.RLock()
	subs := s.subs
	s.mu.RUnlock()
	for _, fn := range subs {
		fn(e)
	}
}

// Invalidate queues an event on a transaction, or publishes it at once when
// q is not transactional.
func (q Q) Invalidate(topic, key string) {
	e := Event{Topic: topic, Key: key}
	if q.events != nil {
		*q.events = append(*q.events, e)
		return
	}
	q.s.publishNow(e)
}

func (s *Store) publishNow(e Event) {
	if s.pg {
		// Best effort outside a transaction; callers that need atomicity
		// use Tx.
		_, _ = s.wdb.Exec("SELECT pg_notify(?, ?)", NotifyChannel, e.encode())
	}
	s.dispatch(e)
}
