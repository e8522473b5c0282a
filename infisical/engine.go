// Package infisical is the engine of the secrets platform: projects,
// environments, folders, secrets, identities and their access, with envelope
// encryption of every stored value. A Go program opens it in-process with
// Open; the API daemon maps Infisical's REST API onto the same methods.
package infisical

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
)

// Config configures an engine. Zero values get defaults from Validate.
type Config struct {
	// DataDir holds the SQLite database (when DatabaseURL is empty) and, in
	// dev mode, generated keys. Default "./infisical-data".
	DataDir string
	// DatabaseURL is DB_CONNECTION_URI: a postgres:// URL or an SQLite path.
	// Default: <DataDir>/infisical.db.
	DatabaseURL string
	// EncryptionKey (32 bytes used raw) or RootEncryptionKey (base64 of 32
	// bytes) protect the root key, unless RootKey is set.
	EncryptionKey     string
	RootEncryptionKey string
	// RootKey overrides the software root-key provider (HSM, AWS KMS).
	RootKey kms.RootKey
	// ExternalKMS tunes calls to organizations' external KMS (AWS
	// endpoints for tests and private endpoints); see kms_external.go.
	ExternalKMS ExternalKMSConfig
	// AuthSecret signs access tokens (AUTH_SECRET), at least 16 bytes.
	AuthSecret string
	// SiteURL is the public URL of the instance (SITE_URL); invitation links
	// start with it (relative links when empty).
	SiteURL string

	Logger *slog.Logger
	// Now is the clock; tests move it.
	Now func() time.Time

	// Cache sizes (entries).
	DataKeyCacheSize    int // default 4096
	PermissionCacheSize int // default 16384
	TokenCacheSize      int // default 65536
	FolderCacheSize     int // default 8192 folders (SQLite only)
	ClaimsCacheSize     int // default 4096 verified tokens
	// TokenUsageFlush is how often use counters of tokens without a use
	// limit are written back (they are kept in memory in between so the
	// read path does not write). Default 2s.
	TokenUsageFlush time.Duration
	// MaxReferenceDepth bounds ${...} expansion (default 10).
	MaxReferenceDepth int
	// MaxBatchSize bounds batch secret operations (default 5000).
	MaxBatchSize int
	// Argon2 tunes password hashing (default authn.DefaultArgon2).
	Argon2 authn.Argon2Params

	// LoginRateLimitPerEmail and LoginRateLimitPerIP bound login attempts
	// per minute for one email address and one client IP (defaults 10 and
	// 30; negative disables). The state is in the database, so the limits
	// hold across server processes.
	LoginRateLimitPerEmail int
	LoginRateLimitPerIP    int

	// Audit tunes audit-log retention and delivery to audit-log streams.
	Audit AuditConfig

	// AuthIssuers sets the endpoints and HTTP client machine logins use to
	// reach STS, Google, Azure and other issuers (auth_methods.go).
	AuthIssuers AuthIssuers
}

// Validate fills defaults and reports configuration errors.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		c.DataDir = "infisical-data"
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "infisical.db")
	}
	if c.RootKey == nil {
		if err := (kms.SoftwareConfig{EncryptionKey: c.EncryptionKey, RootEncryptionKey: c.RootEncryptionKey}).Validate(); err != nil {
			return err
		}
	}
	if len(c.AuthSecret) < authn.MinSecretLen {
		return fmt.Errorf("AUTH_SECRET must be set and at least %d characters", authn.MinSecretLen)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.DataKeyCacheSize <= 0 {
		c.DataKeyCacheSize = 4096
	}
	if c.PermissionCacheSize <= 0 {
		c.PermissionCacheSize = 16384
	}
	if c.TokenCacheSize <= 0 {
		c.TokenCacheSize = 65536
	}
	if c.FolderCacheSize <= 0 {
		c.FolderCacheSize = 8192
	}
	if c.ClaimsCacheSize <= 0 {
		c.ClaimsCacheSize = 4096
	}
	if c.TokenUsageFlush <= 0 {
		c.TokenUsageFlush = 2 * time.Second
	}
	if c.MaxReferenceDepth <= 0 {
		c.MaxReferenceDepth = 10
	}
	if c.MaxBatchSize <= 0 {
		c.MaxBatchSize = 5000
	}
	if c.Argon2.Memory == 0 {
		c.Argon2 = authn.DefaultArgon2
	}
	c.Audit.fill()
	return nil
}

