// Package api serves Infisical's REST API on top of the engine. It only
// translates: it parses and validates requests, calls the engine's public
// API and shapes responses exactly as Infisical's clients expect them.
package api

import (
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infisical-go/engine/infisical"
)

// Config tunes the HTTP layer. Zero values get defaults from Validate.
type Config struct {
	// MaxBodyBytes bounds request bodies (default 8 MiB); larger ones get 413.
	MaxBodyBytes int64
	// TrustProxy makes the first X-Forwarded-For address the client IP.
	TrustProxy bool
	Logger     *slog.Logger
	// Registry receives the HTTP metrics (default: a new registry).
	Registry *prometheus.Registry
}

// Validate fills defaults.
func (c *Config) Validate() error {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	return nil
}

// Server is the HTTP handler of the API.
type Server struct {
	eng     *infisical.Engine
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []route
	metrics *metrics
}

// New builds the API handler for eng.
func New(eng *infisical.Engine, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{eng: eng, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.metrics = newMetrics(cfg.Registry)
	s.registerRoutes()
	return s, nil
}

// ServeHTTP implements http.Handler. Trailing slashes are ignored, as in
// Infisical (the CLI posts to /api/v1/auth/universal-auth/login/).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimRight(p, "/")
		if r.URL.Path == "" {
			r.URL.Path = "/"
		}
		r.URL.RawPath = ""
	}
	r.URL.Path = rewritePath(r.URL.Path)
	s.mux.ServeHTTP(w, r)
}

// aliases are public route prefixes whose literal segment sits where other
// routes have a wildcard (e.g. /api/v1/projects/slug/{slug} beside
// /api/v1/projects/{projectId}/tags). Go's ServeMux rejects such overlaps,
// so these routes are served under an internal prefix and requests are
// rewritten before routing. depth is the segment count of the aliased route;
// ids and slugs never equal these literals, so no other route is shadowed.
var aliases = []struct {
	public, internal string
	depth            int
}{
	{"/api/v1/projects/slug/", "/api/_alias/project-by-slug/", 5},
	{"/api/v1/workspace/environments/", "/api/_alias/environment-by-id/", 5},
	{"/api/v2/workspace/identity-memberships/", "/api/_alias/identity-membership-by-id/", 5},
	{"/api/v1/kms/keys/key-name/", "/api/_alias/kms-key-by-name/", 6},
}

func rewritePath(p string) string {
	for _, a := range aliases {
		if strings.HasPrefix(p, a.public) && strings.Count(p, "/") == a.depth {
			return a.internal + p[len(a.public):]
		}
	}
	return p
}

// muxPattern maps a public pattern to the pattern registered in the mux.
func muxPattern(p string) string {
	for _, a := range aliases {
		if strings.HasPrefix(p, a.public) && strings.Count(p, "/") == a.depth {
			return a.internal + p[len(a.public):]
		}
	}
	return p
}

// registerRoutes lists every route. Each area registers its own in its file.
func (s *Server) registerRoutes() {
	s.registerSystemRoutes()
	s.registerProjectRoutes()
	for _, fn := range routeRegistrars {
		fn(s)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rq := &request{s: s, w: w, r: r, reqID: newReqID()}
		rq.fail(&infisical.Error{Kind: infisical.KindNotFound, Message: "Route " + r.Method + ":" + r.URL.Path + " not found"})
	})
}

// routeRegistrars lets each area file add its routes without editing this
// file (areas are written in parallel).
var routeRegistrars []func(*Server)
