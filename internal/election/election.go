// Package election elects one leader among processes on a
// coordination.k8s.io/v1 Lease, as client-go's tools/leaderelection does
// and compatible with it on the wire: the Lease's holderIdentity,
// leaseDurationSeconds, acquireTime, renewTime and leaseTransitions mean
// the same to both, so a candidate of either kind leaves a Lease the other
// holds alone, and takes it over when the other releases it or stops
// renewing it.
//
// A candidate takes the Lease when it does not exist, when it names no
// holder (its holder released it), or when its record has not changed for
// its leaseDurationSeconds as this candidate's own clock measures from the
// moment it saw the record change: times written by other machines are
// never compared with this one's, so skewed clocks do not hand the Lease
// over early. Every write is conditional on the resourceVersion read, so of
// two candidates that try at once one wins and the other sees a conflict.
//
// The leader renews the Lease every RetryPeriod. One that has not renewed
// it for RenewDeadline, shorter than the lease duration the others wait,
// stops leading before another can take over; one that finds another
// holding it stops at once.
package election

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// JitterFactor spreads the candidates' attempts: a candidate waits
// between RetryPeriod and (1+JitterFactor)×RetryPeriod between two, as
// client-go's do.
const JitterFactor = 1.2

// Leases reads and writes the Leases of one namespace (kubeclient's Leases,
// or client-go's typed LeaseInterface).
type Leases interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error)
	Create(ctx context.Context, l *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error)
	Update(ctx context.Context, l *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error)
}

// Config configures an Elector.
type Config struct {
	// Leases holds the Lease Name.
	Leases Leases
	Name   string
	// Identity names this candidate in the Lease; unique among them.
	Identity string
	// LeaseDuration is how long the others wait, after they last saw the
	// Lease change, before they take it from a leader that stopped
	// renewing it. It is written in whole seconds, rounded up.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader goes on leading without
	// renewing the Lease; shorter than LeaseDuration.
	RenewDeadline time.Duration
	// RetryPeriod is how often the leader renews the Lease and a candidate
	// tries to take it (the latter with jitter); RenewDeadline must exceed
	// JitterFactor×RetryPeriod.
	RetryPeriod time.Duration
	// ReleaseOnCancel has a leader whose context ends give the Lease up
	// (no holder, a duration of one second), so that another candidate
	// takes it at its next attempt instead of after LeaseDuration.
	ReleaseOnCancel bool
	// OnStartedLeading runs while this candidate leads; its context ends
	// when it stops leading. Run waits for it to return.
	OnStartedLeading func(context.Context)
	// OnStoppedLeading runs when Run returns, whether or not it led.
	OnStoppedLeading func()
	// OnNewLeader, if set, runs when the Lease names a holder other than
	// the one last seen (this candidate included), on Run's goroutine: it
	// must not block.
	OnNewLeader func(identity string)
	// Logger gets the errors of requests to the API server; discarded
	// when nil.
	Logger *slog.Logger
	// Now is this candidate's clock; time.Now by default.
	Now func() time.Time
}

// Elector campaigns for one Lease. Run it again after it returns to
// campaign again; it remembers what it saw of the Lease.
type Elector struct {
	cfg Config

	lease    *coordinationv1.Lease // as last read or written
	observed record                // the Lease's record as last seen changed
	seenAt   time.Time             // when, by cfg.Now
	reported string                // the holder last given to OnNewLeader
}

// record is what a Lease says of its election.
type record struct {
	holder              string
	durationSeconds     int32
	acquired, renewed   int64 // Unix microseconds
	transitions         int32
	preferred, strategy string
}

func recordOf(spec *coordinationv1.LeaseSpec) record {
	var r record
	if spec.HolderIdentity != nil {
		r.holder = *spec.HolderIdentity
	}
	if spec.LeaseDurationSeconds != nil {
		r.durationSeconds = *spec.LeaseDurationSeconds
	}
	if spec.AcquireTime != nil {
		r.acquired = spec.AcquireTime.UnixMicro()
	}
	if spec.RenewTime != nil {
		r.renewed = spec.RenewTime.UnixMicro()
	}
	if spec.LeaseTransitions != nil {
		r.transitions = *spec.LeaseTransitions
	}
	if spec.PreferredHolder != nil {
		r.preferred = *spec.PreferredHolder
	}
	if spec.Strategy != nil {
		r.strategy = string(*spec.Strategy)
	}
	return r
}

