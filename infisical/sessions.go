package infisical

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/store"
)

// User sessions. A successful login creates a session row and returns a
// user JWT whose tokenVersionId claim names it; every request re-checks the
// row (through a cache where this process owns the database), so logging
// out, leaving an organization or being deactivated takes effect at once.

// Lifetimes of user credentials.
const (
	// userSessionTTL is the lifetime of a session and of its tokens
	// (Infisical's JWT_AUTH_LIFETIME default).
	userSessionTTL = 10 * 24 * time.Hour
	// authMethodEmail is the authMethod claim of email/password sessions.
	authMethodEmail = "email"
	maxUserAgentLen = 512
)

// Invalidation topics of this file's caches.
const (
	topicUserSessions = "usersessions" // key: user id ("" = all)
	topicServiceToken = "svctoken"     // key: service token id
)

// accountState holds the caches and counters of user sessions, service
// tokens and the rate limiter.
type accountState struct {
	// cacheEnabled: session and service-token rows are cached only where
	// this process is the database's sole user (SQLite); with PostgreSQL
	// another server may revoke at any moment and the check must see it.
	cacheEnabled bool
	sessions     *genCache[*sessionState]
	svcTokens    *genCache[*svcTokenState]

	// svcUses holds the last use of service tokens until the next flush,
	// so that the read path never writes.
	mu      sync.Mutex
	svcUses map[string]time.Time

	dummyOnce sync.Once
	dummyHash string
	sweeps    atomic.Uint32
}

// sessionState is what the per-request check needs to know about a session.
type sessionState struct {
	id            string
	userID        string
	orgID         string
	authMethod    string
	accessVersion int
	expiresAt     time.Time
	email         string
	username      string
	memberOK      bool // accepted, active member of orgID (orgID != "")
}

// initAccounts wires users, sessions and service tokens into the engine.
func (e *Engine) initAccounts() {
	e.accounts = &accountState{
		cacheEnabled: !e.store.IsPostgres(),
		sessions:     newGenCache[*sessionState](e.cfg.TokenCacheSize),
		svcTokens:    newGenCache[*svcTokenState](4096),
		svcUses:      map[string]time.Time{},
	}
	e.Users = &UserService{e: e}
	e.ServiceTokens = &ServiceTokenService{e: e}
	e.userTokenAuth = e.authenticateUser
	e.serviceTokenAuth = e.authenticateServiceToken
	e.store.Subscribe(e.onAccountEvent)
}

func (e *Engine) onAccountEvent(ev store.Event) {
	switch ev.Topic {
	case topicUserSessions:
		e.accounts.sessions.bump(ev.Key)
	case topicServiceToken:
		e.accounts.svcTokens.bump(ev.Key)
	case topicProject:
		// A deleted project takes its service tokens along (the rows
		// cascade); project changes are rare, so drop every cached token.
		e.accounts.svcTokens.bump("")
	case topicAll:
		e.accounts.sessions.bump("")
		e.accounts.svcTokens.bump("")
	}
}

// dummyPasswordHash is verified against when a login names no usable
// account, so that unknown emails cost the same time as wrong passwords.
func (e *Engine) dummyPasswordHash() string {
	a := e.accounts
	a.dummyOnce.Do(func() {
		h, err := authn.HashPassword(uuid.NewString(), e.cfg.Argon2)
		if err != nil {
			// Falls back to a malformed hash: verification then fails
			// fast, which only weakens the timing equalisation.
			e.log.Warn("could not prepare the login timing hash", "err", err)
		}
		a.dummyHash = h
	})
	return a.dummyHash
}

// issueSession inserts a session for user (scoped to orgID unless "") in q
// and signs its token.
func (e *Engine) issueSession(ctx context.Context, q store.Q, userID, orgID, method, ip, userAgent string) (string, *store.UserSession, error) {
	now := e.now()
	if len(userAgent) > maxUserAgentLen {
		userAgent = userAgent[:maxUserAgentLen]
	}
	s := &store.UserSession{ID: uuid.NewString(), UserID: userID, AuthMethod: method, AccessVersion: 1, IP: ip, UserAgent: userAgent,
		ExpiresAt: now.Add(userSessionTTL), CreatedAt: now, UpdatedAt: now}
	if orgID != "" {
		s.OrgID = &orgID
	}
	if err := q.DeleteExpiredSessions(ctx, userID, now); err != nil {
		return "", nil, Internal("delete expired sessions", err)
	}
	if err := q.Insert(ctx, s); err != nil {
		return "", nil, Internal("create session", err)
	}
	claims := authn.UserClaims(authn.UserTokenSpec{UserID: userID, TokenVersionID: s.ID, OrgID: orgID, AuthMethod: method,
		TTL: userSessionTTL, IssuedAt: now})
	claims.AccessVersion = s.AccessVersion
	tok, err := e.signer.Sign(claims)
	if err != nil {
		return "", nil, Internal("sign user token", err)
	}
	return tok, s, nil
}

