package infisical_test

import (
	"context"
	"sync"
	"testing"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// fastArgon keeps password hashing cheap in tests.
func fastArgon(c *infisical.Config) {
	c.Argon2 = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
}

func TestBootstrap(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng := enginetest.Open(t, b, fastArgon)
		if done, err := eng.Admin.Initialized(ctx); err != nil || done {
			t.Fatalf("fresh instance initialized=%v %v", done, err)
		}
		for _, tc := range []struct {
			name string
			in   infisical.BootstrapInput
			kind infisical.Kind
			msg  string
		}{
			{"bad email", infisical.BootstrapInput{Email: "not-an-email", Password: "long-enough", Organization: "Acme"}, infisical.KindValidation, "email"},
			{"email with name", infisical.BootstrapInput{Email: "A <a@b.co>", Password: "long-enough", Organization: "Acme"}, infisical.KindValidation, "email"},
			{"short password", infisical.BootstrapInput{Email: "a@b.co", Password: "short", Organization: "Acme"}, infisical.KindValidation, "password"},
			{"no org", infisical.BootstrapInput{Email: "a@b.co", Password: "long-enough", Organization: " "}, infisical.KindValidation, "organization"},
		} {
			_, err := eng.Admin.Bootstrap(ctx, tc.in)
			wantErrKind(t, tc.name, err, tc.kind, tc.msg)
		}
		res, err := eng.Admin.Bootstrap(ctx, infisical.BootstrapInput{Email: " Admin@Example.com ", Password: "correct-horse", Organization: "Acme Corp"})
		if err != nil {
			t.Fatal(err)
		}
		if res.User.Email != "admin@example.com" || res.User.Username != "admin@example.com" || !res.User.SuperAdmin ||
			res.Organization.Name != "Acme Corp" || res.Organization.Slug == "" || res.IdentityName != infisical.InstanceAdminIdentityName || res.Token == "" {
			t.Fatalf("bootstrap %+v", res)
		}
		if done, _ := eng.Admin.Initialized(ctx); !done {
			t.Fatal("not initialized after bootstrap")
		}
		var hash string
		if err := eng.Store().DB().NewSelect().Table("users").Column("password_hash").Where("id = ?", res.User.ID).Scan(ctx, &hash); err != nil {
			t.Fatal(err)
		}
		if ok, err := authn.VerifyPassword("correct-horse", hash); err != nil || !ok {
			t.Fatalf("password hash does not verify: %v", err)
		}

		// The identity token administers the new organization.
		a := idAuth(t, eng, res.Token)
		if a.OrgID != res.Organization.ID || a.ID != res.IdentityID {
			t.Fatalf("actor %+v", a)
		}
		p, err := eng.Projects.Create(ctx, a, infisical.CreateProjectInput{Name: "First"})
		if err != nil {
			t.Fatalf("admin identity creates project: %v", err)
		}
		if _, err := eng.Projects.Update(ctx, a, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{}); err != nil {
			t.Fatal(err)
		}
		ident, err := eng.Identities.Get(ctx, a, res.IdentityID)
		if err != nil || ident.Role != "admin" || len(ident.Identity.AuthMethods) != 1 || ident.Identity.AuthMethods[0] != "token-auth" {
			t.Fatalf("admin identity %v %+v", err, ident)
		}

		_, err = eng.Admin.Bootstrap(ctx, infisical.BootstrapInput{Email: "x@example.com", Password: "correct-horse", Organization: "Again"})
		wantErrKind(t, "second bootstrap", err, infisical.KindBadRequest, "Instance has already been set up")
	})
}

func TestBootstrapConcurrent(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng := enginetest.Open(t, b, fastArgon)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = eng.Admin.Bootstrap(ctx, infisical.BootstrapInput{Email: "admin@example.com", Password: "correct-horse", Organization: "Acme"})
			}(i)
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantErrKind(t, "loser", err, infisical.KindBadRequest, "already been set up")
		}
		if ok != 1 {
			t.Fatalf("%d bootstraps succeeded", ok)
		}
		var users, orgs int64
		db := eng.Store().DB()
		if users, _ = db.NewSelect().Table("users").Count(ctx); users != 1 {
			t.Fatalf("%d users", users)
		}
		if orgs, _ = db.NewSelect().Table("organizations").Count(ctx); orgs != 1 {
			t.Fatalf("%d organizations", orgs)
		}
	})
}
