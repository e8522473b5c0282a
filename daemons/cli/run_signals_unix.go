//go:build unix

package cli

import (
	"os"
	"syscall"
)

// forwardedSignals are passed on to the child of `infisical run`: the ones
// a terminal, a supervisor (systemd, Kubernetes, docker stop) or a user
// sends to ask a program to stop, reload or report.
var forwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGALRM,
}

// terminateSignal asks a child to stop (watch restarts, cancellation).
var terminateSignal os.Signal = syscall.SIGTERM

// exitCode is the child's exit code; a child killed by a signal gives
// 128+signal, as shells report it.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return ExitError
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