// sessionState loads (or finds cached) the state of a session; nil when the
// session does not exist.
func (e *Engine) sessionState(ctx context.Context, id, userID string) (*sessionState, error) {
	a := e.accounts
	if a.cacheEnabled {
		if st, ok := a.sessions.get(id, userID); ok {
			return st, nil
		}
	}
	gen, global := a.sessions.stamp(userID)
	row, err := e.store.Read().GetSessionForAuth(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal("load session", err)
	}
	st := &sessionState{id: row.ID, userID: row.UserID, authMethod: row.AuthMethod, accessVersion: row.AccessVersion,
		expiresAt: row.ExpiresAt, username: row.Username}
	if row.Email != nil {
		st.email = *row.Email
	}
	if row.OrgID != nil {
		st.orgID = *row.OrgID
		st.memberOK = row.MemberActive != nil && *row.MemberActive && row.MemberStatus != nil && *row.MemberStatus == store.OrgStatusAccepted
	}
	if a.cacheEnabled && st.userID == userID {
		a.sessions.put(id, userID, gen, global, st)
	}
	return st, nil
}

// authenticateUser is the userTokenAuth hook: it checks a verified user JWT
// against its session, its user and (for organization-scoped tokens) the
// user's membership.
func (e *Engine) authenticateUser(ctx context.Context, c *authn.Claims, ip string) (Actor, error) {
	if c.UserID == "" || c.TokenVersionID == "" {
		return Actor{}, Unauthorized("Invalid user session token")
	}
	st, err := e.sessionState(ctx, c.TokenVersionID, c.UserID)
	if err != nil {
		return Actor{}, err
	}
	if st == nil || st.userID != c.UserID || st.accessVersion != c.AccessVersion {
		return Actor{}, Unauthorized("Your session has ended. Please log in again.")
	}
	if !e.now().Before(st.expiresAt) {
		return Actor{}, Unauthorized("Your session has expired. Please log in again.")
	}
	orgID := c.OrganizationID
	if orgID != st.orgID {
		return Actor{}, Unauthorized("Invalid user session token")
	}
	if orgID != "" && !st.memberOK {
		return Actor{}, Unauthorized("User is not an active member of this organization")
	}
	method := c.AuthMethod
	if method == "" {
		method = st.authMethod
	}
	return Actor{Type: ActorUser, ID: st.userID, Name: st.username, Username: st.username, Email: st.email, OrgID: orgID,
		AuthMethod: method, TokenID: st.id, IP: ip}, nil
}

// LoginInput is the body of POST /api/v3/auth/login.
type LoginInput struct {
	Email     string
	Password  string
	IP        string
	UserAgent string
}

// LoginSession is a successful login: a user token (without organization
// after Login, scoped to one after SelectOrganization) and the user.
type LoginSession struct {
	Token     string
	SessionID string
	OrgID     string
	ExpiresAt time.Time
	User      *User
}

// errBadCredentials is the single answer to a wrong password, an unknown
// email and an account without a password, so none can be told apart.
func errBadCredentials() *Error { return Unauthorized("Invalid credentials") }

