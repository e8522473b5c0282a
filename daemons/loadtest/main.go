// Command loadtest measures the API server the way `make bench` reports it:
// it builds and starts a real `infisical server` (SQLite, dev mode) and a
// plain net/http server that returns byte-identical JSON bodies, then drives
// both from this process with 1, 8 and 32 concurrent keep-alive clients and
// prints requests per second and p50/p99 latency side by side. It also
// measures start-to-serving time, idle RSS and one batch create of 1,000
// secrets. Run it from the repository root: go run ./daemons/loadtest
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "plain" {
		if err := plainServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "plain server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	bin      string
	duration time.Duration
	clients  []int
	jsonOut  string
	warmup   time.Duration
}

func run() error {
	var o options
	var clients string
	flag.StringVar(&o.bin, "bin", "", "infisical binary to test (default: build ./daemons/infisical)")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "measuring time per scenario")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "warm-up time per scenario")
	flag.StringVar(&clients, "clients", "1,8,32", "concurrency levels")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()
	for _, c := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -clients %q", clients)
		}
		o.clients = append(o.clients, n)
	}

	work, err := os.MkdirTemp("", "infisical-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	if o.bin == "" {
		o.bin = filepath.Join(work, "infisical")
		step("building ./daemons/infisical")
		cmd := exec.Command("go", "build", "-o", o.bin, "./daemons/infisical")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}

	res := results{}
	srv, err := startServer(o.bin, work)
	if err != nil {
		return err
	}
	defer srv.stop()
	res.StartToServing = srv.startup
	step(fmt.Sprintf("server serving after %v", srv.startup.Round(time.Millisecond)))

	time.Sleep(1500 * time.Millisecond)
	res.IdleRSSAtStartKB = rssKB(srv.cmd.Process.Pid)

	step("setting up: bootstrap, project, identity with universal auth, secrets")
	fx, err := setup(srv.base)
	if err != nil {
		return err
	}

	step("batch create of 1,000 secrets in one request (5 runs)")
	res.BatchCreate1000, err = batchCreate(srv.base, fx, 5)
	if err != nil {
		return err
	}

	oneURL := srv.base + "/api/v3/secrets/raw/SECRET_ONE?workspaceId=" + fx.projectID + "&environment=dev&secretPath=%2F"
	listURL := srv.base + "/api/v3/secrets/raw?workspaceId=" + fx.projectID + "&environment=dev&secretPath=%2Flist50"
	oneBody, err := fetch(oneURL, fx.token)
	if err != nil {
		return err
	}
	listBody, err := fetch(listURL, fx.token)
	if err != nil {
		return err
	}
	if n := strings.Count(string(listBody), `"secretKey"`); n != 50 {
		return fmt.Errorf("list returned %d secrets, want 50", n)
	}

	plain, err := startPlain(work, oneBody, listBody)
	if err != nil {
		return err
	}
	defer plain.stop()

	scenarios := []struct {
		name, url, token string
	}{
		{"GET one secret", oneURL, fx.token},
		{"plain handler, same body", plain.base + "/one", fx.token},
		{"list 50 secrets", listURL, fx.token},
		{"plain handler, same body", plain.base + "/list", fx.token},
	}
	for _, c := range o.clients {
		for _, sc := range scenarios {
			step(fmt.Sprintf("%-26s clients=%-3d", sc.name, c))
			r, err := load(sc.url, sc.token, c, o.warmup, o.duration)
			if err != nil {
				return err
			}
			r.Scenario, r.Clients = sc.name, c
			res.Runs = append(res.Runs, r)
		}
	}
	time.Sleep(2 * time.Second)
	res.IdleRSSAfterLoadKB = rssKB(srv.cmd.Process.Pid)
	res.OneBodyBytes, res.ListBodyBytes = len(oneBody), len(listBody)
	res.print(os.Stdout)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func step(s string) { fmt.Fprintf(os.Stderr, "==> %s\n", s) }

// ---- processes -------------------------------------------------------------

type proc struct {
	cmd     *exec.Cmd
	base    string
	startup time.Duration
}

