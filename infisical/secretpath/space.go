package secretpath

import (
	"strings"
	"unicode"
)

// trimJS trims what JavaScript's String.prototype.trim trims. Upstream
// normalises with that function, and Go's strings.TrimSpace differs at the
// edges (it trims U+0085 but not U+FEFF), which would make the same input
// store different bytes here than in Infisical.
func trimJS(s string) string {
	return strings.TrimFunc(s, isJSSpace)
}

// isJSSpace reports whether r is WhiteSpace or LineTerminator in the
// ECMAScript grammar: TAB, VT, FF, ZWNBSP, any Zs character, LF, CR, LS, PS.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\uFEFF', '\n', '\r', '\u2028', '\u2029':
		return true
	}
	return unicode.Is(unicode.Zs, r)
}
