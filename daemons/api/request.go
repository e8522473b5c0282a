package api

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/permission"
)

// authMode says which actor kinds a route accepts.
type authMode uint8

const (
	authNone authMode = 0
	authUser authMode = 1 << iota
	authIdentity
	authService
)

const (
	authUI  = authUser | authIdentity
	authUIS = authUser | authIdentity | authService
)

// handler serves one route: it returns the value to send as JSON (status
// 200) or an error.
type handler func(rq *request) (any, error)

// route describes a registered route (for the OpenAPI document).
type route struct {
	Method  string
	Path    string
	Auth    authMode
	Summary string
	Tag     string
}

// handle registers a route. pattern is a Go ServeMux path pattern.
func (s *Server) handle(method, pattern string, auth authMode, tag, summary string, h handler) {
	s.routes = append(s.routes, route{Method: method, Path: pattern, Auth: auth, Summary: summary, Tag: tag})
	label := method + " " + pattern
	wildcards := pathWildcards(pattern)
	s.mux.HandleFunc(method+" "+muxPattern(pattern), func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rq := &request{s: s, w: w, r: r, reqID: newReqID()}
		defer func() {
			if p := recover(); p != nil {
				// The panic value may carry request data; log only its type
				// and where it happened.
				s.log.Error("panic in handler", "route", label, "reqId", rq.reqID, "type", fmt.Sprintf("%T", p))
				if !rq.wrote {
					rq.fail(infisical.Internal("handler panic", errors.New("panic")))
				}
			}
			s.metrics.observe(method, pattern, rq.status, time.Since(start))
		}()
		if r.ContentLength > s.cfg.MaxBodyBytes {
			rq.fail(&infisical.Error{Kind: infisical.KindTooLarge, Message: fmt.Sprintf("Request body exceeds the limit of %d bytes", s.cfg.MaxBodyBytes)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if auth == authNone {
			// The actor of an unauthenticated request (a login, a token
			// renewal) is known only inside the engine; its audit event
			// takes the caller's address and user agent from the context.
			rq.r = r.WithContext(infisical.WithClientInfo(r.Context(), rq.clientIP(), r.UserAgent()))
		}
		if auth != authNone {
			if err := rq.authenticate(auth); err != nil {
				rq.fail(err)
				return
			}
		}
		if err := rq.checkText(wildcards); err != nil {
			rq.fail(err)
			return
		}
		out, err := h(rq)
		if err != nil {
			rq.fail(err)
			return
		}
		if !rq.wrote {
			rq.json(http.StatusOK, out)
		}
	})
}

// request is one request in flight.
type request struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	reqID  string
	actor  infisical.Actor
	status int
	wrote  bool
	body   map[string]json.RawMessage
	qv     url.Values // parsed query, on first use
}

func (rq *request) ctx() contextT { return rq.r.Context() }

// clientIP returns the caller's address.
func (rq *request) clientIP() string {
	if rq.s.cfg.TrustProxy {
		if xff := rq.r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(rq.r.RemoteAddr)
	if err != nil {
		return rq.r.RemoteAddr
	}
	return host
}

func (rq *request) authenticate(mode authMode) error {
	h := rq.r.Header.Get("Authorization")
	token := ""
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		token = h[7:]
	}
	if token == "" {
		return infisical.Unauthorized("Missing or malformed Authorization header")
	}
	actor, err := rq.s.eng.Authenticate(rq.ctx(), token, rq.clientIP())
	if err != nil {
		return err
	}
	actor.UserAgent = rq.r.UserAgent()
	var need authMode
	switch actor.Type {
	case infisical.ActorUser:
		need = authUser
	case infisical.ActorIdentity:
		need = authIdentity
	case infisical.ActorService:
		need = authService
	}
	if mode&need == 0 {
		return &infisical.Error{Kind: infisical.KindForbidden, Message: fmt.Sprintf("This endpoint does not accept %s credentials", actor.Type)}
	}
	// A user token from login, before select-organization, works only on
	// routes marked authOrgless (users.go).
	if actor.Type == infisical.ActorUser && actor.OrgID == "" && mode&authOrgless == 0 {
		return errOrgRequired()
	}
	rq.actor = actor
	return nil
}

// ---- responses -------------------------------------------------------------

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// json writes v with a strong ETag computed over the exact bytes; a GET
// whose If-None-Match matches gets 304.
func (rq *request) json(status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	var body []byte
	if fast, ok := v.(appendJSONer); ok {
		body = fast.appendJSON(buf.AvailableBuffer())
		buf.Write(body) // keep the grown array for the next request
		body = buf.Bytes()
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			rq.s.log.Error("encode response", "reqId", rq.reqID, "err", err)
			rq.fail(infisical.Internal("encode response", err))
			return
		}
		body = buf.Bytes()
		body = body[:len(body)-1] // drop Encode's newline
	}
	etag := etagOf(body)
	h := rq.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("ETag", etag)
	if status == http.StatusOK && (rq.r.Method == http.MethodGet || rq.r.Method == http.MethodHead) {
		if inm := rq.r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
			rq.status, rq.wrote = http.StatusNotModified, true
			rq.w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.status, rq.wrote = status, true
	rq.w.WriteHeader(status)
	_, _ = rq.w.Write(body)
}

func etagOf(body []byte) string {
	var b [40]byte
	out := append(b[:0], '"')
	out = strconv.AppendInt(out, int64(len(body)), 16)
	out = append(out, '-')
	out = strconv.AppendUint(out, xxhash.Sum64(body), 16)
	out = append(out, '"')
	return string(out)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		p = strings.TrimPrefix(p, "W/")
		if p == etag || p == "*" {
			return true
		}
	}
	return false
}

