package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// auditReceiver is a local HTTPS log collector.
type auditReceiver struct {
	mu     sync.Mutex
	srv    *httptest.Server
	down   bool
	bodies [][]byte
	ids    []string
}

func newAuditReceiver(t *testing.T) *auditReceiver {
	r := &auditReceiver{}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.bodies = append(r.bodies, append(body, []byte(" "+req.Header.Get("Authorization"))...))
		var m struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &m) == nil && m.ID != "" {
			r.ids = append(r.ids, m.ID)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *auditReceiver) setDown(v bool) {
	r.mu.Lock()
	r.down = v
	r.mu.Unlock()
}

func (r *auditReceiver) delivered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

func auditStreamConfig(r *auditReceiver) func(*infisical.Config) {
	return func(c *infisical.Config) {
		c.Audit.StreamClient = r.srv.Client()
		c.Audit.AllowPrivateStreamTargets = true
		c.Audit.StreamPoll = 100 * time.Millisecond
		c.Audit.StreamBackoffMin = 10 * time.Millisecond
		c.Audit.StreamBackoffMax = 100 * time.Millisecond
	}
}

// doUA is do with a User-Agent header.
func (ts *testServer) doUA(method, path, token, ua string, body any) (int, []byte) {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ts.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

type auditItem struct {
	ID            string          `json:"id"`
	IPAddress     *string         `json:"ipAddress"`
	UserAgent     *string         `json:"userAgent"`
	UserAgentType *string         `json:"userAgentType"`
	ExpiresAt     *string         `json:"expiresAt"`
	CreatedAt     string          `json:"createdAt"`
	ProjectID     *string         `json:"projectId"`
	ProjectName   *string         `json:"projectName"`
	Event         auditRef        `json:"event"`
	Actor         auditRef        `json:"actor"`
	Project       *map[string]any `json:"project"`
}

type auditRef struct {
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

// auditLogs fetches query and waits (read events are asynchronous) until
// at least min items come back.
func (ts *testServer) auditLogs(token, path string, min int) []auditItem {
	ts.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out struct {
			AuditLogs []auditItem `json:"auditLogs"`
		}
		ts.must("GET", path, token, nil, &out)
		if len(out.AuditLogs) >= min || time.Now().After(deadline) {
			return out.AuditLogs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAuditLogsAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		pid := ts.createProject(boot.AdminToken, "Backend")
		for _, p := range []string{"/", "/api"} {
			if p != "/" {
				ts.must("POST", "/api/v1/folders", boot.AdminToken, map[string]any{"workspaceId": pid, "environment": "dev", "path": "/", "name": "api"}, nil)
			}
			if code, raw := ts.doUA("POST", "/api/v3/secrets/raw/KEY_"+strings.Trim(p, "/"), boot.AdminToken, "cli",
				map[string]any{"workspaceId": pid, "environment": "dev", "secretPath": p, "secretValue": "v"}); code != 200 {
				t.Fatalf("create secret: %d %s", code, raw)
			}
		}
		if code, raw := ts.doUA("GET", "/api/v3/secrets/raw?workspaceId="+pid+"&environment=dev&secretPath=/api", boot.AdminToken, "Mozilla/5.0", nil); code != 200 {
			t.Fatalf("list: %d %s", code, raw)
		}
		base := "/api/v1/organization/audit-logs"
		// Shape: exactly the fields of spec §8.9.
		code, raw, _ := ts.do("GET", base+"?eventType=create-secret&limit=1", boot.AdminToken, nil)
		if code != 200 {
			t.Fatalf("list: %d %s", code, raw)
		}
		var generic struct {
			AuditLogs []map[string]json.RawMessage `json:"auditLogs"`
		}
		_ = json.Unmarshal(raw, &generic)
		if len(generic.AuditLogs) != 1 {
			t.Fatalf("body %s", raw)
		}
		var keys []string
		for k := range generic.AuditLogs[0] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := []string{"actor", "createdAt", "event", "expiresAt", "id", "ipAddress", "orgId", "projectId", "projectName", "updatedAt", "userAgent", "userAgentType"}
		if !slices.Equal(keys, want) {
			t.Fatalf("item keys %v, want %v", keys, want)
		}
		items := ts.auditLogs(boot.AdminToken, base+"?eventType=create-secret,get-secrets", 3)
		if len(items) != 3 || items[0].Event.Type != "get-secrets" || items[1].Event.Metadata["secretKey"] != "KEY_api" {
			t.Fatalf("items %+v", items)
		}
		if it := items[0]; it.UserAgentType == nil || *it.UserAgentType != "web" || it.IPAddress == nil || *it.IPAddress != "127.0.0.1" ||
			it.Actor.Type != "identity" || it.Actor.Metadata["identityId"] == nil || it.ProjectName == nil || *it.ProjectName != "Backend" ||
			!strings.HasSuffix(it.CreatedAt, "Z") || it.ExpiresAt == nil {
			t.Fatalf("get-secrets item %+v", it)
		}
		if ua := items[1].UserAgentType; ua == nil || *ua != "cli" {
			t.Fatalf("userAgentType %v", ua)
		}
		filters := []struct {
			query string
			n     int
		}{
			{"eventType=create-secret&secretPath=/api/", 1},
			{"eventType=create-secret&eventMetadata=" + url.QueryEscape("secretKey=KEY_,environment=dev"), 1},
			{"eventType=create-secret&userAgentType=cli", 2},
			{"eventType=create-secret&userAgentType=web", 0},
			{"eventType=create-secret&actorType=identity&projectId=" + pid, 2},
			{"eventType=create-secret&environment=prod", 0},
			{"secretKey=KEY_api", 1},
			{"eventType=create-secret&offset=1", 1},
			{"eventType=create-secret&startDate=" + url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339)) + "&endDate=" +
				url.QueryEscape(time.Now().UTC().Add(2*time.Hour).Format(time.RFC3339)), 0},
		}
		for _, f := range filters {
			if got := ts.auditLogs(boot.AdminToken, base+"?"+f.query, f.n); len(got) != f.n {
				t.Errorf("%s: %d items, want %d", f.query, len(got), f.n)
			}
		}
		bad := map[string]string{
			"limit=1001":            "limit",
			"limit=abc":             "limit",
			"offset=-1":             "offset",
			"startDate=yesterday":   "startDate",
			"userAgentType=curl":    "userAgentType",
			"eventMetadata=novalue": "eventMetadata",
			"startDate=2026-01-01T00:00:00Z&endDate=2025-12-31T00:00:00Z": "endDate",
			"startDate=2026-01-01T00:00:00Z&endDate=2026-04-02T00:00:00Z": "endDate",
		}
		for q, field := range bad {
			code, raw, _ := ts.do("GET", base+"?"+q, boot.AdminToken, nil)
			if code != 422 || !bytes.Contains(raw, []byte(`"`+field+`"`)) {
				t.Errorf("%s: %d %s, want 422 naming %s", q, code, raw, field)
			}
		}
		// Deprecated project twin: same items plus project {name, slug}.
		twin := ts.auditLogs(boot.AdminToken, "/api/v1/workspace/"+pid+"/audit-logs?eventType=create-secret", 2)
		if len(twin) != 2 || twin[0].Project == nil || (*twin[0].Project)["name"] != "Backend" || (*twin[0].Project)["slug"] == nil {
			t.Fatalf("twin %+v", twin)
		}
		if code, _, _ := ts.do("GET", base, "", nil); code != 401 {
			t.Fatalf("anonymous: %d", code)
		}
	})
}

