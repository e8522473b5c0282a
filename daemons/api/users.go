package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/infisical-go/engine/infisical"
)

// Routes of user accounts: email/password login, organization selection,
// session checks and logout, the current user and its organizations, and
// invitations to an organization (spec §9.6, §8.2).
//
// The server sends no email: an invitation's response carries the link the
// invitee opens (signupinvite?token=<code>&to=<email>&organization_id=<id>),
// whose code is redeemed with POST /api/v1/invite-org/verify for a signup
// token, with which POST /api/v3/signup/complete-account/invite sets the
// password. See docs/users.md.

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerUserRoutes) }

// authOrgless marks routes that also accept a user token without
// organization (between login and select-organization).
const authOrgless authMode = 1 << 6

// authUserAny is a user session, with or without organization.
const authUserAny = authUser | authOrgless

func errOrgRequired() *infisical.Error {
	return &infisical.Error{Kind: infisical.KindForbidden,
		Message: "This endpoint requires an organization: select one with POST /api/v3/auth/select-organization"}
}

func (s *Server) registerUserRoutes() {
	const tag = "Users"
	s.handle(http.MethodPost, "/api/v3/auth/login", authNone, tag, "Log in with email and password", s.userLogin)
	s.handle(http.MethodPost, "/api/v3/auth/select-organization", authUserAny, tag, "Exchange a user token for one scoped to an organization", s.selectOrganization)
	s.handle(http.MethodPost, "/api/v1/auth/checkAuth", authUserAny, tag, "Check a user token", s.checkAuth)
	s.handle(http.MethodPost, "/api/v1/auth/logout", authNone, tag, "End the session of a user token", s.logout)
	s.handle(http.MethodGet, "/api/v1/user", authUserAny, tag, "The current user", s.currentUserV1)
	s.handle(http.MethodGet, "/api/v2/users/me", authUserAny, tag, "The current user", s.currentUser)
	s.handle(http.MethodDelete, "/api/v2/users/me/sessions", authUserAny, tag, "End every session of the current user", s.revokeMySessions)
	s.handle(http.MethodGet, "/api/v1/organization", authUserAny, tag, "Organizations of the current user", s.userOrganizations)
	s.handle(http.MethodGet, "/api/v1/organization/accessible-with-sub-orgs", authUserAny, tag, "Organizations of the current user with their sub-organizations", s.userOrganizationsTree)

	const itag = "Invitations"
	s.handle(http.MethodPost, "/api/v1/invite-org/signup", authUI, itag, "Invite people to an organization by email", s.inviteToOrg)
	s.handle(http.MethodPost, "/api/v1/invite-org/signup-resend", authUI, itag, "Issue a new invitation link for a pending membership", s.resendInvite)
	s.handle(http.MethodPost, "/api/v1/invite-org/verify", authNone, itag, "Redeem an invitation code", s.verifyInvite)
	s.handle(http.MethodPost, "/api/v3/signup/complete-account/invite", authNone, itag, "Set up an invited account (Bearer: signup token)", s.completeInvite)
	s.handle(http.MethodPost, "/api/v3/signup/complete-account", authNone, itag, "Set up an invited account (Bearer: signup token)", s.completeInvite)
}

// withRetryAfter sets the Retry-After header of a rate-limit refusal.
func (rq *request) withRetryAfter(err error) error {
	if n := infisical.RetryAfterSeconds(err); n > 0 {
		rq.w.Header().Set("Retry-After", strconv.Itoa(n))
	}
	return err
}

