package infisical

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// Customer-managed keys ("cmek"): keys that live in a project and are used
// through the API to encrypt/decrypt (AES-GCM) or sign/verify (RSA, ECDSA)
// without ever leaving the server. Each key has versions: rotation adds a
// version, new ciphertexts and signatures use the newest one, and a
// ciphertext names the version that made it (kms/versions.go). Key material
// is stored only wrapped by the organization key.

// CmekService manages customer-managed keys.
type CmekService struct{ e *Engine }

// Cmek returns the customer-managed key service.
func (e *Engine) Cmek() *CmekService { return &CmekService{e: e} }

// CustomerKey is a customer-managed key (never its material).
type CustomerKey struct {
	ID          string
	OrgID       string
	ProjectID   string
	Name        string
	Description *string
	IsDisabled  bool
	// KeyUsage is kms.UsageEncryptDecrypt or kms.UsageSignVerify.
	KeyUsage string
	// Algorithm is the key algorithm ("aes-256-gcm", "rsa-4096", ...).
	Algorithm string
	// Version is the newest key version (1 until the first rotation).
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of the cmek API (spec §2.1).
const (
	// CmekMaxData is the largest plaintext (and signed data) in bytes.
	CmekMaxData = 4096
	// CmekMaxCiphertext is the largest accepted ciphertext: CmekMaxData
	// plus the largest blob overhead, so every plaintext that encrypts
	// also decrypts (upstream's quirk fixed as the spec recommends).
	CmekMaxCiphertext = CmekMaxData + kms.VersionedOverheadV2
	cmekNameMax       = 32
	cmekDescMax       = 500
)

var cmekNameRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func cmekFromRow(r *store.CustomerKey) *CustomerKey {
	return &CustomerKey{ID: r.ID, OrgID: r.OrgID, ProjectID: r.ProjectID, Name: r.Name, Description: r.Description,
		IsDisabled: r.IsDisabled, KeyUsage: r.KeyUsage, Algorithm: r.Algorithm, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func normalizeCmekName(field, name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || len(n) > cmekNameMax {
		return "", Invalid(field, "%s must be 1 to %d characters", field, cmekNameMax)
	}
	if !cmekNameRe.MatchString(n) {
		return "", Invalid(field, "%s must be a slug: lowercase letters, digits and single hyphens", field)
	}
	return n, nil
}

func normalizeCmekDescription(d *string) (*string, error) {
	if d == nil {
		return nil, nil
	}
	v := strings.TrimSpace(*d)
	if len(v) > cmekDescMax {
		return nil, Invalid("description", "description must be at most %d characters", cmekDescMax)
	}
	return &v, nil
}

// CreateCmekInput is the body of POST /api/v1/kms/keys.
type CreateCmekInput struct {
	ProjectID   string
	Name        string
	Description *string
	// KeyUsage defaults to encrypt-decrypt.
	KeyUsage string
	// Algorithm defaults to aes-256-gcm (encrypt-decrypt keys); sign-verify
	// keys need one of rsa-2048, rsa-4096, ecc-nist-p256, ecc-nist-p384.
	Algorithm string
}

// Create creates a customer-managed key in a project.
func (s *CmekService) Create(ctx context.Context, actor Actor, in CreateCmekInput) (*CustomerKey, error) {
	e := s.e
	if strings.TrimSpace(in.ProjectID) == "" {
		return nil, Invalid("projectId", "projectId is required")
	}
	name, err := normalizeCmekName("name", in.Name)
	if err != nil {
		return nil, err
	}
	desc, err := normalizeCmekDescription(in.Description)
	if err != nil {
		return nil, err
	}
	usage := strings.TrimSpace(in.KeyUsage)
	if usage == "" {
		usage = kms.UsageEncryptDecrypt
	}
	alg := kms.NormalizeKeySpec(in.Algorithm)
	switch usage {
	case kms.UsageEncryptDecrypt:
		if strings.TrimSpace(in.Algorithm) == "" {
			alg = kms.AES256GCM
		}
		if kms.SymmetricKeySize(alg) == 0 {
			return nil, Invalid("encryptionAlgorithm", "encryptionAlgorithm must be a valid symmetric encryption algorithm. Valid options are: %s, %s", kms.AES256GCM, kms.AES128GCM)
		}
	case kms.UsageSignVerify:
		if !kms.IsSigningKeySpec(alg) {
			return nil, Invalid("encryptionAlgorithm", "encryptionAlgorithm must be a valid asymmetric sign-verify algorithm. Valid options are: %s", strings.Join(kms.SigningKeySpecs(), ", "))
		}
	default:
		return nil, Invalid("keyUsage", "keyUsage must be '%s' or '%s'", kms.UsageEncryptDecrypt, kms.UsageSignVerify)
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: in.ProjectID})
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.SubjectCmek, nil); err != nil {
		return nil, err
	}
	// Generate before the transaction: RSA 4096 takes seconds, and the
	// SQLite writer must not wait for it.
	material, err := newCmekMaterial(usage, alg)
	if err != nil {
		return nil, Internal("generate key", err)
	}
	defer clear(material)
	now := e.now()
	row := &store.CustomerKey{ID: uuid.NewString(), OrgID: m.project.OrgID, ProjectID: m.project.ID, Name: name,
		Description: desc, KeyUsage: usage, Algorithm: alg, Version: 1, CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		wrapped, err := s.wrapMaterial(ctx, q, row.OrgID, material)
		if err != nil {
			return err
		}
		if err := q.Insert(ctx, row); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("A KMS key with the name \"%s\" already exists for the project with ID \"%s\"", name, row.ProjectID)
			}
			return Internal("create key", err)
		}
		if err := q.Insert(ctx, &store.CustomerKeyVersion{KeyID: row.ID, Version: 1, EncryptedKey: wrapped, CreatedAt: now}); err != nil {
			return Internal("store key material", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-cmek", ProjectID: row.ProjectID, Metadata: map[string]any{
			"keyId": row.ID, "name": name, "description": desc, "encryptionAlgorithm": alg, "keyUsage": usage}})
	})
	if err != nil {
		return nil, err
	}
	return cmekFromRow(row), nil
}