// Engine is an open secrets engine. It is safe for concurrent use.
type Engine struct {
	cfg    Config
	store  *store.Store
	log    *slog.Logger
	signer *authn.Signer
	keys   *keyring
	access *accessCache
	tokens *tokenCache
	metas  metaCache
	// folders caches folder contents (SQLite only, see secrets_cache.go).
	folders folderCache
	// claims caches verified JWT claims by token text: a token's signature
	// stays valid, so only its expiry is re-checked per request.
	claims *lru.Cache[string, *authn.Claims]

	// adminSet is the compiled built-in project admin role.
	adminSet *permission.Set

	// Extension points filled by later subsystems (custom roles, service
	// tokens, user sessions). Nil means "not available".
	customRoleRules    func(ctx context.Context, projectID string, r *store.MembershipRole) ([]permission.Rule, error)
	customOrgRoleRules func(ctx context.Context, orgID, roleSlug string) ([]permission.Rule, error)
	serviceTokenAuth   func(ctx context.Context, token, ip string) (Actor, error)
	userTokenAuth      func(ctx context.Context, c *authn.Claims, ip string) (Actor, error)
	resolveCustomRole  func(ctx context.Context, q store.Q, projectID, slug string) (string, error)
	applyTemplate      func(ctx context.Context, q store.Q, actor Actor, p *store.Project, name string) error

	// Services.
	Projects      *ProjectService
	Environments  *EnvironmentService
	Secrets       *SecretService
	Folders       *FolderService
	Imports       *ImportService
	Tags          *TagService
	Identities    *IdentityService
	Memberships   *MembershipService
	UniversalAuth *UniversalAuthService
	TokenAuth     *TokenAuthService
	Admin         *AdminService
	Roles         *RoleService         // roles.go: custom project and organization roles
	Groups        *GroupService        // groups.go
	Privileges    *PrivilegeService    // privileges.go: identity additional privileges
	Templates     *TemplateService     // templates.go: project templates
	Users         *UserService         // users.go, sessions.go, org_memberships.go
	ServiceTokens *ServiceTokenService // service_tokens.go
	AuthMethods   *AuthMethodService   // auth_methods*.go: AWS, GCP, Azure, Kubernetes, OIDC, JWT, LDAP auth
	accounts      *accountState

	auditState

	stop       chan struct{}
	done       chan struct{}
	stopListen context.CancelFunc
	listenDone chan struct{}
}

