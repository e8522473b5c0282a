package infisical_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
)

func (fx *folderFixture) imp(t *testing.T, env, path, srcEnv, srcPath string) *infisical.SecretImport {
	t.Helper()
	si, err := fx.eng.Imports.Create(fx.ctx, fx.actor, fx.ref, infisical.CreateImportInput{Environment: env, Path: path, ImportEnvironment: srcEnv, ImportPath: srcPath})
	if err != nil {
		t.Fatalf("import %s:%s into %s:%s: %v", srcEnv, srcPath, env, path, err)
	}
	return si
}

func (fx *folderFixture) importOrder(t *testing.T, env, path string) []string {
	t.Helper()
	list, err := fx.eng.Imports.List(fx.ctx, fx.actor, fx.ref, env, path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, si := range list {
		if si.Position != i+1 {
			t.Fatalf("position %d at index %d: %+v", si.Position, i, list)
		}
		out = append(out, si.ImportEnv.Slug+":"+si.ImportPath)
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestImportCreateListGet(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		fx.mkdir(t, "dev", "/", "app")
		fx.mkdir(t, "staging", "/", "shared")
		si, err := eng.Imports.Create(ctx, fx.actor, fx.ref, infisical.CreateImportInput{Environment: "dev", Path: "/app/", ImportEnvironment: "staging", ImportPath: "shared"})
		if err != nil {
			t.Fatal(err)
		}
		if si.ImportPath != "/shared" || si.ImportEnv.Slug != "staging" || si.ImportEnv.Name != "Staging" || si.ImportEnv.ID != fx.envID(t, "staging") ||
			si.Position != 1 || si.Version != 1 || si.IsReplication || si.SecretPath != "/app" || si.Environment.Slug != "dev" || si.ProjectID != fx.p.ID {
			t.Fatalf("created %+v", si)
		}
		fx.imp(t, "dev", "/app", "prod", "/")
		if got := fx.importOrder(t, "dev", "/app"); !sameStrings(got, []string{"staging:/shared", "prod:/"}) {
			t.Fatalf("order %v", got)
		}
		g, err := eng.Imports.Get(ctx, fx.actor, si.ID)
		if err != nil || g.ID != si.ID || g.SecretPath != "/app" || g.Environment.Slug != "dev" || g.FolderID != si.FolderID {
			t.Fatalf("get %+v %v", g, err)
		}
		if _, err := eng.Imports.Get(ctx, fx.actor, uuid.NewString()); !infisical.IsNotFound(err) {
			t.Fatalf("get unknown: %v", err)
		}
		empty, err := eng.Imports.List(ctx, fx.actor, fx.ref, "prod", "/")
		if err != nil || len(empty) != 0 {
			t.Fatalf("empty list %+v %v", empty, err)
		}
		_, err = eng.Imports.List(ctx, fx.actor, fx.ref, "dev", "/missing")
		wantKind(t, "list missing folder", err, infisical.KindNotFound, "")
		_, err = eng.Imports.List(ctx, fx.actor, fx.ref, "", "/")
		wantKind(t, "list no env", err, infisical.KindValidation, "environment")
	})
}

func TestImportCreateErrors(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		fx.mkdir(t, "dev", "/", "app")
		fx.mkdir(t, "staging", "/", "shared")
		fx.imp(t, "dev", "/app", "staging", "/shared")
		cases := []struct {
			name  string
			in    infisical.CreateImportInput
			kind  infisical.Kind
			field string
		}{
			{"self", infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "dev", ImportPath: "/app/"}, infisical.KindBadRequest, ""},
			{"duplicate", infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "staging", ImportPath: "/shared"}, infisical.KindBadRequest, ""},
			{"replication", infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "prod", ImportPath: "/", IsReplication: true}, infisical.KindBadRequest, ""},
			{"unknown source env", infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "qa", ImportPath: "/"}, infisical.KindNotFound, ""},
			{"missing source folder", infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "prod", ImportPath: "/nope"}, infisical.KindNotFound, ""},
			{"missing destination", infisical.CreateImportInput{Environment: "dev", Path: "/nope", ImportEnvironment: "prod", ImportPath: "/"}, infisical.KindNotFound, ""},
			{"unknown destination env", infisical.CreateImportInput{Environment: "qa", Path: "/", ImportEnvironment: "prod", ImportPath: "/"}, infisical.KindNotFound, ""},
			{"no env", infisical.CreateImportInput{ImportEnvironment: "prod", ImportPath: "/"}, infisical.KindValidation, "environment"},
			{"no source env", infisical.CreateImportInput{Environment: "dev", ImportPath: "/"}, infisical.KindValidation, "import.environment"},
			{"bad source path", infisical.CreateImportInput{Environment: "dev", ImportEnvironment: "prod", ImportPath: "/../x"}, infisical.KindValidation, "import.path"},
			{"bad path", infisical.CreateImportInput{Environment: "dev", Path: "/a.b", ImportEnvironment: "prod", ImportPath: "/"}, infisical.KindValidation, "path"},
		}
		for _, tc := range cases {
			_, err := fx.eng.Imports.Create(fx.ctx, fx.actor, fx.ref, tc.in)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		}
		if got := fx.importOrder(t, "dev", "/app"); !sameStrings(got, []string{"staging:/shared"}) {
			t.Fatalf("failed creates left imports: %v", got)
		}
	})
}

