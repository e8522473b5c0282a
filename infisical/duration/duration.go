// Package duration parses the duration strings Infisical accepts for TTLs
// and temporary ranges ("1h", "30m", "7d", "1.5 hours", "500").
//
// Upstream parses them with the JavaScript ms 2.x library, so clients send
// whatever that library accepts. This package accepts exactly the same
// language — ^(-?\d*\.?\d+) *(unit)?$, ASCII case-insensitive, at most 100
// characters — but, unlike upstream, it turns everything else into an
// error instead of a silent "undefined".
package duration

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// MaxInputLen is the longest input ms accepts; longer strings are refused
// before any parsing work is done.
const MaxInputLen = 100

// ParseError reports an input that is not a valid duration. Handlers branch
// on it with errors.As to answer 4xx.
type ParseError struct {
	Input  string // the input, cut to MaxInputLen bytes
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid duration %q: %s", e.Input, e.Reason)
}

func parseErr(s, reason string) *ParseError {
	if len(s) > MaxInputLen {
		// Keep error messages (and logs) bounded for hostile input.
		s = s[:MaxInputLen] + "..."
	}
	return &ParseError{Input: s, Reason: reason}
}

// Parse converts an ms-style duration string to a time.Duration. A number
// without a unit is milliseconds; "1y" is 365.25 days. Negative values are
// accepted as ms accepts them; use ParsePositive where only a positive
// span makes sense. The number is converted exactly (no float rounding) and
// rounded to the nearest nanosecond; results beyond time.Duration's range
// (about 292 years) are an error.
func Parse(s string) (time.Duration, error) {
	if len(s) > MaxInputLen {
		return 0, parseErr(s, fmt.Sprintf("longer than %d characters", MaxInputLen))
	}
	neg, intPart, fracPart, rest, ok := scanNumber(s)
	if !ok {
		return 0, parseErr(s, "expected a number such as 30, 1.5 or .5 followed by an optional unit")
	}
	rest = strings.TrimLeft(rest, " ") // only U+0020, as in the ms regex
	unit, ok := unitNanos(rest)
	if !ok {
		return 0, parseErr(s, fmt.Sprintf("unknown unit %q (want ms, s, m, h, d, w or y)", rest))
	}

	// value = digits / 10^len(frac) * unit, computed exactly.
	num, _ := new(big.Int).SetString(intPart+fracPart, 10) // digits only, cannot fail
	num.Mul(num, big.NewInt(unit))
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(fracPart))), nil)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half away from zero: compare 2r with den.
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, parseErr(s, "out of range")
	}
	n := q.Int64()
	if n == math.MinInt64 {
		// Keep the range symmetric so that -Parse(x) never overflows.
		return 0, parseErr(s, "out of range")
	}
	return time.Duration(n), nil
}

// ParsePositive is Parse for spans that must be longer than zero, such as a
// temporary access range ("1h", "30m", "7d") or a TTL. Inputs that round to
// zero nanoseconds are rejected too.
func ParsePositive(s string) (time.Duration, error) {
	d, err := Parse(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, parseErr(s, "must be greater than zero")
	}
	return d, nil
}

// scanNumber matches the -?\d*\.?\d+ prefix of s. Backtracking in that
// pattern means it is either digits, or optional digits, a dot and at least
// one digit; a dot without a following digit ("1.") does not match at all.
func scanNumber(s string) (neg bool, intPart, fracPart, rest string, ok bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	i := digitRun(s)
	intPart, s = s[:i], s[i:]
	if strings.HasPrefix(s, ".") {
		j := digitRun(s[1:])
		if j == 0 {
			return false, "", "", "", false
		}
		fracPart, s = s[1:1+j], s[1+j:]
	} else if intPart == "" {
		return false, "", "", "", false
	}
	return neg, intPart, fracPart, s, true
}

// digitRun returns the length of the leading ASCII digits of s; \d in a
// JavaScript regex without the u flag matches only 0-9.
func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// unitNanos returns the length of one unit in nanoseconds; "" means
// milliseconds. Case folding is ASCII-only on purpose: the ms regex uses the
// i flag without u, under which non-ASCII letters such as 'ſ' (long s) or
// the Kelvin sign do not match 's' and 'k', while strings.EqualFold would
// let them through.
func unitNanos(u string) (int64, bool) {
	switch asciiLower(u) {
	case "", "ms", "msec", "msecs", "millisecond", "milliseconds":
		return int64(time.Millisecond), true
	case "s", "sec", "secs", "second", "seconds":
		return int64(time.Second), true
	case "m", "min", "mins", "minute", "minutes":
		return int64(time.Minute), true
	case "h", "hr", "hrs", "hour", "hours":
		return int64(time.Hour), true
	case "d", "day", "days":
		return int64(24 * time.Hour), true
	case "w", "week", "weeks":
		return int64(7 * 24 * time.Hour), true
	case "y", "yr", "yrs", "year", "years":
		// ms defines a year as 365.25 days: 31,557,600,000 ms.
		return int64(36525 * 24 * time.Hour / 100), true
	}
	return 0, false
}

// asciiLower lowers A-Z only and leaves every other byte alone.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
