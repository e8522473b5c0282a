package api

import (
	"net/http"
)

func (s *Server) registerSystemRoutes() {
	s.handle(http.MethodGet, "/api/status", authNone, "System", "Health check", func(rq *request) (any, error) {
		return map[string]any{"date": ts(s.eng.Now()), "message": "Ok", "emailConfigured": false, "inviteOnlySignup": false,
			"redisConfigured": false, "secretScanningConfigured": false, "samlDefaultOrgSlug": nil, "auditLogStorageDisabled": false}, nil
	})
	s.routes = append(s.routes, route{Method: http.MethodGet, Path: "/metrics", Summary: "Prometheus metrics", Tag: "System"})
	s.mux.Handle("GET /metrics", s.metrics.handler)
	s.handle(http.MethodGet, "/api/docs/openapi.json", authNone, "System", "This OpenAPI document", func(rq *request) (any, error) {
		return s.openAPI(), nil
	})
}
