package infisical_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
)

// folderFixture is a project with the default environments, opened on one
// backend, and the platform actor of its organization.
type folderFixture struct {
	ctx   context.Context
	eng   *infisical.Engine
	actor infisical.Actor
	org   *infisical.Organization
	p     *infisical.Project
	ref   infisical.ProjectRef
}

func newFolderFixture(t *testing.T, b enginetest.Backend) *folderFixture {
	t.Helper()
	ctx := context.Background()
	eng := enginetest.Open(t, b)
	org := enginetest.Org(t, eng, "Acme")
	actor := infisical.Platform(org.ID)
	p, err := eng.Projects.Create(ctx, actor, infisical.CreateProjectInput{OrgID: org.ID, Name: "Folders"})
	if err != nil {
		t.Fatal(err)
	}
	return &folderFixture{ctx: ctx, eng: eng, actor: actor, org: org, p: p, ref: infisical.ProjectRef{ID: p.ID}}
}

func (fx *folderFixture) envID(t *testing.T, slug string) string {
	t.Helper()
	for _, e := range fx.p.Environments {
		if e.Slug == slug {
			return e.ID
		}
	}
	t.Fatalf("no environment %q", slug)
	return ""
}

func (fx *folderFixture) mkdir(t *testing.T, env, parent, name string) *infisical.Folder {
	t.Helper()
	f, err := fx.eng.Folders.Create(fx.ctx, fx.actor, fx.ref, infisical.CreateFolderInput{
		FolderScope: infisical.FolderScope{Environment: env, Path: parent}, Name: name})
	if err != nil {
		t.Fatalf("create folder %s in %s:%s: %v", name, env, parent, err)
	}
	return f
}

