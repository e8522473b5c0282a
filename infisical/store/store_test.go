package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
)

// The storage compliance suite: every test runs on SQLite and PostgreSQL.

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{DSN: dsn})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func seedOrg(t *testing.T, q store.Q) *store.Organization {
	t.Helper()
	n := now()
	org := &store.Organization{ID: uuid.NewString(), Name: "Acme", Slug: "acme-" + uuid.NewString()[:8], CreatedAt: n, UpdatedAt: n}
	if err := q.Insert(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return org
}

func seedProject(t *testing.T, q store.Q, orgID string) (*store.Project, *store.Environment, *store.Folder) {
	t.Helper()
	ctx := context.Background()
	n := now()
	p := &store.Project{ID: uuid.NewString(), OrgID: orgID, Name: "P", Slug: "p-" + uuid.NewString()[:8], Type: "secret-manager",
		Version: 3, PitVersionLimit: 10, SecretSharing: true, SecretDetectionIgnoreValues: []string{"a", "b"}, CreatedAt: n, UpdatedAt: n}
	env := &store.Environment{ID: uuid.NewString(), ProjectID: p.ID, Name: "Dev", Slug: "dev", Position: 1, CreatedAt: n, UpdatedAt: n}
	root := &store.Folder{ID: uuid.NewString(), EnvID: env.ID, Name: "root", Version: 1, CreatedAt: n, UpdatedAt: n}
	for _, m := range []any{p, env, root} {
		if err := q.Insert(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return p, env, root
}

func TestMigrationsIdempotent(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		dsn := enginetest.DSN(t, b)
		// Several opens, concurrently: migrations must serialise and apply once.
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(context.Background(), store.Config{DSN: dsn})
				if err != nil {
					errs <- err
					return
				}
				s.Close()
			}()
			if b == enginetest.SQLite {
				wg.Wait() // SQLite files are opened by one process at a time in practice
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent open: %v", err)
		}
		count := func() int {
			s := openStore(t, dsn)
			var n int
			if err := s.DB().NewSelect().Table("bun_migrations").ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		files, _ := filepath.Glob("2*_*.go")
		if n := count(); n != len(files) || n == 0 {
			t.Fatalf("bun_migrations has %d rows, want one per migration file (%d)", n, len(files))
		}
		if n := count(); n != len(files) {
			t.Fatalf("reopening changed bun_migrations to %d rows", n)
		}
	})
}

func TestCRUDAndTypedErrors(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		s := openStore(t, enginetest.DSN(t, b))
		q := s.Write()
		org := seedOrg(t, q)
		p, _, _ := seedProject(t, q, org.ID)

		got, err := s.Read().GetProject(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(p.CreatedAt) || got.CreatedAt.Location() != time.UTC && got.CreatedAt.UTC() != p.CreatedAt {
			t.Fatalf("time round trip: got %v want %v", got.CreatedAt, p.CreatedAt)
		}
		if len(got.SecretDetectionIgnoreValues) != 2 || got.SecretDetectionIgnoreValues[1] != "b" {
			t.Fatalf("json column round trip: %v", got.SecretDetectionIgnoreValues)
		}
		dup := *p
		dup.ID = uuid.NewString()
		if err := q.Insert(ctx, &dup); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate (org, slug): got %v want ErrDuplicate", err)
		}
		if _, err := s.Read().GetProject(ctx, uuid.NewString()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing: got %v want ErrNotFound", err)
		}
		got.Name = "renamed"
		if err := q.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		if err := q.Update(ctx, &store.Project{ID: uuid.NewString()}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
		again, _ := s.Read().GetProject(ctx, p.ID)
		if again.Name != "renamed" {
			t.Fatalf("update lost: %q", again.Name)
		}
	})
}

