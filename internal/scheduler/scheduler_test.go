package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/scheduler"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

var kindTag = store.Tag{Key: rotator.TagKind, Value: "target"}

// fleet makes n secrets of the target kind on an in-memory store, each
// rotated once with a 30-day rule, so that none is due now and all are
// due in 31 days.
type fleet struct {
	st  *local.Store
	eng *engine.Engine
	tg  *rotatortest.Target
}

func newFleet(tb testing.TB, n int) *fleet {
	tb.Helper()
	ctx := context.Background()
	f := &fleet{st: local.NewMemory(local.Config{}), tg: rotatortest.NewTarget()}
	f.eng = engine.New(engine.Config{Store: f.st, Kinds: rotator.NewRegistry(rotatortest.TargetKind(f.tg, false))})
	for i := range n {
		v := f.tg.Issue(fmt.Sprint("initial-", i))
		ref, err := f.st.CreateSecret(ctx, store.CreateSecretInput{Name: fmt.Sprintf("fleet/%05d", i), Value: &v, Tags: []store.Tag{kindTag}})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN, Rules: &store.RotationRules{AutomaticallyAfterDays: 30}}); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

func (f *fleet) rotate(ctx context.Context, d *store.Description) error {
	_, err := f.eng.Rotate(ctx, engine.RotateInput{SecretID: d.ARN})
	return err
}

func later(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }

func TestIsDue(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		d    store.Description
		want bool
	}{
		{"rotation off", store.Description{NextRotationDate: now.Add(-time.Hour)}, false},
		{"not yet", store.Description{RotationEnabled: true, NextRotationDate: now.Add(time.Hour)}, false},
		{"date passed", store.Description{RotationEnabled: true, NextRotationDate: now.Add(-time.Hour)}, true},
		{"exactly now", store.Description{RotationEnabled: true, NextRotationDate: now}, true},
		{"no date", store.Description{RotationEnabled: true}, false},
		{"incomplete rotation", store.Description{RotationEnabled: true, NextRotationDate: now.Add(time.Hour),
			VersionIDsToStages: map[string][]string{"a": {store.Current}, "b": {store.Pending}}}, true},
		{"pending on current", store.Description{RotationEnabled: true, NextRotationDate: now.Add(time.Hour),
			VersionIDsToStages: map[string][]string{"a": {store.Current, store.Pending}}}, false},
	}
	for _, c := range cases {
		if got := scheduler.IsDue(&c.d, now); got != c.want {
			t.Errorf("%s: IsDue = %v, want %v", c.name, got, c.want)
		}
	}
}

