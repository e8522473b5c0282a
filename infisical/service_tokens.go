package infisical

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Legacy service tokens (spec §7.12): "st.<id>.<secret>" bearer tokens bound
// to one project, with (environment, secret path glob) scopes and read or
// read-write access to secrets. Kept so that older CLIs and Kubernetes
// operators keep working; new setups use machine identities.

// ServiceTokenService manages service tokens.
type ServiceTokenService struct{ e *Engine }

// Service-token permissions.
const (
	ServicePermissionRead      = "read"
	ServicePermissionWrite     = "write"
	ServicePermissionReadValue = "readValue"
	maxServiceTokenNameLen     = 256
	maxServiceTokenScopes      = 100
	// maxServiceTokenExpiry bounds expiresIn (ten years).
	maxServiceTokenExpiry = 10 * 365 * 24 * 3600
)

// ServiceTokenUser is the creator of a service token.
type ServiceTokenUser struct {
	ID        string
	Email     *string
	Username  string
	FirstName *string
	LastName  *string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ServiceToken is a service token's data. The secret is never kept.
type ServiceToken struct {
	ID          string
	Name        string
	ProjectID   string
	Scopes      []ServiceScope
	Permissions []string
	CreatedBy   string
	ExpiresAt   *time.Time
	LastUsed    *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// User is the creator when it is (still) a user account.
	User *ServiceTokenUser
}

func serviceTokenFromRow(r *store.ServiceToken) *ServiceToken {
	out := &ServiceToken{ID: r.ID, Name: r.Name, ProjectID: r.ProjectID, CreatedBy: r.CreatedBy, ExpiresAt: r.ExpiresAt,
		LastUsed: r.LastUsed, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Scopes: make([]ServiceScope, len(r.Scopes)), Permissions: append([]string{}, r.Permissions...)}
	for i, sc := range r.Scopes {
		out.Scopes[i] = ServiceScope{Environment: sc.Environment, SecretPath: sc.SecretPath}
	}
	return out
}

// CreateServiceTokenInput is the body of POST /api/v2/service-token. The
// legacy end-to-end encryption fields (encryptedKey, iv, tag) are not
// needed: secrets are decrypted by the server.
type CreateServiceTokenInput struct {
	Name        string
	ProjectID   string
	Scopes      []ServiceScope
	Permissions []string
	// ExpiresIn is the lifetime in seconds; nil or 0 = never expires.
	ExpiresIn *int64
}

// normalizeScopePath trims a scope path and strips a trailing slash; the
// path may be a glob ("/backend/**").
func normalizeScopePath(i int, p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") {
		return "", Invalid("scopes", "scopes[%d].secretPath must start with '/'", i)
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
		if p == "" {
			p = "/"
		}
	}
	if _, err := permission.CompileGlob(p); err != nil {
		return "", Invalid("scopes", "scopes[%d].secretPath is not a valid path pattern", i)
	}
	return p, nil
}

