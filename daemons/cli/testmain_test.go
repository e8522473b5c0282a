//go:build unix

package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
)

// The test binary doubles as two helper programs, chosen before any test
// runs:
//   - with first argument childMarker it is a child process for `infisical
//     run` (print variables, exit with a code, report signals);
//   - with INFISICAL_CLI_TEST_AS_BINARY=1 it is the `infisical` binary
//     itself (same signal set-up as daemons/infisical/main.go), so tests
//     can signal a real `infisical run` process.
const childMarker = "__infisical_test_child__"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childMarker {
		os.Exit(testChild(os.Args[2:]))
	}
	if os.Getenv("INFISICAL_CLI_TEST_AS_BINARY") == "1" {
		os.Exit(testBinaryMain())
	}
	os.Exit(m.Run())
}

func testBinaryMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	return Execute(ctx, os.Args[1:], Options{})
}

// testChild implements the child modes:
//
//	exit N              exit with code N
//	env K...            print K=value per name (K=<unset> when absent)
//	signal              print "ready", then report signals: SIGHUP and
//	                    SIGUSR1 are printed and ignored, SIGINT and
//	                    SIGTERM are printed and end the process with 42
//	watch KEY FINAL     print "value=<KEY>"; exit 0 at once when it equals
//	                    FINAL, else wait for SIGTERM and exit 0
//	selfkill            kill itself with SIGKILL
//	stdin               copy stdin to stdout
func testChild(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "child: no mode")
		return 99
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch args[0] {
	case "exit":
		n, _ := strconv.Atoi(args[1])
		return n
	case "env":
		for _, k := range args[1:] {
			if v, ok := os.LookupEnv(k); ok {
				fmt.Fprintf(out, "%s=%s\n", k, v)
			} else {
				fmt.Fprintf(out, "%s=<unset>\n", k)
			}
		}
		return 0
	case "signal":
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGINT, syscall.SIGTERM)
		fmt.Fprintln(out, "ready")
		out.Flush()
		for sig := range ch {
			fmt.Fprintf(out, "got %s\n", sig)
			out.Flush()
			if sig == syscall.SIGINT || sig == syscall.SIGTERM {
				return 42
			}
		}
	case "watch":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		v := os.Getenv(args[1])
		fmt.Fprintf(out, "value=%s\n", v)
		out.Flush()
		if v == args[2] {
			return 0
		}
		<-ch
		return 0
	case "selfkill":
		out.Flush()
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "stdin":
		out.Flush()
		_, _ = io.Copy(os.Stdout, os.Stdin)
		return 0
	}
	fmt.Fprintf(os.Stderr, "child: unknown mode %q\n", args[0])
	return 99
}
