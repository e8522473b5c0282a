package infisical

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Tag is a project-scoped label for secrets, addressed by slug in filters.
// Infisical derives a tag's "name" from its slug.
type Tag struct {
	ID        string
	ProjectID string
	Slug      string
	// Color is nil when never set; "" is a valid color (the CLI creates
	// tags with color "").
	Color *string
	// CreatedBy is the user or identity id of the creator (nil for the
	// platform actor and for service tokens).
	CreatedBy          *string
	CreatedByActorType string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Name returns the tag's display name, which Infisical defines as its slug.
func (t *Tag) Name() string { return t.Slug }

func tagFromRow(r *store.Tag) *Tag {
	return &Tag{ID: r.ID, ProjectID: r.ProjectID, Slug: r.Slug, Color: r.Color, CreatedBy: r.CreatedBy,
		CreatedByActorType: r.CreatedByActorType, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// maxTagSlugLen bounds tag slugs, as upstream does.
const maxTagSlugLen = 64

func validateTagSlug(slug string) error {
	if slug == "" {
		return Invalid("slug", "slug is required")
	}
	if !validSlug(slug, 1, maxTagSlugLen) {
		return Invalid("slug", "slug must be at most %d lowercase letters, digits and single hyphens or underscores", maxTagSlugLen)
	}
	return nil
}

// CreateTagInput is the body of a tag create.
type CreateTagInput struct {
	Slug  string
	Color string
}

// UpdateTagInput holds the fields of a tag update; nil leaves a field as it
// is.
type UpdateTagInput struct {
	Slug  *string
	Color *string
}

// tagProject resolves the project and checks action on the tags subject.
func (s *TagService) tagProject(ctx context.Context, actor Actor, ref ProjectRef, action string) (*projectMeta, error) {
	m, set, err := s.e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(action, permission.SubjectTags, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// List returns the project's tags ordered by slug.
func (s *TagService) List(ctx context.Context, actor Actor, ref ProjectRef) ([]*Tag, error) {
	m, err := s.tagProject(ctx, actor, ref, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, err := s.e.store.Read().ListTags(ctx, m.project.ID)
	if err != nil {
		return nil, Internal("list tags", err)
	}
	// Byte order, not the database's collation, so that both backends (and
	// hence ETags) agree.
	sort.Slice(rows, func(i, j int) bool { return rows[i].Slug < rows[j].Slug })
	out := make([]*Tag, 0, len(rows))
	for i := range rows {
		out = append(out, tagFromRow(&rows[i]))
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-tags", ProjectID: m.project.ID, Metadata: map[string]any{"numberOfTags": len(out)}})
	return out, nil
}

// loadTag loads a tag of the project by id.
func loadTag(ctx context.Context, q store.Q, projectID, tagID string) (*store.Tag, error) {
	row, err := q.GetTag(ctx, projectID, tagID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Tag with ID '%s' not found", tagID)
	}
	if err != nil {
		return nil, Internal("load tag", err)
	}
	return row, nil
}

// Get returns one tag by id.
func (s *TagService) Get(ctx context.Context, actor Actor, ref ProjectRef, tagID string) (*Tag, error) {
	m, err := s.tagProject(ctx, actor, ref, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	row, err := loadTag(ctx, s.e.store.Read(), m.project.ID, tagID)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-tag", ProjectID: m.project.ID, Metadata: map[string]any{"tagId": row.ID, "slug": row.Slug}})
	return tagFromRow(row), nil
}

// GetBySlug returns one tag by slug; a missing tag is a not-found error
// (the CLI relies on it to decide to create the tag).
func (s *TagService) GetBySlug(ctx context.Context, actor Actor, ref ProjectRef, slug string) (*Tag, error) {
	m, err := s.tagProject(ctx, actor, ref, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	row, err := s.e.store.Read().GetTagBySlug(ctx, m.project.ID, strings.TrimSpace(slug))
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Tag with slug '%s' not found", slug)
	}
	if err != nil {
		return nil, Internal("load tag", err)
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-tag", ProjectID: m.project.ID, Metadata: map[string]any{"tagId": row.ID, "slug": row.Slug}})
	return tagFromRow(row), nil
}

// Create adds a tag. A slug already used in the project is a bad request.
func (s *TagService) Create(ctx context.Context, actor Actor, ref ProjectRef, in CreateTagInput) (*Tag, error) {
	slug := strings.TrimSpace(in.Slug)
	if err := validateTagSlug(slug); err != nil {
		return nil, err
	}
	if len(in.Color) > 64 {
		return nil, Invalid("color", "color must be at most 64 characters")
	}
	m, err := s.tagProject(ctx, actor, ref, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	now := s.e.now()
	color := in.Color
	row := &store.Tag{ID: uuid.NewString(), ProjectID: m.project.ID, Slug: slug, Color: &color,
		CreatedByActorType: string(actor.Type), CreatedAt: now, UpdatedAt: now}
	if actor.Type == ActorUser || actor.Type == ActorIdentity {
		id := actor.ID
		row.CreatedBy = &id
	}
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		if _, err := q.GetTagBySlug(ctx, m.project.ID, slug); err == nil {
			return BadRequest("Tag with slug '%s' already exists", slug)
		} else if !errors.Is(err, store.ErrNotFound) {
			return Internal("check tag slug", err)
		}
		if err := q.Insert(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("Tag with slug '%s' already exists", slug)
			}
			return Internal("create tag", err)
		}
		return s.e.audit(ctx, q, actor, AuditEvent{Type: "create-tag", ProjectID: m.project.ID,
			Metadata: map[string]any{"tagId": row.ID, "slug": row.Slug, "color": color}})
	})
	if err != nil {
		return nil, err
	}
	return tagFromRow(row), nil
}

// Update changes a tag's slug and/or color.
func (s *TagService) Update(ctx context.Context, actor Actor, ref ProjectRef, tagID string, in UpdateTagInput) (*Tag, error) {
	var slug string
	if in.Slug != nil {
		slug = strings.TrimSpace(*in.Slug)
		if err := validateTagSlug(slug); err != nil {
			return nil, err
		}
	}
	if in.Color != nil && len(*in.Color) > 64 {
		return nil, Invalid("color", "color must be at most 64 characters")
	}
	m, err := s.tagProject(ctx, actor, ref, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	var row *store.Tag
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		var err error
		if row, err = loadTag(ctx, q, m.project.ID, tagID); err != nil {
			return err
		}
		if in.Slug != nil && slug != row.Slug {
			if other, err := q.GetTagBySlug(ctx, m.project.ID, slug); err == nil && other.ID != row.ID {
				return BadRequest("Tag with slug '%s' already exists", slug)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return Internal("check tag slug", err)
			}
			row.Slug = slug
		}
		if in.Color != nil {
			c := *in.Color
			row.Color = &c
		}
		row.UpdatedAt = s.e.now()
		if err := q.Update(ctx, row); err != nil {
			if isDuplicate(err) {
				return BadRequest("Tag with slug '%s' already exists", slug)
			}
			return Internal("update tag", err)
		}
		// Secrets carry their tags' slugs; drop anything cached about them.
		q.Invalidate(topicProject, m.project.ID)
		return s.e.audit(ctx, q, actor, AuditEvent{Type: "update-tag", ProjectID: m.project.ID,
			Metadata: map[string]any{"tagId": row.ID, "slug": row.Slug, "color": row.Color}})
	})
	if err != nil {
		return nil, err
	}
	return tagFromRow(row), nil
}

// Delete removes a tag; it is detached from every secret.
func (s *TagService) Delete(ctx context.Context, actor Actor, ref ProjectRef, tagID string) (*Tag, error) {
	m, err := s.tagProject(ctx, actor, ref, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	var row *store.Tag
	err = s.e.store.Tx(ctx, func(q store.Q) error {
		var err error
		if row, err = loadTag(ctx, q, m.project.ID, tagID); err != nil {
			return err
		}
		// Links go by ON DELETE CASCADE in the same statement.
		if err := q.Delete(ctx, row); err != nil {
			return Internal("delete tag", err)
		}
		q.Invalidate(topicProject, m.project.ID)
		return s.e.audit(ctx, q, actor, AuditEvent{Type: "delete-tag", ProjectID: m.project.ID,
			Metadata: map[string]any{"tagId": row.ID, "slug": row.Slug}})
	})
	if err != nil {
		return nil, err
	}
	return tagFromRow(row), nil
}