func (p *proc) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer(bin, work string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(work, "data")
	cmd := exec.Command(bin, "server", "--dev", "--data-dir", data, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	logf, err := os.Create(filepath.Join(work, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &proc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(p.base+"/api/status", 20*time.Second); err != nil {
		p.stop()
		log, _ := os.ReadFile(filepath.Join(work, "server.log"))
		return nil, fmt.Errorf("server did not start: %w\n%s", err, log)
	}
	p.startup = time.Since(start)
	return p, nil
}

func waitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return errors.New("timeout waiting for " + url)
}

func rssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return -1
}

// startPlain runs this binary as the baseline server in its own process, so
// that it pays the same process and scheduling costs as the real server.
func startPlain(work string, one, list []byte) (*proc, error) {
	oneF, listF := filepath.Join(work, "one.json"), filepath.Join(work, "list.json")
	if err := os.WriteFile(oneF, one, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(listF, list, 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "plain", strconv.Itoa(port), oneF, listF)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	p := &proc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(p.base+"/one", 10*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// plainServer is the baseline: a net/http handler that writes a fixed JSON
// body of the same size as the API's answer.
func plainServer(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: loadtest plain PORT ONE.json LIST.json")
	}
	one, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	list, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/one", serve(one))
	mux.HandleFunc("/list", serve(list))
	return (&http.Server{Addr: "127.0.0.1:" + args[0], Handler: mux, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe()
}

// ---- API setup --------------------------------------------------------------

type fixture struct {
	projectID string
	token     string
}

func call(method, url, token string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func setup(base string) (*fixture, error) {
	var boot struct {
		Organization struct{ ID string } `json:"organization"`
		Identity     struct {
			Credentials struct{ Token string } `json:"credentials"`
		} `json:"identity"`
	}
	if err := call("POST", base+"/api/v1/admin/bootstrap", "", map[string]string{"email": "admin@example.com", "password": "loadtest-password", "organization": "Load"}, &boot); err != nil {
		return nil, err
	}
	admin := boot.Identity.Credentials.Token
	var proj struct {
		Project struct{ ID string } `json:"project"`
	}
	if err := call("POST", base+"/api/v2/workspace", admin, map[string]any{"projectName": "load"}, &proj); err != nil {
		return nil, err
	}
	pid := proj.Project.ID
	var ident struct {
		Identity struct{ ID string } `json:"identity"`
	}
	if err := call("POST", base+"/api/v1/identities", admin, map[string]any{"name": "reader", "organizationId": boot.Organization.ID, "role": "member"}, &ident); err != nil {
		return nil, err
	}
	iid := ident.Identity.ID
	var ua struct {
		UA struct{ ClientID string } `json:"identityUniversalAuth"`
	}
	if err := call("POST", base+"/api/v1/auth/universal-auth/identities/"+iid, admin, map[string]any{}, &ua); err != nil {
		return nil, err
	}
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	if err := call("POST", base+"/api/v1/auth/universal-auth/identities/"+iid+"/client-secrets", admin, map[string]any{}, &cs); err != nil {
		return nil, err
	}
	if err := call("POST", base+"/api/v2/workspace/"+pid+"/identity-memberships/"+iid, admin, map[string]any{"role": "member"}, nil); err != nil {
		return nil, err
	}
	var login struct {
		AccessToken string `json:"accessToken"`
	}
	if err := call("POST", base+"/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": ua.UA.ClientID, "clientSecret": cs.ClientSecret}, &login); err != nil {
		return nil, err
	}
	tok := login.AccessToken
	if err := call("POST", base+"/api/v1/folders", tok, map[string]any{"workspaceId": pid, "environment": "dev", "name": "list50", "path": "/"}, nil); err != nil {
		return nil, err
	}
	if err := call("POST", base+"/api/v3/secrets/raw/SECRET_ONE", tok, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "postgres://user:pass@db.internal:5432/app", "secretComment": "primary database"}, nil); err != nil {
		return nil, err
	}
	items := make([]map[string]any, 50)
	for i := range items {
		items[i] = map[string]any{"secretKey": fmt.Sprintf("KEY_%02d", i), "secretValue": fmt.Sprintf("value-%02d-%s", i, strings.Repeat("x", 24)), "secretComment": "c"}
	}
	if err := call("POST", base+"/api/v3/secrets/batch/raw", tok, map[string]any{"workspaceId": pid, "environment": "dev", "secretPath": "/list50", "secrets": items}, nil); err != nil {
		return nil, err
	}
	return &fixture{projectID: pid, token: tok}, nil
}

func batchCreate(base string, fx *fixture, runs int) ([]time.Duration, error) {
	var out []time.Duration
	for r := 0; r < runs; r++ {
		name := fmt.Sprintf("batch%d", r)
		if err := call("POST", base+"/api/v1/folders", fx.token, map[string]any{"workspaceId": fx.projectID, "environment": "staging", "name": name, "path": "/"}, nil); err != nil {
			return nil, err
		}
		items := make([]map[string]any, 1000)
		for i := range items {
			items[i] = map[string]any{"secretKey": fmt.Sprintf("BATCH_%04d", i), "secretValue": fmt.Sprintf("value-%04d", i)}
		}
		body := map[string]any{"workspaceId": fx.projectID, "environment": "staging", "secretPath": "/" + name, "secrets": items}
		start := time.Now()
		if err := call("POST", base+"/api/v3/secrets/batch/raw", fx.token, body, nil); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func fetch(url, token string) ([]byte, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

// ---- load --------------------------------------------------------------------

type runResult struct {
	Scenario string  `json:"scenario"`
	Clients  int     `json:"clients"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
}

func load(url, token string, clients int, warmup, d time.Duration) (runResult, error) {
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	one := func() (time.Duration, error) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(t0), err
	}
	phase := func(dur time.Duration, record bool) ([][]time.Duration, int, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), dur)
		defer cancel()
		lat := make([][]time.Duration, clients)
		errs := make([]int, clients)
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				for ctx.Err() == nil {
					l, err := one()
					if err != nil {
						errs[i]++
						continue
					}
					if record {
						lat[i] = append(lat[i], l)
					}
				}
			}(i)
		}
		wg.Wait()
		n := 0
		for _, e := range errs {
			n += e
		}
		return lat, n, time.Since(start)
	}
	phase(warmup, false)
	lat, nerr, elapsed := phase(d, true)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return runResult{}, fmt.Errorf("no successful requests to %s (%d errors)", url, nerr)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		i := int(float64(len(all)-1) * p)
		return float64(all[i].Microseconds())
	}
	return runResult{Requests: len(all), Errors: nerr, RPS: float64(len(all)) / elapsed.Seconds(), P50us: pct(0.50), P99us: pct(0.99)}, nil
}

// ---- report ------------------------------------------------------------------

type results struct {
	StartToServing     time.Duration   `json:"start_to_serving_ns"`
	IdleRSSAtStartKB   int             `json:"idle_rss_at_start_kb"`
	IdleRSSAfterLoadKB int             `json:"idle_rss_after_load_kb"`
	BatchCreate1000    []time.Duration `json:"batch_create_1000_ns"`
	OneBodyBytes       int             `json:"one_body_bytes"`
	ListBodyBytes      int             `json:"list_body_bytes"`
	Runs               []runResult     `json:"runs"`
}

func (r results) print(w io.Writer) {
	fmt.Fprintf(w, "\nInfisical-compatible API server load test (SQLite, dev mode), %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "start to serving: %v\n", r.StartToServing.Round(time.Millisecond))
	fmt.Fprintf(w, "idle RSS: %.1f MB at start, %.1f MB after load\n", float64(r.IdleRSSAtStartKB)/1024, float64(r.IdleRSSAfterLoadKB)/1024)
	bc := append([]time.Duration(nil), r.BatchCreate1000...)
	sort.Slice(bc, func(i, j int) bool { return bc[i] < bc[j] })
	if len(bc) > 0 {
		fmt.Fprintf(w, "batch create of 1,000 secrets in one request: median %v, min %v, max %v (%d runs)\n",
			bc[len(bc)/2].Round(100*time.Microsecond), bc[0].Round(100*time.Microsecond), bc[len(bc)-1].Round(100*time.Microsecond), len(bc))
	}
	fmt.Fprintf(w, "response bodies: GET one %d bytes, list 50 %d bytes\n\n", r.OneBodyBytes, r.ListBodyBytes)
	fmt.Fprintf(w, "%-28s %7s %10s %9s %9s %8s %8s\n", "scenario", "clients", "req/s", "p50(ms)", "p99(ms)", "errors", "vs plain")
	for i, run := range r.Runs {
		ratio := ""
		if !strings.HasPrefix(run.Scenario, "plain") && i+1 < len(r.Runs) {
			ratio = fmt.Sprintf("%5.0f%%", 100*run.RPS/r.Runs[i+1].RPS)
		}
		fmt.Fprintf(w, "%-28s %7d %10.0f %9.3f %9.3f %8d %8s\n", run.Scenario, run.Clients, run.RPS, run.P50us/1000, run.P99us/1000, run.Errors, ratio)
	}
}