// A pass over more secrets than a page rotates exactly the due ones, never
// more than Concurrency at once, and every outcome is reported once.
func TestPassConcurrencyAndPages(t *testing.T) {
	f := newFleet(t, 230)
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	seen := map[string]int{}
	s := scheduler.New(scheduler.Config{Store: f.st, Concurrency: 3, Now: later(31 * 24 * time.Hour),
		Rotate: func(ctx context.Context, d *store.Description) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(200 * time.Microsecond)
			return f.rotate(ctx, d)
		}})
	started, err := s.Pass(context.Background(), false, func(r scheduler.Result) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
		mu.Lock()
		seen[r.Name]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if started != 230 || len(seen) != 230 {
		t.Fatalf("started %d, reported %d secrets; want 230", started, len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s reported %d times", name, n)
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3", p)
	}
	// Nothing is due now: the same pass at the real time rotates nothing.
	s = scheduler.New(scheduler.Config{Store: f.st, Rotate: f.rotate})
	if n, err := s.Pass(context.Background(), false, nil); err != nil || n != 0 {
		t.Errorf("a pass with nothing due started %d rotations (%v)", n, err)
	}
	// all rotates every secret with rotation enabled.
	if n, err := s.Pass(context.Background(), true, nil); err != nil || n != 230 {
		t.Errorf("a pass with all started %d rotations (%v), want 230", n, err)
	}
}

// A secret that keeps failing is retried after the backoff, not at every
// pass; a success resets it; a panicking kind fails its rotation only.
func TestBackoffAndPanic(t *testing.T) {
	f := newFleet(t, 2)
	clock := time.Now().Add(31 * 24 * time.Hour)
	var calls atomic.Int32
	broken := "fleet/00000"
	s := scheduler.New(scheduler.Config{Store: f.st, BackoffFirst: time.Minute, Now: func() time.Time { return clock },
		Rotate: func(ctx context.Context, d *store.Description) error {
			if d.Name == broken {
				calls.Add(1)
				panic("a bug in a kind")
			}
			return errors.New("service down")
		}})
	var errs []string
	report := func(r scheduler.Result) {
		if r.Err != nil {
			errs = append(errs, r.Name+": "+r.Err.Error())
		}
	}
	if n, _ := s.Pass(context.Background(), false, report); n != 2 || len(errs) != 2 {
		t.Fatalf("first pass: %d started, errors %v", n, errs)
	}
	if !strings.Contains(strings.Join(errs, "\n"), broken+": internal error: a bug in a kind") {
		t.Errorf("the panic was not reported as the rotation's failure: %v", errs)
	}
	if n, _ := s.Pass(context.Background(), false, nil); n != 0 {
		t.Errorf("a pass inside the backoff started %d rotations", n)
	}
	if fails, next := s.Failures(f.arn(t, broken)); fails != 1 || !next.Equal(clock.Add(time.Minute)) {
		t.Errorf("Failures = %d, %v", fails, next)
	}
	clock = clock.Add(time.Minute)
	if n, _ := s.Pass(context.Background(), false, nil); n != 2 || calls.Load() != 2 {
		t.Errorf("after the backoff: %d started, %d calls of the broken one", n, calls.Load())
	}
	clock = clock.Add(time.Minute) // the second failure doubles the wait
	if n, _ := s.Pass(context.Background(), false, nil); n != 0 {
		t.Errorf("inside the doubled backoff: %d started", n)
	}
}

func (f *fleet) arn(t *testing.T, name string) string {
	d, err := f.st.DescribeSecret(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d.ARN
}

// A rotation that was in flight when the process died (AWSPENDING left on
// a version that is not AWSCURRENT, long before the next rotation date) is
// resumed by the next pass, under its own version id.
func TestPassResumesInterrupted(t *testing.T) {
	f := newFleet(t, 1)
	ctx := context.Background()
	arn := f.arn(t, "fleet/00000")
	tok := engine.NewToken()
	if _, err := f.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: arn, Token: tok}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Step(ctx, engine.Event{Step: engine.StepCreate, SecretID: arn, Token: tok}); err != nil {
		t.Fatal(err)
	}
	// The process "dies" here: the next one starts a scheduler.
	s := scheduler.New(scheduler.Config{Store: f.st, Rotate: f.rotate})
	if n, err := s.Pass(ctx, false, nil); err != nil || n != 1 {
		t.Fatalf("the interrupted rotation was not picked up: %d started (%v)", n, err)
	}
	d, _ := f.st.DescribeSecret(ctx, arn)
	if d.VersionWithStage(store.Current) != tok || d.VersionWithStage(store.Pending) != "" {
		t.Errorf("not resumed under its own version: current %s, pending %s, want %s", d.VersionWithStage(store.Current), d.VersionWithStage(store.Pending), tok)
	}
}

// A cancelled pass starts nothing more and says which secrets it skipped.
func TestPassCancelled(t *testing.T) {
	f := newFleet(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	var skipped, done int
	s := scheduler.New(scheduler.Config{Store: f.st, Concurrency: 1, Now: later(31 * 24 * time.Hour),
		Rotate: func(ctx context.Context, d *store.Description) error { cancel(); return nil }})
	n, err := s.Pass(ctx, false, func(r scheduler.Result) {
		if r.Skipped {
			skipped++
		} else {
			done++
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if n != 1 || done != 1 || skipped != 4 {
		t.Errorf("started %d, done %d, skipped %d; want 1, 1, 4", n, done, skipped)
	}
}

// TestLaterAndNotDue: secrets Later picks rotate after every other one has
// ended; a rotation that answers ErrNotDue is neither counted nor reported.
func TestLaterAndNotDue(t *testing.T) {
	f := newFleet(t, 6)
	var mu sync.Mutex
	var order []string
	rotate := func(ctx context.Context, d *store.Description) error {
		if strings.HasSuffix(d.Name, "5") {
			return scheduler.ErrNotDue
		}
		mu.Lock()
		order = append(order, d.Name)
		mu.Unlock()
		return f.rotate(ctx, d)
	}
	s := scheduler.New(scheduler.Config{Store: f.st, Concurrency: 3, Now: later(31 * 24 * time.Hour),
		Later: func(d *store.Description) bool { return d.Name == "fleet/00000" || d.Name == "fleet/00001" }})
	var reported []string
	n, err := s.PassWith(t.Context(), false, rotate, func(r scheduler.Result) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
		reported = append(reported, r.Name)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || len(reported) != 5 {
		t.Fatalf("started %d, reported %v; want 5 (the not-due one neither counted nor reported)", n, reported)
	}
	if len(order) != 5 {
		t.Fatalf("rotated %v", order)
	}
	for _, name := range order[:3] {
		if name == "fleet/00000" || name == "fleet/00001" {
			t.Fatalf("order %v: a Later secret rotated before the others ended", order)
		}
	}
}
