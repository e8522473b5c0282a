package cli

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// releaseStartupMemory is called once the agent is up. The infisical
// binary carries the server, the CLI and the agent; starting it runs the
// init code of every package and the kernel maps those code and read-only
// data pages (with fault-around, 64 KiB at a time). None of them is needed
// again by an idle agent. Dropping the binary's read-only mappings with
// MADV_DONTNEED returns them to the page cache: the agent faults back in
// only the pages it actually runs, so its resident set is its working set.
// The writable data segment is never touched (that would lose state), and
// the heap is returned to the OS with FreeOSMemory.
func releaseStartupMemory() {
	debug.FreeOSMemory()
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe {
			continue
		}
		perms := fields[1]
		if perms != "r-xp" && perms != "r--p" {
			continue // never the writable (private, copied-on-write) data
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