// insertSecret writes a bare secret row into a folder (the secrets service
// is tested elsewhere; folder deletion only needs rows to exist).
func insertSecret(t *testing.T, eng *infisical.Engine, folderID, key string) string {
	t.Helper()
	now := time.Now().UTC()
	row := &store.Secret{ID: uuid.NewString(), FolderID: folderID, Key: key, Type: "shared", Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := eng.Store().Write().Insert(context.Background(), row); err != nil {
		t.Fatal(err)
	}
	return row.ID
}

func countRows(t *testing.T, eng *infisical.Engine, table, col string, ids []string) int {
	t.Helper()
	n, err := eng.Store().DB().NewSelect().Table(table).Where(col+" IN (?)", bun.In(ids)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// wantKind fails unless err has the given kind; for validation errors it
// also checks the field named in the issue.
func wantKind(t *testing.T, what string, err error, kind infisical.Kind, field string) {
	t.Helper()
	if infisical.KindOf(err) != kind {
		t.Fatalf("%s: want kind %d, got %v (kind %d)", what, kind, err, infisical.KindOf(err))
	}
	if field == "" {
		return
	}
	var e *infisical.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: not an *infisical.Error: %v", what, err)
	}
	issues, _ := e.Details.([]infisical.ValidationIssue)
	if len(issues) == 0 || len(issues[0].Path) == 0 || issues[0].Path[0] != field {
		t.Fatalf("%s: want issue on %q, got %+v", what, field, e.Details)
	}
}

func TestFolderCreateAndList(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		root, err := eng.Store().Read().RootFolder(ctx, fx.envID(t, "dev"))
		if err != nil {
			t.Fatal(err)
		}
		desc := "backend services"
		a, err := eng.Folders.Create(ctx, fx.actor, fx.ref, infisical.CreateFolderInput{
			FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "apps", Description: &desc})
		if err != nil {
			t.Fatal(err)
		}
		if a.ParentID == nil || *a.ParentID != root.ID || a.Version != 1 || a.Name != "apps" || a.EnvID != root.EnvID {
			t.Fatalf("created %+v (root %s)", a, root.ID)
		}
		if a.Description == nil || *a.Description != desc {
			t.Fatalf("description %v", a.Description)
		}
		// Idempotent: the same name returns the existing folder.
		again := fx.mkdir(t, "dev", "/", "apps")
		if again.ID != a.ID {
			t.Fatalf("idempotent create gave %s, want %s", again.ID, a.ID)
		}
		// Path wins over the legacy directory; directory is used alone.
		web, err := eng.Folders.Create(ctx, fx.actor, fx.ref, infisical.CreateFolderInput{
			FolderScope: infisical.FolderScope{Environment: "dev", Path: "apps/", Directory: "/nope"}, Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		api, err := eng.Folders.Create(ctx, fx.actor, fx.ref, infisical.CreateFolderInput{
			FolderScope: infisical.FolderScope{Environment: "dev", Directory: "/apps"}, Name: "api"})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []*infisical.Folder{web, api} {
			if f.ParentID == nil || *f.ParentID != a.ID {
				t.Fatalf("%s parent %v, want %s", f.Name, f.ParentID, a.ID)
			}
		}
		fx.mkdir(t, "dev", "/", "zeta")
		fx.mkdir(t, "dev", "/", "Beta_1")
		fx.mkdir(t, "staging", "/", "only-staging")

		cases := []struct {
			name  string
			scope infisical.FolderScope
			want  []string
		}{
			{"root", infisical.FolderScope{Environment: "dev"}, []string{"Beta_1", "apps", "zeta"}},
			{"nested path", infisical.FolderScope{Environment: "dev", Path: "/apps"}, []string{"api", "web"}},
			{"legacy directory", infisical.FolderScope{Environment: "dev", Directory: "/apps/"}, []string{"api", "web"}},
			{"missing path", infisical.FolderScope{Environment: "dev", Path: "/nothing"}, []string{}},
			{"leaf", infisical.FolderScope{Environment: "dev", Path: "/apps/web"}, []string{}},
			{"other env", infisical.FolderScope{Environment: "staging"}, []string{"only-staging"}},
		}
		for _, tc := range cases {
			got, err := eng.Folders.List(ctx, fx.actor, fx.ref, tc.scope)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			names := []string{}
			for _, f := range got {
				names = append(names, f.Name)
				if f.ID == root.ID {
					t.Fatalf("%s: root folder listed", tc.name)
				}
			}
			if len(names) != len(tc.want) {
				t.Fatalf("%s: got %v, want %v", tc.name, names, tc.want)
			}
			for i := range names {
				if names[i] != tc.want[i] {
					t.Fatalf("%s: got %v, want %v", tc.name, names, tc.want)
				}
			}
		}

		d, err := eng.Folders.Get(ctx, fx.actor, web.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Path != "/apps/web" || d.ProjectID != fx.p.ID || d.EnvSlug != "dev" || d.EnvName != "Development" || d.ID != web.ID {
			t.Fatalf("detail %+v", d)
		}
		if _, err := eng.Folders.Get(ctx, fx.actor, uuid.NewString()); !infisical.IsNotFound(err) {
			t.Fatalf("get unknown: %v", err)
		}
		// A folder of another organization's project is not found.
		other := enginetest.Org(t, eng, "Other")
		if _, err := eng.Folders.Get(ctx, infisical.Actor{Type: infisical.ActorService, ID: "x", OrgID: other.ID, ProjectID: "p"}, web.ID); !infisical.IsNotFound(err) {
			t.Fatalf("get across orgs: %v", err)
		}
	})
}

func TestFolderCreateErrors(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		long := make([]byte, 65)
		for i := range long {
			long[i] = 'a'
		}
		cases := []struct {
			name  string
			ref   infisical.ProjectRef
			in    infisical.CreateFolderInput
			kind  infisical.Kind
			field string
		}{
			{"empty name", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}}, infisical.KindValidation, "name"},
			{"dot name", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "a.b"}, infisical.KindValidation, "name"},
			{"slash name", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "a/b"}, infisical.KindValidation, "name"},
			{"long name", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: string(long)}, infisical.KindValidation, "name"},
			{"no env", fx.ref, infisical.CreateFolderInput{Name: "x"}, infisical.KindValidation, "environment"},
			{"bad path", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/a/../b"}, Name: "x"}, infisical.KindValidation, "path"},
			{"bad directory", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Directory: "/a b"}, Name: "x"}, infisical.KindValidation, "directory"},
			{"unknown env", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "qa"}, Name: "x"}, infisical.KindNotFound, ""},
			{"missing parent", fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/missing"}, Name: "x"}, infisical.KindNotFound, ""},
			{"unknown project", infisical.ProjectRef{ID: uuid.NewString()}, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "x"}, infisical.KindNotFound, ""},
			{"no project", infisical.ProjectRef{}, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "x"}, infisical.KindBadRequest, ""},
		}
		for _, tc := range cases {
			_, err := fx.eng.Folders.Create(fx.ctx, fx.actor, tc.ref, tc.in)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		}
	})
}

