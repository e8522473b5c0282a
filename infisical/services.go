package infisical

// Services of the engine, each in its own file(s). They are plain handles
// on the engine; all state lives in the Engine.

// SecretService reads and writes secrets (secrets*.go).
type SecretService struct{ e *Engine }

// FolderService manages folders (folders.go).
type FolderService struct{ e *Engine }

// ImportService manages secret imports (imports.go).
type ImportService struct{ e *Engine }

// TagService manages secret tags (tags.go).
type TagService struct{ e *Engine }

// IdentityService manages machine identities and their org memberships
// (identities.go).
type IdentityService struct{ e *Engine }

// MembershipService manages project memberships (memberships.go).
type MembershipService struct{ e *Engine }

// UniversalAuthService manages universal auth (universal_auth.go).
type UniversalAuthService struct{ e *Engine }

// TokenAuthService manages token auth (token_auth.go).
type TokenAuthService struct{ e *Engine }

// AdminService holds instance administration: bootstrap (admin.go).
type AdminService struct{ e *Engine }
