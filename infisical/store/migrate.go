package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// migrations lists every schema step. Each step lives in a file named
// <timestamp>_<name>.go that registers itself (bun derives the migration name
// from the file name). Steps are forward-only and never edited once released:
// add a new one instead.
var migrations = migrate.NewMigrations()

// ddlMigration returns a migration that runs stmts in one transaction,
// rendered for the database's dialect.
func ddlMigration(stmts []string) migrate.MigrationFunc {
	return func(ctx context.Context, db *bun.DB) error {
		pg := db.Dialect().Name() == dialect.PG
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, st := range stmts {
				if _, err := tx.ExecContext(ctx, renderDDL(st, pg)); err != nil {
					return fmt.Errorf("%w\n%s", err, st)
				}
			}
			return nil
		})
	}
}

func (s *Store) migrate(ctx context.Context) error {
	if s.pg {
		// Several servers may start at once on one database: serialise
		// their migrations on an advisory lock held by one connection.
		conn, err := s.wdb.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7261129)"); err != nil {
			return fmt.Errorf("store: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7261129)")
	}
	mg := migrate.NewMigrator(s.wdb, migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := mg.Init(ctx); err != nil {
		return fmt.Errorf("store: migrate init: %w", err)
	}
	if _, err := mg.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}