// errorBody is Infisical's error envelope.
type errorBody struct {
	ReqID      string `json:"reqId"`
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    any    `json:"message"`
	Details    any    `json:"details,omitempty"`
}

// fail writes err in the error envelope. Internal causes go to the log only.
func (rq *request) fail(err error) {
	status, body := errorResponse(err)
	body.ReqID = rq.reqID
	if status >= 500 {
		rq.s.log.Error("request failed", "reqId", rq.reqID, "method", rq.r.Method, "path", rq.r.URL.Path, "err", err)
	}
	b, _ := json.Marshal(body)
	h := rq.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	rq.status, rq.wrote = status, true
	rq.w.WriteHeader(status)
	_, _ = rq.w.Write(b)
}

func errorResponse(err error) (int, errorBody) {
	var d *permission.DeniedError
	if errors.As(err, &d) {
		details := make([]map[string]any, 0, len(d.Rules))
		for _, r := range d.Rules {
			details = append(details, map[string]any{"action": r.Action, "subject": r.Subject, "inverted": r.Inverted, "conditions": r.Conditions})
		}
		return http.StatusForbidden, errorBody{StatusCode: 403, Error: "PermissionDenied", Message: d.Error(), Details: details}
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return http.StatusRequestEntityTooLarge, errorBody{StatusCode: 413, Error: "PayloadTooLarge", Message: fmt.Sprintf("Request body exceeds the limit of %d bytes", maxErr.Limit)}
	}
	var e *infisical.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, errorBody{StatusCode: 500, Error: "InternalServerError", Message: "Something went wrong"}
	}
	status, name := http.StatusInternalServerError, "InternalServerError"
	switch e.Kind {
	case infisical.KindBadRequest:
		status, name = 400, "BadRequest"
	case infisical.KindValidation:
		status, name = 422, "ValidationFailure"
	case infisical.KindUnauthorized:
		status, name = 401, "UnauthorizedError"
	case infisical.KindForbidden:
		status, name = 403, "ForbiddenError"
	case infisical.KindPermissionDenied:
		status, name = 403, "PermissionDenied"
	case infisical.KindTokenError:
		status, name = 403, "TokenError"
	case infisical.KindNotFound:
		status, name = 404, "NotFound"
	case infisical.KindRateLimited:
		status, name = 429, "RateLimitExceeded"
	case infisical.KindTooLarge:
		status, name = 413, "PayloadTooLarge"
	}
	if e.Name != "" {
		name = e.Name
	}
	body := errorBody{StatusCode: status, Error: name, Message: e.Message, Details: e.Details}
	if status == 500 {
		body.Message, body.Details = "Something went wrong", nil
	}
	if e.Kind == infisical.KindValidation {
		// 422 bodies carry the issue array as message.
		if issues, ok := e.Details.([]infisical.ValidationIssue); ok {
			body.Message, body.Details = issues, nil
		}
	}
	return status, body
}

const reqIDAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newReqID() string {
	var raw [14]byte
	_, _ = rand.Read(raw[:])
	out := make([]byte, 0, 18)
	out = append(out, "req-"...)
	for _, c := range raw {
		out = append(out, reqIDAlphabet[int(c)%len(reqIDAlphabet)])
	}
	return string(out)
}

// ---- request parsing ------------------------------------------------------

