package scanner_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infisical-go/engine/daemons/cli/scanner"
)

// genTree writes about totalBytes of source-like text in files of
// fileBytes under dir, with one planted key every plantEvery files, and
// returns how many keys it planted. The content is deterministic.
func genTree(t testing.TB, dir string, totalBytes, fileBytes, plantEvery int) int {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"func", "return", "value", "config", "handler", "request", "context", "err", "nil",
		"client", "server", "buffer", "index", "result", "options", "string", "int", "for", "range", "if"}
	hex := "0123456789abcdef"
	planted := 0
	var b strings.Builder
	for i := 0; i*fileBytes < totalBytes; i++ {
		b.Reset()
		for b.Len() < fileBytes {
			switch rng.IntN(10) {
			case 0:
				// A hash-like constant: high entropy, not a secret.
				b.WriteString("\tchecksum := \"")
				for j := 0; j < 40; j++ {
					b.WriteByte(hex[rng.IntN(16)])
				}
				b.WriteString("\"\n")
			case 1:
				b.WriteString("\t// ")
				for j := 0; j < 8; j++ {
					b.WriteString(words[rng.IntN(len(words))] + " ")
				}
				b.WriteString("\n")
			default:
				b.WriteString("\t")
				for j := 0; j < 6; j++ {
					b.WriteString(words[rng.IntN(len(words))])
					b.WriteString([]string{" ", ".", "(", ", ", " := "}[rng.IntN(5)])
				}
				fmt.Fprintf(&b, "%d)\n", rng.IntN(100000))
			}
		}
		if plantEvery > 0 && i%plantEvery == 0 {
			fmt.Fprintf(&b, "\tawsKey := \"AKIA%s\"\n", randUpper(rng, 16))
			planted++
		}
		sub := filepath.Join(dir, fmt.Sprintf("pkg%03d", i/100))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file%05d.go", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return planted
}

func randUpper(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(out)
}

func dirSize(t testing.TB, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkScanDirectory measures the directory scan (the library path of
// `infisical scan --no-git`) on a generated 10 MB tree.
//
//	go test ./daemons/cli/scanner -run '^$' -bench ScanDirectory
func BenchmarkScanDirectory(b *testing.B) {
	dir := b.TempDir()
	planted := genTree(b, dir, 10<<20, 100<<10, 10)
	cfg, err := scanner.DefaultConfig()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(dirSize(b, dir))
	b.ResetTimer()
	for b.Loop() {
		res, err := scanner.Scan(context.Background(), cfg, scanner.Options{Source: dir, Mode: scanner.ModeDir})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Findings) != planted {
			b.Fatalf("%d findings, planted %d", len(res.Findings), planted)
		}
	}
}

// TestScanThroughputVsGitleaks generates a 100 MB tree and times, on the
// same tree: this package's directory scan in-process, the `infisical scan
// --no-git` binary, and the gitleaks v8.30.1 CLI (`gitleaks dir`) installed
// with `go install` into a temporary GOBIN. Run it with
//
//	INFISICAL_SCAN_BENCH=1 go test ./daemons/cli/scanner -run ScanThroughput -v
//
// and, for both tools built with RE2 (as gitleaks' release binaries are),
//
//	INFISICAL_SCAN_BENCH=1 INFISICAL_SCAN_BENCH_TAGS=gore2regex go test -tags gore2regex ./daemons/cli/scanner -run ScanThroughput -v
func TestScanThroughputVsGitleaks(t *testing.T) {
	if os.Getenv("INFISICAL_SCAN_BENCH") == "" {
		t.Skip("set INFISICAL_SCAN_BENCH=1 to run the 100 MB throughput comparison")
	}
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	planted := genTree(t, tree, 100<<20, 100<<10, 50)
	size := dirSize(t, tree)
	mb := float64(size) / (1 << 20)
	t.Logf("tree: %.1f MB in %d files, %d planted keys", mb, (100<<20)/(100<<10), planted)

	cfg, err := scanner.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	// INFISICAL_SCAN_BENCH_TAGS=gore2regex builds both tools with RE2
	// (the in-process figure keeps this test binary's own build tags).
	tags := os.Getenv("INFISICAL_SCAN_BENCH_TAGS")
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-tags", tags, "-trimpath", "-o", filepath.Join(bin, "infisical"), "../../infisical")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build infisical: %v\n%s", err, out)
	}
	install := exec.Command("go", "install", "-tags", tags, "github.com/zricethezav/gitleaks/v8@v8.30.1")
	install.Dir = dir // outside this module
	install.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install gitleaks: %v\n%s", err, out)
	}

	// The machine may be shared: runs alternate between the tools, and
	// CPU time (user+system) is reported beside wall time, as it is far
	// less sensitive to other load. The best of the rounds counts.
	type measure struct{ wall, cpu time.Duration }
	better := func(a, b measure) measure {
		if a.cpu == 0 || (b.cpu > 0 && b.cpu < a.cpu) {
			return b
		}
		return a
	}
	library := func() measure {
		var before, after syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		start := time.Now()
		res, err := scanner.Scan(context.Background(), cfg, scanner.Options{Source: tree, Mode: scanner.ModeDir})
		wall := time.Since(start)
		syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != planted {
			t.Fatalf("library scan: %d findings, planted %d", len(res.Findings), planted)
		}
		cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
		return measure{wall, cpu}
	}
	process := func(name string, args ...string) measure {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return measure{wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	}
	var lib, ours, theirs measure
	for round := 0; round < 2; round++ {
		theirs = better(theirs, process("gitleaks", "dir", tree, "--no-banner", "--log-level", "error", "--report-path", filepath.Join(dir, "gitleaks.json")))
		ours = better(ours, process("infisical", "scan", "--no-git", "--silent", "--source", tree, "--report-path", filepath.Join(dir, "ours.json")))
		lib = better(lib, library())
	}
	t.Logf("%-36s %8s %10s %12s", "", "wall", "CPU", "MB/CPU-s")
	for _, r := range []struct {
		name string
		m    measure
	}{
		{"scanner.Scan (in-process library)", lib},
		{"infisical scan --no-git (binary)", ours},
		{"gitleaks dir v8.30.1 (binary)", theirs},
	} {
		t.Logf("%-36s %7.1fs %9.1fs %12.2f", r.name, r.m.wall.Seconds(), r.m.cpu.Seconds(), mb/r.m.cpu.Seconds())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "gitleaks.json"))
	if n := strings.Count(string(raw), `"RuleID"`); n != planted {
		t.Errorf("gitleaks found %d, planted %d", n, planted)
	}
	raw, _ = os.ReadFile(filepath.Join(dir, "ours.json"))
	if n := strings.Count(string(raw), `"RuleID"`); n != planted {
		t.Errorf("infisical scan found %d, planted %d", n, planted)
	}
}