func TestFolderUpdate(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		a := fx.mkdir(t, "dev", "/", "a")
		fx.mkdir(t, "dev", "/", "b")
		c := fx.mkdir(t, "dev", "/a", "c")
		fx.mkdir(t, "dev", "/a", "taken")

		// Rename by id (the id is enough; the scope path is not needed).
		got, err := eng.Folders.Update(ctx, fx.actor, fx.ref, c.ID, infisical.UpdateFolderInput{
			FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "c2"})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != c.ID || got.Name != "c2" || got.Version != 2 || !got.UpdatedAt.After(c.UpdatedAt.Add(-time.Millisecond)) {
			t.Fatalf("renamed %+v", got)
		}
		d, err := eng.Folders.Get(ctx, fx.actor, c.ID)
		if err != nil || d.Path != "/a/c2" {
			t.Fatalf("after rename: %+v %v", d, err)
		}
		// Same name again: nothing changes, no version bump.
		got, err = eng.Folders.Update(ctx, fx.actor, fx.ref, c.ID, infisical.UpdateFolderInput{
			FolderScope: infisical.FolderScope{Environment: "dev", Path: "/a"}, Name: "c2"})
		if err != nil || got.Version != 2 {
			t.Fatalf("no-op update: %+v %v", got, err)
		}
		// Legacy: address the folder by name under the parent path.
		desc := "described"
		got, err = eng.Folders.Update(ctx, fx.actor, fx.ref, "c2", infisical.UpdateFolderInput{
			FolderScope: infisical.FolderScope{Environment: "dev", Directory: "/a"}, Name: "c3", Description: &desc})
		if err != nil || got.ID != c.ID || got.Name != "c3" || got.Version != 3 || got.Description == nil || *got.Description != desc {
			t.Fatalf("legacy rename: %+v %v", got, err)
		}

		errs := []struct {
			name     string
			idOrName string
			in       infisical.UpdateFolderInput
			kind     infisical.Kind
			field    string
		}{
			{"sibling clash", c.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "taken"}, infisical.KindBadRequest, ""},
			{"clash at root", a.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "b"}, infisical.KindBadRequest, ""},
			{"bad name", c.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "no way"}, infisical.KindValidation, "name"},
			{"no name", c.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}}, infisical.KindValidation, "name"},
			{"no env", c.ID, infisical.UpdateFolderInput{Name: "x"}, infisical.KindValidation, "environment"},
			{"wrong env", c.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "staging"}, Name: "x"}, infisical.KindNotFound, ""},
			{"name not under path", "c3", infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "x"}, infisical.KindNotFound, ""},
			{"unknown id", uuid.NewString(), infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "x"}, infisical.KindNotFound, ""},
		}
		for _, tc := range errs {
			_, err := eng.Folders.Update(ctx, fx.actor, fx.ref, tc.idOrName, tc.in)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		}
		// The root folder cannot be renamed.
		root, _ := eng.Store().Read().RootFolder(ctx, fx.envID(t, "dev"))
		_, err = eng.Folders.Update(ctx, fx.actor, fx.ref, root.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "x"})
		wantKind(t, "rename root", err, infisical.KindNotFound, "")
	})
}

