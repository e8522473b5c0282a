package infisical

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/awskms"
)

// External KMS: an organization registers its own AWS KMS key (by access
// keys or an assumed role) and assigns it to projects; such a project's data
// key is then wrapped by AWS KMS (Encrypt/Decrypt with the customer's key)
// instead of by the organization key. The credentials are sealed with the
// organization key. Switching a project between KMSs re-wraps its data key
// in one transaction; the secrets it protects are untouched.

// ExternalKMSConfig tunes calls to external KMSs. Endpoints are instance
// settings (never organization input, which would let a tenant make the
// server call arbitrary URLs).
type ExternalKMSConfig struct {
	// AWSEndpoint and AWSSTSEndpoint override AWS's KMS and STS endpoints
	// (tests, private endpoints).
	AWSEndpoint    string
	AWSSTSEndpoint string
	// AWSAccessKeyID and AWSSecretAccessKey are the instance's own AWS
	// identity, used to assume the roles of assume-role external KMSs
	// (default: the AWS credential chain of the server).
	AWSAccessKeyID     string
	AWSSecretAccessKey string
	HTTPClient         *http.Client
}

// External KMS providers and statuses.
const (
	ExternalKMSProviderAWS = "aws"
	ExternalKMSStatusOK    = "ACTIVE"
	ExternalKMSStatusError = "ERROR"

	AWSCredentialAccessKey  = "access-key"
	AWSCredentialAssumeRole = "assume-role"
)

// ExternalKMSService manages organizations' external KMS configurations and
// the KMS of projects (kms_external.go).
type ExternalKMSService struct{ e *Engine }

// ExternalKMS returns the external KMS service.
func (e *Engine) ExternalKMS() *ExternalKMSService { return &ExternalKMSService{e: e} }

// AWSKMSInput is the provider input of an AWS external KMS (Infisical's
// ExternalKmsAwsSchema).
type AWSKMSInput struct {
	Credential AWSKMSCredential `json:"credential"`
	Region     string           `json:"awsRegion"`
	KeyID      string           `json:"kmsKeyId,omitempty"`
}

// AWSKMSCredential is {type: access-key, data: {accessKey, secretKey}} or
// {type: assume-role, data: {assumeRoleArn, externalId?}}.
type AWSKMSCredential struct {
	Type string               `json:"type"`
	Data AWSKMSCredentialData `json:"data"`
}

// AWSKMSCredentialData holds the fields of either credential type.
type AWSKMSCredentialData struct {
	AccessKey     string `json:"accessKey,omitempty"`
	SecretKey     string `json:"secretKey,omitempty"`
	AssumeRoleArn string `json:"assumeRoleArn,omitempty"`
	ExternalID    string `json:"externalId,omitempty"`
}

// ExternalKMS is an organization's external KMS as the API shows it.
type ExternalKMS struct {
	ID            string
	OrgID         string
	Name          string
	Description   *string
	IsDisabled    bool
	Provider      string
	Status        string
	StatusDetails *string
	// Input is the provider input with the secret access key removed; set
	// only by Get and GetByName.
	Input     *AWSKMSInput
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ExternalKMSInput creates or updates an external KMS. For an update, nil
// and empty fields keep their values and AWS fields are merged.
type ExternalKMSInput struct {
	OrgID       string // platform actor only
	Name        *string
	Description *string
	Provider    string // "aws"
	AWS         *AWSKMSInput
}

func (e *Engine) externalKMSOrg(ctx context.Context, actor Actor, orgID, action string) (string, error) {
	if orgID == "" || actor.Type != ActorPlatform {
		orgID = actor.OrgID
	}
	if orgID == "" {
		return "", BadRequest("Missing organization")
	}
	if actor.Type == ActorService {
		return "", Forbidden("Service tokens cannot manage KMS settings")
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return "", err
	}
	if err := set.Check(action, permission.OrgSubjectKMS, nil); err != nil {
		return "", err
	}
	return orgID, nil
}

func normalizeKMSName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || len(n) > 64 {
		return "", Invalid("name", "name must be 1 to 64 characters")
	}
	return n, nil
}

