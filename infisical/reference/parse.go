// Package reference finds and expands ${...} secret references inside
// secret values.
//
// A reference names another secret by dot-separated segments: ${KEY} is in
// the same environment and folder as the secret that contains it,
// ${env.KEY} is at the root of environment env, and ${env.a.b.KEY} is in
// folder /a/b of env. Expansion is recursive, detects cycles, stops at a
// depth limit, and reads other secrets only through a caller-supplied
// Fetcher, so that the caller's permission checks apply to every
// referenced scope.
package reference

import "strings"

// Ref is one ${...} reference found in a value.
type Ref struct {
	// Start and End are byte offsets of the whole "${...}" text in the
	// value, so value[Start:End] is the literal reference.
	Start, End int
	// Env is the environment slug, or "" for a local reference (${KEY}).
	Env string
	// Path is the folder path in Env: "/" for ${env.KEY}, "/a/b" for
	// ${env.a.b.KEY}; "" for a local reference.
	Path string
	// Key is the referenced secret's key.
	Key string
}

// Local reports whether r refers to the same environment and folder as the
// secret whose value contains it.
func (r Ref) Local() bool { return r.Env == "" }

// Parse returns every reference in value, in order of appearance.
//
// It recognises what Infisical recognises, \$\{([a-zA-Z0-9-_.]+)\}, minus
// bodies with an empty segment (${a..b}, ${.X}, ${X.}), which could not
// name a secret. Anything else between "${" and "}" is literal text. The
// scan is a single left-to-right pass, so its cost is linear in len(value)
// however hostile the input.
func Parse(value string) []Ref {
	var refs []Ref
	for i := 0; ; {
		j := strings.Index(value[i:], "${")
		if j < 0 {
			return refs
		}
		start := i + j
		end := start + 2
		for end < len(value) && isRefByte(value[end]) {
			end++
		}
		// Bytes in [start+2, end) are reference characters and so contain
		// no '$': the next candidate cannot begin before end.
		i = end
		if end == len(value) || value[end] != '}' || end == start+2 {
			continue
		}
		i = end + 1
		if ref, ok := newRef(value[start+2 : end]); ok {
			ref.Start, ref.End = start, end+1
			refs = append(refs, ref)
		}
	}
}

// newRef interprets the body of a reference: one segment is a local key;
// otherwise the first segment is the environment, the last the key and any
// segments between them the folder path.
func newRef(body string) (Ref, bool) {
	segs := strings.Split(body, ".")
	for _, s := range segs {
		if s == "" {
			return Ref{}, false
		}
	}
	if len(segs) == 1 {
		return Ref{Key: segs[0]}, true
	}
	last := len(segs) - 1
	return Ref{
		Env:  segs[0],
		Path: "/" + strings.Join(segs[1:last], "/"),
		Key:  segs[last],
	}, true
}

// isRefByte reports whether c may appear inside ${...}: [a-zA-Z0-9-_.].
func isRefByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
