package api

// RouteInfo describes one registered route for tests outside the package
// (the permission matrix walks every route of the table).
type RouteInfo struct {
	Method   string
	Path     string
	Public   bool
	User     bool
	Identity bool
	Service  bool
}

// RoutesOf returns the route table of s, in registration order.
func RoutesOf(s *Server) []RouteInfo {
	out := make([]RouteInfo, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, RouteInfo{Method: r.Method, Path: r.Path, Public: r.Auth == authNone,
			User: r.Auth&authUser != 0, Identity: r.Auth&authIdentity != 0, Service: r.Auth&authService != 0})
	}
	return out
}
