package infisical_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/store"
)

func TestTagLifecycle(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newFolderFixture(t, b)
		ctx, eng := fx.ctx, fx.eng
		tags := eng.Tags

		list, err := tags.List(ctx, fx.actor, fx.ref)
		if err != nil || len(list) != 0 {
			t.Fatalf("initial list %+v %v", list, err)
		}
		red, err := tags.Create(ctx, fx.actor, fx.ref, infisical.CreateTagInput{Slug: "prod-only", Color: "#ff0000"})
		if err != nil {
			t.Fatal(err)
		}
		if red.Slug != "prod-only" || red.Name() != "prod-only" || red.Color == nil || *red.Color != "#ff0000" ||
			red.ProjectID != fx.p.ID || red.CreatedByActorType != "platform" || red.CreatedBy != nil {
			t.Fatalf("created %+v", red)
		}
		// The CLI creates tags with an empty color.
		blank, err := tags.Create(ctx, fx.actor, infisical.ProjectRef{Slug: fx.p.Slug}, infisical.CreateTagInput{Slug: "a-tag"})
		if err != nil || blank.Color == nil || *blank.Color != "" {
			t.Fatalf("blank color %+v %v", blank, err)
		}

		list, err = tags.List(ctx, fx.actor, fx.ref)
		if err != nil || len(list) != 2 || list[0].Slug != "a-tag" || list[1].Slug != "prod-only" {
			t.Fatalf("list %+v %v", list, err)
		}
		got, err := tags.Get(ctx, fx.actor, fx.ref, red.ID)
		if err != nil || got.ID != red.ID {
			t.Fatalf("get %+v %v", got, err)
		}
		got, err = tags.GetBySlug(ctx, fx.actor, fx.ref, "a-tag")
		if err != nil || got.ID != blank.ID {
			t.Fatalf("get by slug %+v %v", got, err)
		}

		long := strings.Repeat("a", 65)
		createErrs := []struct {
			name  string
			in    infisical.CreateTagInput
			kind  infisical.Kind
			field string
		}{
			{"duplicate", infisical.CreateTagInput{Slug: "prod-only"}, infisical.KindBadRequest, ""},
			{"empty slug", infisical.CreateTagInput{}, infisical.KindValidation, "slug"},
			{"upper case", infisical.CreateTagInput{Slug: "Prod"}, infisical.KindValidation, "slug"},
			{"spaces", infisical.CreateTagInput{Slug: "a b"}, infisical.KindValidation, "slug"},
			{"too long", infisical.CreateTagInput{Slug: long}, infisical.KindValidation, "slug"},
			{"long color", infisical.CreateTagInput{Slug: "ok", Color: long}, infisical.KindValidation, "color"},
		}
		for _, tc := range createErrs {
			_, err := tags.Create(ctx, fx.actor, fx.ref, tc.in)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		}

		newSlug, newColor := "release", "#00ff00"
		upd, err := tags.Update(ctx, fx.actor, fx.ref, red.ID, infisical.UpdateTagInput{Slug: &newSlug, Color: &newColor})
		if err != nil || upd.Slug != "release" || *upd.Color != "#00ff00" || !upd.CreatedAt.Equal(red.CreatedAt) {
			t.Fatalf("update %+v %v", upd, err)
		}
		onlyColor := "blue"
		upd, err = tags.Update(ctx, fx.actor, fx.ref, red.ID, infisical.UpdateTagInput{Color: &onlyColor})
		if err != nil || upd.Slug != "release" || *upd.Color != "blue" {
			t.Fatalf("color-only update %+v %v", upd, err)
		}
		taken, bad := "a-tag", "Not OK"
		_, err = tags.Update(ctx, fx.actor, fx.ref, red.ID, infisical.UpdateTagInput{Slug: &taken})
		wantKind(t, "update to taken slug", err, infisical.KindBadRequest, "")
		_, err = tags.Update(ctx, fx.actor, fx.ref, red.ID, infisical.UpdateTagInput{Slug: &bad})
		wantKind(t, "update bad slug", err, infisical.KindValidation, "slug")
		_, err = tags.Update(ctx, fx.actor, fx.ref, uuid.NewString(), infisical.UpdateTagInput{Color: &onlyColor})
		wantKind(t, "update unknown", err, infisical.KindNotFound, "")
		if _, err := tags.GetBySlug(ctx, fx.actor, fx.ref, "prod-only"); !infisical.IsNotFound(err) {
			t.Fatalf("old slug still found: %v", err)
		}

		// Deleting a tag detaches it from secrets.
		f := fx.mkdir(t, "dev", "/", "tagged")
		sid := insertSecret(t, eng, f.ID, "K")
		if err := eng.Store().Write().Insert(ctx, &store.SecretTagLink{SecretID: sid, TagID: red.ID}); err != nil {
			t.Fatal(err)
		}
		del, err := tags.Delete(ctx, fx.actor, fx.ref, red.ID)
		if err != nil || del.ID != red.ID || del.Slug != "release" {
			t.Fatalf("delete %+v %v", del, err)
		}
		if n := countRows(t, eng, "secret_tag_links", "tag_id", []string{red.ID}); n != 0 {
			t.Fatalf("%d links left", n)
		}
		_, err = tags.Get(ctx, fx.actor, fx.ref, red.ID)
		wantKind(t, "get deleted", err, infisical.KindNotFound, "")
		_, err = tags.Delete(ctx, fx.actor, fx.ref, red.ID)
		wantKind(t, "delete twice", err, infisical.KindNotFound, "")

		// Tags are per project: another project may reuse the slug and
		// cannot see this project's tags.
		p2, err := eng.Projects.Create(ctx, fx.actor, infisical.CreateProjectInput{OrgID: fx.org.ID, Name: "Second"})
		if err != nil {
			t.Fatal(err)
		}
		ref2 := infisical.ProjectRef{ID: p2.ID}
		if _, err := tags.Create(ctx, fx.actor, ref2, infisical.CreateTagInput{Slug: "a-tag"}); err != nil {
			t.Fatalf("same slug in another project: %v", err)
		}
		_, err = tags.Get(ctx, fx.actor, ref2, blank.ID)
		wantKind(t, "get across projects", err, infisical.KindNotFound, "")
		_, err = tags.Delete(ctx, fx.actor, ref2, blank.ID)
		wantKind(t, "delete across projects", err, infisical.KindNotFound, "")
	})
}