func TestTransactionsAreAllOrNothing(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		s := openStore(t, enginetest.DSN(t, b))
		var events []store.Event
		var mu sync.Mutex
		s.Subscribe(func(e store.Event) { mu.Lock(); events = append(events, e); mu.Unlock() })

		org := seedOrg(t, s.Write())
		_, _, root := seedProject(t, s.Write(), org.ID)
		boom := errors.New("boom")
		n := now()
		err := s.Tx(ctx, func(q store.Q) error {
			for i := 0; i < 10; i++ {
				sec := &store.Secret{ID: uuid.NewString(), FolderID: root.ID, Key: "K" + string(rune('A'+i)), Type: "shared", Version: 1, CreatedAt: n, UpdatedAt: n}
				if err := q.Insert(ctx, sec); err != nil {
					return err
				}
			}
			q.Invalidate("project", "x")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("tx error: %v", err)
		}
		var count int
		if err := s.DB().NewSelect().Model((*store.Secret)(nil)).ColumnExpr("count(*)").Scan(ctx, &count); err != nil {
			t.Fatal(err)
		}
		if count != 0 {
			t.Fatalf("rolled-back tx left %d rows", count)
		}
		mu.Lock()
		if len(events) != 0 {
			t.Fatalf("rolled-back tx published %v", events)
		}
		mu.Unlock()

		// A duplicate inside a batch fails the whole batch.
		err = s.Tx(ctx, func(q store.Q) error {
			for _, k := range []string{"A", "B", "A"} {
				if err := q.Insert(ctx, &store.Secret{ID: uuid.NewString(), FolderID: root.ID, Key: k, Type: "shared", Version: 1, CreatedAt: n, UpdatedAt: n}); err != nil {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate in tx: %v", err)
		}
		_ = s.DB().NewSelect().Model((*store.Secret)(nil)).ColumnExpr("count(*)").Scan(ctx, &count)
		if count != 0 {
			t.Fatalf("failed batch left %d rows", count)
		}

		// A committed tx publishes its events once, after commit.
		err = s.Tx(ctx, func(q store.Q) error {
			q.Invalidate("project", "p1")
			q.Invalidate("project", "p1")
			mu.Lock()
			defer mu.Unlock()
			if len(events) != 0 {
				t.Errorf("event published before commit")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(events) != 1 || events[0] != (store.Event{Topic: "project", Key: "p1"}) {
			t.Fatalf("events after commit: %v", events)
		}
	})
}

func TestCascadeDeletes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		s := openStore(t, enginetest.DSN(t, b))
		q := s.Write()
		org := seedOrg(t, q)
		p, _, root := seedProject(t, q, org.ID)
		n := now()
		child := &store.Folder{ID: uuid.NewString(), EnvID: root.EnvID, ParentID: &root.ID, Name: "child", Version: 1, CreatedAt: n, UpdatedAt: n}
		sec := &store.Secret{ID: uuid.NewString(), FolderID: child.ID, Key: "K", Type: "shared", Version: 1, CreatedAt: n, UpdatedAt: n}
		tag := &store.Tag{ID: uuid.NewString(), ProjectID: p.ID, Slug: "t", CreatedByActorType: "platform", CreatedAt: n, UpdatedAt: n}
		for _, m := range []any{child, sec, tag, &store.SecretTagLink{SecretID: sec.ID, TagID: tag.ID}} {
			if err := q.Insert(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		tags, err := s.Read().TagsOfSecrets(ctx, []string{sec.ID})
		if err != nil || len(tags) != 1 || tags[0].Slug != "t" || tags[0].SecretID != sec.ID {
			t.Fatalf("TagsOfSecrets: %+v %v", tags, err)
		}
		// Deleting the parent folder removes the child folder and its secret.
		if err := q.Delete(ctx, &store.Folder{ID: root.ID}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []any{&store.Folder{}, &store.Secret{}, &store.SecretTagLink{}} {
			var c int
			if err := s.DB().NewSelect().Model(m).ColumnExpr("count(*)").Scan(ctx, &c); err != nil {
				t.Fatal(err)
			}
			if c != 0 {
				t.Fatalf("%T: %d rows left after cascade", m, c)
			}
		}
		if err := q.Delete(ctx, &store.Organization{ID: org.ID}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []any{&store.Project{}, &store.Environment{}, &store.Tag{}} {
			var c int
			_ = s.DB().NewSelect().Model(m).ColumnExpr("count(*)").Scan(ctx, &c)
			if c != 0 {
				t.Fatalf("%T: %d rows left after org delete", m, c)
			}
		}
	})
}

func TestInvalidationCrossesProcesses(t *testing.T) {
	dsn := enginetest.DSN(t, enginetest.Postgres)
	a := openStore(t, dsn)
	b := openStore(t, dsn)
	got := make(chan store.Event, 4)
	b.Subscribe(func(e store.Event) { got <- e })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	go b.Listen(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
	<-ready
	if err := a.Tx(context.Background(), func(q store.Q) error { q.Invalidate("token", "abc"); return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e != (store.Event{Topic: "token", Key: "abc"}) {
			t.Fatalf("got %v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification received by the other store")
	}
}

func TestSQLitePath(t *testing.T) {
	cases := map[string]string{
		"/var/lib/x.db":                 "/var/lib/x.db",
		"data/x.db":                     "data/x.db",
		"sqlite:///var/lib/x.db":        "/var/lib/x.db",
		"file:/var/lib/x.db?mode=rwc":   "/var/lib/x.db",
		"sqlite://rel/x.db?cache=share": "rel/x.db",
	}
	for in, want := range cases {
		if got := store.SQLitePath(in); got != want {
			t.Errorf("SQLitePath(%q) = %q, want %q", in, got, want)
		}
	}
}
