package cli

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// envMap is an environment for tests: the process's own variables (a CI
// machine may set ENCRYPTION_KEY or PORT) never leak in.
func envMap(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// newTestApp returns an app writing to buffers, with env as its environment.
func newTestApp(env map[string]string) (*App, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	app := NewApp(Options{Stdout: out, Stderr: errb, LookupEnv: envMap(env)})
	return app, out, errb
}

// runCLI runs one command to completion.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	app, out, errb := newTestApp(env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := execute(ctx, app, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// running is a server started by startServer.
type running struct {
	addr   string
	stderr *syncBuffer
	stop   func() int
}

// startServer runs `infisical <args>` in the background and waits until it
// serves. stop cancels it (as SIGINT does) and returns the exit code.
func startServer(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	app, _, errb := newTestApp(env)
	serving := make(chan net.Addr, 1)
	app.onServing = func(a net.Addr) { serving <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- execute(ctx, app, args) }()
	var addr net.Addr
	select {
	case addr = <-serving:
	case code := <-done:
		cancel()
		t.Fatalf("server exited with %d before serving:\n%s", code, errb.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("server did not start in time:\n%s", errb.String())
	}
	stopped := false
	var code int
	r := &running{addr: addr.String(), stderr: errb}
	r.stop = func() int {
		if stopped {
			return code
		}
		stopped = true
		cancel()
		select {
		case code = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("server did not stop in time:\n%s", errb.String())
		}
		return code
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func TestNormalizeAPIURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "http://localhost:8080", want: "http://localhost:8080/api"},
		{in: "http://localhost:8080/", want: "http://localhost:8080/api"},
		{in: "http://localhost:8080/api", want: "http://localhost:8080/api"},
		{in: "https://x.example.com/api/", want: "https://x.example.com/api"},
		{in: " https://x.example.com/base ", want: "https://x.example.com/base/api"},
		{in: "localhost:8080", wantErr: true},
		{in: "ftp://x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := normalizeAPIURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("normalizeAPIURL(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAPIURLPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		flag   string
		env    map[string]string
		want   string
		expect string
	}{
		{name: "default", want: "https://app.infisical.com/api"},
		{name: "env", env: map[string]string{"INFISICAL_API_URL": "http://env:1/api"}, want: "http://env:1/api"},
		{name: "flag wins", flag: "http://flag:2", env: map[string]string{"INFISICAL_API_URL": "http://env:1"}, want: "http://flag:2/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _, _ := newTestApp(tt.env)
			app.domain = tt.flag
			got, err := app.APIURL()
			if err != nil || got != tt.want {
				t.Fatalf("APIURL() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestGlobalFlagsAndExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "version", args: []string{"version"}, wantCode: ExitOK, wantStdout: "infisical version "},
		{name: "--version", args: []string{"--version"}, wantCode: ExitOK, wantStdout: "infisical version "},
		{name: "unknown flag", args: []string{"version", "--nope"}, wantCode: ExitUsage, wantStderr: "unknown flag"},
		{name: "unknown command", args: []string{"nope"}, wantCode: ExitUsage, wantStderr: "unknown command"},
		{name: "extra argument", args: []string{"version", "x"}, wantCode: ExitUsage, wantStderr: "unknown command"},
		{name: "bad log level", args: []string{"--log-level", "loud", "version"}, wantCode: ExitUsage, wantStderr: "--log-level"},
		{name: "bad log format", args: []string{"--log-format", "xml", "version"}, wantCode: ExitUsage, wantStderr: "--log-format"},
		{name: "silent accepted", args: []string{"--silent", "--log-level", "debug", "version"}, wantCode: ExitOK, wantStdout: "infisical version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tt.wantStdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

func TestCommandsRegistered(t *testing.T) {
	app, _, _ := newTestApp(nil)
	root := NewRootCommand(app)
	for _, name := range []string{"server", "bootstrap", "version"} {
		if c, _, err := root.Find([]string{name}); err != nil || c.Name() != name {
			t.Errorf("command %q not registered (%v)", name, err)
		}
	}
}
