package infisical

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// BootstrapInput is the body of POST /api/v1/admin/bootstrap.
type BootstrapInput struct {
	Email        string
	Password     string
	Organization string // organization name
}

// BootstrapUser is the first user of an instance (its super admin).
type BootstrapUser struct {
	ID              string
	Email           string
	Username        string
	FirstName       *string
	LastName        *string
	SuperAdmin      bool
	IsEmailVerified bool
	IsAccepted      bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// BootstrapResult is what a successful bootstrap created. Token is the
// instance admin identity's access token; it is returned only here.
type BootstrapResult struct {
	User         BootstrapUser
	Organization Organization
	IdentityID   string
	IdentityName string
	Token        string
}

// InstanceAdminIdentityName names the machine identity the bootstrap
// creates.
const InstanceAdminIdentityName = "Instance Admin Identity"

const (
	maxPasswordLen = 1024
	maxEmailLen    = 320
)

// validEmail normalises an email address; the error names the field.
func validEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxEmailLen {
		return "", Invalid("email", "email must be a valid email address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", Invalid("email", "email must be a valid email address")
	}
	return s, nil
}

// Initialized reports whether the instance has been bootstrapped.
func (s *AdminService) Initialized(ctx context.Context) (bool, error) {
	c, err := s.e.store.Read().GetInstanceConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, Internal("load instance configuration", err)
	}
	return c.Initialized, nil
}

func errAlreadyBootstrapped() *Error { return BadRequest("Instance has already been set up") }

// Bootstrap sets up a fresh instance in one transaction: the first user
// (super admin) with its password, an organization it administers, and an
// admin machine identity with token auth and a token. A second call, or the
// loser of two concurrent calls, gets 400.
func (s *AdminService) Bootstrap(ctx context.Context, in BootstrapInput) (*BootstrapResult, error) {
	e := s.e
	email, err := validEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if len(in.Password) < authn.MinPasswordLen || len(in.Password) > maxPasswordLen {
		return nil, Invalid("password", "password must be %d to %d characters", authn.MinPasswordLen, maxPasswordLen)
	}
	orgName := strings.TrimSpace(in.Organization)
	if orgName == "" || len(orgName) > 64 {
		return nil, Invalid("organization", "organization must be 1 to 64 characters")
	}
	// Cheap early refusal; the decisive check is inside the transaction.
	if done, err := s.Initialized(ctx); err != nil {
		return nil, err
	} else if done {
		return nil, errAlreadyBootstrapped()
	}
	hash, err := authn.HashPassword(in.Password, e.cfg.Argon2)
	if err != nil {
		return nil, Internal("hash password", err)
	}
	var res BootstrapResult
	err = e.store.Tx(ctx, func(q store.Q) error {
		now := e.now()
		won, err := q.MarkInitialized(ctx, now)
		if err != nil {
			return Internal("mark instance initialized", err)
		}
		if !won {
			return errAlreadyBootstrapped()
		}
		user := &store.User{ID: uuid.NewString(), Email: &email, Username: email, PasswordHash: &hash, SuperAdmin: true,
			IsAccepted: true, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, user); err != nil {
			return Internal("create user", err)
		}
		org, err := e.createOrg(ctx, q, orgName, generatedSlug(orgName, 64))
		if err != nil {
			return err
		}
		uid := user.ID
		om := &store.OrgMembership{ID: uuid.NewString(), OrgID: org.ID, UserID: &uid, Role: permission.RoleAdmin, Status: "accepted",
			IsActive: true, CreatedAt: now, UpdatedAt: now}
		if err := q.Insert(ctx, om); err != nil {
			return Internal("create organization membership", err)
		}
		ident, _, err := e.insertIdentity(ctx, q, org.ID, InstanceAdminIdentityName, permission.RoleAdmin, false, nil)
		if err != nil {
			return err
		}
		method := &store.AuthMethod{Method: AuthMethodToken, IdentityID: ident.ID}
		if err := applyTokenSettings(method, TokenSettings{}, true); err != nil {
			return err
		}
		if err := e.insertAuthMethod(ctx, q, method); err != nil {
			return err
		}
		tok, _, err := e.issueToken(ctx, q, TokenIssue{IdentityID: ident.ID, IdentityName: ident.Name, OrgID: org.ID, Method: method,
			Name: "bootstrap"})
		if err != nil {
			return err
		}
		res = BootstrapResult{
			User: BootstrapUser{ID: user.ID, Email: email, Username: user.Username, SuperAdmin: true, IsAccepted: true,
				CreatedAt: now, UpdatedAt: now},
			Organization: *orgFromRow(org),
			IdentityID:   ident.ID,
			IdentityName: ident.Name,
			Token:        tok.AccessToken,
		}
		return e.audit(ctx, q, Platform(org.ID), AuditEvent{Type: "bootstrap-instance",
			Metadata: map[string]any{"userId": user.ID, "organizationId": org.ID, "identityId": ident.ID}})
	})
	if err != nil {
		return nil, err
	}
	e.log.Info("instance bootstrapped", "userId", res.User.ID, "orgId", res.Organization.ID, "identityId", res.IdentityID)
	return &res, nil
}
