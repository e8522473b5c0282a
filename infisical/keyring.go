package infisical

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// keyring holds the unwrapped key hierarchy:
//
//	root key (memory only, wrapped by the RootKey provider in kms_root_config)
//	  └─ organization key   kms_keys.encrypted_key = AEAD(root, key)
//	       ├─ project data key  projects.kms_encrypted_data_key = AEAD-v01(orgKey, key)
//	       │    (or, for a project assigned to an external KMS, the AWS
//	       │     CiphertextBlob of the data key: see kms_external.go)
//	       │    └─ secret values and comments  AEAD-v01(dataKey, plaintext)
//	       ├─ customer-managed key versions  AEAD-v01(orgKey, material)  (cmek.go)
//	       └─ external KMS credentials       AEAD-v01(orgKey, JSON)      (kms_external.go)
//
// Unwrapped organization, project and customer keys are cached (bounded), so
// a secret read costs one AES-GCM open and no key derivation.
//
// The root key can be rotated while servers run (kms_rotate.go). Rotation
// re-wraps the organization keys but keeps their material, so every cache
// below the root stays valid; only the root key itself changes. A server
// learns of a rotation by the root-key invalidation topic (PostgreSQL
// NOTIFY), or lazily when a root-wrapped key does not open, and then
// follows the rotation link (the new root key sealed by the previous one)
// or unwraps the new root key with its provider.
type keyring struct {
	e        *Engine
	provider kms.RootKey

	root      atomic.Pointer[rootKey]
	rootStale atomic.Bool
	rootMu    sync.Mutex // serialises root refreshes

	orgs     *lru.Cache[string, *kms.AEAD]
	projects *lru.Cache[string, *kms.AEAD]
	mu       sync.Mutex // serialises cache fills so one key is unwrapped once

	// Customer-managed keys (cmek.go): key rows (SQLite only, as the folder
	// cache) and unwrapped material by "id|version" (immutable, so cached on
	// every backend).
	cmekRows     *genCache[*store.CustomerKey]
	cmekMaterial *genCache[any]
}

// rootKey is one generation of the root key.
type rootKey struct {
	aead *kms.AEAD
	id   string // kms_root_config.root_key_id ("" before the first rotation)
}

const algAES256GCM = "aes-256-gcm"

// Invalidation topics of the key hierarchy.
const (
	topicRootKey = "kmsroot" // key: "" (the root key was rotated)
	topicCmek    = "cmek"    // key: customer key id
)

func newKeyring(ctx context.Context, e *Engine, provider kms.RootKey) (*keyring, error) {
	k := &keyring{e: e, provider: provider}
	var err error
	if k.orgs, err = lru.New[string, *kms.AEAD](1024); err != nil {
		return nil, err
	}
	if k.projects, err = lru.New[string, *kms.AEAD](e.cfg.DataKeyCacheSize); err != nil {
		return nil, err
	}
	k.cmekRows = newGenCache[*store.CustomerKey](4096)
	k.cmekMaterial = newGenCache[any](e.cfg.DataKeyCacheSize)
	rk, err := k.loadRoot(ctx)
	if err != nil {
		return nil, err
	}
	k.root.Store(rk)
	e.store.Subscribe(k.onInvalidate)
	if !e.store.IsPostgres() {
		// SQLite has no cross-process notifications: a rotation run by
		// `infisical kms rotate-root` in another process is noticed by
		// polling the root key id, well within the default grace period.
		go k.watchRoot(rootPollInterval)
	}
	return k, nil
}

// rootPollInterval is how often a SQLite server checks for a root-key
// rotation made by another process.
const rootPollInterval = 10 * time.Second

func (k *keyring) watchRoot(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-k.e.stop:
			return
		case <-t.C:
			rs, err := k.e.store.Read().GetRootKeyState(context.Background(), false)
			if err == nil && rs.KeyID() != k.root.Load().id {
				k.adoptRotation()
			}
		}
	}
}

