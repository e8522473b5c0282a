package store

import (
	"time"

	"github.com/uptrace/bun"
)

// Row types mirror the tables of schema.go one to one. They carry no logic:
// the engine turns them into its public types.

type RootConfig struct {
	bun.BaseModel      `bun:"table:kms_root_config"`
	ID                 string    `bun:"id,pk"`
	EncryptedRootKey   []byte    `bun:"encrypted_root_key"`
	EncryptionStrategy string    `bun:"encryption_strategy"`
	CreatedAt          time.Time `bun:"created_at"`
	UpdatedAt          time.Time `bun:"updated_at"`
}

type InstanceConfig struct {
	bun.BaseModel `bun:"table:instance_config"`
	ID            string    `bun:"id,pk"`
	Initialized   bool      `bun:"initialized"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type User struct {
	bun.BaseModel   `bun:"table:users"`
	ID              string    `bun:"id,pk"`
	Email           *string   `bun:"email"`
	Username        string    `bun:"username"`
	FirstName       *string   `bun:"first_name"`
	LastName        *string   `bun:"last_name"`
	PasswordHash    *string   `bun:"password_hash"`
	SuperAdmin      bool      `bun:"super_admin"`
	IsEmailVerified bool      `bun:"is_email_verified"`
	IsAccepted      bool      `bun:"is_accepted"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

type Organization struct {
	bun.BaseModel `bun:"table:organizations"`
	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name"`
	Slug          string    `bun:"slug"`
	ParentOrgID   *string   `bun:"parent_org_id"`
	KMSKeyID      *string   `bun:"kms_key_id"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type KMSKey struct {
	bun.BaseModel `bun:"table:kms_keys"`
	ID            string    `bun:"id,pk"`
	OrgID         *string   `bun:"org_id"`
	ProjectID     *string   `bun:"project_id"`
	Name          string    `bun:"name"`
	Description   *string   `bun:"description"`
	IsReserved    bool      `bun:"is_reserved"`
	IsDisabled    bool      `bun:"is_disabled"`
	Algorithm     string    `bun:"algorithm"`
	Version       int       `bun:"version"`
	EncryptedKey  []byte    `bun:"encrypted_key"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type OrgMembership struct {
	bun.BaseModel `bun:"table:org_memberships"`
	ID            string    `bun:"id,pk"`
	OrgID         string    `bun:"org_id"`
	UserID        *string   `bun:"user_id"`
	Role          string    `bun:"role"`
	RoleID        *string   `bun:"role_id"`
	Status        string    `bun:"status"`
	IsActive      bool      `bun:"is_active"`
	InviteEmail   *string   `bun:"invite_email"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type Identity struct {
	bun.BaseModel       `bun:"table:identities"`
	ID                  string    `bun:"id,pk"`
	Name                string    `bun:"name"`
	HasDeleteProtection bool      `bun:"has_delete_protection"`
	CreatedAt           time.Time `bun:"created_at"`
	UpdatedAt           time.Time `bun:"updated_at"`
}

type IdentityOrgMembership struct {
	bun.BaseModel       `bun:"table:identity_org_memberships"`
	ID                  string     `bun:"id,pk"`
	OrgID               string     `bun:"org_id"`
	IdentityID          string     `bun:"identity_id"`
	Role                string     `bun:"role"`
	RoleID              *string    `bun:"role_id"`
	LastLoginAuthMethod *string    `bun:"last_login_auth_method"`
	LastLoginTime       *time.Time `bun:"last_login_time"`
	CreatedAt           time.Time  `bun:"created_at"`
	UpdatedAt           time.Time  `bun:"updated_at"`
}

type IdentityMetadata struct {
	bun.BaseModel `bun:"table:identity_metadata"`
	ID            string    `bun:"id,pk"`
	IdentityID    string    `bun:"identity_id"`
	OrgID         string    `bun:"org_id"`
	Key           string    `bun:"key"`
	Value         string    `bun:"value"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type Project struct {
	bun.BaseModel               `bun:"table:projects"`
	ID                          string    `bun:"id,pk"`
	OrgID                       string    `bun:"org_id"`
	Name                        string    `bun:"name"`
	Slug                        string    `bun:"slug"`
	Description                 *string   `bun:"description"`
	Type                        string    `bun:"type"`
	DefaultProduct              *string   `bun:"default_product"`
	Version                     int       `bun:"version"`
	AutoCapitalization          *bool     `bun:"auto_capitalization"`
	HasDeleteProtection         bool      `bun:"has_delete_protection"`
	PitVersionLimit             int       `bun:"pit_version_limit"`
	AuditLogsRetentionDays      *int      `bun:"audit_logs_retention_days"`
	SecretSharing               bool      `bun:"secret_sharing"`
	ShowSnapshotsLegacy         bool      `bun:"show_snapshots_legacy"`
	SecretDetectionIgnoreValues []string  `bun:"secret_detection_ignore_values,type:text"`
	KMSKeyID                    *string   `bun:"kms_key_id"`
	KMSEncryptedDataKey         []byte    `bun:"kms_encrypted_data_key"`
	CreatedAt                   time.Time `bun:"created_at"`
	UpdatedAt                   time.Time `bun:"updated_at"`
}

type Environment struct {
	bun.BaseModel `bun:"table:project_environments"`
	ID            string    `bun:"id,pk"`
	ProjectID     string    `bun:"project_id"`
	Name          string    `bun:"name"`
	Slug          string    `bun:"slug"`
	Position      int       `bun:"position"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type Folder struct {
	bun.BaseModel      `bun:"table:secret_folders"`
	ID                 string     `bun:"id,pk"`
	EnvID              string     `bun:"env_id"`
	ParentID           *string    `bun:"parent_id"`
	Name               string     `bun:"name"`
	Version            int        `bun:"version"`
	Description        *string    `bun:"description"`
	IsReserved         bool       `bun:"is_reserved"`
	LastSecretModified *time.Time `bun:"last_secret_modified"`
	CreatedAt          time.Time  `bun:"created_at"`
	UpdatedAt          time.Time  `bun:"updated_at"`
}

// MetadataEntry is one secretMetadata item. Values are stored inside the
// encrypted comment envelope only when IsEncrypted; plain metadata is not a
// secret by definition.
type MetadataEntry struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	IsEncrypted bool   `json:"isEncrypted"`
}

type Secret struct {
	bun.BaseModel         `bun:"table:secrets"`
	ID                    string          `bun:"id,pk"`
	FolderID              string          `bun:"folder_id"`
	Key                   string          `bun:"key"`
	Type                  string          `bun:"type"`
	OwnerID               string          `bun:"owner_id"`
	Version               int             `bun:"version"`
	EncryptedValue        []byte          `bun:"encrypted_value"`
	EncryptedComment      []byte          `bun:"encrypted_comment"`
	SkipMultilineEncoding *bool           `bun:"skip_multiline_encoding"`
	ReminderNote          *string         `bun:"reminder_note"`
	ReminderRepeatDays    *int            `bun:"reminder_repeat_days"`
	Metadata              []MetadataEntry `bun:"metadata,type:text"`
	ActorType             *string         `bun:"actor_type"`
	ActorID               *string         `bun:"actor_id"`
	ActorName             *string         `bun:"actor_name"`
	CreatedAt             time.Time       `bun:"created_at"`
	UpdatedAt             time.Time       `bun:"updated_at"`
}

type SecretVersion struct {
	bun.BaseModel         `bun:"table:secret_versions"`
	ID                    string          `bun:"id,pk"`
	SecretID              string          `bun:"secret_id"`
	FolderID              string          `bun:"folder_id"`
	Version               int             `bun:"version"`
	Key                   string          `bun:"key"`
	Type                  string          `bun:"type"`
	OwnerID               string          `bun:"owner_id"`
	EncryptedValue        []byte          `bun:"encrypted_value"`
	EncryptedComment      []byte          `bun:"encrypted_comment"`
	SkipMultilineEncoding *bool           `bun:"skip_multiline_encoding"`
	Metadata              []MetadataEntry `bun:"metadata,type:text"`
	TagIDs                []string        `bun:"tag_ids,type:text"`
	ActorType             *string         `bun:"actor_type"`
	ActorID               *string         `bun:"actor_id"`
	ActorName             *string         `bun:"actor_name"`
	CreatedAt             time.Time       `bun:"created_at"`
	UpdatedAt             time.Time       `bun:"updated_at"`
}

type Tag struct {
	bun.BaseModel      `bun:"table:secret_tags"`
	ID                 string    `bun:"id,pk"`
	ProjectID          string    `bun:"project_id"`
	Slug               string    `bun:"slug"`
	Color              *string   `bun:"color"`
	CreatedBy          *string   `bun:"created_by"`
	CreatedByActorType string    `bun:"created_by_actor_type"`
	CreatedAt          time.Time `bun:"created_at"`
	UpdatedAt          time.Time `bun:"updated_at"`
}

type SecretTagLink struct {
	bun.BaseModel `bun:"table:secret_tag_links"`
	SecretID      string `bun:"secret_id,pk"`
	TagID         string `bun:"tag_id,pk"`
}

type SecretImport struct {
	bun.BaseModel `bun:"table:secret_imports"`
	ID            string    `bun:"id,pk"`
	FolderID      string    `bun:"folder_id"`
	ImportEnvID   string    `bun:"import_env_id"`
	ImportPath    string    `bun:"import_path"`
	Position      int       `bun:"position"`
	Version       int       `bun:"version"`
	IsReplication bool      `bun:"is_replication"`
	IsReserved    bool      `bun:"is_reserved"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// Actor types of project memberships.
const (
	ActorUser     = "user"
	ActorIdentity = "identity"
	ActorGroup    = "group"
)

type ProjectMembership struct {
	bun.BaseModel `bun:"table:project_memberships"`
	ID            string    `bun:"id,pk"`
	ProjectID     string    `bun:"project_id"`
	ActorType     string    `bun:"actor_type"`
	ActorID       string    `bun:"actor_id"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type MembershipRole struct {
	bun.BaseModel            `bun:"table:project_membership_roles"`
	ID                       string     `bun:"id,pk"`
	MembershipID             string     `bun:"membership_id"`
	Role                     string     `bun:"role"`
	CustomRoleID             *string    `bun:"custom_role_id"`
	IsTemporary              bool       `bun:"is_temporary"`
	TemporaryMode            *string    `bun:"temporary_mode"`
	TemporaryRange           *string    `bun:"temporary_range"`
	TemporaryAccessStartTime *time.Time `bun:"temporary_access_start_time"`
	TemporaryAccessEndTime   *time.Time `bun:"temporary_access_end_time"`
	CreatedAt                time.Time  `bun:"created_at"`
	UpdatedAt                time.Time  `bun:"updated_at"`
}

// Active reports whether the role grants anything at t.
func (r *MembershipRole) Active(t time.Time) bool {
	if !r.IsTemporary {
		return true
	}
	if r.TemporaryAccessStartTime == nil || r.TemporaryAccessEndTime == nil {
		return false
	}
	return !t.Before(*r.TemporaryAccessStartTime) && t.Before(*r.TemporaryAccessEndTime)
}

type AuthMethod struct {
	bun.BaseModel   `bun:"table:identity_auth_methods"`
	ID              string    `bun:"id,pk"`
	IdentityID      string    `bun:"identity_id"`
	Method          string    `bun:"method"`
	LookupKey       *string   `bun:"lookup_key"`
	AccessTokenTTL  int64     `bun:"access_token_ttl"`
	AccessTokenMax  int64     `bun:"access_token_max_ttl"`
	NumUsesLimit    int64     `bun:"access_token_num_uses_limit"`
	Period          int64     `bun:"access_token_period"`
	TrustedIPs      string    `bun:"access_token_trusted_ips"`
	Config          string    `bun:"config"`
	EncryptedConfig []byte    `bun:"encrypted_config"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

type ClientSecret struct {
	bun.BaseModel `bun:"table:identity_ua_client_secrets"`
	ID            string    `bun:"id,pk"`
	AuthMethodID  string    `bun:"auth_method_id"`
	Description   string    `bun:"description"`
	Prefix        string    `bun:"prefix"`
	SecretHash    []byte    `bun:"secret_hash"`
	NumUses       int64     `bun:"num_uses"`
	NumUsesLimit  int64     `bun:"num_uses_limit"`
	TTL           int64     `bun:"ttl"`
	IsRevoked     bool      `bun:"is_revoked"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type AccessToken struct {
	bun.BaseModel  `bun:"table:identity_access_tokens"`
	ID             string     `bun:"id,pk"`
	IdentityID     string     `bun:"identity_id"`
	OrgID          string     `bun:"org_id"`
	AuthMethod     string     `bun:"auth_method"`
	AuthMethodID   *string    `bun:"auth_method_id"`
	ClientSecretID *string    `bun:"client_secret_id"`
	Name           *string    `bun:"name"`
	TTL            int64      `bun:"ttl"`
	MaxTTL         int64      `bun:"max_ttl"`
	Period         int64      `bun:"period"`
	NumUses        int64      `bun:"num_uses"`
	NumUsesLimit   int64      `bun:"num_uses_limit"`
	TrustedIPs     string     `bun:"trusted_ips"`
	Principal      string     `bun:"principal"`
	LastUsedAt     *time.Time `bun:"last_used_at"`
	LastRenewedAt  *time.Time `bun:"last_renewed_at"`
	IsRevoked      bool       `bun:"is_revoked"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

type Lockout struct {
	bun.BaseModel `bun:"table:auth_lockouts"`
	Key           string     `bun:"key,pk"`
	Failures      int        `bun:"failures"`
	WindowStart   time.Time  `bun:"window_start"`
	LockedUntil   *time.Time `bun:"locked_until"`
}