// Create creates a service token for a project. The caller needs create on
// the project's service tokens and may only scope the token to where it may
// create secrets itself. The full token is returned only here.
func (s *ServiceTokenService) Create(ctx context.Context, actor Actor, in CreateServiceTokenInput) (string, *ServiceToken, error) {
	e := s.e
	if actor.Type == ActorService {
		return "", nil, Forbidden("Service tokens cannot create service tokens")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > maxServiceTokenNameLen {
		return "", nil, Invalid("name", "name must be 1 to %d characters", maxServiceTokenNameLen)
	}
	if strings.TrimSpace(in.ProjectID) == "" {
		return "", nil, Invalid("workspaceId", "workspaceId is required")
	}
	if len(in.Scopes) == 0 || len(in.Scopes) > maxServiceTokenScopes {
		return "", nil, Invalid("scopes", "scopes must hold 1 to %d entries", maxServiceTokenScopes)
	}
	if len(in.Permissions) == 0 {
		return "", nil, Invalid("permissions", "permissions must hold at least one of read, write")
	}
	perms := make([]string, 0, len(in.Permissions))
	seen := map[string]bool{}
	for i, p := range in.Permissions {
		switch p {
		case ServicePermissionRead, ServicePermissionWrite, ServicePermissionReadValue:
		default:
			return "", nil, Invalid("permissions", "permissions[%d] must be read, write or readValue", i)
		}
		if !seen[p] {
			seen[p] = true
			perms = append(perms, p)
		}
	}
	var expiresIn int64
	if in.ExpiresIn != nil {
		expiresIn = *in.ExpiresIn
		if expiresIn < 0 || expiresIn > maxServiceTokenExpiry {
			return "", nil, Invalid("expiresIn", "expiresIn must be between 0 and %d seconds", maxServiceTokenExpiry)
		}
	}
	meta, set, err := e.project(ctx, actor, ProjectRef{ID: in.ProjectID})
	if err != nil {
		return "", nil, err
	}
	if err := set.Check(permission.ActionCreate, permission.SubjectServiceTokens, nil); err != nil {
		return "", nil, err
	}
	scopes := make([]store.ServiceTokenScope, len(in.Scopes))
	for i, sc := range in.Scopes {
		env := strings.TrimSpace(sc.Environment)
		if env == "" {
			return "", nil, Invalid("scopes", "scopes[%d].environment is required", i)
		}
		if meta.envBySlug[env] == nil {
			return "", nil, NotFound("Environment with slug '%s' in project with ID '%s' not found", env, meta.project.ID)
		}
		path, err := normalizeScopePath(i, sc.SecretPath)
		if err != nil {
			return "", nil, err
		}
		if err := set.Check(permission.ActionCreate, permission.SubjectSecrets, folderAttrs(env, path)); err != nil {
			return "", nil, err
		}
		scopes[i] = store.ServiceTokenScope{Environment: env, SecretPath: path}
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", nil, Internal("generate service token", err)
	}
	secret := hex.EncodeToString(buf)
	now := e.now()
	row := &store.ServiceToken{ID: uuid.NewString(), ProjectID: meta.project.ID, Name: name, Scopes: scopes, Permissions: perms,
		SecretHash: authn.HashSecret(secret), CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now}
	if expiresIn > 0 {
		exp := now.Add(time.Duration(expiresIn) * time.Second)
		row.ExpiresAt = &exp
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		if err := q.Insert(ctx, row); err != nil {
			return Internal("create service token", err)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-service-token", ProjectID: meta.project.ID,
			Metadata: map[string]any{"serviceTokenId": row.ID, "name": name, "scopes": scopeMaps(scopes), "permissions": perms}})
	})
	if err != nil {
		return "", nil, err
	}
	out := serviceTokenFromRow(row)
	out.User = s.creator(ctx, e.store.Read(), row.CreatedBy)
	return "st." + row.ID + "." + secret, out, nil
}

func scopeMaps(scopes []store.ServiceTokenScope) []map[string]string {
	out := make([]map[string]string, len(scopes))
	for i, sc := range scopes {
		out[i] = map[string]string{"environment": sc.Environment, "secretPath": sc.SecretPath}
	}
	return out
}

