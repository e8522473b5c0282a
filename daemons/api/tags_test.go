package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical/enginetest"
)

var tagRowKeys = []string{"id", "slug", "name", "color", "createdAt", "updatedAt", "createdBy", "projectId", "createdByActorType"}

type tagJSON struct {
	ID                 string  `json:"id"`
	Slug               string  `json:"slug"`
	Name               string  `json:"name"`
	Color              *string `json:"color"`
	CreatedBy          *string `json:"createdBy"`
	ProjectID          string  `json:"projectId"`
	CreatedByActorType string  `json:"createdByActorType"`
}

func TestTagRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx := newAreaFixture(t, b)
		pid, tok := fx.project.ID, fx.token
		for _, base := range []string{"/api/v1/workspace/" + pid + "/tags", "/api/v1/projects/" + pid + "/tags"} {
			t.Run(strings.Split(base, "/")[3], func(t *testing.T) {
				// The CLI's get-or-create: 404 by slug, then create with color "".
				code, raw, _ := fx.do("GET", base+"/slug/backend", tok, nil)
				expectError(t, "missing slug", code, raw, 404, "NotFound", "")
				var created struct {
					Tag json.RawMessage `json:"tag"`
				}
				fx.must("POST", base, tok, map[string]any{"slug": "backend", "color": ""}, &created)
				wantKeys(t, "create", created.Tag, tagRowKeys...)
				var tag tagJSON
				_ = json.Unmarshal(created.Tag, &tag)
				if tag.Slug != "backend" || tag.Name != "backend" || tag.Color == nil || *tag.Color != "" || tag.ProjectID != pid ||
					tag.CreatedByActorType != "identity" || tag.CreatedBy == nil || *tag.CreatedBy == "" {
					t.Fatalf("created %s", created.Tag)
				}
				var got struct{ Tag tagJSON }
				fx.must("GET", base+"/slug/backend", tok, nil, &got)
				if got.Tag.ID != tag.ID || got.Tag.Name != "backend" {
					t.Fatalf("by slug %+v", got.Tag)
				}
				fx.must("GET", base+"/"+tag.ID, tok, nil, &got)
				if got.Tag.ID != tag.ID {
					t.Fatalf("by id %+v", got.Tag)
				}
				// Legacy body: name instead of slug.
				var legacy struct{ Tag tagJSON }
				fx.must("POST", base, tok, map[string]any{"name": "alpha", "color": "#123456"}, &legacy)
				if legacy.Tag.Slug != "alpha" || *legacy.Tag.Color != "#123456" {
					t.Fatalf("legacy create %+v", legacy.Tag)
				}
				var list struct {
					Tags []json.RawMessage `json:"tags"`
				}
				fx.must("GET", base, tok, nil, &list)
				if len(list.Tags) != 2 {
					t.Fatalf("list %d", len(list.Tags))
				}
				wantKeys(t, "list row", list.Tags[0], tagRowKeys...)
				var first tagJSON
				_ = json.Unmarshal(list.Tags[0], &first)
				if first.Slug != "alpha" {
					t.Fatalf("list order: %s first", first.Slug)
				}

				errs := []struct {
					name, method, path string
					body               any
					code               int
					errName, field     string
				}{
					{"duplicate", "POST", base, map[string]any{"slug": "backend", "color": "red"}, 400, "BadRequest", ""},
					{"no slug", "POST", base, map[string]any{"color": "red"}, 422, "ValidationFailure", "slug"},
					{"no color", "POST", base, map[string]any{"slug": "x"}, 422, "ValidationFailure", "color"},
					{"bad slug", "POST", base, map[string]any{"slug": "Not A Slug", "color": ""}, 422, "ValidationFailure", "slug"},
					{"slug type", "POST", base, map[string]any{"slug": 1, "color": ""}, 422, "ValidationFailure", "slug"},
					{"update clash", "PATCH", base + "/" + tag.ID, map[string]any{"slug": "alpha", "color": ""}, 400, "BadRequest", ""},
					{"update bad", "PATCH", base + "/" + tag.ID, map[string]any{"slug": "-x-", "color": ""}, 422, "ValidationFailure", "slug"},
					{"update unknown", "PATCH", base + "/00000000-0000-4000-8000-000000000000", map[string]any{"slug": "y", "color": ""}, 404, "NotFound", ""},
					{"get unknown", "GET", base + "/00000000-0000-4000-8000-000000000000", nil, 404, "NotFound", ""},
					{"unknown project", "GET", "/api/v1/projects/00000000-0000-4000-8000-000000000000/tags", nil, 404, "NotFound", ""},
				}
				for _, tc := range errs {
					code, raw, _ := fx.do(tc.method, tc.path, tok, tc.body)
					expectError(t, tc.name, code, raw, tc.code, tc.errName, tc.field)
				}

				var upd struct{ Tag tagJSON }
				fx.must("PATCH", base+"/"+tag.ID, tok, map[string]any{"slug": "backend-2", "color": "#abcdef"}, &upd)
				if upd.Tag.Slug != "backend-2" || upd.Tag.Name != "backend-2" || *upd.Tag.Color != "#abcdef" {
					t.Fatalf("update %+v", upd.Tag)
				}
				var del struct{ Tag tagJSON }
				for _, id := range []string{tag.ID, legacy.Tag.ID} {
					fx.must("DELETE", base+"/"+id, tok, nil, &del)
					if del.Tag.ID != id {
						t.Fatalf("delete %+v", del.Tag)
					}
				}
				code, raw, _ = fx.do("DELETE", base+"/"+tag.ID, tok, nil)
				expectError(t, "delete twice", code, raw, 404, "NotFound", "")
			})
		}

		// A viewer reads tags but cannot create them.
		viewer := fx.roleToken(t, "viewer")
		fx.must("GET", "/api/v1/projects/"+pid+"/tags", viewer, nil, nil)
		code, raw, _ := fx.do("POST", "/api/v1/projects/"+pid+"/tags", viewer, map[string]any{"slug": "v", "color": ""})
		expectError(t, "viewer create", code, raw, 403, "PermissionDenied", "")
		// The project-by-slug alias still answers beside the tag routes.
		code, raw, _ = fx.do("GET", "/api/v1/projects/slug/"+fx.project.Slug, tok, nil)
		if code != http.StatusOK {
			t.Fatalf("project by slug: %d %s", code, raw)
		}
	})
}