// adoptRotation refreshes the root key in the background after a rotation.
func (k *keyring) adoptRotation() {
	select {
	case <-k.e.stop:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _ = k.refreshRoot(ctx, k.e.store.Read(), nil) // failures are logged and retried lazily
}

// onInvalidate reacts to key-hierarchy events, local or from other servers.
func (k *keyring) onInvalidate(ev store.Event) {
	switch ev.Topic {
	case topicRootKey:
		// Adopt the new root key now, while the rotation link is still
		// there (it is dropped after the rotation's grace period).
		k.rootStale.Store(true)
		go k.adoptRotation()
	case topicCmek:
		k.cmekRows.bump(ev.Key)
		k.cmekMaterial.bump(ev.Key)
	case topicAll:
		k.rootStale.Store(true)
		k.cmekRows.bump("")
		k.cmekMaterial.bump("")
	}
}

// loadRoot reads the wrapped root key, creating it on first start.
func (k *keyring) loadRoot(ctx context.Context) (*rootKey, error) {
	q := k.e.store.Write()
	rs, err := q.GetRootKeyState(ctx, false)
	if errors.Is(err, store.ErrNotFound) {
		fresh, err := kms.NewRootKeyMaterial(ctx, k.provider)
		if err != nil {
			return nil, err
		}
		wrapped, err := k.provider.Wrap(ctx, fresh)
		clear(fresh)
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
		rs, err = q.GetRootKeyState(ctx, false)
		if err != nil {
			return nil, fmt.Errorf("read root key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	return k.unwrapRoot(ctx, rs, nil)
}

// unwrapRoot returns the root key stored in rs. A server holding the
// previous root key (cur) follows the rotation link; otherwise the
// configured provider must be the one that wrapped it.
func (k *keyring) unwrapRoot(ctx context.Context, rs *store.RootKeyState, cur *rootKey) (*rootKey, error) {
	var material []byte
	var err error
	switch {
	case cur != nil && rs.PreviousRootKeyID != nil && *rs.PreviousRootKeyID == cur.id && len(rs.PreviousLink) > 0:
		material, err = cur.aead.Open(rs.PreviousLink)
		if err != nil {
			return nil, fmt.Errorf("open root-key rotation link: %w", err)
		}
	case rs.EncryptionStrategy != k.provider.Strategy():
		return nil, fmt.Errorf("the root key is protected by %s but %s is configured: restart with the %s settings (ROOT_KEY_PROVIDER=%s)",
			rs.EncryptionStrategy, k.provider.Strategy(), rs.EncryptionStrategy, kms.ProviderForStrategy(rs.EncryptionStrategy))
	default:
		material, err = k.provider.Unwrap(ctx, rs.EncryptedRootKey)
		if err != nil {
			return nil, fmt.Errorf("unwrap root key with %s (wrong ENCRYPTION_KEY / ROOT_ENCRYPTION_KEY or HSM/KMS key?): %w", k.provider.Strategy(), err)
		}
	}
	defer clear(material)
	if len(material) != kms.KeySize {
		return nil, fmt.Errorf("unwrapped root key has %d bytes", len(material))
	}
	a, err := kms.NewAEAD(material)
	if err != nil {
		return nil, err
	}
	return &rootKey{aead: a, id: rs.KeyID()}, nil
}

// currentRoot returns the root key, first catching up with a rotation this
// server was told about.
func (k *keyring) currentRoot(ctx context.Context, q store.Q) (*rootKey, error) {
	if k.rootStale.Load() {
		if _, err := k.refreshRoot(ctx, q, nil); err != nil {
			return nil, err
		}
	}
	return k.root.Load(), nil
}

// refreshRoot adopts the root key stored in the database (rs, or read
// through q) if it differs from the one in memory. It reports whether the
// root key changed.
func (k *keyring) refreshRoot(ctx context.Context, q store.Q, rs *store.RootKeyState) (bool, error) {
	k.rootMu.Lock()
	defer k.rootMu.Unlock()
	k.rootStale.Store(false)
	if rs == nil {
		var err error
		if rs, err = q.GetRootKeyState(ctx, false); err != nil {
			k.rootStale.Store(true)
			return false, fmt.Errorf("read root key: %w", err)
		}
	}
	cur := k.root.Load()
	if cur != nil && rs.KeyID() == cur.id {
		return false, nil
	}
	next, err := k.unwrapRoot(ctx, rs, cur)
	if err != nil {
		k.rootStale.Store(true)
		k.e.log.Error("the root key was rotated and this server cannot read the new one", "err", err)
		return false, err
	}
	k.root.Store(next)
	k.e.log.Info("picked up the rotated root key", "strategy", rs.EncryptionStrategy)
	return true, nil
}

// newOrgKey creates an organization's key inside q's transaction. The root
// key row is locked first, so the key cannot be wrapped by a root key that a
// concurrent rotation is replacing.
func (k *keyring) newOrgKey(ctx context.Context, q store.Q, orgID string) (string, error) {
	rs, err := q.GetRootKeyState(ctx, true)
	if err != nil {
		return "", fmt.Errorf("lock root key: %w", err)
	}
	if cur := k.root.Load(); cur == nil || rs.KeyID() != cur.id {
		if _, err := k.refreshRoot(ctx, q, rs); err != nil {
			return "", err
		}
	}
	root := k.root.Load()
	material, err := kms.NewKey()
	if err != nil {
		return "", err
	}
	defer clear(material)
	wrapped, err := root.aead.Seal(material)
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
	root, err := k.currentRoot(ctx, q)
	if err != nil {
		return nil, err
	}
	material, err := root.aead.Open(row.EncryptedKey)
	if err != nil {
		// Another process may have rotated the root key before this one
		// heard of it: catch up once and retry.
		changed, rerr := k.refreshRoot(ctx, q, nil)
		if rerr != nil || !changed {
			return nil, fmt.Errorf("unwrap key of organization %s: %w", orgID, err)
		}
		if material, err = k.root.Load().aead.Open(row.EncryptedKey); err != nil {
			return nil, fmt.Errorf("unwrap key of organization %s: %w", orgID, err)
		}
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
	if p.KMSKeyID != nil && *p.KMSKeyID != "" {
		// Wrapped by the organization's external KMS: a network call, made
		// outside the fill lock so one slow KMS does not stall other
		// projects (a concurrent duplicate fill is harmless).
		dk, err := k.e.externalUnwrapDataKey(ctx, q, p)
		if err != nil {
			return nil, err
		}
		a, err := kms.NewAEAD(dk)
		clear(dk)
		if err != nil {
			return nil, err
		}
		k.projects.Add(p.ID, a)
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