// awsRegionRE is the shape of AWS region names (us-east-1, us-gov-west-1,
// cn-north-1, eu-central-2, ...).
var awsRegionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func validateAWSInput(in *AWSKMSInput) error {
	in.Region = strings.TrimSpace(in.Region)
	in.KeyID = strings.TrimSpace(in.KeyID)
	d := &in.Credential.Data
	d.AccessKey, d.SecretKey = strings.TrimSpace(d.AccessKey), strings.TrimSpace(d.SecretKey)
	d.AssumeRoleArn, d.ExternalID = strings.TrimSpace(d.AssumeRoleArn), strings.TrimSpace(d.ExternalID)
	if in.Region == "" {
		return Invalid("provider.inputs.awsRegion", "awsRegion is required")
	}
	// The region becomes part of the endpoint host (kms.<region>.amazonaws.com,
	// sts.<region>...): anything but a region name could send the signed
	// requests elsewhere.
	if len(in.Region) > 32 || !awsRegionRE.MatchString(in.Region) {
		return Invalid("provider.inputs.awsRegion", "awsRegion must be an AWS region name such as us-east-1")
	}
	switch in.Credential.Type {
	case AWSCredentialAccessKey:
		if d.AccessKey == "" {
			return Invalid("provider.inputs.credential.data.accessKey", "accessKey is required for access-key credentials")
		}
		if d.SecretKey == "" {
			return Invalid("provider.inputs.credential.data.secretKey", "secretKey is required for access-key credentials")
		}
		d.AssumeRoleArn, d.ExternalID = "", ""
	case AWSCredentialAssumeRole:
		if d.AssumeRoleArn == "" {
			return Invalid("provider.inputs.credential.data.assumeRoleArn", "assumeRoleArn is required for assume-role credentials")
		}
		d.AccessKey, d.SecretKey = "", ""
	default:
		return Invalid("provider.inputs.credential.type", "credential.type must be 'access-key' or 'assume-role'")
	}
	return nil
}

// awsClient builds an AWS KMS client for in.
func (e *Engine) awsClient(ctx context.Context, in *AWSKMSInput) (*awskms.Client, error) {
	cfg := awskms.Config{KeyID: in.KeyID, Region: in.Region, Endpoint: e.cfg.ExternalKMS.AWSEndpoint,
		STSEndpoint: e.cfg.ExternalKMS.AWSSTSEndpoint, HTTPClient: e.cfg.ExternalKMS.HTTPClient}
	switch in.Credential.Type {
	case AWSCredentialAccessKey:
		cfg.AccessKeyID, cfg.SecretAccessKey = in.Credential.Data.AccessKey, in.Credential.Data.SecretKey
	case AWSCredentialAssumeRole:
		cfg.AssumeRoleARN, cfg.ExternalID = in.Credential.Data.AssumeRoleArn, in.Credential.Data.ExternalID
		cfg.AccessKeyID, cfg.SecretAccessKey = e.cfg.ExternalKMS.AWSAccessKeyID, e.cfg.ExternalKMS.AWSSecretAccessKey
	}
	return awskms.NewClient(ctx, cfg)
}

// connect checks (or creates) the AWS key: a failure is the caller's
// configuration problem, so it is a 400 naming AWS's error.
func (e *Engine) connectAWS(ctx context.Context, name string, in *AWSKMSInput) error {
	c, err := e.awsClient(ctx, in)
	if err != nil {
		return BadRequest("Invalid AWS KMS configuration: %s", err.Error())
	}
	if in.KeyID == "" {
		id, err := c.CreateKey(ctx, "Infisical external KMS "+name)
		if err != nil {
			return BadRequest("Could not create an AWS KMS key: %s", err.Error())
		}
		in.KeyID = id
	}
	if _, err := c.Describe(ctx); err != nil {
		return BadRequest("AWS KMS connection check failed: %s", err.Error())
	}
	return nil
}

func (e *Engine) sealKMSInputs(ctx context.Context, q store.Q, orgID string, in *AWSKMSInput) ([]byte, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, Internal("encode KMS inputs", err)
	}
	defer clear(raw)
	orgKey, err := e.keys.orgKey(ctx, q, orgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	blob, err := orgKey.SealVersioned(raw)
	if err != nil {
		return nil, Internal("seal KMS inputs", err)
	}
	return blob, nil
}

func (e *Engine) openKMSInputs(ctx context.Context, q store.Q, row *store.ExternalKMS) (*AWSKMSInput, error) {
	orgKey, err := e.keys.orgKey(ctx, q, row.OrgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	raw, err := orgKey.OpenVersioned(row.EncryptedProviderInputs)
	if err != nil {
		return nil, Internal("open KMS inputs", err)
	}
	defer clear(raw)
	var in AWSKMSInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, Internal("decode KMS inputs", err)
	}
	return &in, nil
}