func newCmekMaterial(usage, alg string) ([]byte, error) {
	if usage == kms.UsageSignVerify {
		return kms.GenerateSigningKey(alg)
	}
	return kms.NewSymmetricKey(alg)
}

func (s *CmekService) wrapMaterial(ctx context.Context, q store.Q, orgID string, material []byte) ([]byte, error) {
	orgKey, err := s.e.keys.orgKey(ctx, q, orgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	wrapped, err := orgKey.WrapKey(material)
	if err != nil {
		return nil, Internal("wrap key", err)
	}
	return wrapped, nil
}

// ListCmekInput selects a page of a project's keys.
type ListCmekInput struct {
	ProjectID string
	Offset    int
	Limit     int  // 1..100, default 100
	Desc      bool // order by name descending
	Search    string
}

// List returns a page of a project's customer-managed keys (ordered by
// name) and the number of keys matching.
func (s *CmekService) List(ctx context.Context, actor Actor, in ListCmekInput) ([]*CustomerKey, int, error) {
	e := s.e
	if strings.TrimSpace(in.ProjectID) == "" {
		return nil, 0, Invalid("projectId", "projectId is required")
	}
	if in.Limit == 0 {
		in.Limit = 100
	}
	if in.Limit < 1 || in.Limit > 100 {
		return nil, 0, Invalid("limit", "limit must be between 1 and 100")
	}
	if in.Offset < 0 {
		return nil, 0, Invalid("offset", "offset must be at least 0")
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: in.ProjectID})
	if err != nil {
		return nil, 0, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectCmek, nil); err != nil {
		return nil, 0, err
	}
	rows, total, err := e.store.Read().ListCustomerKeys(ctx, store.CustomerKeyFilter{ProjectID: m.project.ID,
		Search: strings.TrimSpace(in.Search), Offset: in.Offset, Limit: in.Limit, Desc: in.Desc})
	if err != nil {
		return nil, 0, Internal("list keys", err)
	}
	out := make([]*CustomerKey, 0, len(rows))
	ids := make([]string, 0, len(rows))
	for i := range rows {
		out = append(out, cmekFromRow(&rows[i]))
		ids = append(ids, rows[i].ID)
	}
	e.auditRead(actor, AuditEvent{Type: "get-cmeks", ProjectID: m.project.ID, Metadata: map[string]any{"keyIds": ids}})
	return out, total, nil
}