// TestAuditLoginEventsAPI: logins and token renewals are recorded with the
// logged-in identity as actor and the caller's address and user agent.
func TestAuditLoginEventsAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		identityID, clientID, clientSecret := ts.uaIdentity(boot.AdminToken, boot.OrgID, "ci", "", "", map[string]any{"accessTokenTTL": 60, "accessTokenMaxTTL": 7200})
		code, raw := ts.doUA("POST", "/api/v1/auth/universal-auth/login", "", "InfisicalPythonSDK/1.2", map[string]string{"clientId": clientID, "clientSecret": clientSecret})
		if code != 200 {
			t.Fatalf("login: %d %s", code, raw)
		}
		var login struct {
			AccessToken string `json:"accessToken"`
		}
		_ = json.Unmarshal(raw, &login)
		if code, raw := ts.doUA("POST", "/api/v1/auth/token/renew", "", "terraform", map[string]string{"accessToken": login.AccessToken}); code != 200 {
			t.Fatalf("renew: %d %s", code, raw)
		}
		for _, c := range []struct{ typ, ua string }{{"login-identity-universal-auth", "InfisicalPythonSDK"}, {"renew-identity-access-token", "terraform"}} {
			items := ts.auditLogs(boot.AdminToken, "/api/v1/organization/audit-logs?eventType="+c.typ, 1)
			if len(items) != 1 {
				t.Fatalf("%s: %d events", c.typ, len(items))
			}
			it := items[0]
			if it.Actor.Type != "identity" || it.Actor.Metadata["identityId"] != identityID || it.IPAddress == nil || *it.IPAddress != "127.0.0.1" ||
				it.UserAgentType == nil || *it.UserAgentType != c.ua || it.Event.Metadata["identityId"] != identityID {
				t.Fatalf("%s: %+v", c.typ, it)
			}
		}
	})
}

