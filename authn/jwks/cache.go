package jwks

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/infisical-go/engine/authn/fetch"
)

// Cache keeps issuer documents (key sets, discovery documents, certificate
// maps) by URL so that a login costs no network round trip while the
// document is fresh. A key set is fetched again when it is older than TTL,
// or on demand (an unknown kid) but at most once per MinRefresh, so a flood
// of tokens with made-up key ids cannot hammer the issuer.
//
// A Cache is safe for concurrent use; one is meant to be shared by every
// verifier of a process.
type Cache struct {
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time
	entries    *lru.Cache[string, *entry]
	mu         sync.Mutex // guards creation of entries
}

type entry struct {
	mu      sync.Mutex
	val     any
	kind    string
	fetched time.Time
}

// CacheConfig configures a Cache. Zero values take the defaults.
type CacheConfig struct {
	TTL        time.Duration    // default 10 minutes
	MinRefresh time.Duration    // default 10 seconds
	Size       int              // documents kept, default 1024
	Now        func() time.Time // clock, default time.Now
}

// NewCache returns an empty cache.
func NewCache(cfg CacheConfig) *Cache {
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = 10 * time.Second
	}
	if cfg.Size <= 0 {
		cfg.Size = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c, _ := lru.New[string, *entry](cfg.Size)
	return &Cache{ttl: cfg.TTL, minRefresh: cfg.MinRefresh, now: cfg.Now, entries: c}
}

func (c *Cache) entry(key string) *entry {
	if e, ok := c.entries.Get(key); ok {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries.Get(key); ok {
		return e
	}
	e := &entry{}
	c.entries.Add(key, e)
	return e
}

// get returns the cached value of kind at url, fetching and parsing it when
// absent, stale, or when refresh is asked and the last fetch is older than
// MinRefresh. Concurrent callers of one URL wait for a single fetch.
func (c *Cache) get(ctx context.Context, client *http.Client, url, kind string, refresh bool, parse func([]byte) (any, error)) (any, error) {
	if c == nil {
		c = NewCache(CacheConfig{})
	}
	e := c.entry(kind + " " + url)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.now()
	age := now.Sub(e.fetched)
	if e.val != nil && age < c.ttl && (!refresh || age < c.minRefresh) {
		return e.val, nil
	}
	var raw json.RawMessage
	if err := fetch.JSON(ctx, client, url, &raw); err != nil {
		if e.val != nil && !refresh {
			// Keep serving the last good copy while the issuer is away;
			// keys are public and rotate slowly.
			return e.val, nil
		}
		return nil, err
	}
	v, err := parse(raw)
	if err != nil {
		return nil, err
	}
	e.val, e.kind, e.fetched = v, kind, now
	return v, nil
}

// Keys returns the key set published at url.
func (c *Cache) Keys(ctx context.Context, client *http.Client, url string, refresh bool) (*Set, error) {
	v, err := c.get(ctx, client, url, "jwks", refresh, func(b []byte) (any, error) { return Parse(b) })
	if err != nil {
		return nil, err
	}
	return v.(*Set), nil
}

// CertMap returns a {kid: PEM certificate} document (Google's per service
// account x509 metadata) as a key set.
func (c *Cache) CertMap(ctx context.Context, client *http.Client, url string, refresh bool) (*Set, error) {
	v, err := c.get(ctx, client, url, "x509", refresh, func(b []byte) (any, error) {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		s := &Set{}
		for kid, p := range m {
			pub, err := ParsePEM(p)
			if err != nil {
				continue
			}
			s.Keys = append(s.Keys, Key{ID: kid, Public: pub})
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Set), nil
}

// Document returns a JSON document (for example an OpenID discovery
// document) decoded into a fresh value by decode.
func (c *Cache) Document(ctx context.Context, client *http.Client, url string, decode func([]byte) (any, error)) (any, error) {
	return c.get(ctx, client, url, "doc", false, decode)
}
