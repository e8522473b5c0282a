package infisical_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// streamReceiver is a local HTTPS log collector that can be up, answer 503,
// or be gone (connection refused) and come back on the same address.
type streamReceiver struct {
	t      testing.TB
	mu     sync.Mutex
	srv    *httptest.Server
	addr   string
	failed bool // answer 503
	ids    []string
	bodies []map[string]any
	auth   []string
	pings  int
}

func newStreamReceiver(t testing.TB) *streamReceiver {
	r := &streamReceiver{t: t}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.StartTLS()
	r.addr = r.srv.Listener.Addr().String()
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *streamReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("receiver: bad body %q (%v) or content type %q", body, err, req.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if m["ping"] == "ok" {
		r.pings++
		return
	}
	r.ids = append(r.ids, m["id"].(string))
	r.bodies = append(r.bodies, m)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
}

func (r *streamReceiver) client() *http.Client { return r.srv.Client() }

func (r *streamReceiver) setFailing(v bool) {
	r.mu.Lock()
	r.failed = v
	r.mu.Unlock()
}

// stop closes the listener: deliveries get "connection refused".
func (r *streamReceiver) stop() { r.srv.Close() }

// restart serves again on the same address (and certificate).
func (r *streamReceiver) restart() {
	r.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("re-listen on %s: %v", r.addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	srv.Listener.Close()
	srv.Listener = l
	srv.StartTLS()
	r.srv = srv
}

func (r *streamReceiver) delivered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// streamConfig makes deliveries fast for tests.
func streamConfig(r *streamReceiver) func(*infisical.Config) {
	return func(c *infisical.Config) {
		c.Audit.StreamClient = r.client()
		c.Audit.AllowPrivateStreamTargets = true
		c.Audit.StreamPoll = 100 * time.Millisecond
		c.Audit.StreamBackoffMin = 10 * time.Millisecond
		c.Audit.StreamBackoffMax = 100 * time.Millisecond
	}
}

// orgEventsSince returns the ids of the organization's events from the
// event with id first on, in stream order (created_at, id).
func orgEventsSince(t *testing.T, eng *infisical.Engine, orgID, first string) []string {
	t.Helper()
	var ids []string
	rows, err := eng.Store().DB().QueryContext(context.Background(),
		"SELECT id FROM audit_logs WHERE org_id = ? ORDER BY created_at ASC, id ASC", orgID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	on := false
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		on = on || id == first
		if on {
			ids = append(ids, id)
		}
	}
	if !on {
		t.Fatalf("event %s not found", first)
	}
	return ids
}

// waitDelivered waits until the stream's backlog is empty and the receiver
// holds at least n events.
func waitDelivered(t *testing.T, eng *infisical.Engine, admin infisical.Actor, streamID string, r *streamReceiver, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		backlog, err := eng.Audit().StreamBacklog(context.Background(), admin, streamID)
		if err != nil {
			t.Fatal(err)
		}
		if backlog == 0 && len(r.delivered()) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream not drained: backlog %d, delivered %d, want %d", backlog, len(r.delivered()), n)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func firstEventOfType(t *testing.T, eng *infisical.Engine, admin infisical.Actor, typ string) string {
	t.Helper()
	l, err := eng.Audit().List(context.Background(), admin, infisical.AuditLogQuery{EventTypes: []string{typ}})
	if err != nil || len(l) == 0 {
		t.Fatalf("no %s event: %v", typ, err)
	}
	return l[len(l)-1].ID
}

// TestAuditStreamOutage: a stream whose endpoint is down (503, then
// connection refused, across a server restart) and then up again receives
// every event exactly once and in order, and writes never wait for it.
func TestAuditStreamOutage(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		rcv := newStreamReceiver(t)
		dsn := enginetest.DSN(t, b)
		open := func() *infisical.Engine {
			cfg := enginetest.Config(t, dsn)
			streamConfig(rcv)(&cfg)
			eng, err := infisical.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return eng
		}
		eng := open()
		closed := false
		defer func() {
			if !closed {
				eng.Close()
			}
		}()
		ctx := context.Background()
		org := enginetest.Org(t, eng, "Acme")
		admin := infisical.Platform(org.ID)
		p := must(eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "P"}))(t)
		sc := infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}
		st := must(eng.Audit().CreateStream(ctx, admin, infisical.CreateAuditStreamInput{URL: rcv.srv.URL + "/ingest?api_key=QUERY-SECRET",
			Headers: []infisical.AuditStreamHeader{{Key: "Authorization", Value: "Bearer HEADER-SECRET"}}}))(t)
		if rcv.pings != 1 {
			t.Fatalf("%d pings", rcv.pings)
		}
		first := firstEventOfType(t, eng, admin, "create-audit-log-stream")
		n := 0
		write := func() time.Duration {
			t.Helper()
			n++
			start := time.Now()
			must(eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: sc, NewSecret: infisical.NewSecret{Key: fmt.Sprintf("K%03d", n), Value: "v"}}))(t)
			return time.Since(start)
		}
		// Up.
		for i := 0; i < 5; i++ {
			write()
		}
		waitDelivered(t, eng, admin, st.ID, rcv, 6)
		// 503.
		rcv.setFailing(true)
		var slowest time.Duration
		for i := 0; i < 10; i++ {
			slowest = max(slowest, write())
			must(eng.Secrets.List(ctx, admin, infisical.ListSecretsInput{SecretScope: sc}))(t)
		}
		// Connection refused.
		rcv.stop()
		for i := 0; i < 5; i++ {
			slowest = max(slowest, write())
		}
		if slowest > time.Second {
			t.Errorf("a write took %v while the stream was down", slowest)
		}
		deadline := time.Now().Add(5 * time.Second)
		for eng.AuditStreamFailures() < 3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if eng.AuditStreamFailures() < 3 {
			t.Fatalf("failures counted: %d", eng.AuditStreamFailures())
		}
		// Restart the server while the endpoint is still down.
		time.Sleep(300 * time.Millisecond) // let the read events reach the queue's writer
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		eng = open()
		for i := 0; i < 2; i++ {
			write()
		}
		rcv.setFailing(false)
		rcv.restart()
		want := orgEventsSince(t, eng, org.ID, first)
		waitDelivered(t, eng, admin, st.ID, rcv, len(want))
		got := rcv.delivered()
		if !slices.Equal(got, want) {
			t.Fatalf("delivered %d events, want %d in order\n got %v\nwant %v", len(got), len(want), got, want)
		}
		if len(want) != 1+5+10+10+5+2 {
			t.Errorf("%d events, want 33", len(want))
		}
		rcv.mu.Lock()
		for i, a := range rcv.auth {
			if a != "Bearer HEADER-SECRET" {
				t.Fatalf("delivery %d: Authorization %q", i, a)
			}
		}
		b0 := rcv.bodies[1]
		rcv.mu.Unlock()
		ev, _ := b0["event"].(map[string]any)
		actor, _ := b0["actor"].(map[string]any)
		if ev["type"] != "create-secret" || actor["type"] != "platform" || b0["orgId"] != org.ID || b0["projectId"] != p.ID || b0["createdAt"] == nil {
			t.Fatalf("payload %v", b0)
		}
		// Nothing is delivered twice after everything is done.
		time.Sleep(300 * time.Millisecond)
		if len(rcv.delivered()) != len(want) {
			t.Fatalf("%d deliveries, want %d", len(rcv.delivered()), len(want))
		}
		closed = true
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAuditStreamSeveralServers: two servers on one PostgreSQL database
// deliver each event once; when the delivering server stops, the other
// takes over.
func TestAuditStreamSeveralServers(t *testing.T) {
	rcv := newStreamReceiver(t)
	dsn := enginetest.DSN(t, enginetest.Postgres)
	open := func() *infisical.Engine {
		cfg := enginetest.Config(t, dsn)
		streamConfig(rcv)(&cfg)
		cfg.Audit.StreamLease = 2 * time.Second
		eng, err := infisical.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	e1, e2 := open(), open()
	defer e2.Close()
	ctx := context.Background()
	org := enginetest.Org(t, e1, "Acme")
	admin := infisical.Platform(org.ID)
	p := must(e1.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "P"}))(t)
	st := must(e1.Audit().CreateStream(ctx, admin, infisical.CreateAuditStreamInput{URL: rcv.srv.URL}))(t)
	first := firstEventOfType(t, e1, admin, "create-audit-log-stream")
	sc := infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}
	for i := 0; i < 40; i++ {
		e := e1
		if i%2 == 1 {
			e = e2
		}
		must(e.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: sc, NewSecret: infisical.NewSecret{Key: fmt.Sprintf("K%03d", i)}}))(t)
		if i == 20 {
			if err := e1.Close(); err != nil {
				t.Fatal(err)
			}
			e1 = e2
		}
	}
	want := orgEventsSince(t, e2, org.ID, first)
	waitDelivered(t, e2, admin, st.ID, rcv, len(want))
	got := rcv.delivered()
	slices.Sort(got)
	if len(got) != len(want) || len(slices.Compact(got)) != len(want) {
		t.Fatalf("delivered %d (%d distinct), want %d", len(rcv.delivered()), len(slices.Compact(got)), len(want))
	}
}