// Open opens (creating if needed) the database, runs migrations, loads the
// root key and returns a ready engine.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	if !store.IsPostgresDSN(cfg.DatabaseURL) {
		if err := os.MkdirAll(filepath.Dir(store.SQLitePath(cfg.DatabaseURL)), 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	st, err := store.Open(ctx, store.Config{DSN: cfg.DatabaseURL})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	e, err := newEngine(ctx, cfg, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return e, nil
}

func newEngine(ctx context.Context, cfg Config, st *store.Store) (*Engine, error) {
	signer, err := authn.NewSigner([]byte(cfg.AuthSecret))
	if err != nil {
		return nil, err
	}
	signer.SetClock(cfg.Now)
	root := cfg.RootKey
	if root == nil {
		sw, err := kms.NewSoftware(kms.SoftwareConfig{EncryptionKey: cfg.EncryptionKey, RootEncryptionKey: cfg.RootEncryptionKey})
		if err != nil {
			return nil, err
		}
		root = sw
	}
	e := &Engine{
		cfg:    cfg,
		store:  st,
		log:    cfg.Logger,
		signer: signer,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	e.keys, err = newKeyring(ctx, e, root)
	if err != nil {
		return nil, err
	}
	e.access = newAccessCache(cfg.PermissionCacheSize)
	e.tokens = newTokenCache(cfg.TokenCacheSize)
	// Token states are cached only where this process is the database's
	// sole user; with PostgreSQL another server may revoke a token at any
	// moment and the check must see it at once.
	e.tokens.enabled = !st.IsPostgres()
	e.metas = metaCache{c: newGenCache[*projectMeta](4096)}
	e.folders = folderCache{enabled: !st.IsPostgres(), c: newGenCache[*folderContents](cfg.FolderCacheSize)}
	e.claims, _ = lru.New[string, *authn.Claims](cfg.ClaimsCacheSize)
	adminRules, _ := permission.BuiltinProjectRole("admin")
	if e.adminSet, err = permission.Compile(adminRules); err != nil {
		return nil, fmt.Errorf("compile admin role: %w", err)
	}
	e.Projects = &ProjectService{e: e}
	e.Environments = &EnvironmentService{e: e}
	e.Secrets = &SecretService{e: e}
	e.Folders = &FolderService{e: e}
	e.Imports = &ImportService{e: e}
	e.Tags = &TagService{e: e}
	e.Identities = &IdentityService{e: e}
	e.Memberships = &MembershipService{e: e}
	e.UniversalAuth = &UniversalAuthService{e: e}
	e.TokenAuth = &TokenAuthService{e: e}
	e.Admin = &AdminService{e: e}
	e.AuthMethods = newAuthMethodService(e, cfg.AuthIssuers)
	e.initAccessControl()
	e.initAccounts()
	st.Subscribe(e.onInvalidate)
	if err := e.startListener(); err != nil {
		return nil, err
	}
	e.auditQ = make(chan queuedEvent, auditQueueSize)
	e.auditDone = make(chan struct{})
	go e.auditWriter()
	e.startAuditJobs()
	go e.background()
	return e, nil
}

// Close flushes pending work and closes the database.
func (e *Engine) Close() error {
	select {
	case <-e.stop:
		return errors.New("engine already closed")
	default:
	}
	close(e.stop)
	<-e.done
	e.closeAudit()
	e.stopListen()
	<-e.listenDone
	return e.store.Close()
}

// Store exposes the storage layer (tools, tests, listeners).
func (e *Engine) Store() *store.Store { return e.store }

// Logger returns the engine's logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

func (e *Engine) now() time.Time { return e.cfg.Now().UTC().Truncate(time.Millisecond) }

// startListener subscribes to invalidations from other server processes
// (PostgreSQL) and waits until the subscription is active, so no change made
// elsewhere after Open returns can be missed.
func (e *Engine) startListener() error {
	ctx, cancel := context.WithCancel(context.Background())
	e.stopListen = cancel
	e.listenDone = make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(e.listenDone)
		_ = e.store.Listen(ctx, e.log, ready)
	}()
	select {
	case <-ready:
		return nil
	case <-time.After(15 * time.Second):
		cancel()
		<-e.listenDone
		return errors.New("could not subscribe to cache invalidations (PostgreSQL LISTEN) within 15s")
	}
}

// background runs periodic work until Close.
func (e *Engine) background() {
	defer close(e.done)
	t := time.NewTicker(e.cfg.TokenUsageFlush)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			e.flushTokenUsage(context.Background())
			e.flushServiceTokenUse(context.Background())
			return
		case <-t.C:
			e.flushTokenUsage(context.Background())
			e.flushServiceTokenUse(context.Background())
		}
	}
}

// onInvalidate drops cache entries named by a storage event, local or from
// another process.
func (e *Engine) onInvalidate(ev store.Event) {
	switch ev.Topic {
	case topicToken:
		e.tokens.drop(ev.Key)
	case topicIdentityTokens:
		e.tokens.dropIdentity(ev.Key)
	case topicAccess:
		e.access.drop(ev.Key)
	case topicProject:
		e.keys.dropProject(ev.Key)
		e.metas.c.bump(ev.Key)
		// Tag renames and folder moves change what cached folder contents
		// render to; they are rare, so drop every folder's contents.
		e.folders.drop("")
	case topicFolder:
		e.folders.drop(ev.Key)
	case topicAll:
		e.tokens.clear()
		e.access.drop("")
		e.keys.dropProject("")
		e.metas.c.bump("")
		e.folders.drop("")
	}
}

// Invalidation topics.
const (
	topicToken          = "token"    // key: access token id
	topicIdentityTokens = "idtokens" // key: identity id (all its tokens)
	topicAccess         = "access"   // key: project id ("" = all)
	topicProject        = "project"  // key: project id
	topicAll            = "all"
)

// Now returns the engine's clock reading (UTC, millisecond precision).
func (e *Engine) Now() time.Time { return e.now() }
