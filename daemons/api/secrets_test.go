package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// secHTTP is a server with a project and a machine identity that
// administers it.
type secHTTP struct {
	t       *testing.T
	ts      *testServer
	eng     *infisical.Engine
	org     *infisical.Organization
	project *infisical.Project
	token   string
}

func newSecHTTP(t *testing.T, b enginetest.Backend) *secHTTP {
	t.Helper()
	ts := newTestServer(t, b)
	org := enginetest.Org(t, ts.eng, "Acme")
	p, err := ts.eng.Projects.Create(context.Background(), infisical.Platform(org.ID), infisical.CreateProjectInput{OrgID: org.ID, Name: "HTTP secrets"})
	if err != nil {
		t.Fatal(err)
	}
	_, token := enginetest.IdentityToken(t, ts.eng, org.ID, "member", p.ID, "admin")
	return &secHTTP{t: t, ts: ts, eng: ts.eng, org: org, project: p, token: token}
}

// call sends a request with optional headers and returns status, body and
// response headers.
func (h *secHTTP) call(method, path string, body any, hdr map[string]string) (int, []byte, http.Header) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.ts.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

// ok sends a request that must answer 200 and decodes the body as a JSON
// object.
func (h *secHTTP) ok(method, path string, body any) map[string]any {
	h.t.Helper()
	code, raw, _ := h.call(method, path, body, nil)
	if code != http.StatusOK {
		h.t.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return out
}

// fails sends a request that must fail with code and error name; field, if
// set, must be named by the 422 issue array.
func (h *secHTTP) fails(what, method, path string, body any, code int, name, field string) map[string]any {
	h.t.Helper()
	got, raw, _ := h.call(method, path, body, nil)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s: not JSON (%d): %s", what, got, raw)
	}
	if got != code || out["error"] != name || out["statusCode"] != float64(code) || !strings.HasPrefix(fmt.Sprint(out["reqId"]), "req-") {
		h.t.Fatalf("%s: got %d %s, want %d %s", what, got, raw, code, name)
	}
	if field != "" {
		issues, ok := out["message"].([]any)
		if !ok || len(issues) == 0 {
			h.t.Fatalf("%s: 422 message is not an issue array: %s", what, raw)
		}
		path, _ := issues[0].(map[string]any)["path"].([]any)
		if len(path) == 0 || path[0] != field {
			h.t.Fatalf("%s: issue does not name %q: %s", what, field, raw)
		}
	}
	return out
}

func secQ(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

func secObj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("no object %q in %v", key, m)
	}
	return o
}

func secArr(t *testing.T, m map[string]any, key string) []any {
	t.Helper()
	a, ok := m[key].([]any)
	if !ok {
		t.Fatalf("no array %q in %v", key, m)
	}
	return a
}

func secSortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var secISOMillis = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// Field sets of SecretRaw per endpoint.
var (
	secretBaseFields = []string{"_id", "actor", "createdAt", "environment", "id", "isRotatedSecret", "rotationId", "secretComment",
		"secretKey", "secretReminderNote", "secretReminderRepeatDays", "secretValue", "skipMultilineEncoding", "type", "updatedAt", "version", "workspace"}
	secretCreatedFields  = append(slices.Clone(secretBaseFields), "secretMetadata", "secretPath", "tags")
	secretFullFields     = append(slices.Clone(secretCreatedFields), "secretValueHidden")
	secretImportedFields = []string{"_id", "actor", "environment", "id", "isRotatedSecret", "rotationId", "secretComment", "secretKey",
		"secretMetadata", "secretReminderNote", "secretReminderRepeatDays", "secretValue", "secretValueHidden", "skipMultilineEncoding", "type", "version", "workspace"}
)

func secWantFields(t *testing.T, what string, m map[string]any, want []string) {
	t.Helper()
	w := slices.Clone(want)
	sort.Strings(w)
	if got := secSortedKeys(m); !slices.Equal(got, w) {
		t.Fatalf("%s fields:\n got %v\nwant %v", what, got, w)
	}
}