func TestImportCycles(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		for _, n := range []string{"a", "b", "c", "d"} {
			fx.mkdir(t, "dev", "/", n)
		}
		fx.mkdir(t, "prod", "/", "x")
		cycle := func(name, env, path, srcEnv, srcPath string) {
			t.Helper()
			_, err := fx.eng.Imports.Create(fx.ctx, fx.actor, fx.ref, infisical.CreateImportInput{Environment: env, Path: path, ImportEnvironment: srcEnv, ImportPath: srcPath})
			wantKind(t, name, err, infisical.KindBadRequest, "")
		}
		// A→B, then B→A closes a two-cycle.
		fx.imp(t, "dev", "/a", "dev", "/b")
		cycle("A→B→A", "dev", "/b", "dev", "/a")
		// Longer chain A→B→C→D, then D→A.
		fx.imp(t, "dev", "/b", "dev", "/c")
		fx.imp(t, "dev", "/c", "dev", "/d")
		cycle("A→B→C→D→A", "dev", "/d", "dev", "/a")
		cycle("C→D→B", "dev", "/d", "dev", "/b")
		// Across environments: D→prod:/x→dev:/a would close a cycle too.
		fx.imp(t, "prod", "/x", "dev", "/a")
		cycle("D→X→A", "dev", "/d", "prod", "/x")
		// A diamond is not a cycle: A→C directly besides A→B→C.
		fx.imp(t, "dev", "/a", "dev", "/c")
		// Imports of a folder's parent are not cycles (imports are not
		// recursive).
		fx.imp(t, "dev", "/d", "dev", "/")
		// An update that redirects a source into a cycle is refused too.
		list, err := fx.eng.Imports.List(fx.ctx, fx.actor, fx.ref, "dev", "/d")
		if err != nil || len(list) != 1 {
			t.Fatalf("imports of d: %+v %v", list, err)
		}
		a := "/a"
		_, err = fx.eng.Imports.Update(fx.ctx, fx.actor, fx.ref, list[0].ID, infisical.UpdateImportInput{Environment: "dev", Path: "/d", ImportPath: &a})
		wantKind(t, "update into cycle", err, infisical.KindBadRequest, "")
	})
}