// row returns a key row: from the cache on SQLite (where this process sees
// every change), from the database on PostgreSQL (so a key disabled on
// another server is refused at once).
func (s *CmekService) row(ctx context.Context, id string) (*store.CustomerKey, error) {
	k := s.e.keys
	cache := !s.e.store.IsPostgres()
	if cache {
		if r, ok := k.cmekRows.get(id, id); ok {
			return r, nil
		}
	}
	gen, global := k.cmekRows.stamp(id)
	r, err := s.e.store.Read().GetCustomerKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Key with ID \"%s\" not found", id)
	}
	if err != nil {
		return nil, Internal("load key", err)
	}
	if cache {
		k.cmekRows.put(id, id, gen, global, r)
	}
	return r, nil
}

// authorize loads a key for actor and checks action on the cmek subject of
// its project. Keys of other organizations do not exist for the actor.
func (s *CmekService) authorize(ctx context.Context, actor Actor, id, action string) (*store.CustomerKey, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, Invalid("keyId", "keyId must be a UUID")
	}
	r, err := s.row(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.Type != ActorPlatform && r.OrgID != actor.OrgID {
		return nil, NotFound("Key with ID \"%s\" not found", id)
	}
	_, set, err := s.e.project(ctx, actor, ProjectRef{ID: r.ProjectID})
	if err != nil {
		if IsNotFound(err) {
			return nil, NotFound("Key with ID \"%s\" not found", id)
		}
		return nil, err
	}
	if err := set.Check(action, permission.SubjectCmek, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// usable checks that a key may perform an operation of usage.
func usable(r *store.CustomerKey, usage string) error {
	if r.IsDisabled {
		return BadRequest("Key is disabled")
	}
	if r.KeyUsage != usage {
		if usage == kms.UsageSignVerify {
			return BadRequest("Key with ID '%s' is not intended for signing", r.ID)
		}
		return BadRequest("Key with ID '%s' is not intended for encryption and decryption", r.ID)
	}
	return nil
}

// material returns the unwrapped material of one version of a key: a
// *kms.AEAD for encrypt-decrypt keys, a *kms.SigningKey for sign-verify
// keys. Versions never change once written, so they are cached until the
// key is deleted.
func (s *CmekService) material(ctx context.Context, r *store.CustomerKey, version int) (any, error) {
	k := s.e.keys
	ck := fmt.Sprintf("%s|%d", r.ID, version)
	if v, ok := k.cmekMaterial.get(ck, r.ID); ok {
		return v, nil
	}
	gen, global := k.cmekMaterial.stamp(r.ID)
	q := s.e.store.Read()
	ver, err := q.GetCustomerKeyVersion(ctx, r.ID, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, BadRequest("Invalid ciphertext: key version %d does not exist", version)
	}
	if err != nil {
		return nil, Internal("load key version", err)
	}
	orgKey, err := k.orgKey(ctx, q, r.OrgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	raw, err := orgKey.UnwrapKey(ver.EncryptedKey)
	if err != nil {
		return nil, Internal("unwrap key", err)
	}
	defer clear(raw)
	var v any
	if r.KeyUsage == kms.UsageSignVerify {
		v, err = kms.ParseSigningKey(r.Algorithm, raw)
	} else {
		v, err = kms.NewAEAD(raw)
	}
	if err != nil {
		return nil, Internal("load key material", err)
	}
	k.cmekMaterial.put(ck, r.ID, gen, global, v)
	return v, nil
}

// Get returns a key by id.
func (s *CmekService) Get(ctx context.Context, actor Actor, id string) (*CustomerKey, error) {
	r, err := s.authorize(ctx, actor, id, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "get-cmek", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID}})
	return cmekFromRow(r), nil
}

// GetByName returns a key by its name in a project.
func (s *CmekService) GetByName(ctx context.Context, actor Actor, projectID, name string) (*CustomerKey, error) {
	e := s.e
	if strings.TrimSpace(projectID) == "" {
		return nil, Invalid("projectId", "Project ID is required")
	}
	n, err := normalizeCmekName("keyName", name)
	if err != nil {
		return nil, err
	}
	m, set, err := e.project(ctx, actor, ProjectRef{ID: projectID})
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectCmek, nil); err != nil {
		return nil, err
	}
	r, err := e.store.Read().GetCustomerKeyByName(ctx, m.project.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Key with name \"%s\" not found for project with ID \"%s\"", n, m.project.ID)
	}
	if err != nil {
		return nil, Internal("load key", err)
	}
	e.auditRead(actor, AuditEvent{Type: "get-cmek", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID}})
	return cmekFromRow(r), nil
}