// TestAuditNeverRecordsSecrets performs every kind of action with
// distinctive secret values and credentials and then scans every audit row
// and every payload delivered to a stream for them.
func TestAuditNeverRecordsSecrets(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		rcv := newAuditReceiver(t)
		ts := newTestServer(t, b, auditStreamConfig(rcv))
		var secrets []string
		remember := func(s string) string {
			if s == "" {
				t.Fatal("empty credential")
			}
			secrets = append(secrets, s)
			return s
		}
		password := remember("Bootstrap-Password-7f3a9c")
		var bootOut struct {
			Organization struct {
				ID string `json:"id"`
			} `json:"organization"`
			Identity struct {
				Credentials struct {
					Token string `json:"token"`
				} `json:"credentials"`
			} `json:"identity"`
		}
		ts.must("POST", "/api/v1/admin/bootstrap", "", map[string]string{"email": "admin@example.com", "password": password, "organization": "Acme"}, &bootOut)
		admin := remember(bootOut.Identity.Credentials.Token)
		ts.must("POST", "/api/v1/audit-log-streams", admin, map[string]any{"url": rcv.srv.URL + "/in?token=" + remember("Query-Token-1d9e2b"),
			"headers": []map[string]string{{"key": "Authorization", "value": "Bearer " + remember("Stream-Header-Secret-5c81")}}}, nil)
		pid := ts.createProject(admin, "Backend")
		ts.must("POST", "/api/v1/workspace/"+pid+"/tags", admin, map[string]any{"slug": "db", "color": "red"}, nil)
		sv := func(s string) map[string]any {
			return map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": remember(s), "secretComment": remember("comment-" + s),
				"secretMetadata": []map[string]any{{"key": "k", "value": remember("enc-" + s), "isEncrypted": true}}}
		}
		ts.must("POST", "/api/v3/secrets/raw/ONE", admin, sv("Secret-Value-One-83b1"), nil)
		ts.must("PATCH", "/api/v3/secrets/raw/ONE", admin, sv("Secret-Value-Two-2ac4"), nil)
		ts.must("GET", "/api/v3/secrets/raw/ONE?workspaceId="+pid+"&environment=dev", admin, nil, nil)
		ts.must("GET", "/api/v3/secrets/raw?workspaceId="+pid+"&environment=dev&expandSecretReferences=true", admin, nil, nil)
		ts.must("POST", "/api/v3/secrets/batch/raw", admin, map[string]any{"workspaceId": pid, "environment": "dev",
			"secrets": []map[string]any{{"secretKey": "B1", "secretValue": remember("Batch-Value-9d0e"), "secretComment": remember("Batch-Comment-55aa")}}}, nil)
		ts.must("PATCH", "/api/v3/secrets/batch/raw", admin, map[string]any{"workspaceId": pid, "environment": "dev",
			"secrets": []map[string]any{{"secretKey": "B1", "secretValue": remember("Batch-Update-77e3")}}}, nil)
		ts.must("DELETE", "/api/v3/secrets/batch/raw", admin, map[string]any{"workspaceId": pid, "environment": "dev", "secrets": []map[string]any{{"secretKey": "B1"}}}, nil)
		ts.must("DELETE", "/api/v3/secrets/raw/ONE", admin, map[string]any{"workspaceId": pid, "environment": "dev"}, nil)
		ts.must("PATCH", "/api/v1/workspace/"+pid, admin, map[string]any{"secretDetectionIgnoreValues": []string{remember("Ignore-Value-31f7")}}, nil)
		identityID, clientID, clientSecret := ts.uaIdentity(admin, bootOut.Organization.ID, "ci", pid, "admin", map[string]any{"accessTokenTTL": 60, "accessTokenMaxTTL": 7200})
		remember(clientSecret)
		var login struct {
			AccessToken string `json:"accessToken"`
		}
		ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]string{"clientId": clientID, "clientSecret": clientSecret}, &login)
		remember(login.AccessToken)
		var renewed struct {
			AccessToken string `json:"accessToken"`
		}
		ts.must("POST", "/api/v1/auth/token/renew", "", map[string]string{"accessToken": login.AccessToken}, &renewed)
		remember(renewed.AccessToken)
		ts.must("GET", "/api/v3/secrets/raw?workspaceId="+pid+"&environment=dev", renewed.AccessToken, nil, nil)
		ts.must("POST", "/api/v1/auth/token/revoke", "", map[string]string{"accessToken": renewed.AccessToken}, nil)
		ts.must("POST", "/api/v1/auth/token-auth/identities/"+identityID, admin, map[string]any{}, nil)
		var tok struct {
			AccessToken string `json:"accessToken"`
			TokenData   struct {
				ID string `json:"id"`
			} `json:"tokenData"`
		}
		ts.must("POST", "/api/v1/auth/token-auth/identities/"+identityID+"/tokens", admin, map[string]any{"name": "deploy"}, &tok)
		remember(tok.AccessToken)
		ts.must("POST", "/api/v1/auth/token-auth/tokens/"+tok.TokenData.ID+"/revoke", admin, nil, nil)
		ts.must("POST", "/api/v1/auth/universal-auth/identities/"+identityID+"/client-secrets", admin, map[string]any{}, nil)

		// Wait until read events are written and everything is delivered.
		time.Sleep(400 * time.Millisecond)
		eng := ts.eng
		ctx := context.Background()
		org := bootOut.Organization.ID
		deadline := time.Now().Add(10 * time.Second)
		for {
			var backlog int
			if err := eng.Store().DB().QueryRowContext(ctx, "SELECT count(*) FROM audit_log_stream_outbox").Scan(&backlog); err != nil {
				t.Fatal(err)
			}
			if backlog == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stream backlog %d", backlog)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var total int
		if err := eng.Store().DB().QueryRowContext(ctx, "SELECT count(*) FROM audit_logs WHERE org_id = ?", org).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if got := len(rcv.delivered()); got < 20 || got > total {
			t.Fatalf("%d events delivered of %d", got, total)
		}
		rows, err := eng.Store().DB().QueryContext(ctx, "SELECT * FROM audit_logs")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var dump strings.Builder
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&dump, "%v\x00", v)
			}
			n++
		}
		if n < 25 {
			t.Fatalf("only %d audit rows", n)
		}
		t.Logf("scanned %d audit rows and %d stream deliveries", n, len(rcv.delivered()))
		rcv.mu.Lock()
		delivered := bytes.Join(rcv.bodies, []byte("\n"))
		rcv.mu.Unlock()
		for _, s := range secrets {
			if strings.Contains(dump.String(), s) {
				t.Errorf("audit_logs contain %q", s)
			}
			// The receiver saw the header (it authenticates); the bodies
			// must not carry it.
			body := bytes.ReplaceAll(delivered, []byte(" Bearer Stream-Header-Secret-5c81"), nil)
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("stream payloads contain %q", s)
			}
		}
		// The stream's header is never shown in clear.
		code, raw, _ := ts.do("GET", "/api/v1/audit-log-streams", admin, nil)
		if code != 200 || bytes.Contains(raw, []byte("Stream-Header-Secret")) {
			t.Fatalf("list streams: %d %s", code, raw)
		}
	})
}

