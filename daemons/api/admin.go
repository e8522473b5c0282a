package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// Instance administration: Infisical-compatible bootstrap of a fresh
// instance and its public configuration.

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerAdminRoutes) }

func (s *Server) registerAdminRoutes() {
	const tag = "Admin"
	s.handle(http.MethodPost, "/api/v1/admin/bootstrap", authNone, tag, "Set up a fresh instance: first user, organization and admin identity", s.bootstrap)
	s.handle(http.MethodGet, "/api/v1/admin/config", authNone, tag, "Public instance configuration", s.adminConfig)
}

type bootstrapBody struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	Organization string `json:"organization"`
}

type bootstrapUserJSON struct {
	ID              string   `json:"id"`
	Email           string   `json:"email"`
	Username        string   `json:"username"`
	FirstName       *string  `json:"firstName"`
	LastName        *string  `json:"lastName"`
	SuperAdmin      bool     `json:"superAdmin"`
	IsEmailVerified bool     `json:"isEmailVerified"`
	IsAccepted      bool     `json:"isAccepted"`
	IsMfaEnabled    bool     `json:"isMfaEnabled"`
	AuthMethods     []string `json:"authMethods"`
	CreatedAt       isoTime  `json:"createdAt"`
	UpdatedAt       isoTime  `json:"updatedAt"`
}

type bootstrapIdentityJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Credentials struct {
		Token string `json:"token"`
	} `json:"credentials"`
}

type bootstrapResponse struct {
	Message      string                `json:"message"`
	User         bootstrapUserJSON     `json:"user"`
	Organization orgBrief              `json:"organization"`
	Identity     bootstrapIdentityJSON `json:"identity"`
}

func (s *Server) bootstrap(rq *request) (any, error) {
	var b bootstrapBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	res, err := s.eng.Admin.Bootstrap(rq.ctx(), infisical.BootstrapInput{Email: b.Email, Password: b.Password, Organization: b.Organization})
	if err != nil {
		return nil, err
	}
	u := res.User
	out := bootstrapResponse{
		Message: "Successfully bootstrapped instance",
		User: bootstrapUserJSON{ID: u.ID, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
			SuperAdmin: u.SuperAdmin, IsEmailVerified: u.IsEmailVerified, IsAccepted: u.IsAccepted, AuthMethods: []string{"email"},
			CreatedAt: ts(u.CreatedAt), UpdatedAt: ts(u.UpdatedAt)},
		Organization: orgBrief{ID: res.Organization.ID, Name: res.Organization.Name, Slug: res.Organization.Slug},
	}
	out.Identity.ID, out.Identity.Name = res.IdentityID, res.IdentityName
	out.Identity.Credentials.Token = res.Token
	return out, nil
}

// adminConfigJSON is the public part of the server configuration.
type adminConfigJSON struct {
	Initialized              bool     `json:"initialized"`
	AllowSignUp              bool     `json:"allowSignUp"`
	AllowedSignUpDomain      *string  `json:"allowedSignUpDomain"`
	TrustSamlEmails          bool     `json:"trustSamlEmails"`
	TrustLdapEmails          bool     `json:"trustLdapEmails"`
	TrustOidcEmails          bool     `json:"trustOidcEmails"`
	DefaultAuthOrgID         *string  `json:"defaultAuthOrgId"`
	DefaultAuthOrgSlug       *string  `json:"defaultAuthOrgSlug"`
	EnabledLoginMethods      []string `json:"enabledLoginMethods"`
	IsMigrationModeOn        bool     `json:"isMigrationModeOn"`
	IsSecretScanningDisabled bool     `json:"isSecretScanningDisabled"`
}

func (s *Server) adminConfig(rq *request) (any, error) {
	done, err := s.eng.Admin.Initialized(rq.ctx())
	if err != nil {
		return nil, err
	}
	return map[string]any{"config": adminConfigJSON{Initialized: done, AllowSignUp: true, EnabledLoginMethods: []string{"email"},
		IsSecretScanningDisabled: true}}, nil
}
