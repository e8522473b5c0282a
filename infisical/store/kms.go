package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Key management rows and queries (root-key rotation, customer-managed keys,
// external KMS). Tables come from 20261129000901_kms.go.

// RootKeyState is the kms_root_config row with the rotation columns.
type RootKeyState struct {
	bun.BaseModel      `bun:"table:kms_root_config"`
	ID                 string    `bun:"id,pk"`
	EncryptedRootKey   []byte    `bun:"encrypted_root_key"`
	EncryptionStrategy string    `bun:"encryption_strategy"`
	RootKeyID          *string   `bun:"root_key_id"`
	PreviousRootKeyID  *string   `bun:"previous_root_key_id"`
	PreviousLink       []byte    `bun:"previous_link"`
	CreatedAt          time.Time `bun:"created_at"`
	UpdatedAt          time.Time `bun:"updated_at"`
}

// KeyID returns the root key's id ("" for a root key created before
// rotation existed).
func (r *RootKeyState) KeyID() string {
	if r.RootKeyID == nil {
		return ""
	}
	return *r.RootKeyID
}

// GetRootKeyState reads the root-key row. With forUpdate (inside a
// transaction) the row is locked on PostgreSQL until commit, so root
// rotation and the creation of root-wrapped keys are serialised; SQLite
// transactions are already exclusive.
func (q Q) GetRootKeyState(ctx context.Context, forUpdate bool) (*RootKeyState, error) {
	var r RootKeyState
	sel := q.db.NewSelect().Model(&r).Where("id = ?", RootConfigID)
	if forUpdate && q.s.pg {
		sel = sel.For("UPDATE")
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, classify(err)
	}
	return &r, nil
}

// UpdateRootKeyState writes the whole root-key row.
func (q Q) UpdateRootKeyState(ctx context.Context, r *RootKeyState) error {
	res, err := q.db.NewUpdate().Model(r).WherePK().Exec(ctx)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ClearRootKeyLink drops the rotation link if rootKeyID is still current.
func (q Q) ClearRootKeyLink(ctx context.Context, rootKeyID string, now time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*RootKeyState)(nil)).
		Set("previous_link = NULL").Set("previous_root_key_id = NULL").Set("updated_at = ?", now).
		Where("id = ? AND root_key_id = ? AND previous_link IS NOT NULL", RootConfigID, rootKeyID).Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RootWrappedKeys returns every internal key wrapped directly by the root
// key (organization keys: reserved and not bound to a project).
func (q Q) RootWrappedKeys(ctx context.Context) ([]KMSKey, error) {
	var out []KMSKey
	err := q.db.NewSelect().Model(&out).Where("is_reserved = ? AND project_id IS NULL", true).Order("id ASC").Scan(ctx)
	return out, classify(err)
}

// SetKMSKeyMaterial replaces the wrapped material of an internal key.
func (q Q) SetKMSKeyMaterial(ctx context.Context, id string, wrapped []byte, now time.Time) error {
	res, err := q.db.NewUpdate().Model((*KMSKey)(nil)).Set("encrypted_key = ?", wrapped).Set("updated_at = ?", now).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CustomerKey is a customer-managed key (cmek); its material lives in
// CustomerKeyVersion rows.
type CustomerKey struct {
	bun.BaseModel `bun:"table:kms_customer_keys"`
	ID            string    `bun:"id,pk"`
	OrgID         string    `bun:"org_id"`
	ProjectID     string    `bun:"project_id"`
	Name          string    `bun:"name"`
	Description   *string   `bun:"description"`
	IsDisabled    bool      `bun:"is_disabled"`
	KeyUsage      string    `bun:"key_usage"`
	Algorithm     string    `bun:"algorithm"`
	Version       int       `bun:"version"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// CustomerKeyVersion is one version of a customer key's material, wrapped by
// the organization key.
type CustomerKeyVersion struct {
	bun.BaseModel `bun:"table:kms_customer_key_versions"`
	KeyID         string    `bun:"key_id,pk"`
	Version       int       `bun:"version,pk"`
	EncryptedKey  []byte    `bun:"encrypted_key"`
	CreatedAt     time.Time `bun:"created_at"`
}

// GetCustomerKey loads a customer key by id.
func (q Q) GetCustomerKey(ctx context.Context, id string) (*CustomerKey, error) {
	var k CustomerKey
	if err := q.GetByID(ctx, &k, id); err != nil {
		return nil, err
	}
	return &k, nil
}

// GetCustomerKeyByName loads a customer key by (project, name).
func (q Q) GetCustomerKeyByName(ctx context.Context, projectID, name string) (*CustomerKey, error) {
	var k CustomerKey
	err := q.db.NewSelect().Model(&k).Where("project_id = ? AND name = ?", projectID, name).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &k, nil
}

// CustomerKeyFilter selects a page of a project's customer keys.
type CustomerKeyFilter struct {
	ProjectID string
	Search    string // case-insensitive substring of the name
	Offset    int
	Limit     int
	Desc      bool
}

// ListCustomerKeys returns a page of keys ordered by name and the total
// number of matching keys.
func (q Q) ListCustomerKeys(ctx context.Context, f CustomerKeyFilter) ([]CustomerKey, int, error) {
	out := []CustomerKey{}
	sel := q.db.NewSelect().Model(&out).Where("project_id = ?", f.ProjectID)
	if f.Search != "" {
		sel = sel.Where("LOWER(name) LIKE ? ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.Search))+"%")
	}
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	sel = sel.OrderExpr("name " + dir).OrderExpr("id " + dir).Offset(int64(f.Offset)).Limit(int64(f.Limit))
	total, err := sel.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, classify(err)
	}
	return out, int(total), nil
}

// GetCustomerKeyVersion loads one version of a key's material.
func (q Q) GetCustomerKeyVersion(ctx context.Context, keyID string, version int) (*CustomerKeyVersion, error) {
	var v CustomerKeyVersion
	err := q.db.NewSelect().Model(&v).Where("key_id = ? AND version = ?", keyID, version).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &v, nil
}

// ListCustomerKeyVersions returns every version of a key, newest first.
func (q Q) ListCustomerKeyVersions(ctx context.Context, keyID string) ([]CustomerKeyVersion, error) {
	var out []CustomerKeyVersion
	err := q.db.NewSelect().Model(&out).Where("key_id = ?", keyID).Order("version DESC").Scan(ctx)
	return out, classify(err)
}

// BumpCustomerKeyVersion moves a key from version from to from+1
// (optimistic: it fails with ErrNotFound when another rotation won).
func (q Q) BumpCustomerKeyVersion(ctx context.Context, keyID string, from int, now time.Time) error {
	res, err := q.db.NewUpdate().Model((*CustomerKey)(nil)).Set("version = ?", from+1).Set("updated_at = ?", now).
		Where("id = ? AND version = ?", keyID, from).Exec(ctx)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ExternalKMS is an organization's external KMS (AWS KMS); its provider
// inputs (credentials) are sealed with the organization key.
type ExternalKMS struct {
	bun.BaseModel           `bun:"table:external_kms"`
	ID                      string    `bun:"id,pk"`
	OrgID                   string    `bun:"org_id"`
	Name                    string    `bun:"name"`
	Description             *string   `bun:"description"`
	Provider                string    `bun:"provider"`
	Status                  string    `bun:"status"`
	StatusDetails           *string   `bun:"status_details"`
	IsDisabled              bool      `bun:"is_disabled"`
	EncryptedProviderInputs []byte    `bun:"encrypted_provider_inputs"`
	CreatedAt               time.Time `bun:"created_at"`
	UpdatedAt               time.Time `bun:"updated_at"`
}

// GetExternalKMS loads an external KMS by id.
func (q Q) GetExternalKMS(ctx context.Context, id string) (*ExternalKMS, error) {
	var k ExternalKMS
	if err := q.GetByID(ctx, &k, id); err != nil {
		return nil, err
	}
	return &k, nil
}

// GetExternalKMSByName loads an external KMS by (org, name).
func (q Q) GetExternalKMSByName(ctx context.Context, orgID, name string) (*ExternalKMS, error) {
	var k ExternalKMS
	err := q.db.NewSelect().Model(&k).Where("org_id = ? AND name = ?", orgID, name).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &k, nil
}

// ListExternalKMS lists an organization's external KMS configurations.
func (q Q) ListExternalKMS(ctx context.Context, orgID string) ([]ExternalKMS, error) {
	out := []ExternalKMS{}
	err := q.db.NewSelect().Model(&out).Where("org_id = ?", orgID).Order("created_at ASC", "id ASC").Scan(ctx)
	return out, classify(err)
}

// ProjectsUsingKMS returns the ids of projects whose data key is wrapped by
// the given key.
func (q Q) ProjectsUsingKMS(ctx context.Context, kmsKeyID string) ([]string, error) {
	var ids []string
	err := q.db.NewSelect().Model((*Project)(nil)).Column("id").Where("kms_key_id = ?", kmsKeyID).Order("id ASC").Scan(ctx, &ids)
	return ids, classify(err)
}

// SetProjectDataKey records which key wraps a project's data key (nil: the
// organization key) and the wrapped data key.
func (q Q) SetProjectDataKey(ctx context.Context, projectID string, kmsKeyID *string, wrapped []byte, now time.Time) error {
	res, err := q.db.NewUpdate().Model((*Project)(nil)).Set("kms_key_id = ?", kmsKeyID).
		Set("kms_encrypted_data_key = ?", wrapped).Set("updated_at = ?", now).Where("id = ?", projectID).Exec(ctx)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