// Login checks an email and password and opens a session without
// organization (select one with SelectOrganization). Attempts are rate
// limited per email and per client IP; wrong passwords and unknown emails
// get the same answer in about the same time.
func (s *UserService) Login(ctx context.Context, in LoginInput) (*LoginSession, error) {
	e := s.e
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" || len(email) > maxEmailLen {
		return nil, Invalid("email", "email is required")
	}
	if in.Password == "" {
		return nil, Invalid("password", "password is required")
	}
	if err := e.limitLogin(ctx, email, in.IP); err != nil {
		return nil, err
	}
	u, err := e.store.Read().GetUserByUsername(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, Internal("load user", err)
	}
	usable := err == nil && u.PasswordHash != nil && u.IsAccepted
	hash := e.dummyPasswordHash()
	if usable {
		hash = *u.PasswordHash
	}
	ok, verr := authn.VerifyPassword(in.Password, hash)
	if verr != nil && usable {
		e.log.Error("stored password hash is malformed", "userId", u.ID)
	}
	if !usable || !ok || len(in.Password) > maxPasswordLen {
		return nil, errBadCredentials()
	}
	var out *LoginSession
	err = e.store.Tx(ctx, func(q store.Q) error {
		tok, sess, err := e.issueSession(ctx, q, u.ID, "", authMethodEmail, in.IP, in.UserAgent)
		if err != nil {
			return err
		}
		actor := userActor(u, "", in.IP, in.UserAgent)
		if err := e.audit(ctx, q, actor, AuditEvent{Type: "user-login", Metadata: map[string]any{"userId": u.ID, "authMethod": authMethodEmail}}); err != nil {
			return err
		}
		out = &LoginSession{Token: tok, SessionID: sess.ID, ExpiresAt: sess.ExpiresAt, User: userFromRow(u)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userActor is the actor of a user acting through a fresh session.
func userActor(u *store.User, orgID, ip, userAgent string) Actor {
	a := Actor{Type: ActorUser, ID: u.ID, Name: u.Username, Username: u.Username, OrgID: orgID, AuthMethod: authMethodEmail,
		IP: ip, UserAgent: userAgent}
	if u.Email != nil {
		a.Email = *u.Email
	}
	return a
}

// SelectOrganization exchanges the caller's user session for one scoped to
// orgID, where the user must be an accepted, active member. The previous
// session ends.
func (s *UserService) SelectOrganization(ctx context.Context, actor Actor, orgID string) (*LoginSession, error) {
	e := s.e
	if actor.Type != ActorUser {
		return nil, Forbidden("Only users can select an organization")
	}
	orgID = strings.TrimSpace(orgID)
	if orgID == "" {
		return nil, Invalid("organizationId", "organizationId is required")
	}
	q := e.store.Read()
	m, err := q.OrgMembershipOfUser(ctx, orgID, actor.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!m.IsActive || m.Status != store.OrgStatusAccepted)) {
		return nil, Unauthorized("User does not have access to the organization")
	}
	if err != nil {
		return nil, Internal("load organization membership", err)
	}
	u, err := q.GetUser(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Unauthorized("User not found")
	}
	if err != nil {
		return nil, Internal("load user", err)
	}
	method := actor.AuthMethod
	if method == "" {
		method = authMethodEmail
	}
	var out *LoginSession
	err = e.store.Tx(ctx, func(q store.Q) error {
		if actor.TokenID != "" {
			if _, err := q.DeleteSession(ctx, actor.TokenID); err != nil {
				return Internal("end previous session", err)
			}
			q.Invalidate(topicUserSessions, actor.ID)
		}
		tok, sess, err := e.issueSession(ctx, q, u.ID, orgID, method, actor.IP, actor.UserAgent)
		if err != nil {
			return err
		}
		scoped := actor
		scoped.OrgID = orgID
		if err := e.audit(ctx, q, scoped, AuditEvent{Type: "select-organization", OrgID: orgID,
			Metadata: map[string]any{"organizationId": orgID}}); err != nil {
			return err
		}
		out = &LoginSession{Token: tok, SessionID: sess.ID, OrgID: orgID, ExpiresAt: sess.ExpiresAt, User: userFromRow(u)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Logout ends the session of a user token. Tokens that are not user
// tokens, or are forged, are ignored: logging out never fails. An expired
// token still ends its session.
func (s *UserService) Logout(ctx context.Context, token, ip, userAgent string) error {
	e := s.e
	c, err := e.signer.ParseUnverifiedExpiry(strings.TrimSpace(token))
	if err != nil || !c.IsUser() || c.TokenVersionID == "" || c.UserID == "" {
		return nil
	}
	return e.store.Tx(ctx, func(q store.Q) error {
		var sess store.UserSession
		if err := q.GetByID(ctx, &sess, c.TokenVersionID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return Internal("load session", err)
		}
		if sess.UserID != c.UserID {
			return nil
		}
		if _, err := q.DeleteSession(ctx, sess.ID); err != nil {
			return Internal("end session", err)
		}
		q.Invalidate(topicUserSessions, sess.UserID)
		actor := Actor{Type: ActorUser, ID: c.UserID, OrgID: c.OrganizationID, AuthMethod: c.AuthMethod, TokenID: sess.ID,
			IP: ip, UserAgent: userAgent}
		if u, err := q.GetUser(ctx, c.UserID); err == nil {
			actor = userActor(u, c.OrganizationID, ip, userAgent)
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "user-logout", Metadata: map[string]any{"userId": c.UserID}})
	})
}

// RevokeSessions ends every session of the calling user (all devices).
func (s *UserService) RevokeSessions(ctx context.Context, actor Actor) error {
	e := s.e
	if actor.Type != ActorUser {
		return Forbidden("Only users have sessions")
	}
	return e.store.Tx(ctx, func(q store.Q) error {
		if _, err := q.DeleteSessionsOfUser(ctx, actor.ID, ""); err != nil {
			return Internal("end sessions", err)
		}
		q.Invalidate(topicUserSessions, actor.ID)
		return e.audit(ctx, q, actor, AuditEvent{Type: "revoke-user-sessions", Metadata: map[string]any{"userId": actor.ID}})
	})
}