func TestImportReorderUpdateDelete(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		for _, n := range []string{"s1", "s2", "s3", "s4"} {
			fx.mkdir(t, "staging", "/", n)
		}
		var ids []string
		for _, n := range []string{"s1", "s2", "s3"} {
			ids = append(ids, fx.imp(t, "dev", "/", "staging", "/"+n).ID)
		}
		move := func(id string, pos int, want ...string) {
			t.Helper()
			p := pos
			got, err := eng.Imports.Update(ctx, fx.actor, fx.ref, id, infisical.UpdateImportInput{Environment: "dev", Path: "/", Position: &p})
			if err != nil {
				t.Fatalf("move to %d: %v", pos, err)
			}
			if order := fx.importOrder(t, "dev", "/"); !sameStrings(order, want) {
				t.Fatalf("after move to %d: %v, want %v", pos, order, want)
			}
			if got.Position != min(pos, len(want)) {
				t.Fatalf("returned position %d", got.Position)
			}
		}
		move(ids[2], 1, "staging:/s3", "staging:/s1", "staging:/s2")
		move(ids[2], 3, "staging:/s1", "staging:/s2", "staging:/s3")
		move(ids[0], 2, "staging:/s2", "staging:/s1", "staging:/s3")
		move(ids[1], 99, "staging:/s1", "staging:/s3", "staging:/s2")

		// Change the source; version goes up, position stays.
		s4 := "/s4"
		got, err := eng.Imports.Update(ctx, fx.actor, fx.ref, ids[2], infisical.UpdateImportInput{Environment: "dev", ImportPath: &s4})
		if err != nil {
			t.Fatal(err)
		}
		if got.ImportPath != "/s4" || got.Position != 2 || got.Version < 2 {
			t.Fatalf("updated %+v", got)
		}
		prod := "prod"
		root := "/"
		got, err = eng.Imports.Update(ctx, fx.actor, fx.ref, ids[2], infisical.UpdateImportInput{Environment: "dev", ImportEnvironment: &prod, ImportPath: &root})
		if err != nil || got.ImportEnv.Slug != "prod" || got.ImportPath != "/" {
			t.Fatalf("re-sourced %+v %v", got, err)
		}
		s1 := "/s1"
		zero := 0
		missing := "/missing"
		empty := ""
		errs := []struct {
			name  string
			id    string
			in    infisical.UpdateImportInput
			kind  infisical.Kind
			field string
		}{
			{"duplicate source", ids[2], infisical.UpdateImportInput{Environment: "dev", ImportEnvironment: func() *string { s := "staging"; return &s }(), ImportPath: &s1}, infisical.KindBadRequest, ""},
			{"missing source", ids[2], infisical.UpdateImportInput{Environment: "dev", ImportPath: &missing}, infisical.KindNotFound, ""},
			{"position 0", ids[2], infisical.UpdateImportInput{Environment: "dev", Position: &zero}, infisical.KindValidation, "import.position"},
			{"empty source env", ids[2], infisical.UpdateImportInput{Environment: "dev", ImportEnvironment: &empty}, infisical.KindValidation, "import.environment"},
			{"no env", ids[2], infisical.UpdateImportInput{}, infisical.KindValidation, "environment"},
			{"wrong env", ids[2], infisical.UpdateImportInput{Environment: "staging"}, infisical.KindNotFound, ""},
			{"unknown id", uuid.NewString(), infisical.UpdateImportInput{Environment: "dev"}, infisical.KindNotFound, ""},
		}
		for _, tc := range errs {
			_, err := eng.Imports.Update(ctx, fx.actor, fx.ref, tc.id, tc.in)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		}

		// Delete the first; the rest move up.
		del, err := eng.Imports.Delete(ctx, fx.actor, fx.ref, ids[0], "dev", "/")
		if err != nil || del.ID != ids[0] {
			t.Fatalf("delete %+v %v", del, err)
		}
		if order := fx.importOrder(t, "dev", "/"); !sameStrings(order, []string{"prod:/", "staging:/s2"}) {
			t.Fatalf("after delete: %v", order)
		}
		_, err = eng.Imports.Delete(ctx, fx.actor, fx.ref, ids[0], "dev", "/")
		wantKind(t, "delete twice", err, infisical.KindNotFound, "")
		_, err = eng.Imports.Delete(ctx, fx.actor, fx.ref, ids[1], "prod", "/")
		wantKind(t, "delete wrong env", err, infisical.KindNotFound, "")
		_, err = eng.Imports.Delete(ctx, fx.actor, fx.ref, ids[1], "", "/")
		wantKind(t, "delete no env", err, infisical.KindValidation, "environment")
	})
}