// TestSecretsHTTPSingle walks the single-secret routes of both generations.
func TestSecretsHTTPSingle(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		h := newSecHTTP(t, b)
		pid := h.project.ID
		for _, gen := range []struct {
			name     string
			one      func(key string) string
			list     string
			byID     func(id string) string
			projKey  string // body/query field naming the project
			getQuery func(extra ...string) string
		}{
			{"v3", func(k string) string { return "/api/v3/secrets/raw/" + k }, "/api/v3/secrets/raw",
				func(id string) string { return "/api/v3/secrets/raw/id/" + id }, "workspaceId",
				func(extra ...string) string {
					return secQ(append([]string{"workspaceId", pid, "environment", "dev"}, extra...)...)
				}},
			{"v4", func(k string) string { return "/api/v4/secrets/" + k }, "/api/v4/secrets",
				func(id string) string { return "/api/v4/secrets/id/" + id }, "projectId",
				func(extra ...string) string {
					return secQ(append([]string{"projectId", pid, "environment", "dev"}, extra...)...)
				}},
		} {
			t.Run(gen.name, func(t *testing.T) {
				key := "KEY_" + gen.name
				body := map[string]any{gen.projKey: pid, "environment": "dev", "secretValue": "  first\n\n", "secretComment": " c "}
				created := secObj(t, h.ok("POST", gen.one(key), body), "secret")
				secWantFields(t, "create", created, secretCreatedFields)
				if created["id"] != created["_id"] || created["workspace"] != pid || created["environment"] != "dev" || created["version"] != float64(1) ||
					created["type"] != "shared" || created["secretKey"] != key || created["secretValue"] != "first\n" || created["secretComment"] != "c" ||
					created["skipMultilineEncoding"] != false || created["isRotatedSecret"] != false || created["rotationId"] != nil {
					t.Fatalf("created %v", created)
				}
				if !secISOMillis.MatchString(created["createdAt"].(string)) {
					t.Fatalf("createdAt %v", created["createdAt"])
				}
				if a := secObj(t, created, "actor"); a["actorType"] != "identity" || a["actorId"] == nil || !slices.Equal(secSortedKeys(a), []string{"actorId", "actorType", "groupId", "membershipId", "name"}) {
					t.Fatalf("actor %v", a)
				}
				h.fails("duplicate", "POST", gen.one(key), body, 400, "BadRequest", "")
				h.fails("bad name", "POST", gen.one("a:b"), body, 422, "ValidationFailure", "secretName")
				h.fails("no value", "POST", gen.one("NOVALUE"), map[string]any{gen.projKey: pid, "environment": "dev"}, 422, "ValidationFailure", "secretValue")
				h.fails("value type", "POST", gen.one("NOVALUE"), map[string]any{gen.projKey: pid, "environment": "dev", "secretValue": 5}, 422, "ValidationFailure", "secretValue")
				h.fails("no env", "POST", gen.one("NOENV"), map[string]any{gen.projKey: pid, "secretValue": "x"}, 400, "BadRequest", "")
				h.fails("unknown env", "POST", gen.one("NOENV"), map[string]any{gen.projKey: pid, "environment": "qa", "secretValue": "x"}, 404, "NotFound", "")
				h.fails("missing folder", "POST", gen.one("NOENV"), map[string]any{gen.projKey: pid, "environment": "dev", "secretPath": "/nope", "secretValue": "x"}, 404, "NotFound", "")
				out := h.fails("no project", "POST", gen.one("NOPROJ"), map[string]any{gen.projKey: "", "environment": "dev", "secretValue": "x"}, 400, "BadRequest", "")
				if !strings.HasPrefix(out["message"].(string), "You must provide") {
					t.Fatalf("no project message %v", out["message"])
				}

				got := secObj(t, h.ok("GET", gen.one(key)+gen.getQuery(), nil), "secret")
				secWantFields(t, "get", got, secretFullFields)
				if got["secretValue"] != "first\n" || got["secretValueHidden"] != false || got["secretPath"] != "/" || len(secArr(t, got, "tags")) != 0 {
					t.Fatalf("get %v", got)
				}
				hidden := secObj(t, h.ok("GET", gen.one(key)+gen.getQuery("viewSecretValue", "false"), nil), "secret")
				if hidden["secretValue"] != "<hidden-by-infisical>" || hidden["secretValueHidden"] != true {
					t.Fatalf("hidden %v", hidden)
				}
				h.fails("bad bool", "GET", gen.one(key)+gen.getQuery("viewSecretValue", "yes"), nil, 422, "ValidationFailure", "viewSecretValue")
				h.fails("bad version", "GET", gen.one(key)+gen.getQuery("version", "x"), nil, 422, "ValidationFailure", "version")
				h.fails("missing secret", "GET", gen.one("NOPE")+gen.getQuery(), nil, 404, "NotFound", "")
				h.fails("bad type", "GET", gen.one(key)+gen.getQuery("type", "team"), nil, 422, "ValidationFailure", "type")
				h.fails("get without project", "GET", gen.one(key)+secQ("environment", "dev"), nil, 400, "BadRequest", "")

				upd := secObj(t, h.ok("PATCH", gen.one(key), map[string]any{gen.projKey: pid, "environment": "dev", "secretValue": "second"}), "secret")
				secWantFields(t, "update", upd, secretFullFields)
				if upd["version"] != float64(2) || upd["secretValue"] != "second" || upd["secretComment"] != "c" {
					t.Fatalf("update %v", upd)
				}
				h.fails("update missing", "PATCH", gen.one("NOPE"), map[string]any{gen.projKey: pid, "environment": "dev", "secretValue": "x"}, 404, "NotFound", "")
				h.fails("rename invalid", "PATCH", gen.one(key), map[string]any{gen.projKey: pid, "environment": "dev", "newSecretName": "a/b"}, 422, "ValidationFailure", "newSecretName")
				if v1 := secObj(t, h.ok("GET", gen.one(key)+gen.getQuery("version", "1"), nil), "secret"); v1["secretValue"] != "first\n" || v1["version"] != float64(1) {
					t.Fatalf("version 1: %v", v1)
				}
				byID := secObj(t, h.ok("GET", gen.byID(created["id"].(string)), nil), "secret")
				if byID["secretKey"] != key || byID["secretValue"] != "second" || byID["secretPath"] != "/" {
					t.Fatalf("by id %v", byID)
				}
				h.fails("unknown id", "GET", gen.byID("00000000-0000-4000-8000-000000000000"), nil, 404, "NotFound", "")

				listed := h.ok("GET", gen.list+gen.getQuery("secretPath", "/"), nil)
				secs := secArr(t, listed, "secrets")
				if len(secs) != 1 {
					t.Fatalf("list %v", listed)
				}
				secWantFields(t, "list item", secs[0].(map[string]any), secretFullFields)
				_, hasImports := listed["imports"]
				if hasImports != (gen.name == "v4") {
					t.Fatalf("%s list: imports present=%v (v4 defaults includeImports to true)", gen.name, hasImports)
				}
				// Trailing slash on the route.
				h.ok("GET", gen.list+"/"+gen.getQuery(), nil)

				// DELETE carries a JSON body (the CLI also sends secretName).
				del := secObj(t, h.ok("DELETE", gen.one(key), map[string]any{"secretName": key, gen.projKey: pid, "environment": "dev", "type": "shared"}), "secret")
				secWantFields(t, "delete", del, secretFullFields)
				if del["secretValue"] != "second" {
					t.Fatalf("delete %v", del)
				}
				h.fails("delete again", "DELETE", gen.one(key), map[string]any{gen.projKey: pid, "environment": "dev"}, 404, "NotFound", "")
			})
		}
		// v3 by slug: the SDK sends workspaceId="" and workspaceSlug.
		h.ok("POST", "/api/v3/secrets/raw/BY_SLUG", map[string]any{"projectSlug": h.project.Slug, "environment": "dev", "secretValue": "s"})
		l := h.ok("GET", "/api/v3/secrets/raw"+secQ("workspaceId", "", "workspaceSlug", h.project.Slug, "environment", "dev"), nil)
		if secs := secArr(t, l, "secrets"); len(secs) != 1 || secs[0].(map[string]any)["secretKey"] != "BY_SLUG" {
			t.Fatalf("by slug: %v", l)
		}
		h.fails("unknown slug", "GET", "/api/v3/secrets/raw"+secQ("workspaceSlug", "nope-nope", "environment", "dev"), nil, 404, "NotFound", "")
		out := h.fails("list without project", "GET", "/api/v3/secrets/raw"+secQ("workspaceId", "", "workspaceSlug", "", "environment", "dev"), nil, 400, "BadRequest", "")
		if out["message"] != "You must provide projectSlug or workspaceId" {
			t.Fatalf("message %v", out["message"])
		}
		out = h.fails("list without env", "GET", "/api/v4/secrets"+secQ("projectId", pid), nil, 400, "BadRequest", "")
		if out["message"] != "Missing environment" {
			t.Fatalf("message %v", out["message"])
		}
		// A missing folder lists empty, not 404.
		l = h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev", "secretPath", "/does/not/exist"), nil)
		if len(secArr(t, l, "secrets")) != 0 || len(secArr(t, l, "imports")) != 0 {
			t.Fatalf("missing folder: %v", l)
		}
		// Unauthenticated.
		h.token = ""
		h.fails("no token", "GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev"), nil, 401, "UnauthorizedError", "")
	})
}

