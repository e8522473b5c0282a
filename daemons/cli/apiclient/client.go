// Package apiclient is a small client for the Infisical REST API, used by the
// `infisical` command line and the sidecar agent. It speaks exactly what
// Infisical's own CLI sends (spec api-core §0, §9): machine-identity logins
// for every method, token renewal and revocation, the v4 secret list and
// get (with ETag / If-None-Match), the v3 secret mutations, folders, tags,
// projects and the user-session login flow.
//
// A Client is immutable and safe for concurrent use; WithToken returns a
// copy carrying another access token. Errors from the server are
// *APIError values (status, Infisical's error name and message); errors
// that mean "the server could not be reached" are recognised by
// IsUnreachable, which callers use to fall back to cached data.
//
// Secret values never appear in errors produced by this package.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent is what Infisical's CLI sends; servers may key behaviour
// (and metrics) on it.
const DefaultUserAgent = "cli"

// maxResponseBytes bounds how much of an answer is read (a secret list of
// a large project stays far below it).
const maxResponseBytes = 64 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the server: "https://host", "https://host/" or
	// "https://host/api" are all accepted.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 60 s timeout.
	HTTPClient *http.Client
	// Token is the access token sent as "Authorization: Bearer"; it may be
	// empty (login calls need none) and may be changed with WithToken.
	Token string
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
}

// Client calls one Infisical API.
type Client struct {
	base      string // always ends in /api, never in a slash
	http      *http.Client
	token     string
	userAgent string
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	base, err := NormalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, http: cfg.HTTPClient, userAgent: cfg.UserAgent}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	c.token = normalizeToken(cfg.Token)
	return c, nil
}

// NormalizeBaseURL accepts "https://host", "https://host/" or
// "https://host/api" and returns "https://host/api".
func NormalizeBaseURL(raw string) (string, error) {
	d := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(d)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid API URL %q: it must start with http:// or https:// and name a host", raw)
	}
	if !strings.HasSuffix(d, "/api") {
		d += "/api"
	}
	return d, nil
}

// WithToken returns a copy of c that authenticates with token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = normalizeToken(token)
	return &cp
}

// BaseURL is the API base, ending in /api.
func (c *Client) BaseURL() string { return c.base }

// Token is the access token the client sends (service tokens reduced to
// their first three parts).
func (c *Client) Token() string { return c.token }

// HTTPClient is the underlying HTTP client (credential helpers reuse it).
func (c *Client) HTTPClient() *http.Client { return c.http }

// normalizeToken trims the token; a service token "st.<id>.<secret>.<key>"
// is sent without its fourth part, as Infisical's clients do.
func normalizeToken(t string) string {
	t = strings.TrimSpace(t)
	if strings.HasPrefix(t, "st.") {
		if parts := strings.SplitN(t, ".", 4); len(parts) == 4 {
			t = strings.Join(parts[:3], ".")
		}
	}
	return t
}

// IsServiceToken reports whether token is a legacy service token.
func IsServiceToken(token string) bool { return strings.HasPrefix(strings.TrimSpace(token), "st.") }

// ---- errors ----------------------------------------------------------------------

// APIError is a non-2xx answer of the server.
type APIError struct {
	Method, Path string // request (path without the query)
	StatusCode   int
	// Name is Infisical's "error" field (e.g. "NotFound", "PermissionDenied").
	Name string
	// Message is the "message" field; 422 answers carry an array of issues,
	// kept here as its JSON text.
	Message string
	ReqID   string
	Details json.RawMessage
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	name := ""
	if e.Name != "" {
		name = " " + e.Name
	}
	return fmt.Sprintf("%s %s: %d%s: %s", e.Method, e.Path, e.StatusCode, name, msg)
}

// StatusCode returns the HTTP status of an *APIError in err's chain, or 0.
func StatusCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsUnreachable reports whether err means the server could not be reached
// or is not answering for itself: a transport error (refused connection,
// DNS failure, timeout, reset) or a 502/503/504 from a proxy in front of
// it. Authentication and permission errors are NOT unreachable: callers
// must never serve cached secrets when the server said no.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	switch StatusCode(err) {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
	default:
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// transportError wraps a failure to get any answer from the server.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.method, e.path, e.err)
}
func (e *transportError) Unwrap() error { return e.err }

// errorBody is Infisical's error body (spec §1.3).
type errorBody struct {
	StatusCode int             `json:"statusCode"`
	Error      string          `json:"error"`
	Message    json.RawMessage `json:"message"`
	ReqID      string          `json:"reqId"`
	Details    json.RawMessage `json:"details"`
}

func parseAPIError(method, path string, status int, raw []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status}
	var eb errorBody
	if json.Unmarshal(raw, &eb) == nil {
		e.Name, e.ReqID, e.Details = eb.Error, eb.ReqID, eb.Details
		var s string
		if json.Unmarshal(eb.Message, &s) == nil {
			e.Message = s
		} else if len(eb.Message) > 0 && string(eb.Message) != "null" {
			e.Message = string(eb.Message)
		}
	}
	if e.Message == "" && e.Name == "" {
		// Not Infisical's shape (a proxy page, ...): keep a bounded excerpt.
		text := strings.TrimSpace(string(raw))
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		e.Message = text
	}
	return e
}

// ---- transport -------------------------------------------------------------------

// request describes one call.
type request struct {
	method string
	path   string     // below the base, starting with "/"
	query  url.Values // may be nil
	body   any        // JSON-encoded when non-nil
	noAuth bool       // login calls send no Authorization header
	etag   string     // sent as If-None-Match
}

// response is a 2xx (or 304) answer.
type response struct {
	status int
	etag   string
	body   []byte
}

func (c *Client) do(ctx context.Context, rq request) (*response, error) {
	u := c.base + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	var rd io.Reader
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return nil, fmt.Errorf("encode request to %s: %w", rq.path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", rq.method, rq.path, err)
	}
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if !rq.noAuth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if rq.etag != "" {
		req.Header.Set("If-None-Match", rq.etag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", rq.method, rq.path, ctx.Err())
		}
		return nil, &transportError{method: rq.method, path: c.base + rq.path, err: stripURLError(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &transportError{method: rq.method, path: c.base + rq.path, err: fmt.Errorf("read answer: %w", err)}
	}
	out := &response{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: raw}
	if resp.StatusCode == http.StatusNotModified {
		if out.etag == "" {
			out.etag = rq.etag
		}
		return out, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, parseAPIError(rq.method, rq.path, resp.StatusCode, raw)
	}
	return out, nil
}

// stripURLError drops the *url.Error wrapper, whose text repeats the full
// URL including the query string.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// call sends rq and decodes a 2xx JSON answer into out (when non-nil).
func (c *Client) call(ctx context.Context, rq request, out any) (*response, error) {
	resp, err := c.do(ctx, rq)
	if err != nil {
		return nil, err
	}
	if out != nil && resp.status != http.StatusNotModified && len(resp.body) > 0 {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return nil, fmt.Errorf("decode answer of %s %s: %w", rq.method, rq.path, err)
		}
	}
	return resp, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