func TestImportPermissions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		fx.mkdir(t, "dev", "/", "app")
		fx.mkdir(t, "staging", "/", "shared")
		existing := fx.imp(t, "dev", "/app", "staging", "/shared")
		// Service tokens may only read imports; one scoped to dev cannot
		// see staging.
		st := infisical.Actor{Type: infisical.ActorService, ID: "st-1", OrgID: fx.org.ID, ProjectID: fx.p.ID, ServiceWrite: true,
			ServiceScopes: []infisical.ServiceScope{{Environment: "dev", SecretPath: "/**"}}}
		list, err := eng.Imports.List(ctx, st, fx.ref, "dev", "/app")
		if err != nil || len(list) != 1 {
			t.Fatalf("service token list: %+v %v", list, err)
		}
		if _, err := eng.Imports.Get(ctx, st, existing.ID); err != nil {
			t.Fatalf("service token get: %v", err)
		}
		_, err = eng.Imports.Create(ctx, st, fx.ref, infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "dev", ImportPath: "/"})
		wantKind(t, "service token create", err, infisical.KindPermissionDenied, "")
		_, err = eng.Imports.Delete(ctx, st, fx.ref, existing.ID, "dev", "/app")
		wantKind(t, "service token delete", err, infisical.KindPermissionDenied, "")
		_, err = eng.Imports.List(ctx, st, fx.ref, "staging", "/shared")
		wantKind(t, "service token list other env", err, infisical.KindPermissionDenied, "")

		// One cannot import what one cannot read: a role that may manage
		// imports everywhere but read secrets only in dev.
		infisical.SetTestCustomRoles(eng, nil, map[string][]permission.Rule{"importer": {
			{Subject: permission.SubjectSecretImports, Action: []string{permission.ActionRead, permission.ActionCreate, permission.ActionEdit}},
			{Subject: permission.SubjectSecrets, Action: []string{permission.ActionRead}, Conditions: map[string]any{"environment": "dev"}},
		}})
		_, token := enginetest.IdentityToken(t, eng, fx.org.ID, "no-access", fx.p.ID, "importer")
		importer, err := eng.Authenticate(ctx, token, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		fx.mkdir(t, "dev", "/", "common")
		_, err = eng.Imports.Create(ctx, importer, fx.ref, infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "staging", ImportPath: "/"})
		wantKind(t, "import unreadable source", err, infisical.KindPermissionDenied, "")
		mine, err := eng.Imports.Create(ctx, importer, fx.ref, infisical.CreateImportInput{Environment: "dev", Path: "/app", ImportEnvironment: "dev", ImportPath: "/common"})
		if err != nil {
			t.Fatalf("import readable source: %v", err)
		}
		// Re-pointing an import at an unreadable source is refused too.
		stg, shared := "staging", "/shared"
		_, err = eng.Imports.Update(ctx, importer, fx.ref, mine.ID, infisical.UpdateImportInput{Environment: "dev", ImportEnvironment: &stg, ImportPath: &shared})
		wantKind(t, "re-point to unreadable source", err, infisical.KindPermissionDenied, "")
		// The role has no delete on imports.
		_, err = eng.Imports.Delete(ctx, importer, fx.ref, mine.ID, "dev", "/app")
		wantKind(t, "importer delete", err, infisical.KindPermissionDenied, "")
	})
}
