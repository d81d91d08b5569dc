// Package scheduler decides which secrets are due for rotation and runs
// their rotations: at start and on every tick, it pages through the store's
// secrets, picks those whose next rotation date has passed or whose
// rotation is incomplete (AWSPENDING on a version that is not AWSCURRENT,
// which is how a rotation in flight when a process died is found and
// resumed), and rotates them with bounded concurrency. A secret whose
// rotation keeps failing is retried with exponential backoff, so that it
// neither hammers its service nor floods the notification channels.
//
// Memory is flat in the number of secrets: the store is read one page at a
// time, only due secrets are held while they rotate, and the scheduler
// remembers nothing of a secret but its run of failures.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

// Defaults.
const (
	DefaultConcurrency = 4
	DefaultBackoffMax  = time.Hour
	pageSize           = 100
)

// RotateFunc rotates one due secret. d is the secret as the listing shows
// it (ListSecrets may omit the version map: read the secret when that
// matters).
type RotateFunc func(ctx context.Context, d *store.Description) error

// Config configures a Scheduler. Store is required, and Rotate for Run
// and Pass.
type Config struct {
	Store  store.Store
	Rotate RotateFunc
	// Concurrency bounds the rotations run at once; DefaultConcurrency
	// when zero.
	Concurrency int
	// BackoffFirst is the wait after a secret's first failure (doubling
	// after each further one up to BackoffMax); no backoff when zero.
	BackoffFirst, BackoffMax time.Duration
	Now                      func() time.Time
	Log                      *slog.Logger
	// Later, when set, picks the due secrets a pass rotates after all the
	// others (see PassWith).
	Later func(d *store.Description) bool
}

// Scheduler runs due rotations. It is safe for concurrent use, but passes
// should not overlap: Run never overlaps its own.
type Scheduler struct {
	cfg   Config
	retry *retryBackoff
}

// New returns a Scheduler.
func New(cfg Config) *Scheduler {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{cfg: cfg}
	if cfg.BackoffFirst > 0 {
		max := cfg.BackoffMax
		if max <= 0 {
			max = DefaultBackoffMax
		}
		s.retry = &retryBackoff{first: cfg.BackoffFirst, max: max}
	}
	return s
}

// IsDue reports whether a secret with rotation enabled is due at now: its
// next rotation date has passed, or a rotation of it is incomplete.
func IsDue(d *store.Description, now time.Time) bool {
	if !d.RotationEnabled {
		return false
	}
	pend := d.VersionWithStage(store.Pending)
	if pend != "" && pend != d.VersionWithStage(store.Current) {
		return true
	}
	return !d.NextRotationDate.IsZero() && !now.Before(d.NextRotationDate)
}

// Result is the outcome of one secret's rotation in a pass.
type Result struct {
	Name, ARN string
	Err       error
	// Skipped: the pass ended (its context was cancelled) before the
	// rotation started.
	Skipped bool
}

// Failures returns how many times in a row the rotation of the secret
// arn failed in this scheduler, and when it will be tried again.
func (s *Scheduler) Failures(arn string) (int, time.Time) { return s.retry.failures(arn) }

// Pass rotates every secret that is due (every secret with rotation
// enabled, with all), and gives each outcome to report, one at a time, as
// rotations end. It returns how many rotations it started; err is a
// failure to list the store, after which the pass stops.
func (s *Scheduler) Pass(ctx context.Context, all bool, report func(Result)) (started int, err error) {
	return s.PassWith(ctx, all, s.cfg.Rotate, report)
}

// ErrNotDue is what a RotateFunc returns for a secret it finds is not due
// after all (a kind whose credential is still fresh): the pass neither
// counts nor reports it.
var ErrNotDue = errors.New("not due")

// PassWith is Pass with rotate in place of Config.Rotate.
//
// Secrets for which Config.Later is true are rotated after every other
// rotation of the pass has ended, so that they see what those rotations
// wrote (a kind that reads another secret's value).
func (s *Scheduler) PassWith(ctx context.Context, all bool, rotate RotateFunc, report func(Result)) (started int, err error) {
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises report and guards notDue
	notDue := 0
	emit := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		if report != nil {
			report(r)
		}
	}
	launch := func(d store.Description, now time.Time) {
		if ctx.Err() != nil {
			emit(Result{Name: d.Name, ARN: d.ARN, Err: errors.New("interrupted before it started"), Skipped: true})
			return
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			emit(Result{Name: d.Name, ARN: d.ARN, Err: errors.New("interrupted before it started"), Skipped: true})
			return
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := safely(ctx, rotate, &d)
			if errors.Is(err, ErrNotDue) {
				mu.Lock()
				notDue++
				mu.Unlock()
				return
			}
			s.retry.record(d.ARN, now, err)
			emit(Result{Name: d.Name, ARN: d.ARN, Err: err})
		}()
	}
	type deferred struct {
		d   store.Description
		now time.Time
	}
	var later []deferred
	finish := func() int {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return started - notDue
	}
	in := store.ListSecretsInput{MaxResults: pageSize}
	for {
		page, err := s.cfg.Store.ListSecrets(ctx, in)
		if err != nil {
			return finish(), fmt.Errorf("list secrets to rotate: %w", err)
		}
		// The time after the listing: a store may compute a secret's next
		// rotation date as it lists it (the kube store makes a secret
		// without a schedule due at once).
		now := s.cfg.Now()
		for i := range page.Secrets {
			d := page.Secrets[i]
			if !d.RotationEnabled || (!all && !IsDue(&d, now)) || !s.retry.allow(d.ARN, now) {
				continue
			}
			if s.cfg.Later != nil && s.cfg.Later(&d) {
				later = append(later, deferred{d, now})
				continue
			}
			launch(d, now)
		}
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	wg.Wait()
	for _, l := range later {
		launch(l.d, l.now)
	}
	return finish(), nil
}

// rotate runs one rotation; a panic (a bug in a kind) fails that rotation
// instead of the process.
func safely(ctx context.Context, rotate RotateFunc, d *store.Description) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v; please report it", p)
		}
	}()
	return rotate(ctx, d)
}

// Run runs a pass at once and then every interval until ctx ends, logging
// each outcome; passes never overlap.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_, err := s.Pass(ctx, false, func(r Result) {
			switch {
			case r.Err == nil:
				s.cfg.Log.Info("scheduled rotation done", "secret", r.ARN)
			case ctx.Err() == nil:
				s.cfg.Log.Error("scheduled rotation failed", "secret", r.ARN, "error", r.Err)
			}
		})
		if err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("scheduled rotations", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
