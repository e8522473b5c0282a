// Package authn issues and verifies the credentials machine identities and
// users present: Infisical-shaped access-token JWTs, universal-auth client
// secrets, trusted-IP lists and password hashes. It knows nothing about the
// database; the engine stores what these helpers produce.
package authn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types carried in the authTokenType claim.
const (
	TokenTypeUser     = "accessToken"
	TokenTypeIdentity = "identityAccessToken"
)

// Typed verification failures. The API maps all three to 403 TokenError with
// Infisical's messages.
var (
	ErrTokenExpired   = errors.New("Your token has expired. Please re-authenticate.")
	ErrTokenMalformed = errors.New("The provided access token is malformed. Please re-authenticate.")
	ErrTokenAlgorithm = errors.New("The access token is signed with an invalid algorithm. Please re-authenticate.")
)

// Claims is the union of the claim sets of identity access tokens (legacy and
// redesigned generations) and user session tokens.
type Claims struct {
	AuthTokenType string `json:"authTokenType"`

	// Identity access tokens.
	IdentityID            string         `json:"identityId,omitempty"`
	IdentityAccessTokenID string         `json:"identityAccessTokenId,omitempty"`
	ClientSecretID        string         `json:"clientSecretId"`
	IdentityAuth          map[string]any `json:"identityAuth"`
	IdentityName          string         `json:"identityName,omitempty"`
	AuthMethod            string         `json:"authMethod,omitempty"`
	OrgID                 string         `json:"orgId,omitempty"`
	RootOrgID             string         `json:"rootOrgId,omitempty"`
	ParentOrgID           *string        `json:"parentOrgId,omitempty"`
	IPRestrictionEnabled  bool           `json:"ipRestrictionEnabled"`
	AccessTokenTTL        int64          `json:"accessTokenTTL"`
	AccessTokenMaxTTL     int64          `json:"accessTokenMaxTTL"`
	AccessTokenPeriod     int64          `json:"accessTokenPeriod"`
	CreationEpoch         int64          `json:"creationEpoch,omitempty"`
	NumUsesLimit          int64          `json:"numUsesLimit,omitempty"`

	// User session tokens.
	UserID            string `json:"userId,omitempty"`
	TokenVersionID    string `json:"tokenVersionId,omitempty"`
	AccessVersion     int    `json:"accessVersion,omitempty"`
	OrganizationID    string `json:"organizationId,omitempty"`
	SubOrganizationID string `json:"subOrganizationId,omitempty"`

	jwt.RegisteredClaims
}

// IsIdentity reports whether the claims belong to a machine identity,
// falling back to the legacy heuristic for tokens without authTokenType.
func (c *Claims) IsIdentity() bool {
	if c.AuthTokenType != "" {
		return c.AuthTokenType == TokenTypeIdentity
	}
	return c.IdentityID != ""
}

// IsUser reports whether the claims belong to a user session.
func (c *Claims) IsUser() bool {
	if c.AuthTokenType != "" {
		return c.AuthTokenType == TokenTypeUser
	}
	return c.UserID != "" && c.IdentityID == ""
}

// Signer signs and verifies HS256 JWTs with the instance's AUTH_SECRET.
type Signer struct {
	secret []byte
	parser *jwt.Parser
	// lenient verifies signature and algorithm but not time claims; used to
	// revoke tokens that may already have expired.
	lenient *jwt.Parser
	now     func() time.Time
}

// MinSecretLen is the shortest AUTH_SECRET accepted.
const MinSecretLen = 16

// NewSigner returns a Signer. The secret is used as raw bytes.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("authn: AUTH_SECRET must be at least %d bytes", MinSecretLen)
	}
	s := &Signer{secret: append([]byte(nil), secret...), now: time.Now}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(func() time.Time { return s.now() }),
		jwt.WithIssuedAt(),
	)
	s.lenient = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithoutClaimsValidation(),
	)
	return s, nil
}

// SetClock replaces the clock (tests).
func (s *Signer) SetClock(now func() time.Time) { s.now = now }

// Sign returns the compact JWT for claims.
func (s *Signer) Sign(c *Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	out, err := tok.SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("authn: sign token: %w", err)
	}
	return out, nil
}