// decode reads the JSON body into dst. Unknown fields are ignored (clients
// send extras); an empty body decodes as {}. Type errors become 422 naming
// the field.
func (rq *request) decode(dst any) error {
	raw, err := io.ReadAll(rq.r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return maxErr
		}
		return infisical.BadRequest("Could not read request body")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	// JSON can only carry a NUL character escaped; the literal escape is
	// rare enough that looking for it costs nothing on the hot paths.
	if bytes.Contains(raw, []byte(`\u0000`)) {
		if field, found := nulField(raw); found {
			return infisical.Invalid(field, "%s must not contain NUL characters", field)
		}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "body"
			}
			return infisical.Invalid(field, "Expected %s for field '%s'", te.Type.String(), field)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return infisical.BadRequest("Request body is not valid JSON (offset %d)", se.Offset)
		}
		return infisical.Invalid("body", "Invalid request body: %s", err.Error())
	}
	return nil
}

// query returns a trimmed query parameter ("" when absent).
func (rq *request) query(name string) string {
	// URL.Query re-parses the raw query on every call; a list request reads
	// a dozen parameters.
	if rq.qv == nil {
		rq.qv = rq.r.URL.Query()
	}
	return strings.TrimSpace(rq.qv.Get(name))
}

// qbool parses a boolean query parameter: "true"/"false" (also 1/0); a
// missing or empty value gives def; anything else is a 422 naming the field.
func (rq *request) qbool(name string, def bool) (bool, error) {
	v := rq.query(name)
	return parseBool(name, v, def)
}

func parseBool(name, v string, def bool) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, infisical.Invalid(name, "Expected boolean for '%s', got '%s'", name, v)
}

// qint parses an integer query parameter within [min, max].
func (rq *request) qint(name string, def, min, max int) (int, error) {
	v := rq.query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, infisical.Invalid(name, "Expected integer for '%s'", name)
	}
	if n < min || n > max {
		return 0, infisical.Invalid(name, "'%s' must be between %d and %d", name, min, max)
	}
	return n, nil
}

// path returns a path parameter, trimmed.
func (rq *request) path(name string) string { return strings.TrimSpace(rq.r.PathValue(name)) }

// firstNonEmpty implements "empty strings are absent".
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ---- text checks -------------------------------------------------------------

// pathWildcards lists the names of the {wildcards} of a route pattern.
func pathWildcards(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return out
}

// badText reports whether a request string cannot be stored as text: a
// NUL character or invalid UTF-8 (PostgreSQL refuses both in text columns
// and parameters, so letting them through would surface as a 500).
func badText(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// checkText refuses query parameters and path segments that are not
// storable text, naming the parameter.
func (rq *request) checkText(wildcards []string) error {
	for _, name := range wildcards {
		if badText(rq.r.PathValue(name)) {
			return infisical.Invalid(name, "%s must be valid UTF-8 text without NUL characters", name)
		}
	}
	if rq.r.URL.RawQuery == "" {
		return nil
	}
	if rq.qv == nil {
		rq.qv = rq.r.URL.Query()
	}
	for name, vals := range rq.qv {
		if badText(name) {
			return infisical.Invalid("query", "query parameter names must be valid UTF-8 text without NUL characters")
		}
		for _, v := range vals {
			if badText(v) {
				return infisical.Invalid(name, "%s must be valid UTF-8 text without NUL characters", name)
			}
		}
	}
	return nil
}

// nulField returns the path (a.b[0].c) of the first string or key of a
// JSON document that contains a NUL character, and whether there is one
// (none is reported for invalid JSON: decoding reports that).
func nulField(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Each open container: its path, whether it is an object, whether the
	// next string token of an object is a key, and an array's index.
	type frame struct {
		path   string
		object bool
		isKey  bool
		index  int
		key    string
	}
	var stack []*frame
	child := func() string {
		if len(stack) == 0 {
			return "body"
		}
		top := stack[len(stack)-1]
		if top.object {
			if top.path == "" {
				return top.key
			}
			return top.path + "." + top.key
		}
		return fmt.Sprintf("%s[%d]", top.path, top.index)
	}
	// advance marks a value of the top container as consumed.
	advance := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.object {
			top.isKey = true
		} else {
			top.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				p := ""
				switch {
				case len(stack) > 0:
					p = child()
				case v == '[':
					p = "body"
				}
				stack = append(stack, &frame{path: p, object: v == '{', isKey: true})
			default:
				stack = stack[:len(stack)-1]
				advance()
			}
		case string:
			if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].isKey {
				top := stack[len(stack)-1]
				if strings.IndexByte(v, 0) >= 0 {
					// Name the object: the key itself is not printable.
					return named(top.path), true
				}
				top.key, top.isKey = v, false
				continue
			}
			if strings.IndexByte(v, 0) >= 0 {
				return named(child()), true
			}
			advance()
		default:
			advance()
		}
	}
}

// named gives an empty field path (the root, or an empty key) a name.
func named(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