func TestFolderBatchUpdate(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		a := fx.mkdir(t, "dev", "/", "a")
		s := fx.mkdir(t, "staging", "/", "s")
		fx.mkdir(t, "staging", "/", "taken")
		slugRef := infisical.ProjectRef{Slug: fx.p.Slug}

		got, err := eng.Folders.UpdateBatch(ctx, fx.actor, slugRef, []infisical.BatchFolderUpdate{
			{ID: a.ID, Environment: "dev", Name: "a2", Path: "/"},
			{ID: s.ID, Environment: "staging", Name: "s2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "a2" || got[1].Name != "s2" || got[0].Version != 2 {
			t.Fatalf("batch result %+v", got)
		}
		// All or nothing: the second item clashes, so the first is undone.
		_, err = eng.Folders.UpdateBatch(ctx, fx.actor, slugRef, []infisical.BatchFolderUpdate{
			{ID: a.ID, Environment: "dev", Name: "a3"},
			{ID: s.ID, Environment: "staging", Name: "taken"},
		})
		wantKind(t, "batch clash", err, infisical.KindBadRequest, "")
		d, err := eng.Folders.Get(ctx, fx.actor, a.ID)
		if err != nil || d.Name != "a2" {
			t.Fatalf("after failed batch: %+v %v", d, err)
		}
		errs := []struct {
			name  string
			items []infisical.BatchFolderUpdate
			kind  infisical.Kind
			field string
		}{
			{"empty", nil, infisical.KindValidation, "folders"},
			{"no id", []infisical.BatchFolderUpdate{{Environment: "dev", Name: "x"}}, infisical.KindValidation, "folders.0.id"},
			{"bad name", []infisical.BatchFolderUpdate{{ID: a.ID, Environment: "dev", Name: "x"}, {ID: s.ID, Environment: "staging", Name: "?"}}, infisical.KindValidation, "folders.1.name"},
			{"no env", []infisical.BatchFolderUpdate{{ID: a.ID, Name: "x"}}, infisical.KindValidation, "folders.0.environment"},
			{"env mismatch", []infisical.BatchFolderUpdate{{ID: a.ID, Environment: "staging", Name: "x"}}, infisical.KindNotFound, ""},
		}
		for _, tc := range errs {
			_, err := eng.Folders.UpdateBatch(ctx, fx.actor, slugRef, tc.items)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		}
	})
}

func TestFolderDeleteRecursive(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		a := fx.mkdir(t, "dev", "/", "a")
		ab := fx.mkdir(t, "dev", "/a", "b")
		abc := fx.mkdir(t, "dev", "/a/b", "c")
		keep := fx.mkdir(t, "dev", "/", "keep")
		var gone []string
		gone = append(gone, insertSecret(t, eng, a.ID, "A"), insertSecret(t, eng, ab.ID, "B"), insertSecret(t, eng, abc.ID, "C"))
		kept := insertSecret(t, eng, keep.ID, "K")
		// An import inside the deleted tree goes too.
		if _, err := eng.Imports.Create(ctx, fx.actor, fx.ref, infisical.CreateImportInput{Environment: "dev", Path: "/a/b", ImportEnvironment: "dev", ImportPath: "/keep"}); err != nil {
			t.Fatal(err)
		}

		// Legacy CLI form: delete by name under the directory.
		del, err := eng.Folders.Delete(ctx, fx.actor, fx.ref, "a", infisical.FolderScope{Environment: "dev", Directory: "/"})
		if err != nil {
			t.Fatal(err)
		}
		if del.ID != a.ID {
			t.Fatalf("deleted %+v", del)
		}
		if n := countRows(t, eng, "secret_folders", "id", []string{a.ID, ab.ID, abc.ID}); n != 0 {
			t.Fatalf("%d folders left", n)
		}
		if n := countRows(t, eng, "secrets", "id", gone); n != 0 {
			t.Fatalf("%d secrets left", n)
		}
		if n := countRows(t, eng, "secret_imports", "folder_id", []string{ab.ID}); n != 0 {
			t.Fatalf("%d imports left", n)
		}
		if n := countRows(t, eng, "secrets", "id", []string{kept}); n != 1 {
			t.Fatal("unrelated secret deleted")
		}
		list, err := eng.Folders.List(ctx, fx.actor, fx.ref, infisical.FolderScope{Environment: "dev"})
		if err != nil || len(list) != 1 || list[0].ID != keep.ID {
			t.Fatalf("after delete: %+v %v", list, err)
		}
		// Paths below the deleted folder no longer resolve.
		_, err = eng.Folders.Create(ctx, fx.actor, fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/a/b"}, Name: "x"})
		wantKind(t, "create under deleted", err, infisical.KindNotFound, "")

		// By id, from any scope path.
		if _, err := eng.Folders.Delete(ctx, fx.actor, fx.ref, keep.ID, infisical.FolderScope{Environment: "dev", Path: "/whatever"}); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, eng, "secrets", "id", []string{kept}); n != 0 {
			t.Fatal("secret of deleted folder kept")
		}
		_, err = eng.Folders.Delete(ctx, fx.actor, fx.ref, keep.ID, infisical.FolderScope{Environment: "dev"})
		wantKind(t, "delete twice", err, infisical.KindNotFound, "")
		_, err = eng.Folders.Delete(ctx, fx.actor, fx.ref, "x", infisical.FolderScope{})
		wantKind(t, "delete no env", err, infisical.KindValidation, "environment")
		_, err = eng.Folders.Delete(ctx, fx.actor, fx.ref, "", infisical.FolderScope{Environment: "dev"})
		wantKind(t, "delete no id", err, infisical.KindValidation, "folderId")
	})
}