// New returns an Elector, or an error if cfg is incomplete or its periods
// do not nest (RetryPeriod×JitterFactor < RenewDeadline < LeaseDuration).
func New(cfg Config) (*Elector, error) {
	switch {
	case cfg.Leases == nil || cfg.Name == "":
		return nil, errors.New("leader election: no Lease")
	case cfg.Identity == "":
		return nil, errors.New("leader election: no identity")
	case cfg.OnStartedLeading == nil || cfg.OnStoppedLeading == nil:
		return nil, errors.New("leader election: OnStartedLeading and OnStoppedLeading are required")
	case cfg.LeaseDuration < time.Second:
		return nil, errors.New("leader election: the lease duration must be at least 1s")
	case cfg.RetryPeriod <= 0 || cfg.RenewDeadline <= 0:
		return nil, errors.New("leader election: the renew deadline and retry period must be positive")
	case cfg.LeaseDuration <= cfg.RenewDeadline:
		return nil, errors.New("leader election: the lease duration must exceed the renew deadline")
	case cfg.RenewDeadline <= time.Duration(JitterFactor*float64(cfg.RetryPeriod)):
		return nil, errors.New("leader election: the renew deadline must exceed the retry period times the jitter factor")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{cfg: cfg}, nil
}

// Run campaigns until this candidate leads, runs OnStartedLeading while it
// does, and returns when it stops leading (it could not renew the Lease in
// time, or another holds it) or ctx ends, after OnStartedLeading returned
// and, with ReleaseOnCancel, the Lease was released. It calls
// OnStoppedLeading last.
func (e *Elector) Run(ctx context.Context) {
	defer e.cfg.OnStoppedLeading()
	renewed, ok := e.acquire(ctx)
	if !ok {
		return
	}
	leadCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.cfg.OnStartedLeading(leadCtx)
	}()
	e.renew(leadCtx, renewed)
	stop()
	<-done
	if e.cfg.ReleaseOnCancel {
		e.release()
	}
}

// acquire tries to take the Lease every RetryPeriod (with jitter) until it
// does or ctx ends, and returns when the write that took it was sent.
func (e *Elector) acquire(ctx context.Context) (time.Time, bool) {
	for {
		actx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
		sent, ok := e.try(actx)
		cancel()
		e.report()
		if ok {
			return sent, true
		}
		wait := e.cfg.RetryPeriod + time.Duration(rand.Float64()*JitterFactor*float64(e.cfg.RetryPeriod))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, false
		case <-t.C:
		}
	}
}

// renew renews the Lease every RetryPeriod until ctx ends, or until it has
// not been renewed for RenewDeadline since renewed, or another holds it.
func (e *Elector) renew(ctx context.Context, renewed time.Time) {
	next := renewed.Add(e.cfg.RetryPeriod)
	for {
		deadline := renewed.Add(e.cfg.RenewDeadline)
		t := time.NewTimer(min(next.Sub(e.cfg.Now()), deadline.Sub(e.cfg.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !e.cfg.Now().Before(deadline) {
			e.cfg.Logger.Warn("could not renew the leader Lease in time", "lease", e.cfg.Name, "renew-deadline", e.cfg.RenewDeadline)
			return
		}
		rctx, cancel := context.WithDeadline(ctx, deadline)
		start := e.cfg.Now()
		sent, ok := e.try(rctx)
		cancel()
		e.report()
		next = start.Add(e.cfg.RetryPeriod)
		switch {
		case ok:
			renewed = sent
		case ctx.Err() != nil:
			return
		case e.observed.holder != "" && e.observed.holder != e.cfg.Identity:
			e.cfg.Logger.Warn("another candidate holds the leader Lease", "lease", e.cfg.Name, "holder", e.observed.holder)
			return
		}
	}
}

// try takes or renews the Lease once, and returns when the write that did
// was sent.
func (e *Elector) try(ctx context.Context) (time.Time, bool) {
	now := e.cfg.Now()
	if e.lease != nil && e.observed.holder == e.cfg.Identity && e.valid(now) {
		// Leading: renew what was last written, without reading it first.
		next := e.lease.DeepCopy()
		next.Spec = e.spec(now, acquireTime(e.lease), e.observed.transitions)
		if l, err := e.cfg.Leases.Update(ctx, next, metav1.UpdateOptions{}); err == nil {
			e.wrote(l)
			return now, true
		} else if !apierrors.IsConflict(err) {
			e.logError("renew", err)
		}
		// Changed by someone else: read it and decide again.
	}
	cur, err := e.cfg.Leases.Get(ctx, e.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l, err := e.cfg.Leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: e.cfg.Name},
			Spec:       e.spec(now, metav1.NewMicroTime(now), 0),
		}, metav1.CreateOptions{})
		if err != nil {
			if !apierrors.IsAlreadyExists(err) {
				e.logError("create", err)
			}
			return time.Time{}, false
		}
		e.wrote(l)
		return now, true
	}
	if err != nil {
		e.logError("read", err)
		return time.Time{}, false
	}
	e.lease = cur
	if r := recordOf(&cur.Spec); r != e.observed {
		e.observed, e.seenAt = r, now
	}
	held := e.observed.holder != "" && e.observed.holder != e.cfg.Identity
	if held && e.valid(now) {
		return time.Time{}, false
	}
	// Taking it from another holder (or from none) is a transition.
	acquired, transitions := metav1.NewMicroTime(now), e.observed.transitions+1
	if e.observed.holder == e.cfg.Identity {
		acquired, transitions = acquireTime(cur), e.observed.transitions
	}
	next := cur.DeepCopy()
	next.Spec = e.spec(now, acquired, transitions)
	l, err := e.cfg.Leases.Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		if !apierrors.IsConflict(err) {
			e.logError("update", err)
		}
		return time.Time{}, false
	}
	e.wrote(l)
	return now, true
}