// UpdateCmekInput holds the optional fields of PATCH /api/v1/kms/keys/{id}.
type UpdateCmekInput struct {
	Name        *string
	Description *string
	IsDisabled  *bool
}

// Update renames, re-describes, disables or enables a key.
func (s *CmekService) Update(ctx context.Context, actor Actor, id string, in UpdateCmekInput) (*CustomerKey, error) {
	e := s.e
	r, err := s.authorize(ctx, actor, id, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	upd := *r
	meta := map[string]any{"keyId": r.ID}
	if in.Name != nil {
		if upd.Name, err = normalizeCmekName("name", *in.Name); err != nil {
			return nil, err
		}
		meta["name"] = upd.Name
	}
	if in.Description != nil {
		if upd.Description, err = normalizeCmekDescription(in.Description); err != nil {
			return nil, err
		}
		meta["description"] = *upd.Description
	}
	if in.IsDisabled != nil {
		upd.IsDisabled = *in.IsDisabled
		meta["isDisabled"] = upd.IsDisabled
	}
	upd.UpdatedAt = e.now()
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Update(ctx, &upd); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("A KMS key with the name \"%s\" already exists for the project with ID \"%s\"", upd.Name, upd.ProjectID)
			}
			if errors.Is(err, store.ErrNotFound) {
				return NotFound("Key with ID \"%s\" not found", id)
			}
			return Internal("update key", err)
		}
		q.Invalidate(topicCmek, id)
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-cmek", ProjectID: upd.ProjectID, Metadata: meta})
	})
	if err != nil {
		return nil, err
	}
	return cmekFromRow(&upd), nil
}

// Delete deletes a key and all its versions: data encrypted with it can no
// longer be decrypted.
func (s *CmekService) Delete(ctx context.Context, actor Actor, id string) (*CustomerKey, error) {
	e := s.e
	r, err := s.authorize(ctx, actor, id, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Delete(ctx, &store.CustomerKey{ID: id}); err != nil {
			return Internal("delete key", err)
		}
		q.Invalidate(topicCmek, id)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-cmek", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": id}})
	})
	if err != nil {
		return nil, err
	}
	return cmekFromRow(r), nil
}

