// Package enginetest opens engines on every storage backend for tests:
// SQLite in a temporary directory and, when reachable, a fresh database on
// the PostgreSQL server named by INFISICAL_TEST_PG (default
// postgres://postgres@127.0.0.1:5432/postgres). Setting
// INFISICAL_REQUIRE_PG=1 (CI does) turns an unreachable PostgreSQL into a
// failure instead of a skip.
package enginetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/infisical-go/engine/infisical"
)

// Backend names a storage backend.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DefaultPG is the admin DSN used when INFISICAL_TEST_PG is unset.
const DefaultPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backends returns the backends to run against. INFISICAL_TEST_BACKENDS
// (comma list) narrows it.
func Backends() []Backend {
	if v := os.Getenv("INFISICAL_TEST_BACKENDS"); v != "" {
		var out []Backend
		for _, b := range strings.Split(v, ",") {
			out = append(out, Backend(strings.TrimSpace(b)))
		}
		return out
	}
	return []Backend{SQLite, Postgres}
}

// Each runs fn as a subtest per backend.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}

// DSN returns a fresh, empty database for b, dropped when the test ends.
func DSN(t testing.TB, b Backend) string {
	t.Helper()
	switch b {
	case SQLite:
		return t.TempDir() + "/test.db"
	case Postgres:
		return freshPG(t)
	}
	t.Fatalf("unknown backend %q", b)
	return ""
}

func adminPG() string {
	if v := os.Getenv("INFISICAL_TEST_PG"); v != "" {
		return v
	}
	return DefaultPG
}

func freshPG(t testing.TB) string {
	t.Helper()
	admin := adminPG()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("INFISICAL_REQUIRE_PG") == "1" {
			t.Fatalf("PostgreSQL required but unreachable at %s: %v", admin, err)
		}
		t.Skipf("PostgreSQL unreachable at %s: %v", admin, err)
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	name := "infisical_test_" + hex.EncodeToString(rb[:])
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", admin, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Keys used by test engines.
const (
	TestEncryptionKey = "0123456789abcdef0123456789abcdef"
	TestAuthSecret    = "test-auth-secret-test-auth-secret"
)

// Config returns an engine configuration for tests on dsn.
func Config(t testing.TB, dsn string) infisical.Config {
	return infisical.Config{
		DataDir:         t.TempDir(),
		DatabaseURL:     dsn,
		EncryptionKey:   TestEncryptionKey,
		AuthSecret:      TestAuthSecret,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		TokenUsageFlush: 50 * time.Millisecond,
	}
}

// Open returns an engine on a fresh database of backend b, closed when the
// test ends. mod may adjust the configuration.
func Open(t testing.TB, b Backend, mod ...func(*infisical.Config)) *infisical.Engine {
	t.Helper()
	cfg := Config(t, DSN(t, b))
	for _, m := range mod {
		m(&cfg)
	}
	eng, err := infisical.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open engine on %s: %v", b, err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return eng
}

// Org creates an organization for tests.
func Org(t testing.TB, eng *infisical.Engine, name string) *infisical.Organization {
	t.Helper()
	org, err := eng.CreateOrganization(context.Background(), name)
	if err != nil {
		t.Fatalf("create org: %v", err)
	}
	return org
}

// Fatalf-friendly helper.
func Must[T any](t testing.TB, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	return v
}

var _ = fmt.Sprintf
