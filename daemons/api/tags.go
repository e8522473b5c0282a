package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerTagRoutes) }

// tagRow is Infisical's tag row plus "name" (= slug), which get responses
// carry and the CLI reads; it is sent everywhere so every response decodes
// the same way.
type tagRow struct {
	ID                 string  `json:"id"`
	Slug               string  `json:"slug"`
	Name               string  `json:"name"`
	Color              *string `json:"color"`
	CreatedAt          isoTime `json:"createdAt"`
	UpdatedAt          isoTime `json:"updatedAt"`
	CreatedBy          *string `json:"createdBy"`
	ProjectID          string  `json:"projectId"`
	CreatedByActorType string  `json:"createdByActorType"`
}

func toTagRow(t *infisical.Tag) tagRow {
	return tagRow{ID: t.ID, Slug: t.Slug, Name: t.Name(), Color: t.Color, CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt),
		CreatedBy: t.CreatedBy, ProjectID: t.ProjectID, CreatedByActorType: t.CreatedByActorType}
}

type tagResponse struct {
	Tag tagRow `json:"tag"`
}

func (s *Server) registerTagRoutes() {
	const tag = "Tags"
	// The same handlers serve the legacy /workspace and the newer /projects
	// paths; both take the project id.
	for _, base := range []string{"/api/v1/workspace/{projectId}/tags", "/api/v1/projects/{projectId}/tags"} {
		s.handle(http.MethodGet, base, authUI, tag, "List a project's tags", s.listTags)
		s.handle(http.MethodPost, base, authUI, tag, "Create a tag", s.createTag)
		s.handle(http.MethodGet, base+"/slug/{tagSlug}", authUI, tag, "Get a tag by slug", s.getTagBySlug)
		s.handle(http.MethodGet, base+"/{tagId}", authUI, tag, "Get a tag by id", s.getTag)
		s.handle(http.MethodPatch, base+"/{tagId}", authUI, tag, "Update a tag", s.updateTag)
		s.handle(http.MethodDelete, base+"/{tagId}", authUI, tag, "Delete a tag", s.deleteTag)
	}
}

func tagProject(rq *request) infisical.ProjectRef {
	return infisical.ProjectRef{ID: rq.path("projectId")}
}

func (s *Server) listTags(rq *request) (any, error) {
	list, err := s.eng.Tags.List(rq.ctx(), rq.actor, tagProject(rq))
	if err != nil {
		return nil, err
	}
	out := struct {
		Tags []tagRow `json:"tags"`
	}{Tags: make([]tagRow, 0, len(list))}
	for _, t := range list {
		out.Tags = append(out.Tags, toTagRow(t))
	}
	return out, nil
}

func (s *Server) getTag(rq *request) (any, error) {
	t, err := s.eng.Tags.Get(rq.ctx(), rq.actor, tagProject(rq), rq.path("tagId"))
	if err != nil {
		return nil, err
	}
	return tagResponse{Tag: toTagRow(t)}, nil
}

func (s *Server) getTagBySlug(rq *request) (any, error) {
	t, err := s.eng.Tags.GetBySlug(rq.ctx(), rq.actor, tagProject(rq), rq.path("tagSlug"))
	if err != nil {
		return nil, err
	}
	return tagResponse{Tag: toTagRow(t)}, nil
}

// tagBody accepts the legacy "name" as the slug when "slug" is absent.
type tagBody struct {
	Slug  *string `json:"slug"`
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

func (b *tagBody) slug() *string {
	if b.Slug != nil && *b.Slug != "" {
		return b.Slug
	}
	if b.Name != nil && *b.Name != "" {
		return b.Name
	}
	return b.Slug
}

func (s *Server) createTag(rq *request) (any, error) {
	var b tagBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	slug := b.slug()
	if slug == nil || *slug == "" {
		return nil, infisical.Invalid("slug", "slug is required")
	}
	if b.Color == nil {
		return nil, infisical.Invalid("color", "color is required (it may be empty)")
	}
	t, err := s.eng.Tags.Create(rq.ctx(), rq.actor, tagProject(rq), infisical.CreateTagInput{Slug: *slug, Color: *b.Color})
	if err != nil {
		return nil, err
	}
	return tagResponse{Tag: toTagRow(t)}, nil
}

func (s *Server) updateTag(rq *request) (any, error) {
	var b tagBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	t, err := s.eng.Tags.Update(rq.ctx(), rq.actor, tagProject(rq), rq.path("tagId"), infisical.UpdateTagInput{Slug: b.slug(), Color: b.Color})
	if err != nil {
		return nil, err
	}
	return tagResponse{Tag: toTagRow(t)}, nil
}

func (s *Server) deleteTag(rq *request) (any, error) {
	t, err := s.eng.Tags.Delete(rq.ctx(), rq.actor, tagProject(rq), rq.path("tagId"))
	if err != nil {
		return nil, err
	}
	return tagResponse{Tag: toTagRow(t)}, nil
}
