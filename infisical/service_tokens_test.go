package infisical_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestServiceTokens(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		clock := newTestClock()
		eng, org, p := idSetup(t, b, clock.use, fastArgon)
		admin := infisical.Platform(org.ID)
		pref := infisical.ProjectRef{ID: p.ID}
		if _, err := eng.Folders.Create(ctx, admin, pref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/"}, Name: "app"}); err != nil {
			t.Fatal(err)
		}
		put := func(actor infisical.Actor, env, path, key, value string) error {
			_, err := eng.Secrets.Create(ctx, actor, infisical.CreateSecretInput{
				SecretScope: infisical.SecretScope{Project: pref, Environment: env, SecretPath: path},
				NewSecret:   infisical.NewSecret{Key: key, Value: value}})
			return err
		}
		for _, s := range []struct{ env, path, key, value string }{
			{"dev", "/", "ROOT", "root-value"}, {"dev", "/app", "APP", "app-value"}, {"prod", "/", "PROD", "prod-value"},
		} {
			if err := put(admin, s.env, s.path, s.key, s.value); err != nil {
				t.Fatal(err)
			}
		}
		// A project admin user creates the tokens.
		user, _ := usrSession(t, eng, org.ID, "owner@example.com", "member")
		if _, err := eng.Memberships.AddUsers(ctx, admin, p.ID, infisical.AddProjectUsersInput{Usernames: []string{"owner@example.com"}, RoleSlugs: []string{"admin"}}); err != nil {
			t.Fatal(err)
		}
		sc := func(env, path string) []infisical.ServiceScope {
			return []infisical.ServiceScope{{Environment: env, SecretPath: path}}
		}
		for _, tc := range []struct {
			name  string
			actor infisical.Actor
			in    infisical.CreateServiceTokenInput
			kind  infisical.Kind
			field string
		}{
			{"no name", user, infisical.CreateServiceTokenInput{ProjectID: p.ID, Scopes: sc("dev", "/"), Permissions: []string{"read"}}, infisical.KindValidation, "name"},
			{"no scopes", user, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Permissions: []string{"read"}}, infisical.KindValidation, "scopes"},
			{"no permissions", user, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Scopes: sc("dev", "/")}, infisical.KindValidation, "permissions"},
			{"bad permission", user, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Scopes: sc("dev", "/"), Permissions: []string{"admin"}}, infisical.KindValidation, "permissions"},
			{"relative path", user, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Scopes: sc("dev", "app"), Permissions: []string{"read"}}, infisical.KindValidation, "scopes"},
			{"negative expiry", user, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Scopes: sc("dev", "/"), Permissions: []string{"read"}, ExpiresIn: usrPtr(int64(-1))}, infisical.KindValidation, "expiresIn"},
			{"unknown env", user, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Scopes: sc("qa", "/"), Permissions: []string{"read"}}, infisical.KindNotFound, ""},
			{"no project", user, infisical.CreateServiceTokenInput{Name: "t", Scopes: sc("dev", "/"), Permissions: []string{"read"}}, infisical.KindValidation, "workspaceId"},
		} {
			_, _, err := eng.ServiceTokens.Create(ctx, tc.actor, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, tc.field)
		}
		// A viewer may not create tokens.
		viewer, _ := usrSession(t, eng, org.ID, "viewer@example.com", "member")
		if _, err := eng.Memberships.AddUsers(ctx, admin, p.ID, infisical.AddProjectUsersInput{Usernames: []string{"viewer@example.com"}, RoleSlugs: []string{"viewer"}}); err != nil {
			t.Fatal(err)
		}
		_, _, err := eng.ServiceTokens.Create(ctx, viewer, infisical.CreateServiceTokenInput{Name: "t", ProjectID: p.ID, Scopes: sc("dev", "/"), Permissions: []string{"read"}})
		wantErrKind(t, "viewer creates token", err, infisical.KindPermissionDenied, "")

		tok, data, err := eng.ServiceTokens.Create(ctx, user, infisical.CreateServiceTokenInput{Name: "ci", ProjectID: p.ID,
			Scopes: sc("dev", "/app/"), Permissions: []string{"read"}, ExpiresIn: usrPtr(int64(3600))})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, "st."+data.ID+".") || data.Scopes[0].SecretPath != "/app" || data.ExpiresAt == nil || data.User == nil || data.User.ID != user.ID {
			t.Fatalf("token %q data %+v", tok, data)
		}
		st := idAuth(t, eng, tok+".legacy-key-part")
		if st.Type != infisical.ActorService || st.ID != data.ID || st.ProjectID != p.ID || st.OrgID != org.ID || st.ServiceWrite {
			t.Fatalf("service actor %+v", st)
		}
		for _, bad := range []string{"st." + data.ID + ".wrong", "st.00000000-0000-0000-0000-000000000000." + strings.Split(tok, ".")[2], "st.x", "st..."} {
			_, err := eng.Authenticate(ctx, bad, "")
			wantErrKind(t, "bad token "+bad, err, infisical.KindUnauthorized, "Invalid service token")
		}

		// One non-glob scope overrides the requested scope and project.
		list, err := eng.Secrets.List(ctx, st, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Environment: "prod", SecretPath: "/"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Secrets) != 1 || list.Secrets[0].Key != "APP" || list.Secrets[0].Value != "app-value" {
			t.Fatalf("scoped list %+v", list.Secrets)
		}
		// Read-only: no writes, not even in scope.
		wantErrKind(t, "read-only write", put(st, "dev", "/app", "NEW", "v"), infisical.KindPermissionDenied, "")

		// Several scopes with globs: no override, and access only within
		// the globs.
		clock.Advance(time.Second)
		tok2, data2, err := eng.ServiceTokens.Create(ctx, user, infisical.CreateServiceTokenInput{Name: "rw", ProjectID: p.ID,
			Scopes:      []infisical.ServiceScope{{Environment: "dev", SecretPath: "/app/**"}, {Environment: "prod", SecretPath: "/"}},
			Permissions: []string{"read", "write"}})
		if err != nil {
			t.Fatal(err)
		}
		if data2.ExpiresAt != nil {
			t.Fatalf("token without expiry got %v", data2.ExpiresAt)
		}
		rw := idAuth(t, eng, tok2)
		if !rw.ServiceWrite || len(rw.ServiceScopes) != 2 {
			t.Fatalf("rw actor %+v", rw)
		}
		for _, tc := range []struct {
			env, path string
			ok        bool
		}{{"dev", "/app", true}, {"prod", "/", true}, {"dev", "/", false}} {
			_, err := eng.Secrets.List(ctx, rw, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Environment: tc.env, SecretPath: tc.path}})
			if (err == nil) != tc.ok {
				t.Fatalf("rw list %s:%s: %v", tc.env, tc.path, err)
			}
		}
		if err := put(rw, "dev", "/app", "WRITTEN", "v"); err != nil {
			t.Fatalf("write in scope: %v", err)
		}
		wantErrKind(t, "write outside scope", put(rw, "dev", "/", "OUTSIDE", "v"), infisical.KindPermissionDenied, "")
		// Tokens are bound to their project.
		p2, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = eng.Secrets.List(ctx, rw, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p2.ID}, Environment: "dev", SecretPath: "/app"}})
		wantErrKind(t, "other project", err, infisical.KindForbidden, "")

		// Last use is recorded off the request path.
		deadline := time.Now().Add(5 * time.Second)
		for {
			rows, err := eng.ServiceTokens.List(ctx, user, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].ID != data2.ID {
				t.Fatalf("list %+v", rows)
			}
			if rows[0].LastUsed != nil && rows[1].LastUsed != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("last use not recorded: %+v", rows)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cur, err := eng.ServiceTokens.Current(ctx, st)
		if err != nil || cur.ID != data.ID || cur.LastUsed == nil {
			t.Fatalf("current %+v %v", cur, err)
		}

		// Expiry: refused with 403, and the row is gone afterwards.
		clock.Advance(time.Hour + time.Second)
		_, err = eng.Authenticate(ctx, tok, "")
		wantErrKind(t, "expired", err, infisical.KindForbidden, "Service token has expired")
		_, err = eng.Authenticate(ctx, tok, "")
		wantErrKind(t, "expired and deleted", err, infisical.KindUnauthorized, "Invalid service token")

		// Deletion takes effect at once.
		_, err = eng.ServiceTokens.Delete(ctx, viewer, data2.ID)
		wantErrKind(t, "viewer deletes", err, infisical.KindPermissionDenied, "")
		if _, err := eng.ServiceTokens.Delete(ctx, user, data2.ID); err != nil {
			t.Fatal(err)
		}
		_, err = eng.Authenticate(ctx, tok2, "")
		wantErrKind(t, "deleted", err, infisical.KindUnauthorized, "Invalid service token")
		_, err = eng.ServiceTokens.Delete(ctx, user, data2.ID)
		wantErrKind(t, "delete twice", err, infisical.KindNotFound, "")
	})
}
