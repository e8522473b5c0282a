package infisical

// ActorType says who is calling.
type ActorType string

const (
	ActorUser     ActorType = "user"
	ActorIdentity ActorType = "identity"
	ActorService  ActorType = "service"
	// ActorPlatform is the engine acting on its own behalf (bootstrap,
	// embedding programs). It passes every permission check.
	ActorPlatform ActorType = "platform"
)

// Actor is an authenticated caller. The API builds it from a token; an
// embedding program may use Platform() or build one for a known identity.
type Actor struct {
	Type       ActorType
	ID         string // user id, identity id or service-token id
	Name       string
	Username   string
	Email      string
	OrgID      string // organization the credential is scoped to
	AuthMethod string
	TokenID    string // identity access token id (revocation key)
	IP         string
	UserAgent  string
	// Principal is what the login method proved (AWS ARN, Kubernetes
	// namespace/name, OIDC claims); it lands in the token's identityAuth
	// claim and in audit entries.
	Principal map[string]any
	// ServiceScopes is set for service tokens (legacy).
	ServiceScopes []ServiceScope
	ServiceWrite  bool
	ProjectID     string // service tokens are bound to one project
}

// ServiceScope is one (environment, path glob) scope of a service token.
type ServiceScope struct {
	Environment string `json:"environment"`
	SecretPath  string `json:"secretPath"`
}

// Platform returns the all-powerful internal actor for orgID.
func Platform(orgID string) Actor {
	return Actor{Type: ActorPlatform, ID: "platform", Name: "platform", OrgID: orgID}
}
