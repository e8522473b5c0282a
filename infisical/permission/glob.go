package permission

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on $glob patterns. Brace alternatives multiply ("{a,b}{c,d}..."), so
// without a cap a short hostile pattern in a custom role could make Compile
// allocate without bound.
// maxGlobExpanded caps the summed length of all alternatives, which bounds
// the cost of one Match to roughly maxGlobExpanded times the value length.
const (
	maxGlobLen          = 4096
	maxGlobAlternatives = 256
	maxGlobExpanded     = 64 << 10
)

// GlobError reports a $glob pattern that cannot be compiled.
type GlobError struct {
	Pattern string
	Reason  string
}

func (e *GlobError) Error() string {
	return fmt.Sprintf("invalid glob pattern %q: %s", truncate(e.Pattern, 64), e.Reason)
}

// Glob is a compiled $glob pattern. It is immutable and safe for concurrent
// use; Match does not allocate.
type Glob struct {
	alts []globAlt
}

// globAlt is one brace alternative, split into path segments.
type globAlt struct {
	literal bool   // no wildcard anywhere: compare lit with the value
	lit     string // the unescaped, slash-normalized pattern when literal
	segs    []globSeg
}

// globSeg is one path segment of a pattern.
type globSeg struct {
	globstar bool   // the segment is exactly "**"
	literal  bool   // no wildcard in this segment
	lit      string // unescaped text when literal
	toks     []globTok
}

type globTokKind uint8

const (
	tokLit   globTokKind = iota // a run of literal bytes
	tokAny                      // "?": one character
	tokStar                     // "*": any run of characters in the segment
	tokClass                    // "[...]": one character from a set
)

type globTok struct {
	kind  globTokKind
	lit   string
	class *charClass
}

type runeRange struct{ lo, hi rune }

type charClass struct {
	negated bool
	ranges  []runeRange
}

func (c *charClass) matches(r rune) bool {
	in := false
	for _, rr := range c.ranges {
		if r >= rr.lo && r <= rr.hi {
			in = true
			break
		}
	}
	return in != c.negated
}

// CompileGlob compiles a $glob pattern with the semantics described in the
// package documentation.
func CompileGlob(pattern string) (*Glob, error) {
	if len(pattern) > maxGlobLen {
		return nil, &GlobError{Pattern: pattern, Reason: fmt.Sprintf("longer than %d bytes", maxGlobLen)}
	}
	var alts []string
	total := 0
	if err := expandBraces(pattern, &alts, &total); err != nil {
		return nil, &GlobError{Pattern: pattern, Reason: err.Error()}
	}
	g := &Glob{alts: make([]globAlt, 0, len(alts))}
	for _, a := range alts {
		ca, err := compileAlt(a)
		if err != nil {
			return nil, &GlobError{Pattern: pattern, Reason: err.Error()}
		}
		g.alts = append(g.alts, ca)
	}
	return g, nil
}

// Match reports whether value matches the pattern.
func (g *Glob) Match(value string) bool {
	value = trimTrailingSlashes(value)
	for i := range g.alts {
		if g.alts[i].match(value) {
			return true
		}
	}
	return false
}

// trimTrailingSlashes implements picomatch's non-strict slashes: "/a/" and
// "/a" are the same path, and "/" becomes "" (the root, one empty segment).
func trimTrailingSlashes(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// expandBraces appends to out every alternative of p, expanding the first
// "{...}" group that has a top-level comma and recursing on the result. A
// group without a comma, or an unbalanced brace, stays literal, as in
// picomatch.
func expandBraces(p string, out *[]string, total *int) error {
	open, close, ok := firstBraceGroup(p)
	if !ok {
		if len(*out) >= maxGlobAlternatives {
			return fmt.Errorf("more than %d brace alternatives", maxGlobAlternatives)
		}
		if *total += len(p); *total > maxGlobExpanded {
			return fmt.Errorf("brace alternatives longer than %d bytes in total", maxGlobExpanded)
		}
		*out = append(*out, p)
		return nil
	}
	prefix, suffix := p[:open], p[close+1:]
	start := open + 1
	depth := 0
	for i := open + 1; i <= close; i++ {
		switch c := p[i]; {
		case c == '\\':
			i++ // skip the escaped byte
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case (c == ',' && depth == 0) || i == close:
			if err := expandBraces(prefix+p[start:i]+suffix, out, total); err != nil {
				return err
			}
			start = i + 1
		}
	}
	return nil
}

// firstBraceGroup finds the first balanced "{...}" containing a comma at its
// own nesting level. It runs one stack pass, so a string of unmatched braces
// costs linear time.
func firstBraceGroup(p string) (open, close int, ok bool) {
	type frame struct {
		pos   int
		comma bool
	}
	var stack []frame
	best := -1
	bestClose := -1
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			stack = append(stack, frame{pos: i})
		case ',':
			if len(stack) > 0 {
				stack[len(stack)-1].comma = true
			}
		case '}':
			if len(stack) == 0 {
				continue
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.comma && (best < 0 || f.pos < best) {
				best, bestClose = f.pos, i
			}
		}
	}
	return best, bestClose, best >= 0
}

