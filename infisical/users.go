package infisical

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// UserService manages user accounts: creation and invitation, email and
// password login, sessions and organization memberships (users*.go,
// sessions.go, org_memberships.go).
type UserService struct{ e *Engine }

// User is a user account.
type User struct {
	ID              string
	Email           *string
	Username        string
	FirstName       *string
	LastName        *string
	SuperAdmin      bool
	IsAccepted      bool // the account has been set up (it has a password)
	IsEmailVerified bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func userFromRow(u *store.User) *User {
	return &User{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		SuperAdmin: u.SuperAdmin, IsAccepted: u.IsAccepted, IsEmailVerified: u.IsEmailVerified, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// Lifetimes and limits of invitations.
const (
	// inviteTTL bounds how long an invitation code can be redeemed.
	inviteTTL = 24 * time.Hour
	// signupTokenTTL bounds the step between redeeming an invitation and
	// setting a password (Infisical's JWT_SIGNUP_LIFETIME).
	signupTokenTTL = 15 * time.Minute
	// tokenTypeSignup is the authTokenType of signup tokens; they are not
	// accepted as session tokens anywhere.
	tokenTypeSignup = "signupToken"
	maxInvitees     = 100
	maxNameLen      = 64
)

// Me returns the calling user's account.
func (s *UserService) Me(ctx context.Context, actor Actor) (*User, error) {
	if actor.Type != ActorUser {
		return nil, Forbidden("This endpoint accepts user sessions only")
	}
	u, err := s.e.store.Read().GetUser(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("User not found")
	}
	if err != nil {
		return nil, Internal("load user", err)
	}
	return userFromRow(u), nil
}

// UserOrganization is an organization the calling user belongs to.
type UserOrganization struct {
	Organization
	ParentOrgID *string
	UserRole    string
}

// Organizations lists the organizations where the calling user is an
// accepted, active member, oldest first.
func (s *UserService) Organizations(ctx context.Context, actor Actor) ([]UserOrganization, error) {
	if actor.Type != ActorUser {
		return nil, Forbidden("This endpoint accepts user sessions only")
	}
	rows, err := s.e.store.Read().OrgsOfUser(ctx, actor.ID)
	if err != nil {
		return nil, Internal("list organizations", err)
	}
	out := make([]UserOrganization, 0, len(rows))
	for i := range rows {
		out = append(out, UserOrganization{Organization: *orgFromRow(&rows[i].Organization), ParentOrgID: rows[i].ParentOrgID,
			UserRole: rows[i].MemberRole})
	}
	return out, nil
}

// validPassword checks the length rule of new passwords.
func validPassword(p string) error {
	if len(p) < authn.MinPasswordLen || len(p) > maxPasswordLen {
		return Invalid("password", "password must be %d to %d characters", authn.MinPasswordLen, maxPasswordLen)
	}
	return nil
}

func validPersonName(field string, v *string) (*string, error) {
	if v == nil {
		return nil, nil
	}
	n := strings.TrimSpace(*v)
	if len(n) > maxNameLen {
		return nil, Invalid(field, "%s must be at most %d characters", field, maxNameLen)
	}
	if n == "" {
		return nil, nil
	}
	return &n, nil
}

// memberAccess checks action on the member subject of orgID for actor and
// returns the actor's org permissions.
func (e *Engine) memberAccess(ctx context.Context, actor Actor, orgID, action string) (*permission.Set, error) {
	if actor.Type == ActorService {
		return nil, Forbidden("Service tokens cannot manage organization members")
	}
	orgID = strings.TrimSpace(orgID)
	if orgID == "" {
		return nil, Invalid("organizationId", "organizationId is required")
	}
	if actor.Type != ActorPlatform && actor.OrgID != orgID {
		return nil, Forbidden("You are not allowed to access this organization")
	}
	if _, err := e.store.Read().GetOrg(ctx, orgID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, NotFound("Organization with ID '%s' not found", orgID)
		}
		return nil, Internal("load organization", err)
	}
	set, err := e.orgPermissions(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	if err := set.Check(action, permission.OrgSubjectMember, nil); err != nil {
		return nil, err
	}
	return set, nil
}

// CreateUserInput creates an account with a password directly (no
// invitation step): for organization admins and embedding programs.
type CreateUserInput struct {
	Email     string
	Password  string
	FirstName *string
	LastName  *string
	OrgID     string // organization to join; defaults to the actor's
	OrgRole   string // org role slug; default "member"
}

// Create creates a user account with a password and makes it an accepted
// member of the organization. The caller needs create on members and cannot
// hand out a more powerful org role than it holds. An email that already
// has an account is refused: invite that user instead.
func (s *UserService) Create(ctx context.Context, actor Actor, in CreateUserInput) (*OrgUserMembership, error) {
	e := s.e
	orgID := strings.TrimSpace(in.OrgID)
	if orgID == "" {
		orgID = actor.OrgID
	}
	email, err := validEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if err := validPassword(in.Password); err != nil {
		return nil, err
	}
	first, err := validPersonName("firstName", in.FirstName)
	if err != nil {
		return nil, err
	}
	last, err := validPersonName("lastName", in.LastName)
	if err != nil {
		return nil, err
	}
	role := strings.TrimSpace(in.OrgRole)
	if role == "" {
		role = permission.RoleMember
	}
	set, err := e.memberAccess(ctx, actor, orgID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	if _, err := e.orgRoleRules(ctx, orgID, role); err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, orgID, set, role, "create a user with a more privileged role"); err != nil {
		return nil, err
	}
	hash, err := authn.HashPassword(in.Password, e.cfg.Argon2)
	if err != nil {
		return nil, Internal("hash password", err)
	}
	var mid string
	err = e.store.Tx(ctx, func(q store.Q) error {
		now := e.now()
		u := &store.User{ID: uuid.NewString(), Email: &email, Username: email, FirstName: first, LastName: last, PasswordHash: &hash,
			IsAccepted: true, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, u); err != nil {
			if isDuplicate(err) {
				return BadRequest("A user with email '%s' already exists; invite the user to the organization instead", email)
			}
			return Internal("create user", err)
		}
		uid := u.ID
		m := &store.OrgMembership{ID: uuid.NewString(), OrgID: orgID, UserID: &uid, Role: role, Status: store.OrgStatusAccepted,
			IsActive: true, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, m); err != nil {
			return Internal("create organization membership", err)
		}
		mid = m.ID
		return e.audit(ctx, q, actor, AuditEvent{Type: "create-user", OrgID: orgID,
			Metadata: map[string]any{"userId": u.ID, "email": email, "role": role}})
	})
	if err != nil {
		return nil, err
	}
	return s.loadOrgMembership(ctx, e.store.Read(), orgID, mid)
}

// InviteProject adds invitees to a project with the given roles.
type InviteProject struct {
	ID        string
	RoleSlugs []string // default ["member"]
}

// InviteInput is the body of POST /api/v1/invite-org/signup.
type InviteInput struct {
	OrgID    string
	Emails   []string
	OrgRole  string // default "member"
	Projects []InviteProject
}

// Invitation is the outcome for one invitee. Link and Code are set when the
// invitee has something to redeem (the server sends no email: whoever
// invited passes the link on). Code is returned only here; only its hash is
// stored.
type Invitation struct {
	Email        string
	UserID       string
	MembershipID string
	Link         string
	Code         string
}

// inviteCode returns a fresh invitation code (256 random bits, hex).
func inviteCode() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf), nil
}

func (e *Engine) inviteLink(code, email, orgID string) string {
	return strings.TrimRight(e.cfg.SiteURL, "/") + "/signupinvite?token=" + url.QueryEscape(code) +
		"&to=" + url.QueryEscape(email) + "&organization_id=" + url.QueryEscape(orgID)
}

// normalizeEmails validates and lower-cases a list of addresses, dropping
// duplicates.
func normalizeEmails(field string, in []string) ([]string, error) {
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, raw := range in {
		em, err := validEmail(raw)
		if err != nil {
			return nil, Invalid(field, "'%s' is not a valid email address", strings.TrimSpace(raw))
		}
		if !seen[em] {
			seen[em] = true
			out = append(out, em)
		}
	}
	return out, nil
}

// inviteToOrg makes the user with email a member of orgID inside q: an
// account without password is created when none exists, and a membership
// with status "invited" and a fresh invitation code when the user is not
// yet a member (an existing invitation gets a new code). Accepted members
// are left as they are (Code empty).
func (e *Engine) inviteToOrg(ctx context.Context, q store.Q, orgID, email, role string) (*Invitation, error) {
	now := e.now()
	u, err := q.GetUserByUsername(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		em := email
		u = &store.User{ID: uuid.NewString(), Email: &em, Username: email, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, u); err != nil {
			return nil, Internal("create invited user", err)
		}
	} else if err != nil {
		return nil, Internal("load user", err)
	}
	inv := &Invitation{Email: email, UserID: u.ID}
	m, err := q.OrgMembershipOfUser(ctx, orgID, u.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		uid, em := u.ID, email
		m = &store.OrgMembership{ID: uuid.NewString(), OrgID: orgID, UserID: &uid, Role: role, Status: store.OrgStatusInvited,
			IsActive: true, InviteEmail: &em, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, m); err != nil {
			return nil, Internal("create organization membership", err)
		}
	case err != nil:
		return nil, Internal("load organization membership", err)
	}
	inv.MembershipID = m.ID
	if m.Status == store.OrgStatusAccepted {
		return inv, nil
	}
	code, err := inviteCode()
	if err != nil {
		return nil, Internal("generate invitation code", err)
	}
	if _, err := q.DeleteOrgInvite(ctx, u.ID, orgID); err != nil {
		return nil, Internal("replace invitation", err)
	}
	row := &store.OrgInvite{ID: uuid.NewString(), UserID: u.ID, OrgID: orgID, CodeHash: authn.HashSecret(code),
		ExpiresAt: now.Add(inviteTTL), CreatedAt: now}
	if err := q.Insert(ctx, row); err != nil {
		return nil, Internal("store invitation", err)
	}
	inv.Code = code
	inv.Link = e.inviteLink(code, email, orgID)
	return inv, nil
}

// Invite invites people to an organization by email, optionally into
// projects. People without an account get one without password, which
// they set up through the link (VerifyInvite, then CompleteInvite).
func (s *UserService) Invite(ctx context.Context, actor Actor, in InviteInput) ([]Invitation, error) {
	e := s.e
	if actor.Type != ActorUser && actor.Type != ActorPlatform && actor.Type != ActorIdentity {
		return nil, Forbidden("This action requires a user or machine identity")
	}
	orgID := strings.TrimSpace(in.OrgID)
	if orgID == "" {
		orgID = actor.OrgID
	}
	emails, err := normalizeEmails("inviteeEmails", in.Emails)
	if err != nil {
		return nil, err
	}
	if len(emails) == 0 || len(emails) > maxInvitees {
		return nil, Invalid("inviteeEmails", "inviteeEmails must hold 1 to %d addresses", maxInvitees)
	}
	role := strings.TrimSpace(in.OrgRole)
	if role == "" {
		role = permission.RoleMember
	}
	set, err := e.memberAccess(ctx, actor, orgID, permission.ActionCreate)
	if err != nil {
		return nil, err
	}
	if _, err := e.orgRoleRules(ctx, orgID, role); err != nil {
		return nil, err
	}
	if err := e.orgRoleWithin(ctx, actor, orgID, set, role, "invite a user with a more privileged role"); err != nil {
		return nil, err
	}
	type target struct {
		meta  *projectMeta
		set   *permission.Set
		roles []RoleAssignment
	}
	var projects []target
	for i, p := range in.Projects {
		m, pset, err := e.project(ctx, actor, ProjectRef{ID: p.ID})
		if err != nil {
			return nil, err
		}
		if m.project.OrgID != orgID {
			return nil, Invalid("projects", "projects[%d] does not belong to the organization", i)
		}
		if err := pset.Check(permission.ActionCreate, permission.SubjectMember, nil); err != nil {
			return nil, err
		}
		projects = append(projects, target{meta: m, set: pset, roles: roleSlugsToAssignments(p.RoleSlugs)})
	}
	var out []Invitation
	err = e.store.Tx(ctx, func(q store.Q) error {
		out = out[:0]
		for _, email := range emails {
			inv, err := e.inviteToOrg(ctx, q, orgID, email, role)
			if err != nil {
				return err
			}
			for _, p := range projects {
				if _, err := e.addUserToProject(ctx, q, actor, p.meta, p.set, inv.UserID, p.roles); err != nil {
					return err
				}
			}
			if err := e.audit(ctx, q, actor, AuditEvent{Type: "invite-org-member", OrgID: orgID,
				Metadata: map[string]any{"email": email, "userId": inv.UserID, "role": role}}); err != nil {
				return err
			}
			out = append(out, *inv)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResendInvite issues a new invitation code for a pending membership.
func (s *UserService) ResendInvite(ctx context.Context, actor Actor, membershipID string) (*Invitation, error) {
	e := s.e
	membershipID = strings.TrimSpace(membershipID)
	if membershipID == "" {
		return nil, Invalid("membershipId", "membershipId is required")
	}
	m, err := e.store.Read().GetOrgMembership(ctx, membershipID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (m.UserID == nil || (actor.Type != ActorPlatform && m.OrgID != actor.OrgID))) {
		return nil, NotFound("Organization membership with ID '%s' not found", membershipID)
	}
	if err != nil {
		return nil, Internal("load organization membership", err)
	}
	if m.Status == store.OrgStatusAccepted {
		return nil, BadRequest("Organization invitation already accepted")
	}
	if _, err := e.memberAccess(ctx, actor, m.OrgID, permission.ActionCreate); err != nil {
		return nil, err
	}
	var inv *Invitation
	err = e.store.Tx(ctx, func(q store.Q) error {
		u, err := q.GetUser(ctx, *m.UserID)
		if err != nil {
			return Internal("load user", err)
		}
		inv, err = e.inviteToOrg(ctx, q, m.OrgID, u.Username, m.Role)
		if err != nil {
			return err
		}
		return e.audit(ctx, q, actor, AuditEvent{Type: "invite-org-member", OrgID: m.OrgID,
			Metadata: map[string]any{"email": u.Username, "userId": u.ID, "role": m.Role, "resend": true}})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// VerifiedInvite is the result of redeeming an invitation code. Token (a
// short-lived signup token for CompleteInvite) is set when the account
// still needs a password; otherwise the membership is accepted at once.
type VerifiedInvite struct {
	User  *User
	Token string
}

// VerifyInvite redeems an invitation code (once). Wrong, expired and
// unknown codes all get the same answer.
func (s *UserService) VerifyInvite(ctx context.Context, email, orgID, code, ip string) (*VerifiedInvite, error) {
	e := s.e
	email = strings.ToLower(strings.TrimSpace(email))
	orgID, code = strings.TrimSpace(orgID), strings.TrimSpace(code)
	if email == "" {
		return nil, Invalid("email", "email is required")
	}
	if orgID == "" {
		return nil, Invalid("organizationId", "organizationId is required")
	}
	if code == "" {
		return nil, Invalid("code", "code is required")
	}
	if err := e.limitInviteCode(ctx, ip); err != nil {
		return nil, err
	}
	invalid := func() error { return BadRequest("Invalid or expired invitation") }
	var out *VerifiedInvite
	err := e.store.Tx(ctx, func(q store.Q) error {
		u, err := q.GetUserByUsername(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return invalid()
		}
		if err != nil {
			return Internal("load user", err)
		}
		m, err := q.OrgMembershipOfUser(ctx, orgID, u.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.Status != store.OrgStatusInvited) {
			return invalid()
		}
		if err != nil {
			return Internal("load organization membership", err)
		}
		inv, err := q.GetOrgInvite(ctx, u.ID, orgID)
		if errors.Is(err, store.ErrNotFound) {
			return invalid()
		}
		if err != nil {
			return Internal("load invitation", err)
		}
		now := e.now()
		if !authn.SecretMatches(code, inv.CodeHash) || !now.Before(inv.ExpiresAt) {
			return invalid()
		}
		if _, err := q.DeleteOrgInvite(ctx, u.ID, orgID); err != nil {
			return Internal("redeem invitation", err)
		}
		u.IsEmailVerified = true
		u.UpdatedAt = now
		if err := q.Update(ctx, u); err != nil {
			return Internal("verify email", err)
		}
		out = &VerifiedInvite{User: userFromRow(u)}
		if u.IsAccepted {
			m.Status = store.OrgStatusAccepted
			m.UpdatedAt = now
			if err := q.Update(ctx, m); err != nil {
				return Internal("accept invitation", err)
			}
			q.Invalidate(topicUserSessions, u.ID)
			return e.audit(ctx, q, userActor(u, orgID, ip, ""), AuditEvent{Type: "accept-org-invite", OrgID: orgID,
				Metadata: map[string]any{"userId": u.ID}})
		}
		c := &authn.Claims{AuthTokenType: tokenTypeSignup, UserID: u.ID, OrganizationID: orgID}
		c.IssuedAt = jwt.NewNumericDate(now)
		c.ExpiresAt = jwt.NewNumericDate(now.Add(signupTokenTTL))
		tok, err := e.signer.Sign(c)
		if err != nil {
			return Internal("sign signup token", err)
		}
		out.Token = tok
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CompleteAccountInput sets up an invited account. Key material of
// Infisical's legacy end-to-end encryption is not needed and not taken.
type CompleteAccountInput struct {
	Email     string // optional; must be the invited address when given
	Password  string
	FirstName *string
	LastName  *string
	IP        string
	UserAgent string
}

// CompleteInvite sets the password of an invited account with the signup
// token from VerifyInvite, accepts its pending invitations and opens a
// session scoped to the organization of the invitation.
func (s *UserService) CompleteInvite(ctx context.Context, signupToken string, in CompleteAccountInput) (*LoginSession, error) {
	e := s.e
	c, err := e.signer.Parse(strings.TrimSpace(signupToken))
	if err != nil || c.AuthTokenType != tokenTypeSignup || c.UserID == "" {
		return nil, Unauthorized("Invalid or expired signup token")
	}
	if err := validPassword(in.Password); err != nil {
		return nil, err
	}
	first, err := validPersonName("firstName", in.FirstName)
	if err != nil {
		return nil, err
	}
	last, err := validPersonName("lastName", in.LastName)
	if err != nil {
		return nil, err
	}
	hash, err := authn.HashPassword(in.Password, e.cfg.Argon2)
	if err != nil {
		return nil, Internal("hash password", err)
	}
	var out *LoginSession
	err = e.store.Tx(ctx, func(q store.Q) error {
		u, err := q.GetUser(ctx, c.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return Unauthorized("Invalid or expired signup token")
		}
		if err != nil {
			return Internal("load user", err)
		}
		if u.IsAccepted || u.PasswordHash != nil {
			return BadRequest("This account has already been set up")
		}
		if em := strings.ToLower(strings.TrimSpace(in.Email)); em != "" && em != u.Username {
			return Invalid("email", "email does not match the invitation")
		}
		now := e.now()
		u.PasswordHash, u.IsAccepted, u.IsEmailVerified, u.UpdatedAt = &hash, true, true, now
		if first != nil {
			u.FirstName = first
		}
		if last != nil {
			u.LastName = last
		}
		if err := q.Update(ctx, u); err != nil {
			return Internal("set up account", err)
		}
		if _, err := q.AcceptInvitedMemberships(ctx, u.ID, now); err != nil {
			return Internal("accept invitations", err)
		}
		q.Invalidate(topicUserSessions, u.ID)
		orgID := c.OrganizationID
		if orgID != "" {
			if m, err := q.OrgMembershipOfUser(ctx, orgID, u.ID); err != nil || !m.IsActive {
				orgID = ""
			}
		}
		tok, sess, err := e.issueSession(ctx, q, u.ID, orgID, authMethodEmail, in.IP, in.UserAgent)
		if err != nil {
			return err
		}
		if err := e.audit(ctx, q, userActor(u, orgID, in.IP, in.UserAgent), AuditEvent{Type: "user-signup", OrgID: orgID,
			Metadata: map[string]any{"userId": u.ID, "invited": true}}); err != nil {
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

// roleSlugsToAssignments turns role slugs into permanent assignments
// (default: member).
func roleSlugsToAssignments(slugs []string) []RoleAssignment {
	if len(slugs) == 0 {
		return []RoleAssignment{{Role: permission.RoleMember}}
	}
	out := make([]RoleAssignment, 0, len(slugs))
	seen := map[string]bool{}
	for _, s := range slugs {
		s = strings.TrimSpace(s)
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, RoleAssignment{Role: s})
	}
	return out
}
