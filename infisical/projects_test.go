package infisical_test

import (
	"context"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func TestProjectLifecycle(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		eng := enginetest.Open(t, b)
		org := enginetest.Org(t, eng, "Acme")
		admin := infisical.Platform(org.ID)
		p, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "Backend API"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Environments) != 3 || p.Environments[0].Slug != "dev" || p.Environments[2].Slug != "prod" {
			t.Fatalf("environments: %+v", p.Environments)
		}
		if p.Slug == "" || p.Version != 3 {
			t.Fatalf("project %+v", p)
		}
		// duplicate slug
		if _, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "x", Slug: p.Slug}); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("duplicate slug: %v", err)
		}
		pos := 1
		env, err := eng.Environments.Create(ctx, admin, infisical.ProjectRef{ID: p.ID}, infisical.CreateEnvironmentInput{Name: "QA", Slug: "qa", Position: &pos})
		if err != nil {
			t.Fatal(err)
		}
		got, err := eng.Projects.Get(ctx, admin, infisical.ProjectRef{Slug: p.Slug})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Environments) != 4 || got.Environments[0].ID != env.ID || got.Environments[1].Slug != "dev" || got.Environments[3].Position != 4 {
			t.Fatalf("after insert at 1: %+v", got.Environments)
		}
		if _, err := eng.Environments.Delete(ctx, admin, infisical.ProjectRef{ID: p.ID}, env.ID); err != nil {
			t.Fatal(err)
		}
		prot := true
		if _, err := eng.Projects.Update(ctx, admin, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{HasDeleteProtection: &prot}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Projects.Delete(ctx, admin, infisical.ProjectRef{ID: p.ID}); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("delete protected: %v", err)
		}
		prot = false
		if _, err := eng.Projects.Update(ctx, admin, infisical.ProjectRef{ID: p.ID}, infisical.UpdateProjectInput{HasDeleteProtection: &prot}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Projects.Delete(ctx, admin, infisical.ProjectRef{ID: p.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Projects.Get(ctx, admin, infisical.ProjectRef{ID: p.ID}); !infisical.IsNotFound(err) {
			t.Fatalf("after delete: %v", err)
		}
	})
}
