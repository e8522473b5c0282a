package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestRun runs the example on both storage backends (SQLite in its own
// temporary directory, and a fresh PostgreSQL database).
func TestRun(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		dsn := ""
		if b == enginetest.Postgres {
			dsn = enginetest.DSN(t, b)
		}
		var out bytes.Buffer
		if err := run(context.Background(), &out, dsn); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		for _, want := range []string{"organization Example Org", "project Example Project", "created DB_URL in environment dev, path / (version 1)", "read back DB_URL=postgres://app@db:5432/app", "secrets in dev: 1"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})
}
