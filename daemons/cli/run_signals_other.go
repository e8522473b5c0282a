//go:build !unix

package cli

import "os"

// forwardedSignals are passed on to the child of `infisical run`.
var forwardedSignals = []os.Signal{os.Interrupt}

// terminateSignal asks a child to stop; without SIGTERM it is a kill.
var terminateSignal os.Signal = os.Kill

// exitCode is the child's exit code.
func exitCode(ps *os.ProcessState) int {
	if ps == nil || ps.ExitCode() < 0 {
		return ExitError
	}
	return ps.ExitCode()
}