// compileAlt splits one brace-free alternative into segments. "\/" counts as
// a separator, like an unescaped slash, because a segment can never contain
// one.
func compileAlt(a string) (globAlt, error) {
	var raw []string
	var cur strings.Builder
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c == '\\' && i+1 < len(a) {
			if a[i+1] == '/' {
				raw = append(raw, cur.String())
				cur.Reset()
			} else {
				cur.WriteByte(c)
				cur.WriteByte(a[i+1])
			}
			i++
			continue
		}
		if c == '/' {
			raw = append(raw, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	raw = append(raw, cur.String())
	for len(raw) > 1 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}

	alt := globAlt{literal: true}
	lits := make([]string, 0, len(raw))
	for _, r := range raw {
		seg, err := compileSeg(r)
		if err != nil {
			return globAlt{}, err
		}
		if seg.globstar && len(alt.segs) > 0 && alt.segs[len(alt.segs)-1].globstar {
			continue // "**/**" is the same as "**"
		}
		alt.segs = append(alt.segs, seg)
		if !seg.literal {
			alt.literal = false
		}
		lits = append(lits, seg.lit)
	}
	if alt.literal {
		alt.lit = strings.Join(lits, "/")
		alt.segs = nil
	}
	return alt, nil
}

func compileSeg(s string) (globSeg, error) {
	if s == "**" {
		return globSeg{globstar: true}, nil
	}
	var toks []globTok
	var lit strings.Builder
	// Once a "[" has no closing bracket, no later one has either; remembering
	// that keeps a run of unclosed brackets linear instead of quadratic.
	unclosed := false
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globTok{kind: tokLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				lit.WriteByte(s[i])
			} else {
				lit.WriteByte(c) // a lone trailing backslash is literal
			}
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, globTok{kind: tokStar})
			}
		case '?':
			flush()
			toks = append(toks, globTok{kind: tokAny})
		case '[':
			if unclosed {
				lit.WriteByte(c)
				continue
			}
			cls, n, err := parseClass(s[i:])
			if err != nil {
				return globSeg{}, err
			}
			if cls == nil {
				lit.WriteByte(c) // no closing bracket: literal "["
				unclosed = true
				continue
			}
			flush()
			toks = append(toks, globTok{kind: tokClass, class: cls})
			i += n - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if len(toks) == 0 {
		return globSeg{literal: true}, nil
	}
	if len(toks) == 1 && toks[0].kind == tokLit {
		return globSeg{literal: true, lit: toks[0].lit}, nil
	}
	return globSeg{toks: toks}, nil
}

// parseClass parses a bracket expression at the start of s. It returns a nil
// class (and no error) when s has no closing bracket, so that "[" is literal.
func parseClass(s string) (*charClass, int, error) {
	i := 1
	cls := &charClass{}
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		cls.negated = true
		i++
	}
	first := true
	for i < len(s) {
		if s[i] == ']' && !first {
			return cls, i + 1, nil
		}
		first = false
		lo, w := classRune(s, i)
		i += w
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			var w2 int
			hi, w2 = classRune(s, i+1)
			i += 1 + w2
			if hi < lo {
				return nil, 0, fmt.Errorf("character range %q-%q is out of order", lo, hi)
			}
		}
		cls.ranges = append(cls.ranges, runeRange{lo, hi})
	}
	return nil, 0, nil
}

// classRune decodes one (possibly escaped) character inside brackets.
func classRune(s string, i int) (rune, int) {
	if s[i] == '\\' && i+1 < len(s) {
		r, w := utf8.DecodeRuneInString(s[i+1:])
		return r, w + 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// match reports whether the normalized value matches this alternative. Path
// segments are walked in place (no splitting, no allocation) with the classic
// two-pointer wildcard algorithm: "**" plays the role of "*" and each other
// segment must match exactly one value segment. Backtracking only to the most
// recent "**" is enough because every other pattern segment consumes exactly
// one value segment, which keeps the worst case at O(len(segs) * len(value)).
func (a *globAlt) match(s string) bool {
	if a.literal {
		return s == a.lit
	}
	n := len(s)
	pi, si := 0, 0 // si is the start of the current value segment; si > n means none left
	starPi, starSi := -1, 0
	for {
		if pi < len(a.segs) {
			p := &a.segs[pi]
			if p.globstar {
				starPi, starSi = pi, si
				pi++
				continue
			}
			if si <= n {
				end := segEnd(s, si)
				if p.matchSeg(s[si:end]) {
					pi++
					si = end + 1
					continue
				}
			}
		} else if si > n {
			return true
		}
		if starPi < 0 || starSi > n {
			return false
		}
		starSi = segEnd(s, starSi) + 1 // let the last "**" swallow one more segment
		pi, si = starPi+1, starSi
	}
}

func segEnd(s string, from int) int {
	if i := strings.IndexByte(s[from:], '/'); i >= 0 {
		return from + i
	}
	return len(s)
}

func (p *globSeg) matchSeg(s string) bool {
	if p.literal {
		return s == p.lit
	}
	return matchTokens(p.toks, s)
}

// matchTokens matches one segment with the same two-pointer algorithm at the
// character level; "*" advances by whole runes so "?" never sees half a rune.
func matchTokens(toks []globTok, s string) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokLit:
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			case tokAny:
				if si < len(s) {
					_, w := utf8.DecodeRuneInString(s[si:])
					si += w
					ti++
					continue
				}
			case tokClass:
				if si < len(s) {
					r, w := utf8.DecodeRuneInString(s[si:])
					if t.class.matches(r) {
						si += w
						ti++
						continue
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starSi:])
		starSi += w
		ti, si = starTi+1, starSi
	}
}

// escapeGlob quotes every character that CompileGlob treats specially, so a
// substituted value (an identity's metadata, say) matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `\*?[]{},`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '*', '?', '[', ']', '{', '}', ',':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