func TestAuditStreamConfiguration(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		rcv := newStreamReceiver(t)
		eng := enginetest.Open(t, b, streamConfig(rcv))
		ctx := context.Background()
		org := enginetest.Org(t, eng, "Acme")
		admin := infisical.Platform(org.ID)
		bad := []struct {
			field string
			in    infisical.CreateAuditStreamInput
		}{
			{"url", infisical.CreateAuditStreamInput{}},
			{"url", infisical.CreateAuditStreamInput{URL: "http://example.com/logs"}},
			{"url", infisical.CreateAuditStreamInput{URL: "logs.example.com"}},
			{"headers[0].key", infisical.CreateAuditStreamInput{URL: rcv.srv.URL, Headers: []infisical.AuditStreamHeader{{Key: "Bad Header", Value: "x"}}}},
			{"headers[0].key", infisical.CreateAuditStreamInput{URL: rcv.srv.URL, Headers: []infisical.AuditStreamHeader{{Key: "Host", Value: "x"}}}},
			{"headers[1].value", infisical.CreateAuditStreamInput{URL: rcv.srv.URL, Headers: []infisical.AuditStreamHeader{{Key: "A", Value: "x"}, {Key: "B", Value: "x\ny"}}}},
			{"headers[0].value", infisical.CreateAuditStreamInput{URL: rcv.srv.URL, Headers: []infisical.AuditStreamHeader{{Key: "A", Value: infisical.MaskedHeaderValue}}}},
		}
		for _, c := range bad {
			_, err := eng.Audit().CreateStream(ctx, admin, c.in)
			if infisical.KindOf(err) != infisical.KindValidation || !containsField(err, c.field) {
				t.Errorf("%+v: %v, want 422 naming %s", c.in, err, c.field)
			}
		}
		rcv.setFailing(true)
		if _, err := eng.Audit().CreateStream(ctx, admin, infisical.CreateAuditStreamInput{URL: rcv.srv.URL}); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("unreachable endpoint: %v", err)
		}
		rcv.setFailing(false)
		st := must(eng.Audit().CreateStream(ctx, admin, infisical.CreateAuditStreamInput{URL: rcv.srv.URL,
			Headers: []infisical.AuditStreamHeader{{Key: "DD-API-KEY", Value: "first-key"}, {Key: "X-Source", Value: "infisical"}}}))(t)
		got := must(eng.Audit().GetStream(ctx, admin, st.ID))(t)
		if len(got.Headers) != 2 || got.Headers[0].Value != infisical.MaskedHeaderValue || got.Headers[0].Key != "DD-API-KEY" || got.URL != rcv.srv.URL {
			t.Fatalf("get %+v", got)
		}
		// Sending a masked value back keeps the stored one; others change.
		hs := []infisical.AuditStreamHeader{{Key: "DD-API-KEY", Value: infisical.MaskedHeaderValue}, {Key: "X-Source", Value: "infisical-2"}}
		must(eng.Audit().UpdateStream(ctx, admin, st.ID, infisical.UpdateAuditStreamInput{Headers: &hs}))(t)
		var raw []byte
		if err := eng.Store().DB().QueryRowContext(ctx, "SELECT encrypted_headers FROM audit_log_streams WHERE id = ?", st.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, []byte("first-key")) || bytes.Contains(raw, []byte("DD-API-KEY")) {
			t.Fatalf("headers are not sealed: %q", raw)
		}
		list := must(eng.Audit().ListStreams(ctx, admin))(t)
		if len(list) != 1 || list[0].ID != st.ID {
			t.Fatalf("list %+v", list)
		}
		// Org members may see streams but not manage them.
		_, tok := enginetest.IdentityToken(t, eng, org.ID, "member", "", "")
		member := must(eng.Authenticate(ctx, tok, "127.0.0.1"))(t)
		if _, err := eng.Audit().ListStreams(ctx, member); err != nil {
			t.Fatalf("member list: %v", err)
		}
		if _, err := eng.Audit().CreateStream(ctx, member, infisical.CreateAuditStreamInput{URL: rcv.srv.URL}); infisical.KindOf(err) != infisical.KindPermissionDenied {
			t.Fatalf("member create: %v", err)
		}
		other := enginetest.Org(t, eng, "Other")
		if _, err := eng.Audit().GetStream(ctx, infisical.Platform(other.ID), st.ID); infisical.KindOf(err) != infisical.KindNotFound {
			t.Fatalf("other org get: %v", err)
		}
		waitDelivered(t, eng, admin, st.ID, rcv, 1)
		// Delivered with the kept key and the new source.
		must(eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "P"}))(t)
		deadline := time.Now().Add(5 * time.Second)
		for {
			rcv.mu.Lock()
			n := len(rcv.bodies)
			var last map[string]any
			if n > 0 {
				last = rcv.bodies[n-1]
			}
			rcv.mu.Unlock()
			if ev, _ := last["event"].(map[string]any); ev != nil && ev["type"] == "create-project" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("create-project not delivered")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Deleting the stream drops its backlog and stops delivery.
		rcv.setFailing(true)
		must(eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "Q"}))(t)
		must(eng.Audit().DeleteStream(ctx, admin, st.ID))(t)
		if _, err := eng.Audit().GetStream(ctx, admin, st.ID); infisical.KindOf(err) != infisical.KindNotFound {
			t.Fatalf("get deleted: %v", err)
		}
		var left int
		if err := eng.Store().DB().QueryRowContext(ctx, "SELECT count(*) FROM audit_log_stream_outbox").Scan(&left); err != nil || left != 0 {
			t.Fatalf("outbox rows left: %d %v", left, err)
		}
	})
}