// Parse verifies signature, algorithm and expiry and returns the claims.
func (s *Signer) Parse(token string) (*Claims, error) {
	if err := checkAlg(token); err != nil {
		return nil, err
	}
	c := &Claims{}
	_, err := s.parser.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return s.secret, nil })
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	default:
		return nil, ErrTokenMalformed
	}
}

// ParseUnverifiedExpiry verifies signature and algorithm but ignores exp,
// nbf and iat.
func (s *Signer) ParseUnverifiedExpiry(token string) (*Claims, error) {
	if err := checkAlg(token); err != nil {
		return nil, err
	}
	c := &Claims{}
	if _, err := s.lenient.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return s.secret, nil }); err != nil {
		return nil, ErrTokenMalformed
	}
	return c, nil
}

// checkAlg reads the JOSE header so that a token signed with another
// algorithm gets its own error, as Infisical's clients expect.
func checkAlg(token string) error {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return ErrTokenMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ErrTokenMalformed
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return ErrTokenMalformed
	}
	if h.Alg != jwt.SigningMethodHS256.Alg() {
		return ErrTokenAlgorithm
	}
	return nil
}

// IdentityTokenSpec describes a new identity access token.
type IdentityTokenSpec struct {
	TokenID        string
	IdentityID     string
	IdentityName   string
	OrgID          string
	RootOrgID      string
	AuthMethod     string
	ClientSecretID string
	Principal      map[string]any
	TTL            time.Duration // lifetime of this JWT; 0 = no exp
	MaxTTL         time.Duration
	Period         time.Duration
	NumUsesLimit   int64
	IPRestricted   bool
	CreatedAt      time.Time // first issuance (renewals keep it)
	IssuedAt       time.Time
}

// IdentityClaims builds the redesigned-generation claim set for spec.
func IdentityClaims(spec IdentityTokenSpec) *Claims {
	principal := spec.Principal
	if principal == nil {
		principal = map[string]any{}
	}
	c := &Claims{
		AuthTokenType:         TokenTypeIdentity,
		IdentityID:            spec.IdentityID,
		IdentityAccessTokenID: spec.TokenID,
		ClientSecretID:        spec.ClientSecretID,
		IdentityAuth:          principal,
		IdentityName:          spec.IdentityName,
		AuthMethod:            spec.AuthMethod,
		OrgID:                 spec.OrgID,
		RootOrgID:             spec.RootOrgID,
		IPRestrictionEnabled:  spec.IPRestricted,
		AccessTokenTTL:        int64(spec.TTL / time.Second),
		AccessTokenMaxTTL:     int64(spec.MaxTTL / time.Second),
		AccessTokenPeriod:     int64(spec.Period / time.Second),
		CreationEpoch:         spec.CreatedAt.Unix(),
		NumUsesLimit:          spec.NumUsesLimit,
	}
	if c.RootOrgID == "" {
		c.RootOrgID = spec.OrgID
	}
	c.ID = spec.TokenID
	c.IssuedAt = jwt.NewNumericDate(spec.IssuedAt)
	if spec.TTL > 0 {
		c.ExpiresAt = jwt.NewNumericDate(spec.IssuedAt.Add(spec.TTL))
	}
	return c
}

// UserTokenSpec describes a user session token.
type UserTokenSpec struct {
	UserID         string
	TokenVersionID string
	OrgID          string
	AuthMethod     string
	TTL            time.Duration
	IssuedAt       time.Time
}

// UserClaims builds a user session claim set.
func UserClaims(spec UserTokenSpec) *Claims {
	c := &Claims{
		AuthTokenType:  TokenTypeUser,
		UserID:         spec.UserID,
		TokenVersionID: spec.TokenVersionID,
		AccessVersion:  1,
		OrganizationID: spec.OrgID,
		AuthMethod:     spec.AuthMethod,
	}
	c.IssuedAt = jwt.NewNumericDate(spec.IssuedAt)
	if spec.TTL > 0 {
		c.ExpiresAt = jwt.NewNumericDate(spec.IssuedAt.Add(spec.TTL))
	}
	return c
}