// TestSecretsHTTPETag checks that identical state gives byte-identical
// lists with a stable ETag, that If-None-Match answers 304, and that a
// change changes the ETag.
func TestSecretsHTTPETag(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		h := newSecHTTP(t, b)
		pid := h.project.ID
		tag := h.ok("POST", "/api/v1/projects/"+pid+"/tags", map[string]any{"slug": "web", "color": "#123456"})
		tagID := secObj(t, tag, "tag")["id"]
		for _, k := range []string{"Z", "A", "M"} {
			h.ok("POST", "/api/v3/secrets/raw/"+k, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": k + "-v", "tagIds": []any{tagID}})
		}
		for _, path := range []string{
			"/api/v3/secrets/raw" + secQ("workspaceId", pid, "environment", "dev", "include_imports", "true", "expandSecretReferences", "true"),
			"/api/v4/secrets" + secQ("projectId", pid, "environment", "dev"),
			"/api/v4/secrets/M" + secQ("projectId", pid, "environment", "dev"),
		} {
			code, first, hdr := h.call("GET", path, nil, nil)
			etag := hdr.Get("ETag")
			if code != 200 || etag == "" || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("%s: %d etag %q", path, code, etag)
			}
			_, second, hdr2 := h.call("GET", path, nil, nil)
			if !bytes.Equal(first, second) || hdr2.Get("ETag") != etag {
				t.Fatalf("%s: not byte-identical", path)
			}
			code, body, _ := h.call("GET", path, nil, map[string]string{"If-None-Match": etag})
			if code != http.StatusNotModified || len(body) != 0 {
				t.Fatalf("%s: If-None-Match: %d %q", path, code, body)
			}
		}
		var keys []string
		for _, s := range secArr(t, h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev"), nil), "secrets") {
			keys = append(keys, s.(map[string]any)["secretKey"].(string))
		}
		if !slices.Equal(keys, []string{"A", "M", "Z"}) {
			t.Fatalf("order %v", keys)
		}
		path := "/api/v4/secrets" + secQ("projectId", pid, "environment", "dev")
		_, _, hdr := h.call("GET", path, nil, nil)
		h.ok("PATCH", "/api/v4/secrets/A", map[string]any{"projectId": pid, "environment": "dev", "secretValue": "changed"})
		code, _, hdr2 := h.call("GET", path, nil, map[string]string{"If-None-Match": hdr.Get("ETag")})
		if code != 200 || hdr2.Get("ETag") == hdr.Get("ETag") {
			t.Fatalf("after change: %d, etag unchanged=%v", code, hdr2.Get("ETag") == hdr.Get("ETag"))
		}
		// Tags in the secret object.
		s := secObj(t, h.ok("GET", "/api/v4/secrets/A"+secQ("projectId", pid, "environment", "dev"), nil), "secret")
		tags := secArr(t, s, "tags")
		if len(tags) != 1 {
			t.Fatalf("tags %v", tags)
		}
		tg := tags[0].(map[string]any)
		if tg["id"] != tagID || tg["slug"] != "web" || tg["name"] != "web" || tg["color"] != "#123456" {
			t.Fatalf("tag %v", tg)
		}
	})
}

