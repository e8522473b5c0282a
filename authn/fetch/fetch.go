// Package fetch holds the small HTTP helpers the login verifiers share to
// talk to issuers: building a client that trusts a configured CA, and
// fetching a JSON document with a size limit.
package fetch

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultTimeout bounds one call to an issuer when the caller gives no
// client of its own.
const DefaultTimeout = 10 * time.Second

// MaxDocument is the largest issuer document read (discovery, JWKS, STS
// answer). Issuers send a few kilobytes; the limit keeps a hostile endpoint
// from exhausting memory.
const MaxDocument = 1 << 20

// Default returns base, or a client with DefaultTimeout when base is nil.
func Default(base *http.Client) *http.Client {
	if base != nil {
		return base
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// WithCA returns a client like base whose TLS connections trust exactly the
// certificates in caPEM (in addition to nothing else). An empty caPEM
// returns base unchanged. insecure turns certificate verification off
// (Kubernetes auth without a CA certificate, as upstream does).
func WithCA(base *http.Client, caPEM string, insecure bool) (*http.Client, error) {
	base = Default(base)
	if caPEM == "" && !insecure {
		return base, nil
	}
	var tr *http.Transport
	switch t := base.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		// A custom round tripper (tests, proxies) is used as is: the caller
		// that injected it decides about TLS.
		return base, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tr.TLSClientConfig != nil {
		cfg = tr.TLSClientConfig.Clone()
	}
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, errors.New("the CA certificate is not valid PEM")
		}
		cfg.RootCAs = pool
	} else {
		cfg.InsecureSkipVerify = true //nolint:gosec // explicit opt-in: no CA configured (upstream behaviour)
	}
	tr.TLSClientConfig = cfg
	out := *base
	out.Transport = tr
	if out.Timeout == 0 {
		out.Timeout = DefaultTimeout
	}
	return &out, nil
}

// ValidCA reports whether s is empty or holds at least one PEM certificate.
func ValidCA(s string) bool {
	if s == "" {
		return true
	}
	return x509.NewCertPool().AppendCertsFromPEM([]byte(s))
}

// StatusError is a non-2xx answer of an issuer.
type StatusError struct {
	URL    string
	Status int
	Body   string // at most 512 bytes, for logs
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: status %d", e.URL, e.Status)
}

// JSON GETs url and decodes the JSON answer into v.
func JSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := Default(client).Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument))
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if len(body) > 512 {
			body = body[:512]
		}
		return &StatusError{URL: url, Status: resp.StatusCode, Body: string(body)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}

// ClientCache keeps the clients WithCA derives, so that connections and TLS
// sessions to an issuer are reused between logins instead of a transport
// (and its idle connections) being created per login. Safe for concurrent
// use; share one per process.
type ClientCache struct {
	mu sync.Mutex
	m  *lru.Cache[clientKey, *http.Client]
}

type clientKey struct {
	base     *http.Client
	ca       [sha256.Size]byte
	insecure bool
}

// NewClientCache returns a cache of at most size clients (default 256).
func NewClientCache(size int) *ClientCache {
	if size <= 0 {
		size = 256
	}
	m, _ := lru.NewWithEvict[clientKey, *http.Client](size, func(_ clientKey, c *http.Client) { c.CloseIdleConnections() })
	return &ClientCache{m: m}
}

// WithCA is WithCA through the cache; a nil cache derives a new client.
func (c *ClientCache) WithCA(base *http.Client, caPEM string, insecure bool) (*http.Client, error) {
	if c == nil {
		return WithCA(base, caPEM, insecure)
	}
	k := clientKey{base: base, ca: sha256.Sum256([]byte(caPEM)), insecure: insecure}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m.Get(k); ok {
		return cl, nil
	}
	cl, err := WithCA(base, caPEM, insecure)
	if err != nil {
		return nil, err
	}
	c.m.Add(k, cl)
	return cl, nil
}