// Rotate adds a new version of a key's material. New ciphertexts and
// signatures use it; older ciphertexts still decrypt with the version they
// name, and older signatures still verify.
func (s *CmekService) Rotate(ctx context.Context, actor Actor, id string) (*CustomerKey, error) {
	e := s.e
	r, err := s.authorize(ctx, actor, id, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	if r.IsDisabled {
		return nil, BadRequest("Key is disabled")
	}
	if r.Version >= kms.MaxKeyVersion {
		return nil, BadRequest("Key has reached the maximum number of versions")
	}
	material, err := newCmekMaterial(r.KeyUsage, r.Algorithm)
	if err != nil {
		return nil, Internal("generate key", err)
	}
	defer clear(material)
	upd := *r
	err = e.store.Tx(ctx, func(q store.Q) error {
		cur, err := q.GetCustomerKey(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return NotFound("Key with ID \"%s\" not found", id)
		}
		if err != nil {
			return Internal("load key", err)
		}
		upd = *cur
		now := e.now()
		if err := q.BumpCustomerKeyVersion(ctx, id, cur.Version, now); err != nil {
			return Internal("rotate key", err)
		}
		upd.Version, upd.UpdatedAt = cur.Version+1, now
		wrapped, err := s.wrapMaterial(ctx, q, cur.OrgID, material)
		if err != nil {
			return err
		}
		if err := q.Insert(ctx, &store.CustomerKeyVersion{KeyID: id, Version: upd.Version, EncryptedKey: wrapped, CreatedAt: now}); err != nil {
			return Internal("store key version", err)
		}
		q.Invalidate(topicCmek, id)
		return e.audit(ctx, q, actor, AuditEvent{Type: "rotate-cmek", ProjectID: cur.ProjectID,
			Metadata: map[string]any{"keyId": id, "version": upd.Version}})
	})
	if err != nil {
		return nil, err
	}
	return cmekFromRow(&upd), nil
}

// Encrypt encrypts plaintext (at most CmekMaxData bytes) with the newest
// version of an encrypt-decrypt key. The result is the spec's KMS blob
// (v01) for a never-rotated key, a v02 blob naming the version otherwise.
func (s *CmekService) Encrypt(ctx context.Context, actor Actor, id string, plaintext []byte) ([]byte, error) {
	if len(plaintext) > CmekMaxData {
		return nil, Invalid("plaintext", "data cannot exceed %d bytes", CmekMaxData)
	}
	r, err := s.authorize(ctx, actor, id, permission.ActionEncrypt)
	if err != nil {
		return nil, err
	}
	if err := usable(r, kms.UsageEncryptDecrypt); err != nil {
		return nil, err
	}
	m, err := s.material(ctx, r, r.Version)
	if err != nil {
		return nil, err
	}
	blob, err := m.(*kms.AEAD).SealKeyVersion(r.Version, plaintext)
	if err != nil {
		return nil, Internal("encrypt", err)
	}
	s.e.auditRead(actor, AuditEvent{Type: "cmek-encrypt", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID}})
	return blob, nil
}

// Decrypt decrypts a ciphertext made by Encrypt with any version of the
// key. Truncated, altered or foreign ciphertexts are a 400 that does not say
// which check failed.
func (s *CmekService) Decrypt(ctx context.Context, actor Actor, id string, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) > CmekMaxCiphertext {
		return nil, Invalid("ciphertext", "data cannot exceed %d bytes", CmekMaxCiphertext)
	}
	r, err := s.authorize(ctx, actor, id, permission.ActionDecrypt)
	if err != nil {
		return nil, err
	}
	if err := usable(r, kms.UsageEncryptDecrypt); err != nil {
		return nil, err
	}
	version, inner, err := kms.BlobKeyVersion(ciphertext)
	if err != nil || version > r.Version {
		return nil, errInvalidCiphertext
	}
	m, err := s.material(ctx, r, version)
	if err != nil {
		return nil, err
	}
	pt, err := m.(*kms.AEAD).Open(inner)
	if err != nil {
		return nil, errInvalidCiphertext
	}
	s.e.auditRead(actor, AuditEvent{Type: "cmek-decrypt", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID}})
	return pt, nil
}

var errInvalidCiphertext = BadRequest("Invalid ciphertext: it is malformed, was altered, or was not produced by this key")

