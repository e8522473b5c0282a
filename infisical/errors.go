package infisical

import (
	"errors"
	"fmt"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Kind classifies engine errors. The HTTP edge maps kinds to status codes;
// the engine itself never speaks HTTP.
type Kind int

const (
	KindInternal Kind = iota
	KindBadRequest
	KindValidation
	KindUnauthorized
	KindForbidden
	KindPermissionDenied
	KindTokenError
	KindNotFound
	KindRateLimited
	KindTooLarge
)

// Error is the engine's typed error. Message is safe to show to the caller
// (it never contains secret values); Err is the internal cause, for logs.
type Error struct {
	Kind    Kind
	Name    string // overrides the default error name of the kind (e.g. "KubernetesTokenReviewError")
	Message string
	Details any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// BadRequest, NotFound, ... build typed errors with a caller-safe message.
func BadRequest(format string, args ...any) *Error { return newErr(KindBadRequest, format, args...) }
func NotFound(format string, args ...any) *Error   { return newErr(KindNotFound, format, args...) }
func Unauthorized(format string, args ...any) *Error {
	return newErr(KindUnauthorized, format, args...)
}
func Forbidden(format string, args ...any) *Error { return newErr(KindForbidden, format, args...) }

// ValidationIssue is one entry of a 422 body's message array.
type ValidationIssue struct {
	Code    string   `json:"code"`
	Path    []string `json:"path"`
	Message string   `json:"message"`
}

// Invalid builds a 422 validation error naming the field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Kind: KindValidation, Message: msg, Details: []ValidationIssue{{Code: "custom", Path: []string{field}, Message: msg}}}
}

// Internal wraps an unexpected failure; the caller sees only a generic
// message.
func Internal(op string, err error) *Error {
	return &Error{Kind: KindInternal, Message: "Something went wrong", Err: fmt.Errorf("%s: %w", op, err)}
}

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var d *permission.DeniedError
	if errors.As(err, &d) {
		return KindPermissionDenied
	}
	return KindInternal
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

func isDuplicate(err error) bool { return errors.Is(err, store.ErrDuplicate) }
