package infisical_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestSecretsNeverStoredInClear writes secrets with distinctive values,
// comments and encrypted metadata (created, updated, batch-written,
// overridden) and then reads every row of every table of the raw database:
// none of them may appear in clear.
func TestSecretsNeverStoredInClear(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newSecretsFixture(t, b)
		ctx, eng := f.ctx, f.eng
		alice := f.user("alice", "member")
		markers := []string{
			"zebra-value-7f3a91", "zebra-comment-c0ffee", "zebra-meta-e1e1e1",
			"zebra-updated-42b7", "zebra-batch-9d9d9d", "zebra-personal-5150", "zebra-upsert-abcabc",
		}
		if _, err := eng.Secrets.Create(ctx, f.admin, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), NewSecret: infisical.NewSecret{
			Key: "API_KEY", Value: markers[0], Comment: markers[1],
			Metadata: []infisical.SecretMetadata{{Key: "m", Value: markers[2], IsEncrypted: true}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Secrets.Update(ctx, f.admin, infisical.UpdateSecretInput{SecretScope: f.scope("dev", "/"),
			SecretUpdate: infisical.SecretUpdate{Key: "API_KEY", Value: sptr(markers[3])}}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Secrets.BatchCreate(ctx, f.admin, infisical.BatchCreateInput{SecretScope: f.scope("prod", "/"),
			Secrets: []infisical.NewSecret{{Key: "B1", Value: markers[4], Comment: markers[4]}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Secrets.Create(ctx, alice, infisical.CreateSecretInput{SecretScope: f.scope("dev", "/"), Type: "personal",
			NewSecret: infisical.NewSecret{Key: "API_KEY", Value: markers[5]}}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Secrets.BatchUpdate(ctx, f.admin, infisical.BatchUpdateInput{SecretScope: f.scope("prod", "/"), Mode: infisical.UpdateModeUpsert,
			Secrets: []infisical.SecretUpdate{{Key: "U1", Value: sptr(markers[6])}}}); err != nil {
			t.Fatal(err)
		}
		// Sanity: the engine reads them back.
		if got := secretValues(listSecrets(f, "dev", "/"))["API_KEY"]; got != markers[3] {
			t.Fatalf("read back %q", got)
		}

		db := eng.Store().DB()
		var tables []string
		q := "SELECT name FROM sqlite_master WHERE type = 'table'"
		if eng.Store().IsPostgres() {
			q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
		}
		if err := db.NewRaw(q).Scan(ctx, &tables); err != nil {
			t.Fatal(err)
		}
		if len(tables) < 10 {
			t.Fatalf("only %d tables found", len(tables))
		}
		rowsSeen := 0
		for _, table := range tables {
			rowsSeen += scanTable(t, ctx, eng, table, markers)
		}
		if rowsSeen == 0 {
			t.Fatal("no rows scanned")
		}
	})
}

// scanTable fails the test when any cell of table contains a marker.
func scanTable(t *testing.T, ctx context.Context, eng *infisical.Engine, table string, markers []string) int {
	t.Helper()
	rows, err := eng.Store().DB().QueryContext(ctx, fmt.Sprintf(`SELECT * FROM "%s"`, table))
	if err != nil {
		t.Fatalf("scan %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		cells := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for i, c := range cells {
			var raw []byte
			switch v := c.(type) {
			case []byte:
				raw = v
			case string:
				raw = []byte(v)
			default:
				raw = []byte(fmt.Sprint(v))
			}
			for _, m := range markers {
				if bytes.Contains(raw, []byte(m)) {
					t.Errorf("table %s column %s holds %q in clear", table, cols[i], m)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