func containsField(err error, field string) bool {
	var e *infisical.Error
	if !errors.As(err, &e) {
		return false
	}
	issues, _ := e.Details.([]infisical.ValidationIssue)
	for _, is := range issues {
		if slices.Contains(is.Path, field) {
			return true
		}
	}
	return false
}

// TestAuditStreamPrivateTargets: with the default configuration a stream
// may not point at loopback, private or metadata addresses, neither as an
// IP literal (refused at once, naming url) nor through a name (refused when
// connecting: the ping fails and nothing reaches the endpoint); with
// AllowPrivateStreamTargets the same local endpoint is accepted.
func TestAuditStreamPrivateTargets(t *testing.T) {
	rcv := newStreamReceiver(t)
	ctx := context.Background()
	dsn := enginetest.DSN(t, enginetest.SQLite)
	open := func(mod func(*infisical.Config)) *infisical.Engine {
		cfg := enginetest.Config(t, dsn)
		mod(&cfg)
		eng, err := infisical.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}

	// Allowed: the local endpoint is accepted and pinged.
	allowed := open(streamConfig(rcv))
	org := enginetest.Org(t, allowed, "Acme")
	admin := infisical.Platform(org.ID)
	st := must(allowed.Audit().CreateStream(ctx, admin, infisical.CreateAuditStreamInput{URL: rcv.srv.URL}))(t)
	allowed.Close()

	// Default: refused.
	eng := open(func(c *infisical.Config) {
		c.Audit.StreamPoll = 50 * time.Millisecond
		c.Audit.StreamBackoffMin = 10 * time.Millisecond
		c.Audit.StreamBackoffMax = 50 * time.Millisecond
	})
	defer eng.Close()
	_, port, err := net.SplitHostPort(rcv.addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		rcv.srv.URL, // https://127.0.0.1:port
		"https://169.254.169.254/latest/meta-data/",
		"https://10.0.0.8/logs",
		"https://[::1]:" + port + "/",
		"https://[::ffff:192.168.1.1]/",
		"https://localhost:" + port + "/",
	} {
		_, err := eng.Audit().CreateStream(ctx, admin, infisical.CreateAuditStreamInput{URL: u})
		if infisical.KindOf(err) != infisical.KindValidation || !containsField(err, "url") ||
			!strings.Contains(err.Error(), "ALLOW_INTERNAL_IP_CONNECTIONS") {
			t.Errorf("create %s: %v, want a validation error naming url", u, err)
		}
	}
	// The stream stored while private targets were allowed is not
	// delivered to: the dialer refuses the address.
	must(eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "P"}))(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := must(eng.Audit().GetStream(ctx, admin, st.ID))(t)
		if got.LastError != nil {
			if !strings.Contains(*got.LastError, "address is not public") {
				t.Fatalf("last error %q", *got.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(rcv.delivered()); n != 0 {
		t.Fatalf("%d events reached the private endpoint", n)
	}
}
