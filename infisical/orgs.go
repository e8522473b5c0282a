package infisical

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/store"
)

// createOrg inserts an organization and its key inside q.
func (e *Engine) createOrg(ctx context.Context, q store.Q, name, slug string) (*store.Organization, error) {
	now := e.now()
	org := &store.Organization{ID: uuid.NewString(), Name: name, Slug: slug, CreatedAt: now, UpdatedAt: now}
	if err := q.Insert(ctx, org); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, BadRequest("An organization with slug '%s' already exists", slug)
		}
		return nil, Internal("create organization", err)
	}
	keyID, err := e.keys.newOrgKey(ctx, q, org.ID)
	if err != nil {
		return nil, Internal("create organization key", err)
	}
	org.KMSKeyID = &keyID
	if err := q.Update(ctx, org); err != nil {
		return nil, Internal("store organization key", err)
	}
	return org, nil
}

// CreateOrganization creates an organization (embedding programs and the
// bootstrap use it; there is no public API for it yet).
func (e *Engine) CreateOrganization(ctx context.Context, name string) (*Organization, error) {
	if name == "" || len(name) > 64 {
		return nil, Invalid("name", "Organization name must be 1 to 64 characters")
	}
	var org *store.Organization
	err := e.store.Tx(ctx, func(q store.Q) error {
		var err error
		org, err = e.createOrg(ctx, q, name, generatedSlug(name, 64))
		return err
	})
	if err != nil {
		return nil, err
	}
	return orgFromRow(org), nil
}

// GetOrganization returns an organization the actor belongs to.
func (e *Engine) GetOrganization(ctx context.Context, actor Actor, orgID string) (*Organization, error) {
	if actor.Type != ActorPlatform && actor.OrgID != orgID {
		return nil, NotFound("Organization with ID '%s' not found", orgID)
	}
	org, err := e.store.Read().GetOrg(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Organization with ID '%s' not found", orgID)
	}
	if err != nil {
		return nil, Internal("load organization", err)
	}
	return orgFromRow(org), nil
}

func orgFromRow(o *store.Organization) *Organization {
	return &Organization{ID: o.ID, Name: o.Name, Slug: o.Slug, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}
