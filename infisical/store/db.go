// Package store is the engine's persistence: bun models, migrations and the
// queries the engine runs, identical on SQLite (pure Go, no cgo) and
// PostgreSQL. Every function here is dialect-neutral; the few places where
// the dialects differ are isolated in this file.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Config selects and tunes the database.
type Config struct {
	// DSN is a PostgreSQL URL (postgres:// or postgresql://) or an SQLite
	// file path, optionally prefixed with "sqlite://" or "file:".
	DSN string
	// MaxReadConns bounds the read pool (default: 4 × GOMAXPROCS).
	MaxReadConns int
	// MaxWriteConns bounds the PostgreSQL write pool (default 16); SQLite
	// always uses a single writer connection.
	MaxWriteConns int
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DSN) == "" {
		return errors.New("store: empty database DSN")
	}
	if c.MaxReadConns <= 0 {
		c.MaxReadConns = 4 * runtime.GOMAXPROCS(0)
	}
	if c.MaxWriteConns <= 0 {
		c.MaxWriteConns = 16
	}
	return nil
}

// IsPostgresDSN reports whether dsn names a PostgreSQL database.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Store owns the connection pools.
//
// SQLite allows one writer at a time; funnelling every write through one
// connection avoids SQLITE_BUSY retries (whose back-off sleeps ruin latency),
// while readers use their own pool in WAL mode. On PostgreSQL both handles
// point at the same pool.
type Store struct {
	rdb *bun.DB
	wdb *bun.DB
	pg  bool
	dsn string

	mu   sync.RWMutex
	subs []func(Event)
}

// Open connects, applies migrations and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{dsn: cfg.DSN}
	if IsPostgresDSN(cfg.DSN) {
		s.pg = true
		sqldb, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		sqldb.SetMaxOpenConns(cfg.MaxReadConns + cfg.MaxWriteConns)
		sqldb.SetMaxIdleConns(cfg.MaxReadConns + cfg.MaxWriteConns)
		db := bun.NewDB(sqldb, pgdialect.New())
		s.rdb, s.wdb = db, db
	} else {
		path := sqlitePath(cfg.DSN)
		w, err := openSQLite(path, false)
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		r, err := openSQLite(path, true)
		if err != nil {
			w.Close()
			return nil, err
		}
		r.SetMaxOpenConns(cfg.MaxReadConns)
		r.SetMaxIdleConns(cfg.MaxReadConns)
		r.SetConnMaxLifetime(0)
		s.wdb = bun.NewDB(w, sqlitedialect.New())
		s.rdb = bun.NewDB(r, sqlitedialect.New())
	}
	if err := s.wdb.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// SQLitePath returns the file path an SQLite DSN names (without a
// "sqlite://" or "file:" prefix and query).
func SQLitePath(dsn string) string { return sqlitePath(dsn) }

func sqlitePath(dsn string) string {
	p := strings.TrimPrefix(dsn, "sqlite://")
	p = strings.TrimPrefix(p, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

func openSQLite(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-16000)")
	q.Add("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_txlock", "immediate")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite path %q: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", abs, err)
	}
	return db, nil
}

// Close releases the pools.
func (s *Store) Close() error {
	var err error
	if s.rdb != nil && s.rdb != s.wdb {
		err = s.rdb.Close()
	}
	if s.wdb != nil {
		if e := s.wdb.Close(); e != nil {
			err = e
		}
	}
	return err
}

// IsPostgres reports the dialect.
func (s *Store) IsPostgres() bool { return s.pg }

// DSN returns the connection string the store was opened with.
func (s *Store) DSN() string { return s.dsn }

// DB exposes the read handle for tests and tools that need raw SQL.
func (s *Store) DB() *bun.DB { return s.rdb }

// Read returns queries bound to the read pool.
func (s *Store) Read() Q { return Q{db: s.rdb, s: s} }

// Write returns queries bound to the write handle, outside a transaction.
// Do not call it while holding a transaction: on SQLite the single writer
// connection is taken.
func (s *Store) Write() Q { return Q{db: s.wdb, s: s} }

// Tx runs fn in one transaction. Invalidation events queued by fn are
// published to other processes inside the transaction (PostgreSQL NOTIFY is
// delivered at commit) and to this process right after commit.
func (s *Store) Tx(ctx context.Context, fn func(q Q) error) error {
	var events []Event
	err := s.wdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := Q{db: tx, s: s, events: &events}
		if err := fn(q); err != nil {
			return err
		}
		if s.pg && len(events) > 0 {
			for _, e := range dedupe(events) {
				if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", NotifyChannel, e.encode()); err != nil {
					return fmt.Errorf("store: notify: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range dedupe(events) {
		s.dispatch(e)
	}
	return nil
}

// Q runs queries against one handle (pool or transaction).
type Q struct {
	db     bun.IDB
	s      *Store
	events *[]Event
}

// DB exposes the underlying handle.
func (q Q) DB() bun.IDB { return q.db }

// Postgres reports the dialect.
func (q Q) Postgres() bool { return q.s.pg }

// Typed storage errors that callers branch on.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrDuplicate = errors.New("store: duplicate")
)

// classify maps driver errors to the typed errors above.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", ErrDuplicate, pgErr.ConstraintName)
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrDuplicate, err)
		}
	}
	return err
}