// Sign signs data (or a digest of the algorithm's hash size when isDigest)
// with the newest version of a sign-verify key.
func (s *CmekService) Sign(ctx context.Context, actor Actor, id, algorithm string, data []byte, isDigest bool) ([]byte, error) {
	if len(data) > CmekMaxData {
		return nil, Invalid("data", "data cannot exceed %d bytes", CmekMaxData)
	}
	if !kms.IsSigningAlgorithm(algorithm) {
		return nil, Invalid("signingAlgorithm", "signingAlgorithm must be one of %s", strings.Join(kms.SigningAlgorithms(kms.RSA4096), ", ")+", "+strings.Join(kms.SigningAlgorithms(kms.ECCNistP256), ", "))
	}
	r, err := s.authorize(ctx, actor, id, permission.ActionSign)
	if err != nil {
		return nil, err
	}
	if err := usable(r, kms.UsageSignVerify); err != nil {
		return nil, err
	}
	m, err := s.material(ctx, r, r.Version)
	if err != nil {
		return nil, err
	}
	sig, err := m.(*kms.SigningKey).Sign(algorithm, data, isDigest)
	if err != nil {
		if errors.Is(err, kms.ErrSigningAlgorithm) {
			return nil, BadRequest("%s", strings.TrimPrefix(err.Error(), "kms: "))
		}
		return nil, Internal("sign", err)
	}
	s.e.auditRead(actor, AuditEvent{Type: "cmek-sign", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID, "signingAlgorithm": algorithm}})
	return sig, nil
}

// Verify checks a signature against every version of a sign-verify key,
// newest first, so signatures made before a rotation stay valid.
func (s *CmekService) Verify(ctx context.Context, actor Actor, id, algorithm string, data, signature []byte, isDigest bool) (bool, error) {
	if len(data) > CmekMaxData {
		return false, Invalid("data", "data cannot exceed %d bytes", CmekMaxData)
	}
	if !kms.IsSigningAlgorithm(algorithm) {
		return false, Invalid("signingAlgorithm", "signingAlgorithm must be a valid signing algorithm")
	}
	r, err := s.authorize(ctx, actor, id, permission.ActionVerify)
	if err != nil {
		return false, err
	}
	if err := usable(r, kms.UsageSignVerify); err != nil {
		return false, err
	}
	valid := false
	for v := r.Version; v >= 1 && !valid; v-- {
		m, err := s.material(ctx, r, v)
		if err != nil {
			return false, err
		}
		ok, err := m.(*kms.SigningKey).Verify(algorithm, data, signature, isDigest)
		if err != nil {
			if errors.Is(err, kms.ErrSigningAlgorithm) {
				return false, BadRequest("%s", strings.TrimPrefix(err.Error(), "kms: "))
			}
			return false, Internal("verify", err)
		}
		valid = ok
	}
	s.e.auditRead(actor, AuditEvent{Type: "cmek-verify", ProjectID: r.ProjectID,
		Metadata: map[string]any{"keyId": r.ID, "signingAlgorithm": algorithm, "signatureValid": valid}})
	return valid, nil
}

// PublicKey returns the DER SubjectPublicKeyInfo of the newest version of a
// sign-verify key.
func (s *CmekService) PublicKey(ctx context.Context, actor Actor, id string) ([]byte, error) {
	r, err := s.authorize(ctx, actor, id, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	if err := usable(r, kms.UsageSignVerify); err != nil {
		return nil, err
	}
	m, err := s.material(ctx, r, r.Version)
	if err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "cmek-get-public-key", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID, "keyName": r.Name}})
	return m.(*kms.SigningKey).PublicKeyDER(), nil
}

// SigningAlgorithms lists the signing algorithms a sign-verify key supports.
func (s *CmekService) SigningAlgorithms(ctx context.Context, actor Actor, id string) ([]string, error) {
	r, err := s.authorize(ctx, actor, id, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	if err := usable(r, kms.UsageSignVerify); err != nil {
		return nil, err
	}
	s.e.auditRead(actor, AuditEvent{Type: "cmek-list-signing-algorithms", ProjectID: r.ProjectID, Metadata: map[string]any{"keyId": r.ID}})
	return kms.SigningAlgorithms(r.Algorithm), nil
}
