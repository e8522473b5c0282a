package jwks

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/infisical-go/engine/authn"
)

// Algorithms accepted for issuer-signed tokens: asymmetric only, so that a
// public key can never be used as an HMAC secret.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Options tune Verify.
type Options struct {
	// Issuer, when set, must equal the token's iss.
	Issuer string
	// Algorithms restricts the accepted algorithms (default Algorithms).
	Algorithms []string
	// RequireExp refuses tokens without exp.
	RequireExp bool
	// Leeway tolerates clock skew on exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Claims are the claims of a verified token. Numbers are json.Number.
type Claims map[string]any

// String returns a claim as a string ("" when absent or not a string).
func (c Claims) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Header returns the kid and alg of a compact JWT without verifying it.
func Header(token string) (kid, alg string, err error) {
	head, _, ok := strings.Cut(token, ".")
	if !ok || strings.Count(token, ".") != 2 {
		return "", "", authn.Refuse(authn.ReasonMalformed, "Invalid JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return "", "", authn.Refuse(authn.ReasonMalformed, "Invalid JWT")
	}
	var h struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", "", authn.Refuse(authn.ReasonMalformed, "Invalid JWT")
	}
	return h.Kid, h.Alg, nil
}

// Unverified returns the claims of a token without verifying anything; use
// it only to decide which key to verify with.
func Unverified(token string) (Claims, error) {
	c := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithJSONNumber())
	if _, _, err := p.ParseUnverified(token, c); err != nil {
		return nil, authn.Refuse(authn.ReasonMalformed, "Invalid JWT")
	}
	return Claims(c), nil
}

// Verify checks the signature of token with pub and its time claims, and
// returns its claims. Refusals are *authn.LoginError.
func Verify(token string, pub crypto.PublicKey, o Options) (Claims, error) {
	algs := o.Algorithms
	if len(algs) == 0 {
		algs = Algorithms
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(algs), jwt.WithJSONNumber(), jwt.WithIssuedAt()}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	if o.Leeway > 0 {
		opts = append(opts, jwt.WithLeeway(o.Leeway))
	}
	if o.RequireExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	c := jwt.MapClaims{}
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		return nil, refusal(err, o.Issuer)
	}
	return Claims(c), nil
}

// refusal maps a jwt parse error to a login refusal with the wording of
// Infisical's verifier (jsonwebtoken messages behind "Access denied: ").
func refusal(err error, issuer string) *authn.LoginError {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return authn.Refuse(authn.ReasonExpired, "Access denied: jwt expired").Wrap(err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return authn.Refuse(authn.ReasonExpired, "Access denied: jwt not active").Wrap(err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return authn.Refuse(authn.ReasonIssuer, "Access denied: jwt issuer invalid. expected: %s", issuer).Wrap(err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return authn.Refuse(authn.ReasonMalformed, "Access denied: jwt has no expiry").Wrap(err)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return authn.Refuse(authn.ReasonMalformed, "Access denied: jwt malformed").Wrap(err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return authn.Refuse(authn.ReasonBadSignature, "Access denied: invalid signature").Wrap(err)
	}
	return authn.Refuse(authn.ReasonBadSignature, "Access denied: invalid token").Wrap(err)
}

// MaxKeysWithoutKid is how many keys of a set a token without kid is tried
// against before it is refused (as upstream).
const MaxKeysWithoutKid = 10

// VerifySet verifies token against a key set: by kid when the header has
// one, else against each key (at most MaxKeysWithoutKid). refetch, when not
// nil, is called once to get a fresh set when the kid is unknown.
func VerifySet(token string, set *Set, refetch func() (*Set, error), o Options) (Claims, error) {
	kid, _, err := Header(token)
	if err != nil {
		return nil, err
	}
	if kid != "" {
		k, ok := set.Lookup(kid)
		if !ok && refetch != nil {
			if fresh, err := refetch(); err == nil {
				k, ok = fresh.Lookup(kid)
			}
		}
		if !ok {
			return nil, authn.Refuse(authn.ReasonUnknownKey, "Access denied: Unable to verify JWT signature. The signing key '%s' was not found in the provider's JWKS endpoint.", kid)
		}
		return Verify(token, k.Public, o)
	}
	if len(set.Keys) == 0 {
		return nil, authn.Refuse(authn.ReasonUnknownKey, "Access denied: No signing keys available from the provider's JWKS endpoint.")
	}
	if len(set.Keys) > MaxKeysWithoutKid {
		return nil, authn.Refuse(authn.ReasonUnknownKey, "Access denied: provider has %d signing keys. Tokens must include 'kid' header when provider has more than %d keys.", len(set.Keys), MaxKeysWithoutKid)
	}
	var last error
	for _, k := range set.Keys {
		c, err := Verify(token, k.Public, o)
		if err == nil {
			return c, nil
		}
		last = err
		// Only a signature mismatch means "try the next key"; an expired
		// or wrongly issued token stays refused whatever the key.
		if authn.ReasonOf(err) != authn.ReasonBadSignature {
			return nil, err
		}
	}
	return nil, last
}
