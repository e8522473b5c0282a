package store

import (
	"context"
	"fmt"
)

// RootConfigID is the fixed id of the single kms_root_config row.
const RootConfigID = "00000000-0000-0000-0000-000000000000"

// GetRootConfig returns the root-key row.
func (q Q) GetRootConfig(ctx context.Context) (*RootConfig, error) {
	var r RootConfig
	err := q.db.NewSelect().Model(&r).Where("id = ?", RootConfigID).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &r, nil
}

// InsertRootConfigIfAbsent inserts r unless a row exists (another server
// may have won the race); the caller re-reads afterwards.
func (q Q) InsertRootConfigIfAbsent(ctx context.Context, r *RootConfig) error {
	_, err := q.db.NewInsert().Model(r).On("CONFLICT (id) DO NOTHING").Exec(ctx)
	return classify(err)
}

// UpdateRootConfig replaces the wrapped root key (rotation).
func (q Q) UpdateRootConfig(ctx context.Context, r *RootConfig) error {
	_, err := q.db.NewUpdate().Model(r).WherePK().Exec(ctx)
	return classify(err)
}

// Insert inserts any row model.
func (q Q) Insert(ctx context.Context, model any) error {
	_, err := q.db.NewInsert().Model(model).Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert %T: %w", model, classify(err))
	}
	return nil
}

// Update writes every column of a row model by primary key.
func (q Q) Update(ctx context.Context, model any) error {
	res, err := q.db.NewUpdate().Model(model).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update %T: %w", model, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete deletes a row model by primary key.
func (q Q) Delete(ctx context.Context, model any) error {
	_, err := q.db.NewDelete().Model(model).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete %T: %w", model, classify(err))
	}
	return nil
}

// GetByID loads a row model by its id column.
func (q Q) GetByID(ctx context.Context, model any, id string) error {
	err := q.db.NewSelect().Model(model).Where("id = ?", id).Limit(1).Scan(ctx)
	return classify(err)
}

// GetKMSKey loads an internal key.
func (q Q) GetKMSKey(ctx context.Context, id string) (*KMSKey, error) {
	var k KMSKey
	if err := q.GetByID(ctx, &k, id); err != nil {
		return nil, err
	}
	return &k, nil
}

// GetOrg loads an organization.
func (q Q) GetOrg(ctx context.Context, id string) (*Organization, error) {
	var o Organization
	if err := q.GetByID(ctx, &o, id); err != nil {
		return nil, err
	}
	return &o, nil
}

// GetOrgBySlug loads an organization by slug.
func (q Q) GetOrgBySlug(ctx context.Context, slug string) (*Organization, error) {
	var o Organization
	err := q.db.NewSelect().Model(&o).Where("slug = ?", slug).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &o, nil
}

// GetProject loads a project by id.
func (q Q) GetProject(ctx context.Context, id string) (*Project, error) {
	var p Project
	if err := q.GetByID(ctx, &p, id); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetProjectBySlug loads a project by (org, slug).
func (q Q) GetProjectBySlug(ctx context.Context, orgID, slug string) (*Project, error) {
	var p Project
	err := q.db.NewSelect().Model(&p).Where("org_id = ? AND slug = ?", orgID, slug).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &p, nil
}

// ListEnvironments returns a project's environments by position.
func (q Q) ListEnvironments(ctx context.Context, projectID string) ([]Environment, error) {
	var out []Environment
	err := q.db.NewSelect().Model(&out).Where("project_id = ?", projectID).Order("position ASC", "created_at ASC").Scan(ctx)
	return out, classify(err)
}

// ListFolders returns every folder of an environment.
func (q Q) ListFolders(ctx context.Context, envID string) ([]Folder, error) {
	var out []Folder
	err := q.db.NewSelect().Model(&out).Where("env_id = ?", envID).Order("name ASC").Scan(ctx)
	return out, classify(err)
}

// OrgRole returns the org role (and custom role id) of a user or identity.
func (q Q) OrgRole(ctx context.Context, orgID, actorType, actorID string) (role string, roleID *string, err error) {
	switch actorType {
	case ActorUser:
		var m OrgMembership
		err = q.db.NewSelect().Model(&m).Where("org_id = ? AND user_id = ?", orgID, actorID).Limit(1).Scan(ctx)
		if err != nil {
			return "", nil, classify(err)
		}
		if !m.IsActive {
			return "", nil, ErrNotFound
		}
		return m.Role, m.RoleID, nil
	case ActorIdentity:
		var m IdentityOrgMembership
		err = q.db.NewSelect().Model(&m).Where("org_id = ? AND identity_id = ?", orgID, actorID).Limit(1).Scan(ctx)
		if err != nil {
			return "", nil, classify(err)
		}
		return m.Role, m.RoleID, nil
	}
	return "", nil, ErrNotFound
}

// MembershipRoles returns the roles an actor holds in a project through
// direct memberships of the given actor types/ids (user or identity, and any
// groups the caller resolved).
func (q Q) MembershipRoles(ctx context.Context, projectID string, actors map[string][]string) ([]MembershipRole, error) {
	var out []MembershipRole
	sq := q.db.NewSelect().Model(&out).
		Join("JOIN project_memberships AS pm ON pm.id = membership_role.membership_id").
		Where("pm.project_id = ?", projectID)
	sq = sq.WhereGroup(" AND ", func(g *selectQuery) *selectQuery {
		for typ, ids := range actors {
			if len(ids) == 0 {
				continue
			}
			g = g.WhereOr("(pm.actor_type = ? AND pm.actor_id IN (?))", typ, bunIn(ids))
		}
		return g
	})
	err := sq.Scan(ctx)
	return out, classify(err)
}

// ProjectIDsOfOrg lists every project id of an organization.
func (q Q) ProjectIDsOfOrg(ctx context.Context, orgID string) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*Project)(nil)).Column("id").Where("org_id = ?", orgID).Order("created_at ASC").Scan(ctx, &ids)
	return ids, classify(err)
}

// ProjectIDsOfMember lists the projects of orgID where an actor has a
// membership.
func (q Q) ProjectIDsOfMember(ctx context.Context, orgID, actorType, actorID string) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*Project)(nil)).Column("project.id").
		Join("JOIN project_memberships AS pm ON pm.project_id = project.id").
		Where("project.org_id = ? AND pm.actor_type = ? AND pm.actor_id = ?", orgID, actorType, actorID).
		Order("project.created_at ASC").Scan(ctx, &ids)
	return ids, classify(err)
}
