package authn

import (
	"errors"
	"fmt"
)

// Reason says why a machine login was refused. Verifiers in the method
// packages (authn/awsiam, authn/oidc, ...) return a *LoginError carrying
// one, so that callers can count, log or map refusals without parsing
// messages.
type Reason string

// Reasons shared by the login methods.
const (
	ReasonMalformed         Reason = "malformed_credential"  // not a JWT, bad base64, missing field
	ReasonBadSignature      Reason = "bad_signature"         // signature does not verify
	ReasonUnknownKey        Reason = "unknown_signing_key"   // kid not in the issuer's key set
	ReasonExpired           Reason = "expired"               // exp passed or nbf in the future
	ReasonIssuer            Reason = "issuer_mismatch"       // iss is not the bound issuer
	ReasonAudience          Reason = "audience_not_allowed"  // aud matches no bound audience
	ReasonSubject           Reason = "subject_not_allowed"   // sub does not match the bound subject
	ReasonClaim             Reason = "claim_not_allowed"     // a bound claim is missing or does not match
	ReasonAccount           Reason = "account_not_allowed"   // AWS account, GCP project, Azure tenant
	ReasonPrincipal         Reason = "principal_not_allowed" // AWS ARN, GCP service account, Azure service principal
	ReasonNamespace         Reason = "namespace_not_allowed" // Kubernetes namespace
	ReasonName              Reason = "name_not_allowed"      // Kubernetes service account name
	ReasonZone              Reason = "zone_not_allowed"      // GCE zone
	ReasonNotAuthenticated  Reason = "not_authenticated"     // the issuer said no (TokenReview, STS, LDAP bind)
	ReasonInvalidRegion     Reason = "invalid_region"        // AWS region in the signature is not acceptable
	ReasonIssuerUnavailable Reason = "issuer_unavailable"    // the issuer could not be reached or answered nonsense
)

// Refusal is the class of a refusal, which an HTTP layer maps to a status:
// RefusedUnauthorized to 401, RefusedForbidden to 403, RefusedInvalid to 400.
type Refusal int

const (
	RefusedUnauthorized Refusal = iota
	RefusedForbidden
	RefusedInvalid
)

// LoginError is a refused machine login. Message is safe to show to the
// caller (it never contains the presented credential); Err is the internal
// cause, for logs only.
type LoginError struct {
	Reason  Reason
	Class   Refusal
	Message string
	// Name optionally overrides the error name shown to clients (for
	// example "KubernetesTokenReviewError").
	Name string
	Err  error
}

func (e *LoginError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *LoginError) Unwrap() error { return e.Err }

// Refuse returns a 401-class LoginError.
func Refuse(reason Reason, format string, args ...any) *LoginError {
	return &LoginError{Reason: reason, Class: RefusedUnauthorized, Message: fmt.Sprintf(format, args...)}
}

// Forbid returns a 403-class LoginError.
func Forbid(reason Reason, format string, args ...any) *LoginError {
	return &LoginError{Reason: reason, Class: RefusedForbidden, Message: fmt.Sprintf(format, args...)}
}

// Reject returns a 400-class LoginError (the credential is not even well
// formed enough to be checked).
func Reject(reason Reason, format string, args ...any) *LoginError {
	return &LoginError{Reason: reason, Class: RefusedInvalid, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches an internal cause to e and returns it.
func (e *LoginError) Wrap(err error) *LoginError {
	e.Err = err
	return e
}

// ReasonOf returns the reason of a refused login, or "" when err is not a
// *LoginError.
func ReasonOf(err error) Reason {
	var le *LoginError
	if errors.As(err, &le) {
		return le.Reason
	}
	return ""
}