// bearer returns the raw bearer token of the request ("" when absent).
func (rq *request) bearer() string {
	h := rq.r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// ---- shapes ------------------------------------------------------------------

// userJSON is Infisical's sanitized user.
type userJSON struct {
	ID                           string   `json:"id"`
	Email                        *string  `json:"email"`
	Username                     string   `json:"username"`
	FirstName                    *string  `json:"firstName"`
	LastName                     *string  `json:"lastName"`
	AuthMethods                  []string `json:"authMethods"`
	SuperAdmin                   bool     `json:"superAdmin"`
	IsAccepted                   bool     `json:"isAccepted"`
	IsMfaEnabled                 bool     `json:"isMfaEnabled"`
	MfaMethods                   []string `json:"mfaMethods"`
	SelectedMfaMethod            *string  `json:"selectedMfaMethod"`
	IsGhost                      bool     `json:"isGhost"`
	IsEmailVerified              bool     `json:"isEmailVerified"`
	IsLocked                     bool     `json:"isLocked"`
	ConsecutiveFailedMfaAttempts int      `json:"consecutiveFailedMfaAttempts"`
	TemporaryLockDateEnd         *isoTime `json:"temporaryLockDateEnd"`
	CreatedAt                    isoTime  `json:"createdAt"`
	UpdatedAt                    isoTime  `json:"updatedAt"`
}

func toUserJSON(u *infisical.User) userJSON {
	methods := []string{}
	if u.IsAccepted {
		methods = []string{"email"}
	}
	return userJSON{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, AuthMethods: methods,
		SuperAdmin: u.SuperAdmin, IsAccepted: u.IsAccepted, MfaMethods: []string{}, IsEmailVerified: u.IsEmailVerified,
		CreatedAt: ts(u.CreatedAt), UpdatedAt: ts(u.UpdatedAt)}
}

// userV1JSON is GET /api/v1/user's user (it adds the encryption version of
// Infisical's legacy key material; 2 = the current scheme).
type userV1JSON struct {
	userJSON
	EncryptionVersion int `json:"encryptionVersion"`
}

// userOrgJSON is an organization in GET /api/v1/organization.
type userOrgJSON struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Slug         string  `json:"slug"`
	CustomerID   *string `json:"customerId"`
	AuthEnforced bool    `json:"authEnforced"`
	ScimEnabled  bool    `json:"scimEnabled"`
	ParentOrgID  *string `json:"parentOrgId"`
	UserRole     string  `json:"userRole"`
	CreatedAt    isoTime `json:"createdAt"`
	UpdatedAt    isoTime `json:"updatedAt"`
}

type orgNodeJSON struct {
	ID               string        `json:"id"`
	Name             string        `json:"name"`
	Slug             string        `json:"slug"`
	SubOrganizations []orgNodeJSON `json:"subOrganizations,omitempty"`
}

// ---- handlers ------------------------------------------------------------------

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) userLogin(rq *request) (any, error) {
	var b loginBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	res, err := s.eng.Users.Login(rq.ctx(), infisical.LoginInput{Email: b.Email, Password: b.Password, IP: rq.clientIP(), UserAgent: rq.r.UserAgent()})
	if err != nil {
		return nil, rq.withRetryAfter(err)
	}
	return struct {
		AccessToken string `json:"accessToken"`
	}{res.Token}, nil
}

type selectOrgBody struct {
	OrganizationID string `json:"organizationId"`
}

type selectOrgResponse struct {
	Token        string `json:"token"`
	IsMfaEnabled bool   `json:"isMfaEnabled"`
}

func (s *Server) selectOrganization(rq *request) (any, error) {
	var b selectOrgBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	res, err := s.eng.Users.SelectOrganization(rq.ctx(), rq.actor, b.OrganizationID)
	if err != nil {
		return nil, err
	}
	return selectOrgResponse{Token: res.Token}, nil
}

func (s *Server) checkAuth(rq *request) (any, error) {
	return struct {
		Message string `json:"message"`
	}{"Authenticated"}, nil
}

func (s *Server) logout(rq *request) (any, error) {
	if err := s.eng.Users.Logout(rq.ctx(), rq.bearer(), rq.clientIP(), rq.r.UserAgent()); err != nil {
		return nil, err
	}
	return struct {
		Message string `json:"message"`
	}{"Successfully logged out"}, nil
}

