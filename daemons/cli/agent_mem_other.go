//go:build !linux

package cli

import "runtime/debug"

// releaseStartupMemory returns the start-up heap to the OS (see the Linux
// version for the binary's mapped pages).
func releaseStartupMemory() { debug.FreeOSMemory() }