// spec is the record this candidate writes as the holder.
func (e *Elector) spec(now time.Time, acquired metav1.MicroTime, transitions int32) coordinationv1.LeaseSpec {
	// Whole seconds, rounded up: the others must not wait less than the
	// leader goes on leading without renewing.
	holder, secs := e.cfg.Identity, int32((e.cfg.LeaseDuration+time.Second-1)/time.Second)
	renewed := metav1.NewMicroTime(now)
	return coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs,
		AcquireTime: &acquired, RenewTime: &renewed, LeaseTransitions: &transitions}
}

func acquireTime(l *coordinationv1.Lease) metav1.MicroTime {
	if l.Spec.AcquireTime == nil {
		return metav1.MicroTime{}
	}
	return *l.Spec.AcquireTime
}

// valid reports whether the record last seen is still in force at now:
// it changed less than its duration ago.
func (e *Elector) valid(now time.Time) bool {
	return e.seenAt.Add(time.Duration(e.observed.durationSeconds) * time.Second).After(now)
}

// wrote notes the Lease as this candidate's write left it.
func (e *Elector) wrote(l *coordinationv1.Lease) {
	e.lease, e.observed, e.seenAt = l, recordOf(&l.Spec), e.cfg.Now()
}

// report tells OnNewLeader of a holder it was not told of yet.
func (e *Elector) report() {
	if h := e.observed.holder; h != "" && h != e.reported {
		e.reported = h
		if e.cfg.OnNewLeader != nil {
			e.cfg.OnNewLeader(h)
		}
	}
}

// release gives the Lease up if this candidate still holds it: no holder,
// a duration of one second, so that the others take it at once.
func (e *Elector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RenewDeadline)
	defer cancel()
	l := e.lease
	for l != nil && recordOf(&l.Spec).holder == e.cfg.Identity && ctx.Err() == nil {
		now := metav1.NewMicroTime(e.cfg.Now())
		holder, secs, transitions := "", int32(1), recordOf(&l.Spec).transitions
		next := l.DeepCopy()
		next.Spec = coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs,
			AcquireTime: &now, RenewTime: &now, LeaseTransitions: &transitions}
		done, err := e.cfg.Leases.Update(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			e.wrote(done)
			return
		}
		if !apierrors.IsConflict(err) {
			e.logError("release", err)
			return
		}
		// Written by someone else since: release it only if it is still ours.
		if l, err = e.cfg.Leases.Get(ctx, e.cfg.Name, metav1.GetOptions{}); err != nil {
			if !apierrors.IsNotFound(err) {
				e.logError("read", err)
			}
			return
		}
		e.lease = l
	}
}

func (e *Elector) logError(what string, err error) {
	e.cfg.Logger.Warn("leader election: could not "+what+" the Lease", "lease", e.cfg.Name, "error", err)
}