// creator returns the user who created a token (nil when it was not a
// user or no longer exists).
func (s *ServiceTokenService) creator(ctx context.Context, q store.Q, id string) *ServiceTokenUser {
	if id == "" {
		return nil
	}
	u, err := q.GetUser(ctx, id)
	if err != nil {
		return nil
	}
	return &ServiceTokenUser{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// Current returns the data of the calling service token (GET
// /api/v2/service-token), with its pending last use.
func (s *ServiceTokenService) Current(ctx context.Context, actor Actor) (*ServiceToken, error) {
	e := s.e
	if actor.Type != ActorService {
		return nil, Forbidden("This endpoint accepts service tokens only")
	}
	q := e.store.Read()
	row, err := q.GetServiceToken(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("Service token with ID '%s' not found", actor.ID)
	}
	if err != nil {
		return nil, Internal("load service token", err)
	}
	out := serviceTokenFromRow(&row.ServiceToken)
	e.accounts.mu.Lock()
	if t, ok := e.accounts.svcUses[row.ID]; ok && (out.LastUsed == nil || t.After(*out.LastUsed)) {
		out.LastUsed = &t
	}
	e.accounts.mu.Unlock()
	out.User = s.creator(ctx, q, row.CreatedBy)
	e.auditRead(actor, AuditEvent{Type: "get-service-token", ProjectID: row.ProjectID, Metadata: map[string]any{"serviceTokenId": row.ID}})
	return out, nil
}

// List returns the service tokens of a project, newest first.
func (s *ServiceTokenService) List(ctx context.Context, actor Actor, projectID string) ([]ServiceToken, error) {
	e := s.e
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot list service tokens")
	}
	if strings.TrimSpace(projectID) == "" {
		return nil, Invalid("workspaceId", "workspaceId is required")
	}
	meta, set, err := e.project(ctx, actor, ProjectRef{ID: projectID})
	if err != nil {
		return nil, err
	}
	if err := set.Check(permission.ActionRead, permission.SubjectServiceTokens, nil); err != nil {
		return nil, err
	}
	q := e.store.Read()
	rows, err := q.ListServiceTokens(ctx, meta.project.ID)
	if err != nil {
		return nil, Internal("list service tokens", err)
	}
	out := make([]ServiceToken, len(rows))
	users := map[string]*ServiceTokenUser{}
	for i := range rows {
		out[i] = *serviceTokenFromRow(&rows[i])
		u, ok := users[rows[i].CreatedBy]
		if !ok {
			u = s.creator(ctx, q, rows[i].CreatedBy)
			users[rows[i].CreatedBy] = u
		}
		out[i].User = u
	}
	e.auditRead(actor, AuditEvent{Type: "get-service-tokens", ProjectID: meta.project.ID, Metadata: map[string]any{"count": len(out)}})
	return out, nil
}

// Delete deletes a service token; it stops working at once.
func (s *ServiceTokenService) Delete(ctx context.Context, actor Actor, id string) (*ServiceToken, error) {
	e := s.e
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot delete service tokens")
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, Invalid("serviceTokenId", "serviceTokenId is required")
	}
	notFound := NotFound("Service token with ID '%s' not found", id)
	row, err := e.store.Read().GetServiceToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, Internal("load service token", err)
	}
	_, set, err := e.project(ctx, actor, ProjectRef{ID: row.ProjectID})
	if err != nil {
		if IsNotFound(err) {
			return nil, notFound
		}
		return nil, err
	}
	if err := set.Check(permission.ActionDelete, permission.SubjectServiceTokens, nil); err != nil {
		return nil, err
	}
	err = e.store.Tx(ctx, func(q store.Q) error {
		ok, err := q.DeleteServiceToken(ctx, id)
		if err != nil {
			return Internal("delete service token", err)
		}
		if !ok {
			return notFound
		}
		q.Invalidate(topicServiceToken, id)
		return e.audit(ctx, q, actor, AuditEvent{Type: "delete-service-token", ProjectID: row.ProjectID,
			Metadata: map[string]any{"serviceTokenId": id, "name": row.Name, "scopes": scopeMaps(row.Scopes)}})
	})
	if err != nil {
		return nil, err
	}
	e.accounts.mu.Lock()
	delete(e.accounts.svcUses, id)
	e.accounts.mu.Unlock()
	out := serviceTokenFromRow(&row.ServiceToken)
	out.User = s.creator(ctx, e.store.Read(), row.CreatedBy)
	return out, nil
}

