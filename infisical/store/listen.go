package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen receives invalidation events published by other processes on
// PostgreSQL (LISTEN/NOTIFY) and dispatches them to this process's
// subscribers until ctx ends. After a lost connection it reconnects with
// capped back-off and dispatches a catch-all event, since notifications sent
// in between are lost. ready is closed once the first LISTEN is active. On
// SQLite it returns at once: one process owns the database.
func (s *Store) Listen(ctx context.Context, log *slog.Logger, ready chan<- struct{}) error {
	if !s.pg {
		if ready != nil {
			close(ready)
		}
		return nil
	}
	backoff := 100 * time.Millisecond
	first := true
	for {
		err := s.listenOnce(ctx, func() {
			if first {
				first = false
				if ready != nil {
					close(ready)
				}
			} else {
				// Reconnected: whatever happened meanwhile is unknown.
				s.dispatch(Event{Topic: "all"})
			}
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("cache invalidation listener disconnected; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, onListening func()) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	onListening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if e, ok := DecodeEvent(n.Payload); ok {
			s.dispatch(e)
		}
	}
}
