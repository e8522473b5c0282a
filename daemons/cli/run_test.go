//go:build unix

package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/enginetest"
)

// childArgs is the command line of a helper child process (testmain_test.go).
func childArgs(mode ...string) []string { return append([]string{os.Args[0], childMarker}, mode...) }

func TestRunInjectsSecretsAndExitCodes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "FOO", "bar", nil)
		e.createSecret("dev", "/", "REF", "${FOO}-x", nil)
		e.createSecret("dev", "/", "HOME", "/evil", nil)
		e.createSecret("staging", "/", "FOO", "staging-foo", nil)
		e.createSecret("staging", "/", "SHARED_ONLY", "from-staging", nil)
		e.must("POST", "/api/v1/secret-imports", e.adminToken, map[string]any{"workspaceId": e.projectID, "environment": "dev", "path": "/",
			"import": map[string]any{"environment": "staging", "path": "/"}}, nil)
		env := e.env()

		r := e.mustRun(env, append([]string{"run", "--"}, childArgs("env", "FOO", "REF", "HOME", "SHARED_ONLY")...)...)
		want := "FOO=bar\nREF=bar-x\nHOME=" + os.Getenv("HOME") + "\nSHARED_ONLY=from-staging\n"
		if r.stdout != want {
			t.Fatalf("child environment:\n%s\nwant:\n%s", r.stdout, want)
		}
		if !strings.Contains(r.stderr, "Injecting 3 Infisical secrets") || !strings.Contains(r.stderr, "[HOME] has been removed") {
			t.Fatalf("stderr: %q", r.stderr)
		}
		// --expand=false and --include-imports=false are passed to the server.
		r = e.mustRun(env, append([]string{"run", "--silent", "--expand=false", "--include-imports=false", "--"}, childArgs("env", "REF", "SHARED_ONLY")...)...)
		if r.stdout != "REF=${FOO}-x\nSHARED_ONLY=<unset>\n" || strings.Contains(r.stderr, "Injecting") {
			t.Fatalf("no expand, no imports: stdout %q stderr %q", r.stdout, r.stderr)
		}

		tests := []struct {
			name     string
			args     []string
			stdin    string
			wantCode int
			wantOut  string
			wantErr  string
		}{
			{name: "exit code", args: append([]string{"run", "--"}, childArgs("exit", "7")...), wantCode: 7},
			{name: "exit zero", args: append([]string{"run", "--"}, childArgs("exit", "0")...), wantCode: 0},
			{name: "killed by a signal", args: append([]string{"run", "--"}, childArgs("selfkill")...), wantCode: 128 + int(syscall.SIGKILL)},
			{name: "shell command", args: []string{"run", "--command", `echo "$FOO" && exit 5`}, wantCode: 5, wantOut: "bar\n"},
			{name: "shell command -c", args: []string{"run", "-c", "printf %s \"$REF\""}, wantCode: 0, wantOut: "bar-x"},
			{name: "stdin passes through", args: append([]string{"run", "--"}, childArgs("stdin")...), stdin: "hello child", wantCode: 0, wantOut: "hello child"},
			{name: "missing program", args: []string{"run", "--", "/nonexistent/program"}, wantCode: ExitError, wantErr: "start /nonexistent/program"},
			{name: "no command", args: []string{"run"}, wantCode: ExitUsage, wantErr: "--command"},
			{name: "command and args", args: []string{"run", "--command", "true", "--", "true"}, wantCode: ExitUsage, wantErr: "single command string"},
			{name: "bad watch interval", args: []string{"run", "--watch-interval", "soon", "--", "true"}, wantCode: ExitUsage, wantErr: "watch-interval"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := runCLIWith(t, env, tt.stdin, tt.args...)
				if r.code != tt.wantCode || (tt.wantOut != "" && r.stdout != tt.wantOut) || !strings.Contains(r.stderr, tt.wantErr) {
					t.Fatalf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", r.code, tt.wantCode, r.stdout, tt.wantOut, r.stderr, tt.wantErr)
				}
			})
		}
	})
}

// TestRunForwardsSignals runs the test binary as the `infisical` binary,
// signals it, and checks that the child got each signal and that the
// child's exit code came back.
func TestRunForwardsSignals(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "FOO", "bar", nil)
		tests := []struct {
			name  string
			sigs  []syscall.Signal
			lines []string
		}{
			{"hangup, usr1, then terminate", []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGTERM}, []string{"got hangup", "got user defined signal 1", "got terminated"}},
			{"interrupt", []syscall.Signal{syscall.SIGINT}, []string{"got interrupt"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"run", "--"}, childArgs("signal")...)...)
				cmd.Env = append(os.Environ(), "INFISICAL_CLI_TEST_AS_BINARY=1")
				for k, v := range e.env() {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				var stderr syncBuffer
				cmd.Stderr = &stderr
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				lines := make(chan string, 16)
				go func() {
					sc := bufio.NewScanner(stdout)
					for sc.Scan() {
						lines <- sc.Text()
					}
					close(lines)
				}()
				expect := func(want string) {
					t.Helper()
					select {
					case got, ok := <-lines:
						if !ok || got != want {
							t.Fatalf("child printed %q (open %v), want %q; stderr:\n%s", got, ok, want, stderr.String())
						}
					case <-time.After(15 * time.Second):
						t.Fatalf("timed out waiting for %q; stderr:\n%s", want, stderr.String())
					}
				}
				expect("ready")
				for i, sig := range tt.sigs {
					if err := cmd.Process.Signal(sig); err != nil {
						t.Fatal(err)
					}
					expect(tt.lines[i])
				}
				for range lines {
				}
				err = cmd.Wait()
				if code := cmd.ProcessState.ExitCode(); code != 42 {
					t.Fatalf("exit code %d (%v), want the child's 42; stderr:\n%s", code, err, stderr.String())
				}
			})
		}
	})
}

func TestRunWatchRestartsOnChange(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		e := newAPIEnv(t, b)
		e.createSecret("dev", "/", "WATCHED", "v1", nil)
		app, out, errb := newTestApp(e.env())
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		done := make(chan int, 1)
		go func() {
			done <- execute(ctx, app, append([]string{"run", "--watch", "--watch-interval", "100ms", "--"}, childArgs("watch", "WATCHED", "final")...))
		}()
		count := func(s string) int { return strings.Count(out.String(), s) }
		waitFor(t, "value=v1", 20*time.Second, func() bool { return count("value=v1\n") == 1 })

		e.updateSecret("dev", "/", "WATCHED", "v2")
		waitFor(t, "value=v2", 20*time.Second, func() bool { return count("value=v2\n") == 1 })
		if !strings.Contains(errb.String(), "Environment changes detected") {
			t.Fatalf("stderr: %s", errb.String())
		}
		// A change that leaves the injected variables alone (a comment)
		// does not restart the child.
		e.must("PATCH", "/api/v3/secrets/raw/WATCHED", e.adminToken, map[string]any{"workspaceId": e.projectID, "environment": "dev", "secretComment": "just a note"}, nil)
		time.Sleep(600 * time.Millisecond)
		if n := strings.Count(out.String(), "value="); n != 2 {
			t.Fatalf("the child restarted without a change of value (%d starts):\n%s", n, out.String())
		}

		// The child ending on its own ends the command with its code.
		e.updateSecret("dev", "/", "WATCHED", "final")
		select {
		case code := <-done:
			if code != 0 || count("value=final\n") != 1 {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("run --watch did not end; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		}
	})
}
