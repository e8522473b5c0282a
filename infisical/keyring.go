package infisical

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// keyring holds the unwrapped key hierarchy:
//
//	root key (memory only, wrapped by the RootKey provider in kms_root_config)
//	  └─ organization key   kms_keys.encrypted_key = AEAD(root, key)
//	       └─ project data key  projects.kms_encrypted_data_key = AEAD-v01(orgKey, key)
//	            └─ secret values and comments  AEAD-v01(dataKey, plaintext)
//
// Unwrapped organization and project keys are cached (bounded), so a secret
// read costs one AES-GCM open and no key derivation.
type keyring struct {
	e        *Engine
	provider kms.RootKey
	root     *kms.AEAD

	orgs     *lru.Cache[string, *kms.AEAD]
	projects *lru.Cache[string, *kms.AEAD]
	mu       sync.Mutex // serialises cache fills so one key is unwrapped once
}

const algAES256GCM = "aes-256-gcm"

func newKeyring(ctx context.Context, e *Engine, provider kms.RootKey) (*keyring, error) {
	k := &keyring{e: e, provider: provider}
	var err error
	if k.orgs, err = lru.New[string, *kms.AEAD](1024); err != nil {
		return nil, err
	}
	if k.projects, err = lru.New[string, *kms.AEAD](e.cfg.DataKeyCacheSize); err != nil {
		return nil, err
	}
	rootKey, err := k.loadRoot(ctx)
	if err != nil {
		return nil, err
	}
	if k.root, err = kms.NewAEAD(rootKey); err != nil {
		return nil, err
	}
	clear(rootKey)
	return k, nil
}

// loadRoot reads the wrapped root key, creating it on first start.
func (k *keyring) loadRoot(ctx context.Context) ([]byte, error) {
	q := k.e.store.Write()
	rc, err := q.GetRootConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		fresh, err := kms.NewKey()
		if err != nil {
			return nil, err
		}
		wrapped, err := k.provider.Wrap(ctx, fresh)
		if err != nil {
			return nil, fmt.Errorf("wrap new root key with %s: %w", k.provider.Strategy(), err)
		}
		now := k.e.now()
		err = q.InsertRootConfigIfAbsent(ctx, &store.RootConfig{ID: store.RootConfigID, EncryptedRootKey: wrapped,
			EncryptionStrategy: k.provider.Strategy(), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return nil, fmt.Errorf("store root key: %w", err)
		}
		k.e.log.Info("generated a new instance root key", "strategy", k.provider.Strategy())
		rc, err = q.GetRootConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("read root key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	if rc.EncryptionStrategy != k.provider.Strategy() {
		return nil, fmt.Errorf("the root key is protected by %s but %s is configured", rc.EncryptionStrategy, k.provider.Strategy())
	}
	key, err := k.provider.Unwrap(ctx, rc.EncryptedRootKey)
	if err != nil {
		return nil, fmt.Errorf("unwrap root key (wrong ENCRYPTION_KEY / ROOT_ENCRYPTION_KEY?): %w", err)
	}
	if len(key) != kms.KeySize {
		return nil, fmt.Errorf("unwrapped root key has %d bytes", len(key))
	}
	return key, nil
}

// newOrgKey creates an organization's key inside q's transaction.
func (k *keyring) newOrgKey(ctx context.Context, q store.Q, orgID string) (string, error) {
	material, err := kms.NewKey()
	if err != nil {
		return "", err
	}
	wrapped, err := k.root.Seal(material)
	if err != nil {
		return "", err
	}
	now := k.e.now()
	row := &store.KMSKey{ID: uuid.NewString(), OrgID: &orgID, Name: "org-default-" + orgID[:8], IsReserved: true,
		Algorithm: algAES256GCM, Version: 1, EncryptedKey: wrapped, CreatedAt: now, UpdatedAt: now}
	if err := q.Insert(ctx, row); err != nil {
		return "", err
	}
	return row.ID, nil
}

// orgKey returns the unwrapped key of an organization. q lets callers read
// inside the transaction that created the organization.
func (k *keyring) orgKey(ctx context.Context, q store.Q, orgID string) (*kms.AEAD, error) {
	if a, ok := k.orgs.Get(orgID); ok {
		return a, nil
	}
	org, err := q.GetOrg(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("load organization %s: %w", orgID, err)
	}
	if org.KMSKeyID == nil {
		return nil, fmt.Errorf("organization %s has no key", orgID)
	}
	row, err := q.GetKMSKey(ctx, *org.KMSKeyID)
	if err != nil {
		return nil, fmt.Errorf("load key of organization %s: %w", orgID, err)
	}
	material, err := k.root.Open(row.EncryptedKey)
	if err != nil {
		return nil, fmt.Errorf("unwrap key of organization %s: %w", orgID, err)
	}
	a, err := kms.NewAEAD(material)
	clear(material)
	if err != nil {
		return nil, err
	}
	k.orgs.Add(orgID, a)
	return a, nil
}

// newProjectDataKey returns a fresh project data key wrapped by the
// organization key.
func (k *keyring) newProjectDataKey(ctx context.Context, q store.Q, orgID string) ([]byte, error) {
	orgKey, err := k.orgKey(ctx, q, orgID)
	if err != nil {
		return nil, err
	}
	dk, err := kms.NewKey()
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	return orgKey.SealVersioned(dk)
}

// projectKey returns the AEAD of a project's data key.
func (k *keyring) projectKey(ctx context.Context, q store.Q, p *store.Project) (*kms.AEAD, error) {
	if a, ok := k.projects.Get(p.ID); ok {
		return a, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.projects.Get(p.ID); ok {
		return a, nil
	}
	orgKey, err := k.orgKey(ctx, q, p.OrgID)
	if err != nil {
		return nil, err
	}
	dk, err := orgKey.OpenVersioned(p.KMSEncryptedDataKey)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of project %s: %w", p.ID, err)
	}
	a, err := kms.NewAEAD(dk)
	clear(dk)
	if err != nil {
		return nil, err
	}
	k.projects.Add(p.ID, a)
	return a, nil
}

func (k *keyring) dropProject(id string) {
	if id == "" {
		k.projects.Purge()
		return
	}
	k.projects.Remove(id)
}