func (s *Server) currentUser(rq *request) (any, error) {
	u, err := s.eng.Users.Me(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": toUserJSON(u)}, nil
}

func (s *Server) currentUserV1(rq *request) (any, error) {
	u, err := s.eng.Users.Me(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": userV1JSON{userJSON: toUserJSON(u), EncryptionVersion: 2}}, nil
}

func (s *Server) revokeMySessions(rq *request) (any, error) {
	if err := s.eng.Users.RevokeSessions(rq.ctx(), rq.actor); err != nil {
		return nil, err
	}
	return struct {
		Message string `json:"message"`
	}{"Successfully revoked all sessions"}, nil
}

func (s *Server) userOrganizations(rq *request) (any, error) {
	orgs, err := s.eng.Users.Organizations(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	out := make([]userOrgJSON, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, userOrgJSON{ID: o.ID, Name: o.Name, Slug: o.Slug, ParentOrgID: o.ParentOrgID, UserRole: o.UserRole,
			CreatedAt: ts(o.CreatedAt), UpdatedAt: ts(o.UpdatedAt)})
	}
	return map[string]any{"organizations": out}, nil
}

// userOrganizationsTree nests the user's sub-organizations under their
// root organizations.
func (s *Server) userOrganizationsTree(rq *request) (any, error) {
	orgs, err := s.eng.Users.Organizations(rq.ctx(), rq.actor)
	if err != nil {
		return nil, err
	}
	roots := make([]orgNodeJSON, 0, len(orgs))
	index := map[string]int{}
	for _, o := range orgs {
		if o.ParentOrgID == nil {
			index[o.ID] = len(roots)
			roots = append(roots, orgNodeJSON{ID: o.ID, Name: o.Name, Slug: o.Slug, SubOrganizations: []orgNodeJSON{}})
		}
	}
	for _, o := range orgs {
		if o.ParentOrgID == nil {
			continue
		}
		if i, ok := index[*o.ParentOrgID]; ok {
			roots[i].SubOrganizations = append(roots[i].SubOrganizations, orgNodeJSON{ID: o.ID, Name: o.Name, Slug: o.Slug})
		}
	}
	return map[string]any{"organizations": roots}, nil
}

type inviteProjectBody struct {
	ID              string   `json:"id"`
	ProjectRoleSlug []string `json:"projectRoleSlug"`
}

type inviteBody struct {
	InviteeEmails        []string            `json:"inviteeEmails"`
	OrganizationID       string              `json:"organizationId"`
	Projects             []inviteProjectBody `json:"projects"`
	OrganizationRoleSlug string              `json:"organizationRoleSlug"`
}

type inviteLinkJSON struct {
	Email string `json:"email"`
	Link  string `json:"link"`
}

func (s *Server) inviteToOrg(rq *request) (any, error) {
	var b inviteBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	for _, e := range b.InviteeEmails {
		if e != strings.ToLower(e) {
			return nil, infisical.Invalid("inviteeEmails", "Email must be lowercase")
		}
	}
	in := infisical.InviteInput{OrgID: b.OrganizationID, Emails: b.InviteeEmails, OrgRole: b.OrganizationRoleSlug}
	if strings.TrimSpace(b.OrganizationID) == "" {
		return nil, infisical.Invalid("organizationId", "organizationId is required")
	}
	for _, p := range b.Projects {
		in.Projects = append(in.Projects, infisical.InviteProject{ID: p.ID, RoleSlugs: p.ProjectRoleSlug})
	}
	invs, err := s.eng.Users.Invite(rq.ctx(), rq.actor, in)
	if err != nil {
		return nil, err
	}
	links := make([]inviteLinkJSON, 0, len(invs))
	emails := make([]string, 0, len(invs))
	for _, inv := range invs {
		emails = append(emails, inv.Email)
		if inv.Link != "" {
			links = append(links, inviteLinkJSON{Email: inv.Email, Link: inv.Link})
		}
	}
	return struct {
		Message             string           `json:"message"`
		CompleteInviteLinks []inviteLinkJSON `json:"completeInviteLinks"`
	}{"Send an invite link to " + strings.Join(emails, ", "), links}, nil
}

func (s *Server) resendInvite(rq *request) (any, error) {
	var b struct {
		MembershipID string `json:"membershipId"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	inv, err := s.eng.Users.ResendInvite(rq.ctx(), rq.actor, b.MembershipID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"signupToken": inviteLinkJSON{Email: inv.Email, Link: inv.Link}}, nil
}

type verifyInviteBody struct {
	Email          string `json:"email"`
	OrganizationID string `json:"organizationId"`
	Code           string `json:"code"`
}

type verifyInviteResponse struct {
	Message string   `json:"message"`
	Token   string   `json:"token,omitempty"`
	User    userJSON `json:"user"`
}

func (s *Server) verifyInvite(rq *request) (any, error) {
	var b verifyInviteBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	res, err := s.eng.Users.VerifyInvite(rq.ctx(), b.Email, b.OrganizationID, b.Code, rq.clientIP())
	if err != nil {
		return nil, rq.withRetryAfter(err)
	}
	return verifyInviteResponse{Message: "Successfully verified email", Token: res.Token, User: toUserJSON(res.User)}, nil
}

// completeAccountBody takes the account fields; the key material of
// Infisical's legacy end-to-end encryption that clients may send
// (protectedKey, encryptedPrivateKey, salt, verifier, ...) is ignored.
type completeAccountBody struct {
	Email     string  `json:"email"`
	Password  string  `json:"password"`
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
}

type completeAccountResponse struct {
	Message string   `json:"message"`
	User    userJSON `json:"user"`
	Token   string   `json:"token"`
}

func (s *Server) completeInvite(rq *request) (any, error) {
	var b completeAccountBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	tok := rq.bearer()
	if tok == "" {
		return nil, infisical.Unauthorized("Missing signup token in the Authorization header")
	}
	res, err := s.eng.Users.CompleteInvite(rq.ctx(), tok, infisical.CompleteAccountInput{Email: b.Email, Password: b.Password,
		FirstName: b.FirstName, LastName: b.LastName, IP: rq.clientIP(), UserAgent: rq.r.UserAgent()})
	if err != nil {
		return nil, err
	}
	return completeAccountResponse{Message: "Successfully set up account", User: toUserJSON(res.User), Token: res.Token}, nil
}
