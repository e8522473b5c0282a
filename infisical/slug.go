package infisical

import (
	"crypto/rand"
	"regexp"
	"strings"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:[_-][a-z0-9]+)*$`)

// validSlug checks Infisical's slug rule with length bounds.
func validSlug(s string, min, max int) bool {
	return len(s) >= min && len(s) <= max && slugRE.MatchString(s)
}

// slugify lower-cases s and turns runs of other characters into single
// hyphens.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

const slugAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomSuffix(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	for i := range buf {
		buf[i] = slugAlphabet[int(buf[i])%len(slugAlphabet)]
	}
	return string(buf)
}

// generatedSlug derives a unique-looking slug from a name.
func generatedSlug(name string, max int) string {
	base := slugify(name)
	if len(base) > max-5 {
		base = strings.TrimRight(base[:max-5], "-")
	}
	if base == "" {
		return randomSuffix(8)
	}
	return base + "-" + randomSuffix(4)
}
