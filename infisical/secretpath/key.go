package secretpath

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSecretKeyLen bounds a secret key, counted in characters (runes).
const MaxSecretKeyLen = 256

// Messages returned by ValidateSecretKey. The colon/slash one is the exact
// text Infisical's API answers with, which clients may match on.
const (
	msgKeyEmpty      = "Secret name cannot be empty."
	msgKeyTooLong    = "Secret name cannot be longer than 256 characters."
	msgKeyColonSlash = "Secret name cannot contain colon or forward slash."
	msgKeyWhitespace = "Secret name cannot contain whitespace."
	msgKeyUTF8       = "Secret name must be valid UTF-8."
)

// KeyError reports an invalid secret key. Its Error text is the bare
// message, without the key, because handlers return it to the client
// verbatim and Infisical's messages do not quote the key.
type KeyError struct {
	Key    string // the key as supplied by the caller
	Reason string // client-facing message
}

func (e *KeyError) Error() string { return e.Reason }

// ValidateSecretKey trims key and checks it can name a secret: 1..256
// characters, no ':' or '/' (they would collide with path and reference
// syntax), and no whitespace inside. It returns the trimmed key; case is
// preserved because keys are case-sensitive.
func ValidateSecretKey(key string) (string, error) {
	k := trimJS(key)
	switch {
	case k == "":
		return "", &KeyError{Key: key, Reason: msgKeyEmpty}
	case !utf8.ValidString(k):
		// Stored as text in PostgreSQL, which refuses invalid UTF-8.
		return "", &KeyError{Key: key, Reason: msgKeyUTF8}
	case utf8.RuneCountInString(k) > MaxSecretKeyLen:
		return "", &KeyError{Key: key, Reason: msgKeyTooLong}
	case strings.ContainsAny(k, ":/"):
		return "", &KeyError{Key: key, Reason: msgKeyColonSlash}
	case strings.IndexFunc(k, func(r rune) bool { return isJSSpace(r) || unicode.IsSpace(r) }) >= 0:
		return "", &KeyError{Key: key, Reason: msgKeyWhitespace}
	}
	return k, nil
}

// NormalizeValue applies Infisical's write-time normalisation of a secret
// value: surrounding whitespace is trimmed, but a value that ended in "\n"
// keeps exactly one trailing "\n", so PEM blocks and similar multi-line
// values survive a round trip unchanged.
func NormalizeValue(v string) string {
	t := trimJS(v)
	if strings.HasSuffix(v, "\n") {
		return t + "\n"
	}
	return t
}