func externalFromRow(r *store.ExternalKMS) *ExternalKMS {
	return &ExternalKMS{ID: r.ID, OrgID: r.OrgID, Name: r.Name, Description: r.Description, IsDisabled: r.IsDisabled,
		Provider: r.Provider, Status: r.Status, StatusDetails: r.StatusDetails, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func redactAWSInput(in *AWSKMSInput) *AWSKMSInput {
	c := *in
	c.Credential.Data.SecretKey = ""
	return &c
}

// Create registers an external KMS after checking the connection
// (DescribeKey; without a key id a new AWS key tagged author=infisical is
// created first).
func (s *ExternalKMSService) Create(ctx context.Context, actor Actor, in ExternalKMSInput) (*ExternalKMS, error) {
	e := s.e
	orgID, err := e.externalKMSOrg(ctx, actor, in.OrgID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, Invalid("name", "name is required")
	}
	name, err := normalizeKMSName(*in.Name)
	if err != nil {
		return nil, err
	}
	if in.Provider != ExternalKMSProviderAWS || in.AWS == nil {
		return nil, Invalid("provider.type", "provider.type must be 'aws' (the only external KMS supported)")
	}
	aws := *in.AWS
	if err := validateAWSInput(&aws); err != nil {
		return nil, err
	}
	if _, err := e.store.Read().GetExternalKMSByName(ctx, orgID, name); err == nil {
		return nil, BadRequest("An external KMS with the name '%s' already exists in this organization", name)
	}
	if err := e.connectAWS(ctx, name, &aws); err != nil {
		return nil, err
	}
	desc := trimmedPtr(in.Description)
	now := e.now()
	row := &store.ExternalKMS{ID: uuid.NewString(), OrgID: orgID, Name: name, Description: desc, Provider: ExternalKMSProviderAWS,
		Status: ExternalKMSStatusOK, CreatedAt: now, UpdatedAt: now}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if row.EncryptedProviderInputs, err = e.sealKMSInputs(ctx, q, orgID, &aws); err != nil {
			return err
		}
		if err := q.Insert(ctx, row); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("An external KMS with the name '%s' already exists in this organization", name)
			}
			return Internal("create external KMS", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-kms", OrgID: orgID,
			Metadata: map[string]any{"kmsId": row.ID, "provider": row.Provider, "name": name, "description": desc}})
	})
	if err != nil {
		return nil, err
	}
	return externalFromRow(row), nil
}

func trimmedPtr(p *string) *string {
	if p == nil {
		return nil
	}
	v := strings.TrimSpace(*p)
	return &v
}

// loadExternal returns an external KMS of the actor's organization.
func (e *Engine) loadExternal(ctx context.Context, q store.Q, actor Actor, id string, action string) (*store.ExternalKMS, error) {
	row, err := q.GetExternalKMS(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && actor.Type != ActorPlatform && row.OrgID != actor.OrgID) {
		return nil, NotFound("External KMS with ID '%s' not found", id)
	}
	if err != nil {
		return nil, Internal("load external KMS", err)
	}
	if _, err := e.externalKMSOrg(ctx, actor, row.OrgID, action); err != nil {
		return nil, err
	}
	return row, nil
}

