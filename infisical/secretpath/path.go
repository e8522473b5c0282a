package secretpath

import (
	"fmt"
	"strings"
)

// Root is the canonical path of an environment's top-level folder.
const Root = "/"

// MaxFolderNameLen bounds a single folder name. Folder names double as
// reference segments (${env.a.b.KEY}) and database values, so they are kept
// short.
const MaxFolderNameLen = 64

// Error reports a path that cannot be normalised. Callers branch on it with
// errors.As to answer 400 rather than 500.
type Error struct {
	Path   string // the path as supplied by the caller
	Reason string // why it was rejected, safe to show to the caller
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid secret path %q: %s", e.Path, e.Reason)
}

// Normalize returns the canonical form of a secret or folder path: "/" or
// "/a/b". It accepts the loose spellings clients send (a missing leading
// slash as in the CLI's --path=common/backend, a trailing slash, doubled
// slashes, surrounding spaces) and rejects anything that could not name a
// folder, notably "." and "..", which would otherwise let a path escape the
// scope a permission glob was written for.
func Normalize(p string) (string, error) {
	trimmed := trimJS(p)
	if trimmed == "" {
		return Root, nil
	}
	var b strings.Builder
	b.Grow(len(trimmed) + 1)
	for seg := range strings.SplitSeq(trimmed, "/") {
		switch {
		case seg == "":
			// Leading, trailing and repeated slashes carry no meaning.
			continue
		case seg == "." || seg == "..":
			return "", &Error{Path: p, Reason: fmt.Sprintf("segment %q is not allowed", seg)}
		case !ValidFolderName(seg):
			return "", &Error{Path: p, Reason: fmt.Sprintf("segment %q is not a valid folder name (letters, digits, '-' and '_' only, at most %d characters)", seg, MaxFolderNameLen)}
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return Root, nil
	}
	return b.String(), nil
}

// ValidFolderName reports whether name may be used as a folder name:
// 1..64 ASCII letters, digits, '-' or '_'. Excluding '.' and '/' is what
// keeps the ${env.a.b.KEY} reference syntax unambiguous.
func ValidFolderName(name string) bool {
	if len(name) == 0 || len(name) > MaxFolderNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// Segments splits a canonical path into its folder names; the root has
// none and yields nil. Empty segments are skipped so that a non-canonical
// input degrades gracefully instead of producing "" names.
func Segments(p string) []string {
	var segs []string
	for seg := range strings.SplitSeq(p, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	return segs
}

// Join returns the path of the folder called name inside parent. parent is
// expected to be canonical and name a valid folder name; Join does not
// validate, so that it can be used on values that were validated already.
// An empty name returns parent unchanged.
func Join(parent, name string) string {
	parent = strings.TrimRight(parent, "/")
	if name == "" {
		if parent == "" {
			return Root
		}
		return parent
	}
	return parent + "/" + name
}

// Parent splits a canonical path into the path of its parent folder and its
// own name. The root has no parent: Parent("/") returns ("/", "").
func Parent(p string) (parent, name string) {
	p = strings.TrimRight(p, "/")
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		// Not canonical ("a"); treat it as a child of the root.
		if p == "" {
			return Root, ""
		}
		return Root, p
	}
	if i == 0 {
		return Root, p[1:]
	}
	return p[:i], p[i+1:]
}

// IsWithin reports whether the canonical path p is ancestor itself or lies
// below it. It compares whole segments, so "/ab" is not within "/a".
func IsWithin(p, ancestor string) bool {
	if ancestor == Root {
		return strings.HasPrefix(p, "/")
	}
	if p == ancestor {
		return true
	}
	return strings.HasPrefix(p, ancestor) && len(p) > len(ancestor) && p[len(ancestor)] == '/'
}
