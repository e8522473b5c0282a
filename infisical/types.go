package infisical

import "time"

// Project is a project ("workspace") with its environments.
type Project struct {
	ID                          string
	OrgID                       string
	Name                        string
	Slug                        string
	Description                 *string
	Type                        string
	DefaultProduct              *string
	Version                     int
	AutoCapitalization          *bool
	HasDeleteProtection         bool
	PitVersionLimit             int
	AuditLogsRetentionDays      *int
	SecretSharing               bool
	ShowSnapshotsLegacy         bool
	SecretDetectionIgnoreValues []string
	KMSSecretManagerKeyID       *string
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
	Environments                []Environment
}

// Environment is one environment of a project.
type Environment struct {
	ID        string
	ProjectID string
	Name      string
	Slug      string
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Organization is a tenant.
type Organization struct {
	ID        string
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Project types.
const (
	ProjectTypeSecretManager = "secret-manager"
)

// ProjectTypes lists the accepted project types.
var projectTypes = map[string]bool{
	"secret-manager": true, "cert-manager": true, "kms": true, "ssh": true,
	"secret-scanning": true, "pam": true, "ai": true,
}