func TestFolderPermissions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		apps := fx.mkdir(t, "dev", "/", "apps")
		other := fx.mkdir(t, "dev", "/", "other")
		// A service token that may write under /apps in dev only.
		st := infisical.Actor{Type: infisical.ActorService, ID: "st-1", OrgID: fx.org.ID, ProjectID: fx.p.ID, ServiceWrite: true,
			ServiceScopes: []infisical.ServiceScope{{Environment: "dev", SecretPath: "/apps/**"}}}
		ro := st
		ro.ID, ro.ServiceWrite = "st-2", false

		if _, err := eng.Folders.Create(ctx, st, fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/apps"}, Name: "svc"}); err != nil {
			t.Fatalf("allowed create: %v", err)
		}
		denied := []struct {
			name string
			run  func() error
		}{
			{"create at root", func() error {
				_, err := eng.Folders.Create(ctx, st, fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "x"})
				return err
			}},
			{"create in staging", func() error {
				_, err := eng.Folders.Create(ctx, st, fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "staging", Path: "/apps"}, Name: "x"})
				return err
			}},
			{"read-only create", func() error {
				_, err := eng.Folders.Create(ctx, ro, fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/apps"}, Name: "y"})
				return err
			}},
			{"rename top-level", func() error {
				_, err := eng.Folders.Update(ctx, st, fx.ref, other.ID, infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/apps"}, Name: "z"})
				return err
			}},
			{"delete top-level by id", func() error {
				_, err := eng.Folders.Delete(ctx, st, fx.ref, apps.ID, infisical.FolderScope{Environment: "dev", Path: "/apps"})
				return err
			}},
			{"list root", func() error {
				_, err := eng.Folders.List(ctx, st, fx.ref, infisical.FolderScope{Environment: "dev"})
				return err
			}},
			{"get top-level", func() error {
				_, err := eng.Folders.Get(ctx, st, apps.ID)
				return err
			}},
		}
		for _, tc := range denied {
			wantKind(t, tc.name, tc.run(), infisical.KindPermissionDenied, "")
		}
		list, err := eng.Folders.List(ctx, ro, fx.ref, infisical.FolderScope{Environment: "dev", Path: "/apps"})
		if err != nil || len(list) != 1 || list[0].Name != "svc" {
			t.Fatalf("read-only list: %+v %v", list, err)
		}
		if _, err := eng.Folders.Delete(ctx, st, fx.ref, "svc", infisical.FolderScope{Environment: "dev", Path: "/apps"}); err != nil {
			t.Fatalf("allowed delete: %v", err)
		}
	})
}

// TestFolderConcurrentCreate checks that racing creates of one name agree
// on a single folder instead of failing on the unique constraint.
func TestFolderConcurrentCreate(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		const n = 8
		ids := make(chan string, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				f, err := fx.eng.Folders.Create(fx.ctx, fx.actor, fx.ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev"}, Name: "race"})
				if err != nil {
					errs <- err
					return
				}
				ids <- f.ID
			}()
		}
		seen := map[string]bool{}
		for range n {
			select {
			case err := <-errs:
				t.Fatalf("concurrent create: %v", err)
			case id := <-ids:
				seen[id] = true
			}
		}
		if len(seen) != 1 {
			t.Fatalf("concurrent creates made %d folders", len(seen))
		}
	})
}