func TestAuditStreamsAPI(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		rcv := newAuditReceiver(t)
		ts := newTestServer(t, b, auditStreamConfig(rcv))
		boot := ts.bootstrap()
		var created struct {
			Stream map[string]any `json:"auditLogStream"`
		}
		ts.must("POST", "/api/v1/audit-log-streams", boot.AdminToken, map[string]any{"url": rcv.srv.URL,
			"headers": []map[string]string{{"key": "DD-API-KEY", "value": "k-123"}}}, &created)
		id, _ := created.Stream["id"].(string)
		var keys []string
		for k := range created.Stream {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, []string{"createdAt", "id", "updatedAt", "url"}) || created.Stream["url"] != rcv.srv.URL {
			t.Fatalf("created %v", created.Stream)
		}
		var got struct {
			Stream struct {
				ID      string              `json:"id"`
				Headers []map[string]string `json:"headers"`
			} `json:"auditLogStream"`
		}
		ts.must("GET", "/api/v1/audit-log-streams/"+id, boot.AdminToken, nil, &got)
		if len(got.Stream.Headers) != 1 || got.Stream.Headers[0]["key"] != "DD-API-KEY" || got.Stream.Headers[0]["value"] != infisical.MaskedHeaderValue {
			t.Fatalf("get %+v", got)
		}
		var list struct {
			Streams []map[string]any `json:"auditLogStreams"`
		}
		ts.must("GET", "/api/v1/audit-log-streams", boot.AdminToken, nil, &list)
		if len(list.Streams) != 1 || list.Streams[0]["id"] != id {
			t.Fatalf("list %+v", list)
		}
		if code, raw, _ := ts.do("POST", "/api/v1/audit-log-streams", boot.AdminToken, map[string]any{"url": "http://" + strings.TrimPrefix(rcv.srv.URL, "https://")}); code != 422 || !bytes.Contains(raw, []byte(`"url"`)) {
			t.Fatalf("http url: %d %s", code, raw)
		}
		if code, _, _ := ts.do("GET", "/api/v1/audit-log-streams/00000000-0000-0000-0000-000000000000", boot.AdminToken, nil); code != 404 {
			t.Fatalf("missing stream: %d", code)
		}
		// Outage: API requests stay fast; nothing is lost.
		pid := ts.createProject(boot.AdminToken, "P")
		rcv.setDown(true)
		var slowest time.Duration
		for i := 0; i < 20; i++ {
			start := time.Now()
			ts.must("POST", fmt.Sprintf("/api/v3/secrets/raw/K%d", i), boot.AdminToken, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "v"}, nil)
			ts.must("GET", "/api/v3/secrets/raw?workspaceId="+pid+"&environment=dev", boot.AdminToken, nil, nil)
			slowest = max(slowest, time.Since(start))
		}
		if slowest > time.Second {
			t.Errorf("a request pair took %v during the outage", slowest)
		}
		time.Sleep(300 * time.Millisecond)
		code, raw, _ := ts.do("GET", "/metrics", "", nil)
		if code != 200 || !bytes.Contains(raw, []byte("infisical_audit_stream_delivery_failures_total")) ||
			bytes.Contains(raw, []byte("infisical_audit_stream_delivery_failures_total 0\n")) ||
			!bytes.Contains(raw, []byte("infisical_audit_read_events_dropped_total 0")) {
			t.Fatalf("metrics: %d\n%s", code, raw)
		}
		rcv.setDown(false)
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, err := ts.eng.Audit().StreamBacklog(context.Background(), infisical.Platform(boot.OrgID), id)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("backlog %d", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		ids := rcv.delivered()
		uniq := slices.Clone(ids)
		slices.Sort(uniq)
		if len(slices.Compact(uniq)) != len(ids) || len(ids) < 41 {
			t.Fatalf("%d deliveries, %d distinct", len(ids), len(slices.Compact(uniq)))
		}
		var upd struct {
			Stream map[string]any `json:"auditLogStream"`
		}
		ts.must("PATCH", "/api/v1/audit-log-streams/"+id, boot.AdminToken, map[string]any{"headers": []map[string]string{{"key": "DD-API-KEY", "value": infisical.MaskedHeaderValue}}}, &upd)
		if upd.Stream["id"] != id {
			t.Fatalf("patch %v", upd)
		}
		ts.must("DELETE", "/api/v1/audit-log-streams/"+id, boot.AdminToken, nil, nil)
		if code, _, _ := ts.do("GET", "/api/v1/audit-log-streams/"+id, boot.AdminToken, nil); code != 404 {
			t.Fatalf("deleted stream: %d", code)
		}
	})
}