// svcTokenState is what the per-request check needs about a service token.
type svcTokenState struct {
	id        string
	name      string
	projectID string
	orgID     string
	hash      []byte
	expiresAt *time.Time
	scopes    []ServiceScope
	write     bool
}

func (e *Engine) svcTokenState(ctx context.Context, id string) (*svcTokenState, error) {
	a := e.accounts
	if a.cacheEnabled {
		if st, ok := a.svcTokens.get(id, id); ok {
			return st, nil
		}
	}
	gen, global := a.svcTokens.stamp(id)
	row, err := e.store.Read().GetServiceToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal("load service token", err)
	}
	st := &svcTokenState{id: row.ID, name: row.Name, projectID: row.ProjectID, orgID: row.OrgID, hash: row.SecretHash,
		expiresAt: row.ExpiresAt, scopes: make([]ServiceScope, len(row.Scopes))}
	for i, sc := range row.Scopes {
		st.scopes[i] = ServiceScope{Environment: sc.Environment, SecretPath: sc.SecretPath}
	}
	for _, p := range row.Permissions {
		if p == ServicePermissionWrite {
			st.write = true
		}
	}
	if a.cacheEnabled {
		a.svcTokens.put(id, id, gen, global, st)
	}
	return st, nil
}

// errInvalidServiceToken is the answer to an unknown token and a wrong
// secret alike.
func errInvalidServiceToken() *Error { return Unauthorized("Invalid service token") }

// authenticateServiceToken is the serviceTokenAuth hook. Clients may send
// a fourth part (the legacy decryption key); it is ignored.
func (e *Engine) authenticateServiceToken(ctx context.Context, token, ip string) (Actor, error) {
	parts := strings.SplitN(strings.TrimSpace(token), ".", 4)
	if len(parts) < 3 || parts[0] != "st" || parts[1] == "" || parts[2] == "" {
		return Actor{}, errInvalidServiceToken()
	}
	id, secret := parts[1], parts[2]
	if _, err := uuid.Parse(id); err != nil {
		return Actor{}, errInvalidServiceToken()
	}
	st, err := e.svcTokenState(ctx, id)
	if err != nil {
		return Actor{}, err
	}
	if st == nil {
		return Actor{}, errInvalidServiceToken()
	}
	now := e.now()
	if st.expiresAt != nil && !now.Before(*st.expiresAt) {
		err := e.store.Tx(ctx, func(q store.Q) error {
			if _, err := q.DeleteServiceToken(ctx, id); err != nil {
				return err
			}
			q.Invalidate(topicServiceToken, id)
			return nil
		})
		if err != nil {
			e.log.Warn("could not delete expired service token", "serviceTokenId", id, "err", err)
		}
		return Actor{}, Forbidden("Service token has expired")
	}
	if !authn.SecretMatches(secret, st.hash) {
		return Actor{}, errInvalidServiceToken()
	}
	e.accounts.mu.Lock()
	e.accounts.svcUses[id] = now
	e.accounts.mu.Unlock()
	return Actor{Type: ActorService, ID: st.id, Name: st.name, OrgID: st.orgID, ProjectID: st.projectID, TokenID: st.id,
		ServiceScopes: append([]ServiceScope(nil), st.scopes...), ServiceWrite: st.write, IP: ip}, nil
}

// flushServiceTokenUse writes the last use of service tokens used since the
// previous flush, in one transaction (called by the engine's background
// loop, so the read path never writes).
func (e *Engine) flushServiceTokenUse(ctx context.Context) {
	a := e.accounts
	a.mu.Lock()
	pending := a.svcUses
	if len(pending) == 0 {
		a.mu.Unlock()
		return
	}
	a.svcUses = map[string]time.Time{}
	a.mu.Unlock()
	err := e.store.Tx(ctx, func(q store.Q) error {
		for id, t := range pending {
			if err := q.TouchServiceToken(ctx, id, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Warn("could not record service-token usage", "tokens", len(pending), "err", err)
	}
}
