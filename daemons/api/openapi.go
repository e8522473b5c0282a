package api

import (
	"regexp"
	"sort"
	"strings"
)

var pathParamRE = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// openAPI builds an OpenAPI 3.0 document from the route table, so that it
// always lists exactly the routes that are served.
func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	rs := append([]route(nil), s.routes...)
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Path != rs[j].Path {
			return rs[i].Path < rs[j].Path
		}
		return rs[i].Method < rs[j].Method
	})
	for _, r := range rs {
		item := paths[r.Path]
		if item == nil {
			item = map[string]any{}
			paths[r.Path] = item
		}
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r.Method, r.Path),
			"responses": map[string]any{
				"200":     map[string]any{"description": "Success", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
				"default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		}
		if r.Tag != "" {
			op["tags"] = []string{r.Tag}
		}
		var params []map[string]any
		for _, m := range pathParamRE.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.Auth != authNone {
			op["security"] = []map[string]any{{"bearerAuth": []string{}}}
			var kinds []string
			if r.Auth&authUser != 0 {
				kinds = append(kinds, "user")
			}
			if r.Auth&authIdentity != 0 {
				kinds = append(kinds, "machine identity")
			}
			if r.Auth&authService != 0 {
				kinds = append(kinds, "service token")
			}
			op["description"] = "Accepts: " + strings.Join(kinds, ", ") + "."
		}
		item[strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Infisical-compatible API",
			"version":     "1.0.0",
			"description": "Infisical's REST API served by the Go engine.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearerAuth": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{
				"Error": map[string]any{
					"type":     "object",
					"required": []string{"reqId", "statusCode", "error", "message"},
					"properties": map[string]any{
						"reqId":      map[string]any{"type": "string"},
						"statusCode": map[string]any{"type": "integer"},
						"error":      map[string]any{"type": "string"},
						"message":    map[string]any{},
						"details":    map[string]any{},
					},
				},
			},
		},
	}
}

func operationID(method, path string) string {
	p := pathParamRE.ReplaceAllString(path, "by-$1")
	p = strings.NewReplacer("/api/", "", "/", "-").Replace(p)
	return strings.ToLower(method) + "-" + p
}
