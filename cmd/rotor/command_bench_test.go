package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// BenchmarkCommand runs rotor's commands as whole processes (the built
// binary, as a user or a script runs it) on an embedded store of 1 to
// 100,000 secrets, and reports each command's time (ms/command) and peak
// RSS:
//
//	go test -run '^$' -bench Command -benchtime 20x ./cmd/rotor
//
// Set ROTOR_BENCH_SIZES (e.g. "1,1000") to run fewer sizes.
func BenchmarkCommand(b *testing.B) {
	bin, peakrss := filepath.Join(b.TempDir(), "rotor"), filepath.Join(b.TempDir(), "peakrss")
	for out, pkg := range map[string]string{bin: ".", peakrss: "./testdata/peakrss"} {
		if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, msg)
		}
	}
	sizes := []int{1, 1000, 10000, 100000}
	if v := os.Getenv("ROTOR_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			var n int
			fmt.Sscan(f, &n)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		dir := b.TempDir()
		path := filepath.Join(dir, "store.db")
		key := make([]byte, 32)
		for i := range key {
			key[i] = byte(i)
		}
		fill(b, path, key, n)
		env := append(os.Environ(), "ROTOR_STORE_PATH="+path, local.KeyEnv+"="+base64.StdEncoding.EncodeToString(key),
			"HOME="+dir, "XDG_DATA_HOME="+dir)
		created := 0
		for _, c := range []struct {
			name string
			args func() []string
		}{
			{"get", func() []string { return []string{"get", fmt.Sprintf("bench/%06d", n/2)} }},
			{"create", func() []string {
				created++
				return []string{"create", fmt.Sprintf("new/%06d", created), "--value", "v"}
			}},
			{"list", func() []string { return []string{"list", "--output", "json"} }},
			{"rotate-due", func() []string { return []string{"rotate", "--due"} }},
		} {
			b.Run(fmt.Sprintf("%s/secrets=%d", c.name, n), func(b *testing.B) {
				var peak int64
				var took time.Duration
				runs := 0
				for b.Loop() {
					kib, d := runMeasured(b, env, peakrss, bin, c.args()...)
					peak, took, runs = max(peak, kib), took+d, runs+1
				}
				b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
				b.ReportMetric(float64(took.Microseconds())/1000/float64(runs), "ms/command")
			})
		}
	}
}

// fill creates n secrets through the store's API, from 64 goroutines so
// that their writes are group committed.
func fill(b *testing.B, path string, key []byte, n int) {
	b.Helper()
	s, err := local.Open(local.Config{Path: path, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				v := secret.New(fmt.Sprintf(`{"username":"svc-%06d","password":"%032d"}`, i, i))
				_, err := s.CreateSecret(ctx, store.CreateSecretInput{Name: fmt.Sprintf("bench/%06d", i), Value: &v,
					Tags: []store.Tag{{Key: "rotor:kind", Value: "password"}}})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// runMeasured runs bin with args through peakrss (testdata/peakrss) and
// returns the command's peak RSS in KiB and its wall time (ns/op also
// counts starting peakrss). Go starts a process with vfork,
// and Linux carries the RSS high-water mark of the memory a process had
// before its exec into its own: a command the benchmark started itself
// would report the benchmark's RSS (which grows with the store it filled)
// when that is larger than its own. peakrss is small.
func runMeasured(b *testing.B, env []string, peakrss, bin string, args ...string) (int64, time.Duration) {
	b.Helper()
	cmd := exec.Command(peakrss, append([]string{bin}, args...)...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("rotor %v: %v\n%.500s", args, err, stderr.String())
	}
	var kib, ns int64
	if _, err := fmt.Sscan(string(out), &kib, &ns); err != nil || kib <= 0 || ns <= 0 {
		b.Fatalf("peak RSS and time of rotor %v: %q %v", args, out, err)
	}
	return kib, time.Duration(ns)
}

// BenchmarkInit runs `rotor version` with GODEBUG=inittrace=1 and reports
// the time package initialisation takes before main runs (the sum of the
// runtime's per-package figures) and the minor page faults of the whole
// process, and logs the modules that take most:
//
//	go test -run '^$' -bench Init -benchtime 20x -v ./cmd/rotor
func BenchmarkInit(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "rotor")
	// Built as make build and the release images build it.
	if out, err := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build rotor: %v\n%s", err, out)
	}
	var total, faults float64
	byModule := map[string]float64{}
	runs := 0
	for b.Loop() {
		cmd := exec.Command(bin, "version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("rotor version: %v\n%s", err, stderr.String())
		}
		runs++
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			faults += float64(ru.Minflt)
		}
		// init k8s.io/api/core/v1 @12 ms, 0.44 ms clock, 9336 bytes, 57 allocs
		for line := range strings.Lines(stderr.String()) {
			f := strings.Fields(line)
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			var ms float64
			if _, err := fmt.Sscan(f[4], &ms); err != nil {
				b.Fatalf("cannot read %q: %v", line, err)
			}
			total += ms
			byModule[moduleOf(f[1])] += ms
		}
	}
	if runs == 0 || total == 0 {
		b.Fatal("no inittrace lines read")
	}
	b.ReportMetric(total/float64(runs), "init-ms")
	b.ReportMetric(faults/float64(runs), "minflt/op")
	mods := make([]string, 0, len(byModule))
	for m := range byModule {
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(x, y string) int { return cmp.Compare(byModule[y], byModule[x]) })
	for _, m := range mods[:min(12, len(mods))] {
		b.Logf("%6.2f ms  %s", byModule[m]/float64(runs), m)
	}
}

// moduleOf shortens a package path to what names its module (or, for the
// AWS SDK, its service): k8s.io/client-go/kubernetes/scheme → k8s.io/client-go.
func moduleOf(pkg string) string {
	parts := strings.Split(pkg, "/")
	switch {
	case !strings.Contains(parts[0], "."):
		return "std"
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/") && len(parts) > 4:
		return strings.Join(parts[:5], "/")
	case parts[0] == "github.com" || parts[0] == "golang.org" || parts[0] == "sigs.k8s.io":
		return strings.Join(parts[:min(3, len(parts))], "/")
	default:
		return strings.Join(parts[:min(2, len(parts))], "/")
	}
}