func TestSecretsHTTPBatch(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		h := newSecHTTP(t, b)
		pid := h.project.ID
		for _, gen := range []struct {
			name, path, projKey, env string
		}{
			{"v3", "/api/v3/secrets/batch/raw", "workspaceId", "dev"},
			{"v4", "/api/v4/secrets/batch", "projectId", "staging"},
		} {
			t.Run(gen.name, func(t *testing.T) {
				count := func() int {
					return len(secArr(t, h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", gen.env), nil), "secrets"))
				}
				items := make([]map[string]any, 100)
				for i := range items {
					items[i] = map[string]any{"secretKey": fmt.Sprintf("B%03d", i), "secretValue": fmt.Sprint(i)}
				}
				out := h.ok("POST", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env, "secrets": items})
				secs := secArr(t, out, "secrets")
				if len(secs) != 100 {
					t.Fatalf("batch create %d", len(secs))
				}
				secWantFields(t, "batch created", secs[0].(map[string]any), secretCreatedFields)
				h.fails("batch duplicate", "POST", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env,
					"secrets": []any{map[string]any{"secretKey": "NEW", "secretValue": "1"}, map[string]any{"secretKey": "B001", "secretValue": "1"}}}, 400, "BadRequest", "")
				h.fails("batch bad key", "POST", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env,
					"secrets": []any{map[string]any{"secretKey": "OK"}, map[string]any{"secretKey": "a/b"}}}, 422, "ValidationFailure", "secrets[1].secretKey")
				h.fails("batch empty", "POST", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env, "secrets": []any{}}, 422, "ValidationFailure", "secrets")
				h.fails("batch wrong type", "POST", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env, "secrets": "x"}, 422, "ValidationFailure", "secrets")
				if n := count(); n != 100 {
					t.Fatalf("refused batches wrote: %d", n)
				}
				// failOnNotFound (the default) writes nothing.
				h.fails("update missing", "PATCH", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env,
					"secrets": []any{map[string]any{"secretKey": "B001", "secretValue": "changed"}, map[string]any{"secretKey": "GHOST", "secretValue": "x"}}}, 404, "NotFound", "")
				one := secObj(t, h.ok("GET", "/api/v4/secrets/B001"+secQ("projectId", pid, "environment", gen.env), nil), "secret")
				if one["secretValue"] != "1" {
					t.Fatalf("failOnNotFound wrote: %v", one["secretValue"])
				}
				up := secArr(t, h.ok("PATCH", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env, "mode": "upsert",
					"secrets": []any{map[string]any{"secretKey": "B001", "secretValue": "changed"}, map[string]any{"secretKey": "FRESH", "secretValue": "f"}}}), "secrets")
				if len(up) != 2 || up[0].(map[string]any)["version"] != float64(2) || up[1].(map[string]any)["version"] != float64(1) {
					t.Fatalf("upsert %v", up)
				}
				secWantFields(t, "batch updated", up[0].(map[string]any), secretFullFields)
				ig := secArr(t, h.ok("PATCH", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env, "mode": "ignore",
					"secrets": []any{map[string]any{"secretKey": "GHOST2", "secretValue": "x"}}}), "secrets")
				if len(ig) != 0 {
					t.Fatalf("ignore %v", ig)
				}
				h.fails("bad mode", "PATCH", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env, "mode": "merge",
					"secrets": []any{map[string]any{"secretKey": "B001"}}}, 422, "ValidationFailure", "mode")
				// DELETE with a JSON body; any missing key deletes nothing.
				h.fails("delete missing", "DELETE", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env,
					"secrets": []any{map[string]any{"secretKey": "B002"}, map[string]any{"secretKey": "GHOST"}}}, 404, "NotFound", "")
				del := secArr(t, h.ok("DELETE", gen.path, map[string]any{gen.projKey: pid, "environment": gen.env,
					"secrets": []any{map[string]any{"secretKey": "B002", "type": "shared"}, map[string]any{"secretKey": "FRESH"}}}), "secrets")
				if len(del) != 2 || del[1].(map[string]any)["secretValue"] != "f" {
					t.Fatalf("batch delete %v", del)
				}
				if n := count(); n != 99 {
					t.Fatalf("after delete %d", n)
				}
			})
		}
	})
}