// Get returns an external KMS with its provider input (secret key removed).
func (s *ExternalKMSService) Get(ctx context.Context, actor Actor, id string) (*ExternalKMS, error) {
	e := s.e
	q := e.store.Read()
	row, err := e.loadExternal(ctx, q, actor, id, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	return e.externalWithInput(ctx, q, actor, row)
}

// GetByName returns an external KMS of the actor's organization by name.
func (s *ExternalKMSService) GetByName(ctx context.Context, actor Actor, orgID, name string) (*ExternalKMS, error) {
	e := s.e
	orgID, err := e.externalKMSOrg(ctx, actor, orgID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	q := e.store.Read()
	row, err := q.GetExternalKMSByName(ctx, orgID, strings.ToLower(strings.TrimSpace(name)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("External KMS with name '%s' not found", name)
	}
	if err != nil {
		return nil, Internal("load external KMS", err)
	}
	return e.externalWithInput(ctx, q, actor, row)
}

func (e *Engine) externalWithInput(ctx context.Context, q store.Q, actor Actor, row *store.ExternalKMS) (*ExternalKMS, error) {
	in, err := e.openKMSInputs(ctx, q, row)
	if err != nil {
		return nil, err
	}
	out := externalFromRow(row)
	out.Input = redactAWSInput(in)
	e.auditRead(actor, AuditEvent{Type: "get-kms", OrgID: row.OrgID, Metadata: map[string]any{"kmsId": row.ID, "name": row.Name}})
	return out, nil
}

// List returns the organization's external KMSs.
func (s *ExternalKMSService) List(ctx context.Context, actor Actor, orgID string) ([]*ExternalKMS, error) {
	e := s.e
	orgID, err := e.externalKMSOrg(ctx, actor, orgID, permission.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.Read().ListExternalKMS(ctx, orgID)
	if err != nil {
		return nil, Internal("list external KMS", err)
	}
	out := make([]*ExternalKMS, 0, len(rows))
	for i := range rows {
		out = append(out, externalFromRow(&rows[i]))
	}
	return out, nil
}

// Update renames, re-describes or re-credentials an external KMS. The AWS
// key and region cannot change while projects use it: their data keys are
// wrapped by that key.
func (s *ExternalKMSService) Update(ctx context.Context, actor Actor, id string, in ExternalKMSInput) (*ExternalKMS, error) {
	e := s.e
	row, err := e.loadExternal(ctx, e.store.Read(), actor, id, permission.ActionEdit)
	if err != nil {
		return nil, err
	}
	upd := *row
	if in.Name != nil {
		if upd.Name, err = normalizeKMSName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		upd.Description = trimmedPtr(in.Description)
	}
	if in.Provider != "" && in.Provider != row.Provider {
		return nil, Invalid("provider.type", "provider.type cannot change (it is '%s')", row.Provider)
	}
	var newInputs *AWSKMSInput
	if in.AWS != nil {
		cur, err := e.openKMSInputs(ctx, e.store.Read(), row)
		if err != nil {
			return nil, err
		}
		merged := *cur
		if in.AWS.Region != "" {
			merged.Region = in.AWS.Region
		}
		if in.AWS.KeyID != "" {
			merged.KeyID = in.AWS.KeyID
		}
		if in.AWS.Credential.Type != "" {
			merged.Credential = in.AWS.Credential
		}
		if err := validateAWSInput(&merged); err != nil {
			return nil, err
		}
		if merged.KeyID != cur.KeyID || merged.Region != cur.Region {
			users, err := e.store.Read().ProjectsUsingKMS(ctx, row.ID)
			if err != nil {
				return nil, Internal("list projects using KMS", err)
			}
			if len(users) > 0 {
				return nil, BadRequest("The AWS key and region of an external KMS used by %d project(s) cannot change; switch those projects to another KMS first", len(users))
			}
		}
		if err := e.connectAWS(ctx, upd.Name, &merged); err != nil {
			return nil, err
		}
		newInputs = &merged
	}
	upd.UpdatedAt = e.now()
	err = e.store.Tx(ctx, func(q store.Q) error {
		if newInputs != nil {
			if upd.EncryptedProviderInputs, err = e.sealKMSInputs(ctx, q, upd.OrgID, newInputs); err != nil {
				return err
			}
			upd.Status, upd.StatusDetails = ExternalKMSStatusOK, nil
		}
		if err := q.Update(ctx, &upd); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return BadRequest("An external KMS with the name '%s' already exists in this organization", upd.Name)
			}
			return Internal("update external KMS", err)
		}
		// Projects using it re-read their data key with the new settings.
		users, err := q.ProjectsUsingKMS(ctx, upd.ID)
		if err != nil {
			return Internal("list projects using KMS", err)
		}
		for _, pid := range users {
			q.Invalidate(topicProject, pid)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-kms", OrgID: upd.OrgID,
			Metadata: map[string]any{"kmsId": upd.ID, "provider": upd.Provider, "name": upd.Name, "description": upd.Description}})
	})
	if err != nil {
		return nil, err
	}
	return externalFromRow(&upd), nil
}

// Delete removes an external KMS that no project uses.
func (s *ExternalKMSService) Delete(ctx context.Context, actor Actor, id string) (*ExternalKMS, error) {
	e := s.e
	row, err := e.loadExternal(ctx, e.store.Read(), actor, id, permission.ActionDelete)
	if err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		users, err := q.ProjectsUsingKMS(ctx, row.ID)
		if err != nil {
			return Internal("list projects using KMS", err)
		}
		if len(users) > 0 {
			return BadRequest("External KMS '%s' is used by %d project(s); switch them to another KMS before deleting it", row.Name, len(users))
		}
		if err := q.Delete(ctx, &store.ExternalKMS{ID: row.ID}); err != nil {
			return Internal("delete external KMS", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-kms", OrgID: row.OrgID, Metadata: map[string]any{"kmsId": row.ID, "name": row.Name}})
	})
	if err != nil {
		return nil, err
	}
	return externalFromRow(row), nil
}

// externalClient returns the AWS client of a project's external KMS.
func (e *Engine) externalClient(ctx context.Context, q store.Q, orgID, kmsID string) (*awskms.Client, *store.ExternalKMS, error) {
	row, err := q.GetExternalKMS(ctx, kmsID)
	if err != nil {
		return nil, nil, fmt.Errorf("load external KMS %s: %w", kmsID, err)
	}
	if row.OrgID != orgID {
		return nil, nil, fmt.Errorf("external KMS %s belongs to another organization", kmsID)
	}
	in, err := e.openKMSInputs(ctx, q, row)
	if err != nil {
		return nil, nil, err
	}
	c, err := e.awsClient(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	return c, row, nil
}

// externalUnwrapDataKey opens a project data key wrapped by an external KMS.
func (e *Engine) externalUnwrapDataKey(ctx context.Context, q store.Q, p *store.Project) ([]byte, error) {
	c, _, err := e.externalClient(ctx, q, p.OrgID, *p.KMSKeyID)
	if err != nil {
		return nil, fmt.Errorf("external KMS of project %s: %w", p.ID, err)
	}
	dk, err := c.Decrypt(ctx, p.KMSEncryptedDataKey)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of project %s with its external KMS: %w", p.ID, err)
	}
	if len(dk) != kms.KeySize {
		clear(dk)
		return nil, fmt.Errorf("external KMS returned a %d-byte data key for project %s", len(dk), p.ID)
	}
	return dk, nil
}

// ProjectKMS says which key wraps a project's data key.
type ProjectKMS struct {
	ID         string
	Name       string
	IsExternal bool
}

// ProjectKMSChoice selects a project's KMS: Type "internal" (the
// organization key) or "external" with KMSID.
type ProjectKMSChoice struct {
	Type  string
	KMSID string
}

func (e *Engine) projectKMSInfo(ctx context.Context, q store.Q, p *store.Project) (*ProjectKMS, error) {
	if p.KMSKeyID != nil && *p.KMSKeyID != "" {
		row, err := q.GetExternalKMS(ctx, *p.KMSKeyID)
		if err != nil {
			return nil, Internal("load external KMS", err)
		}
		return &ProjectKMS{ID: row.ID, Name: row.Name, IsExternal: true}, nil
	}
	org, err := q.GetOrg(ctx, p.OrgID)
	if err != nil {
		return nil, Internal("load organization", err)
	}
	if org.KMSKeyID == nil {
		return nil, Internal("load organization key", errors.New("organization has no key"))
	}
	key, err := q.GetKMSKey(ctx, *org.KMSKeyID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	return &ProjectKMS{ID: key.ID, Name: key.Name, IsExternal: false}, nil
}

// GetProjectKMS returns the KMS of a project.
func (s *ExternalKMSService) GetProjectKMS(ctx context.Context, actor Actor, ref ProjectRef) (*ProjectKMS, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if !set.Can(permission.ActionRead, permission.SubjectSettings, nil) && !set.Can(permission.ActionEdit, permission.SubjectKMS, nil) {
		return nil, &permission.DeniedError{Action: permission.ActionRead, Subject: permission.SubjectSettings}
	}
	return e.projectKMSInfo(ctx, e.store.Read(), &m.project)
}

// SetProjectKMS switches the KMS that wraps a project's data key: the data
// key is unwrapped with the current KMS and re-wrapped with the new one in
// one transaction; encrypted secrets are untouched.
func (s *ExternalKMSService) SetProjectKMS(ctx context.Context, actor Actor, ref ProjectRef, choice ProjectKMSChoice) (*ProjectKMS, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionEdit, permission.SubjectKMS, nil); err != nil {
		return nil, err
	}
	var target *string
	switch choice.Type {
	case "internal":
	case "external":
		if strings.TrimSpace(choice.KMSID) == "" {
			return nil, Invalid("kms.kmsId", "kmsId is required for an external KMS")
		}
		id := strings.TrimSpace(choice.KMSID)
		target = &id
	default:
		return nil, Invalid("kms.type", "kms.type must be 'internal' or 'external'")
	}
	return e.switchProjectKMS(ctx, actor, m.project.ID, target, nil)
}

// switchProjectKMS re-wraps the data key of a project under target (nil:
// the organization key). dataKey, when given, replaces the data key (backup
// restore); otherwise the current one is kept.
func (e *Engine) switchProjectKMS(ctx context.Context, actor Actor, projectID string, target *string, dataKey []byte) (*ProjectKMS, error) {
	q := e.store.Read()
	p, err := q.GetProject(ctx, projectID)
	if err != nil {
		return nil, Internal("load project", err)
	}
	var client *awskms.Client
	if target != nil {
		c, row, err := e.externalClient(ctx, q, p.OrgID, *target)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) || strings.Contains(err.Error(), "another organization") {
				return nil, NotFound("External KMS with ID '%s' not found", *target)
			}
			return nil, Internal("load external KMS", err)
		}
		if row.IsDisabled {
			return nil, BadRequest("External KMS '%s' is disabled", row.Name)
		}
		client = c
	}
	if dataKey == nil {
		if dataKey, err = e.rawProjectDataKey(ctx, q, p); err != nil {
			return nil, err
		}
	}
	defer clear(dataKey)
	var wrapped []byte
	if client != nil {
		if wrapped, err = client.Encrypt(ctx, dataKey); err != nil {
			return nil, BadRequest("External KMS could not wrap the project key: %s", err.Error())
		}
	}
	var info *ProjectKMS
	err = e.store.Tx(ctx, func(q store.Q) error {
		cur, err := q.GetProject(ctx, projectID)
		if err != nil {
			return Internal("load project", err)
		}
		if !sameKMS(cur.KMSKeyID, p.KMSKeyID) || string(cur.KMSEncryptedDataKey) != string(p.KMSEncryptedDataKey) {
			return BadRequest("The project's KMS changed concurrently; retry")
		}
		if client == nil {
			orgKey, err := e.keys.orgKey(ctx, q, p.OrgID)
			if err != nil {
				return Internal("load organization key", err)
			}
			if wrapped, err = orgKey.SealVersioned(dataKey); err != nil {
				return Internal("wrap project key", err)
			}
		}
		if err := q.SetProjectDataKey(ctx, projectID, target, wrapped, e.now()); err != nil {
			return Internal("store project key", err)
		}
		q.Invalidate(topicProject, projectID)
		cur.KMSKeyID = target
		if info, err = e.projectKMSInfo(ctx, q, cur); err != nil {
			return err
		}
		kind := "internal"
		if target != nil {
			kind = "external"
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "update-project-kms", ProjectID: projectID,
			Metadata: map[string]any{"secretManagerKmsKey": map[string]any{"id": info.ID, "name": info.Name}, "type": kind}})
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func sameKMS(a, b *string) bool {
	if a == nil || b == nil {
		return (a == nil || *a == "") && (b == nil || *b == "")
	}
	return *a == *b
}

// rawProjectDataKey unwraps a project's data key bytes.
func (e *Engine) rawProjectDataKey(ctx context.Context, q store.Q, p *store.Project) ([]byte, error) {
	if p.KMSKeyID != nil && *p.KMSKeyID != "" {
		dk, err := e.externalUnwrapDataKey(ctx, q, p)
		if err != nil {
			return nil, BadRequest("The project's external KMS could not unwrap its key: %s", err.Error())
		}
		return dk, nil
	}
	orgKey, err := e.keys.orgKey(ctx, q, p.OrgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	dk, err := orgKey.OpenVersioned(p.KMSEncryptedDataKey)
	if err != nil {
		return nil, Internal("unwrap project data key", err)
	}
	return dk, nil
}

// GetProjectKMSBackup returns the project key backup string:
// v1.<projectId>.secretManager.<orgKmsKeyId>.<base64(KMS-blob(orgKey, dataKey))>.<sha256 hex of the rest>.
func (s *ExternalKMSService) GetProjectKMSBackup(ctx context.Context, actor Actor, ref ProjectRef) (string, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return "", err
	}
	if err := set.Check(permission.ActionEdit, permission.SubjectKMS, nil); err != nil {
		return "", err
	}
	q := e.store.Read()
	p := &m.project
	dk, err := e.rawProjectDataKey(ctx, q, p)
	if err != nil {
		return "", err
	}
	defer clear(dk)
	org, err := q.GetOrg(ctx, p.OrgID)
	if err != nil || org.KMSKeyID == nil {
		return "", Internal("load organization key", fmt.Errorf("org %s: %v", p.OrgID, err))
	}
	orgKey, err := e.keys.orgKey(ctx, q, p.OrgID)
	if err != nil {
		return "", Internal("load organization key", err)
	}
	blob, err := orgKey.SealVersioned(dk)
	if err != nil {
		return "", Internal("seal backup", err)
	}
	body := strings.Join([]string{"v1", p.ID, "secretManager", *org.KMSKeyID, base64.StdEncoding.EncodeToString(blob)}, ".")
	sum := sha256.Sum256([]byte(body))
	e.auditRead(actor, AuditEvent{Type: "get-project-kms-backup", ProjectID: p.ID, Metadata: map[string]any{}})
	return body + "." + hex.EncodeToString(sum[:]), nil
}

// LoadProjectKMSBackup restores a project key from a backup string: the
// hash and project id are verified, the data key is opened with the named
// organization key and the project goes back to the internal KMS.
func (s *ExternalKMSService) LoadProjectKMSBackup(ctx context.Context, actor Actor, ref ProjectRef, backup string) (*ProjectKMS, error) {
	e := s.e
	m, set, err := e.project(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionEdit, permission.SubjectKMS, nil); err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimSpace(backup), ".")
	if len(parts) != 6 || parts[0] != "v1" || parts[2] != "secretManager" {
		return nil, Invalid("backup", "Invalid backup")
	}
	sum := sha256.Sum256([]byte(strings.Join(parts[:5], ".")))
	if hex.EncodeToString(sum[:]) != parts[5] {
		return nil, BadRequest("Invalid backup: checksum mismatch")
	}
	if parts[1] != m.project.ID {
		return nil, BadRequest("Invalid backup: it belongs to another project")
	}
	org, err := e.store.Read().GetOrg(ctx, m.project.OrgID)
	if err != nil || org.KMSKeyID == nil || *org.KMSKeyID != parts[3] {
		return nil, BadRequest("Invalid backup: it was made with another organization key")
	}
	blob, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil {
		return nil, BadRequest("Invalid backup: malformed key")
	}
	orgKey, err := e.keys.orgKey(ctx, e.store.Read(), m.project.OrgID)
	if err != nil {
		return nil, Internal("load organization key", err)
	}
	dk, err := orgKey.OpenVersioned(blob)
	if err != nil || len(dk) != kms.KeySize {
		return nil, BadRequest("Invalid backup: the key does not open")
	}
	info, err := e.switchProjectKMS(ctx, actor, m.project.ID, nil, dk)
	if err != nil {
		return nil, err
	}
	return info, nil
}

// projectExternalKey is a fresh project data key wrapped by an external KMS.
type projectExternalKey struct {
	kmsID   string
	wrapped []byte
}

// newExternalProjectKey makes the data key of a project created on an
// external KMS (POST /api/v2/workspace with kmsKeyId).
func (e *Engine) newExternalProjectKey(ctx context.Context, orgID, kmsID string) (*projectExternalKey, error) {
	c, row, err := e.externalClient(ctx, e.store.Read(), orgID, kmsID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || strings.Contains(err.Error(), "another organization") {
			return nil, NotFound("External KMS with ID '%s' not found", kmsID)
		}
		return nil, Internal("load external KMS", err)
	}
	if row.IsDisabled {
		return nil, BadRequest("External KMS '%s' is disabled", row.Name)
	}
	dk, err := kms.NewKey()
	if err != nil {
		return nil, Internal("generate project key", err)
	}
	defer clear(dk)
	wrapped, err := c.Encrypt(ctx, dk)
	if err != nil {
		return nil, BadRequest("External KMS could not wrap the project key: %s", err.Error())
	}
	return &projectExternalKey{kmsID: row.ID, wrapped: wrapped}, nil
}
