package scheduler_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/scheduler"
)

// BenchmarkPass10k is one scheduler pass over 10,000 scheduled secrets on
// the in-memory store: with none due (the steady state of a server's
// check) and with every one due. It reports the process's peak RSS, which
// includes the store itself.
func BenchmarkPass10k(b *testing.B) {
	f := newFleet(b, 10000)
	b.Run("none-due", func(b *testing.B) {
		s := scheduler.New(scheduler.Config{Store: f.st, Rotate: f.rotate})
		b.ReportAllocs()
		for b.Loop() {
			if n, err := s.Pass(context.Background(), false, nil); err != nil || n != 0 {
				b.Fatalf("%d started, %v", n, err)
			}
		}
		reportRSS(b)
	})
	b.Run("all-due", func(b *testing.B) {
		// Each iteration pushes the clock past the last pass's rotations.
		shift := time.Duration(0)
		s := scheduler.New(scheduler.Config{Store: f.st, Concurrency: 4,
			Now: func() time.Time { return time.Now().Add(shift) }, Rotate: f.rotate})
		b.ReportAllocs()
		for b.Loop() {
			shift += 31 * 24 * time.Hour
			if n, err := s.Pass(context.Background(), false, func(r scheduler.Result) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}); err != nil || n != 10000 {
				b.Fatalf("%d started, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/secret")
		reportRSS(b)
	})
}

func reportRSS(b *testing.B) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}