func TestSecretsHTTPTagsImportsAndReferences(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		h := newSecHTTP(t, b)
		pid := h.project.ID
		for _, slug := range []string{"web", "db"} {
			h.ok("POST", "/api/v1/projects/"+pid+"/tags", map[string]any{"slug": slug, "color": ""})
		}
		h.ok("POST", "/api/v3/secrets/raw/HOST", map[string]any{"workspaceId": pid, "environment": "staging", "secretValue": "db.staging"})
		h.ok("POST", "/api/v3/secrets/raw/URL", map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "pg://${staging.HOST}"})
		h.ok("POST", "/api/v1/secret-imports", map[string]any{"workspaceId": pid, "environment": "dev", "path": "/",
			"import": map[string]any{"environment": "staging", "path": "/"}})

		// Attach and detach by slug (projectSlug addresses the project).
		att := secObj(t, h.ok("POST", "/api/v3/secrets/tags/URL", map[string]any{"projectSlug": h.project.Slug, "environment": "dev", "tagSlugs": []any{"web", "db"}}), "secret")
		if tags := secArr(t, att, "tags"); len(tags) != 2 || tags[0].(map[string]any)["slug"] != "db" {
			t.Fatalf("attach %v", att)
		}
		h.fails("attach unknown", "POST", "/api/v3/secrets/tags/URL", map[string]any{"projectSlug": h.project.Slug, "environment": "dev", "tagSlugs": []any{"nope"}}, 404, "NotFound", "")
		h.fails("attach none", "POST", "/api/v3/secrets/tags/URL", map[string]any{"projectSlug": h.project.Slug, "environment": "dev", "tagSlugs": []any{}}, 422, "ValidationFailure", "tagSlugs")
		det := secObj(t, h.ok("DELETE", "/api/v3/secrets/tags/URL", map[string]any{"projectSlug": h.project.Slug, "environment": "dev", "tagSlugs": []any{"web"}}), "secret")
		if tags := secArr(t, det, "tags"); len(tags) != 1 || tags[0].(map[string]any)["slug"] != "db" {
			t.Fatalf("detach %v", det)
		}
		if n := len(secArr(t, h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev", "tagSlugs", " db , web"), nil), "secrets")); n != 1 {
			t.Fatalf("tagSlugs filter: %d", n)
		}
		if n := len(secArr(t, h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev", "tagSlugs", "web"), nil), "secrets")); n != 0 {
			t.Fatalf("tagSlugs filter web: %d", n)
		}
		h.fails("metadata filter too long", "GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev",
			"metadataFilter", strings.Repeat("key=a,value=b|", 11)), nil, 422, "ValidationFailure", "metadataFilter")

		// Defaults: v4 expands and includes imports; v3 does neither unless asked.
		v4 := h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev"), nil)
		if v := secArr(t, v4, "secrets")[0].(map[string]any)["secretValue"]; v != "pg://db.staging" {
			t.Fatalf("v4 default expansion: %v", v)
		}
		imps := secArr(t, v4, "imports")
		if len(imps) != 1 {
			t.Fatalf("v4 imports %v", imps)
		}
		blk := imps[0].(map[string]any)
		if !slices.Equal(secSortedKeys(blk), []string{"environment", "folderId", "secretPath", "secrets"}) || blk["environment"] != "staging" || blk["secretPath"] != "/" {
			t.Fatalf("import block %v", blk)
		}
		secWantFields(t, "imported secret", secArr(t, blk, "secrets")[0].(map[string]any), secretImportedFields)
		v3 := h.ok("GET", "/api/v3/secrets/raw"+secQ("workspaceId", pid, "environment", "dev"), nil)
		if _, ok := v3["imports"]; ok || secArr(t, v3, "secrets")[0].(map[string]any)["secretValue"] != "pg://${staging.HOST}" {
			t.Fatalf("v3 defaults: %v", v3)
		}
		v3 = h.ok("GET", "/api/v3/secrets/raw"+secQ("workspaceId", pid, "environment", "dev", "include_imports", "true", "expandSecretReferences", "true"), nil)
		if len(secArr(t, v3, "imports")) != 1 || secArr(t, v3, "secrets")[0].(map[string]any)["secretValue"] != "pg://db.staging" {
			t.Fatalf("v3 with switches: %v", v3)
		}
		// camelCase wins over snake_case.
		v4 = h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev", "includeImports", "false", "include_imports", "true"), nil)
		if _, ok := v4["imports"]; ok {
			t.Fatalf("includeImports=false must win: %v", v4["imports"])
		}
		// Get by name falls back to imports (v4 default) but not on v3.
		if s := secObj(t, h.ok("GET", "/api/v4/secrets/HOST"+secQ("projectId", pid, "environment", "dev"), nil), "secret"); s["secretValue"] != "db.staging" || s["environment"] != "staging" {
			t.Fatalf("imported get: %v", s)
		}
		h.fails("v3 get without imports", "GET", "/api/v3/secrets/raw/HOST"+secQ("workspaceId", pid, "environment", "dev"), nil, 404, "NotFound", "")
		// Personal overrides flag is a no-op for identities.
		if n := len(secArr(t, h.ok("GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev", "includePersonalOverrides", "true"), nil), "secrets")); n != 1 {
			t.Fatalf("personal overrides for identity: %d", n)
		}
		// A member of the organization without project access is refused.
		_, other := enginetest.IdentityToken(t, h.eng, h.org.ID, "member", "", "")
		h.token = other
		h.fails("no membership", "GET", "/api/v4/secrets"+secQ("projectId", pid, "environment", "dev"), nil, 403, "PermissionDenied", "")
	})
}
