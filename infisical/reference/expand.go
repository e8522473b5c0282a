package reference

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/infisical-go/engine/infisical/secretpath"
)

// Defaults for Options fields left at zero.
const (
	DefaultMaxDepth  = 10
	DefaultMaxOutput = 1 << 20 // 1 MiB
	DefaultMaxRefs   = 10_000
)

// ErrTooLarge is returned (wrapped) when an expanded value would exceed
// Options.MaxOutput. It stops "billion laughs" values, where a few short
// secrets referencing each other several times expand to gigabytes.
var ErrTooLarge = errors.New("expanded secret value exceeds the size limit")

// ErrTooManyRefs is returned (wrapped) when one Expand call would resolve
// more than Options.MaxRefs references. The output limit alone does not
// bound the work: references to empty secrets fan out without producing
// output.
var ErrTooManyRefs = errors.New("secret value has too many references to expand")

// Scope is a folder of an environment: where a secret lives.
type Scope struct {
	Env  string // environment slug
	Path string // canonical folder path, "/" for the root
}

// Fetcher returns the raw (unexpanded) values of all secrets the caller may
// read in scope, by key. A folder or environment that does not exist yields
// an empty map and a nil error. An error (typically the caller's permission
// error) aborts the expansion and reaches the caller of Expand wrapped in a
// *FetchError, so errors.As still finds the original.
type Fetcher func(ctx context.Context, scope Scope) (map[string]string, error)

// FetchError reports that the secrets of a referenced scope could not be
// read. It names the reference that needed them, never a secret value.
type FetchError struct {
	Scope Scope  // the scope that was being read
	Key   string // the referenced key that needed it
	Err   error  // what the Fetcher returned
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("resolving secret reference %q in environment %q at path %q: %v", e.Key, e.Scope.Env, e.Scope.Path, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Options limit an expansion. Zero or negative fields take the defaults.
type Options struct {
	// MaxDepth is how many reference hops are followed from the secret
	// being expanded; references deeper than that are left as literal
	// text. Default 10, as upstream Infisical.
	MaxDepth int
	// MaxOutput is the largest expanded value, in bytes; a larger one is
	// ErrTooLarge. Default 1 MiB.
	MaxOutput int
	// MaxRefs is how many references one Expand call may resolve before
	// failing with ErrTooManyRefs. Default 10,000.
	MaxRefs int
}

// Expander expands references for one request. It remembers what each
// scope's Fetcher call returned, error included, so that a scope is fetched
// at most once however many secrets refer to it; create a new Expander per
// request so that changes and permission updates are seen.
//
// An Expander is not safe for concurrent use: expanding the secrets of one
// response is sequential, and a lock-free cache keeps that path simple.
type Expander struct {
	fetch Fetcher
	opts  Options
	cache map[Scope]fetched
}

type fetched struct {
	secrets map[string]string
	err     error
}

// NewExpander returns an Expander that reads referenced secrets through
// fetch.
func NewExpander(fetch Fetcher, opts Options) *Expander {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	if opts.MaxRefs <= 0 {
		opts.MaxRefs = DefaultMaxRefs
	}
	return &Expander{fetch: fetch, opts: opts, cache: make(map[Scope]fetched)}
}

// Expand returns value with every reference replaced by the referenced
// secret's expanded value. origin and key identify the secret value belongs
// to: local references resolve against origin, and the secret itself
// counts as being on the reference chain, so ${SELF} inside SELF is a
// cycle.
//
// Each referenced value is expanded in its own scope: a ${KEY} inside a
// secret of /b resolves in /b, not in origin. A reference is left as its
// literal "${...}" text when it points to a missing secret or folder, when
// its target is already on the current chain (a cycle), or when it lies
// deeper than MaxDepth. A Fetcher error aborts the whole expansion.
func (e *Expander) Expand(ctx context.Context, origin Scope, key, value string) (string, error) {
	path, err := secretpath.Normalize(origin.Path)
	if err != nil {
		return "", fmt.Errorf("expanding secret %q: %w", key, err)
	}
	origin.Path = path
	r := run{e: e, chain: []node{{scope: origin, key: key}}}
	out, err := r.expand(ctx, origin, value, 1)
	if err != nil {
		if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTooManyRefs) {
			return "", fmt.Errorf("expanding secret %q in environment %q at path %q: %w", key, origin.Env, origin.Path, err)
		}
		return "", err
	}
	return out, nil
}

// node is one secret on the reference chain.
type node struct {
	scope Scope
	key   string
}

// run is the state of one Expand call.
type run struct {
	e     *Expander
	chain []node // secrets being expanded, outermost first
	refs  int    // references resolved so far
}

// expand substitutes the references in value, a value of a secret in
// scope; depth is the hop count its references would be at.
func (r *run) expand(ctx context.Context, scope Scope, value string, depth int) (string, error) {
	limit := r.e.opts.MaxOutput
	refs := Parse(value)
	if len(refs) == 0 {
		if len(value) > limit {
			return "", ErrTooLarge
		}
		return value, nil
	}
	var b strings.Builder
	last := 0
	for _, ref := range refs {
		sub, ok, err := r.resolve(ctx, scope, ref, depth)
		if err != nil {
			return "", err
		}
		if !ok {
			sub = value[ref.Start:ref.End]
		}
		lit := value[last:ref.Start]
		// Check before writing so a runaway value is never materialised.
		if b.Len()+len(lit)+len(sub) > limit {
			return "", ErrTooLarge
		}
		b.WriteString(lit)
		b.WriteString(sub)
		last = ref.End
	}
	if b.Len()+len(value)-last > limit {
		return "", ErrTooLarge
	}
	b.WriteString(value[last:])
	return b.String(), nil
}

// resolve returns the expanded value ref points to, or ok=false when the
// reference must stay literal. from is the scope of the secret containing
// ref.
func (r *run) resolve(ctx context.Context, from Scope, ref Ref, depth int) (sub string, ok bool, err error) {
	if depth > r.e.opts.MaxDepth {
		return "", false, nil
	}
	target := from
	if !ref.Local() {
		target = Scope{Env: ref.Env, Path: ref.Path}
	}
	n := node{scope: target, key: ref.Key}
	for _, c := range r.chain {
		if c == n {
			return "", false, nil
		}
	}
	r.refs++
	if r.refs > r.e.opts.MaxRefs {
		return "", false, ErrTooManyRefs
	}
	secrets, err := r.e.secrets(ctx, target)
	if err != nil {
		return "", false, &FetchError{Scope: target, Key: ref.Key, Err: err}
	}
	raw, found := secrets[ref.Key]
	if !found {
		return "", false, nil
	}
	r.chain = append(r.chain, n)
	sub, err = r.expand(ctx, target, raw, depth+1)
	r.chain = r.chain[:len(r.chain)-1]
	if err != nil {
		return "", false, err
	}
	return sub, true, nil
}

// secrets returns the secrets of scope, calling the Fetcher only the first
// time a scope is needed.
func (e *Expander) secrets(ctx context.Context, scope Scope) (map[string]string, error) {
	if f, ok := e.cache[scope]; ok {
		return f.secrets, f.err
	}
	// A cancelled request should not be recorded as the scope's answer.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := e.fetch(ctx, scope)
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	e.cache[scope] = fetched{secrets: m, err: err}
	return m, err
}
