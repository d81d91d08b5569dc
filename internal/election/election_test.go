package election_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/go-logr/logr"
	"github.com/rotorhq/rotor/internal/election"
	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/kubetest"
)

func TestMain(m *testing.M) {
	klog.SetLogger(logr.Discard()) // client-go's elector logs every acquisition
	kubetest.Main(m)
}

// periods are an election's timings, short to keep the tests short.
type periods struct{ lease, renew, retry time.Duration }

var short = periods{lease: 2 * time.Second, renew: 1300 * time.Millisecond, retry: 250 * time.Millisecond}

// tally counts the candidates of one test that lead at once.
type tally struct {
	mu      sync.Mutex
	leading int
	most    int
}

func (tl *tally) add(n int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.leading += n
	tl.most = max(tl.most, tl.leading)
}

func (tl *tally) max() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.most
}

// candidate is one elector of a test and what it went through.
type candidate struct {
	id      string
	tl      *tally
	leading atomic.Bool
	mu      sync.Mutex
	started []time.Time // the start of each term
	stopped []time.Time // and its end
	leaders []string    // what OnNewLeader was told
	cancel  context.CancelFunc
	done    chan struct{} // closed when it campaigns no more and leads no more
}

func newCandidate(id string, tl *tally) *candidate {
	return &candidate{id: id, tl: tl, done: make(chan struct{})}
}

// lead is the candidate's OnStartedLeading: it leads until ctx ends.
func (c *candidate) lead(ctx context.Context) {
	c.tl.add(1)
	c.leading.Store(true)
	c.mu.Lock()
	c.started = append(c.started, time.Now())
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	c.stopped = append(c.stopped, time.Now())
	c.mu.Unlock()
	c.leading.Store(false)
	c.tl.add(-1)
}

func (c *candidate) newLeader(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leaders = append(c.leaders, id)
}

func (c *candidate) terms() (started, stopped []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.started...), append([]time.Time(nil), c.stopped...)
}

func (c *candidate) sawLeader(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.leaders {
		if l == id {
			return true
		}
	}
	return false
}

// stop ends the candidate's campaign and waits until it leads no more.
func (c *candidate) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not stop", c.id)
	}
}

// env is one test's API server namespace and Lease.
type env struct {
	srv   *kubetest.Server
	ns    string
	lease string
}

func newEnv(t *testing.T) *env {
	srv := kubetest.Need(t)
	return &env{srv: srv, ns: srv.Namespace(t, "election"), lease: "leader"}
}

// ours starts a candidate with this package's elector, campaigning again
// after each term as rotor server does, through cfg (the admin's when nil).
func (e *env) ours(t *testing.T, c *candidate, p periods, release bool, cfg *rest.Config, now func() time.Time) *candidate {
	t.Helper()
	if cfg == nil {
		cfg = e.srv.Config
	}
	kc, err := kubeclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	el, err := election.New(election.Config{Leases: kc.Leases(e.ns), Name: e.lease, Identity: c.id,
		LeaseDuration: p.lease, RenewDeadline: p.renew, RetryPeriod: p.retry, ReleaseOnCancel: release,
		OnStartedLeading: c.lead, OnStoppedLeading: func() {}, OnNewLeader: c.newLeader, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		for ctx.Err() == nil {
			el.Run(ctx)
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

// clientGo starts a candidate with client-go's leaderelection.
func (e *env) clientGo(t *testing.T, c *candidate, p periods, release bool) *candidate {
	t.Helper()
	lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Name: e.lease, Namespace: e.ns},
		Client: e.srv.Client(t).CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: c.id}}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{Lock: lock, Name: e.lease,
		LeaseDuration: p.lease, RenewDeadline: p.renew, RetryPeriod: p.retry, ReleaseOnCancel: release,
		Callbacks: leaderelection.LeaderCallbacks{OnStartedLeading: c.lead, OnStoppedLeading: func() {}, OnNewLeader: c.newLeader}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		for ctx.Err() == nil {
			le.Run(ctx)
		}
		// client-go does not wait for OnStartedLeading to return.
		for c.leading.Load() {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

func waitLeading(t *testing.T, c *candidate, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for !c.leading.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not lead within %v", c.id, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Now()
}

// standsBy checks that c does not lead for d, and learns that leader does.
func standsBy(t *testing.T, c *candidate, leader string, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if c.leading.Load() {
			t.Fatalf("%s leads while %s holds the Lease", c.id, leader)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !c.sawLeader(leader) {
		t.Errorf("%s was not told that %s leads", c.id, leader)
	}
}

// TestOneLeader: of three candidates on one Lease one leads, and the others
// stand by for several lease durations while it renews, although their
// clocks are an hour ahead of and behind the leader's: the Lease's
// renewTime is never compared with a local clock.
func TestOneLeader(t *testing.T) {
	e := newEnv(t)
	tl := &tally{}
	a := e.ours(t, newCandidate("a", tl), short, true, nil, nil)
	waitLeading(t, a, 5*time.Second)
	ahead := e.ours(t, newCandidate("ahead", tl), short, true, nil, func() time.Time { return time.Now().Add(time.Hour) })
	behind := e.ours(t, newCandidate("behind", tl), short, true, nil, func() time.Time { return time.Now().Add(-time.Hour) })
	done := make(chan struct{})
	go func() { defer close(done); standsBy(t, behind, "a", 2*short.lease) }()
	standsBy(t, ahead, "a", 2*short.lease)
	<-done
	if !a.leading.Load() {
		t.Fatal("the leader stopped leading while renewing")
	}
	if n := tl.max(); n != 1 {
		t.Fatalf("%d candidates led at once", n)
	}
	l, err := e.srv.Client(t).CoordinationV1().Leases(e.ns).Get(t.Context(), e.lease, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != "a" || *l.Spec.LeaseDurationSeconds != 2 || *l.Spec.LeaseTransitions != 0 ||
		l.Spec.AcquireTime == nil || l.Spec.RenewTime == nil || !l.Spec.RenewTime.After(l.Spec.AcquireTime.Time) {
		t.Fatalf("Lease spec %+v: want holder a, 2 seconds, no transitions, renewed since acquired", l.Spec)
	}
}

// TestReleaseHandsOver: a leader whose context ends releases the Lease, and
// a standby takes it at its next attempt, not a lease duration later.
func TestReleaseHandsOver(t *testing.T) {
	e := newEnv(t)
	tl := &tally{}
	p := periods{lease: 4 * time.Second, renew: 2 * time.Second, retry: 250 * time.Millisecond}
	a := e.ours(t, newCandidate("a", tl), p, true, nil, nil)
	waitLeading(t, a, 5*time.Second)
	b := e.ours(t, newCandidate("b", tl), p, true, nil, nil)
	standsBy(t, b, "a", p.lease/2)
	stopped := time.Now()
	a.stop(t)
	took := waitLeading(t, b, p.lease).Sub(stopped)
	// The next attempt comes within (1+JitterFactor)×RetryPeriod.
	if limit := time.Duration((1+election.JitterFactor)*float64(p.retry)) + 500*time.Millisecond; took > limit {
		t.Errorf("the standby led %v after the leader stopped, want within %v", took, limit)
	}
	if n := tl.max(); n != 1 {
		t.Fatalf("%d candidates led at once", n)
	}
	l, err := e.srv.Client(t).CoordinationV1().Leases(e.ns).Get(t.Context(), e.lease, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *l.Spec.HolderIdentity != "b" || *l.Spec.LeaseTransitions != 1 || *l.Spec.LeaseDurationSeconds != 4 {
		t.Fatalf("Lease spec %+v: want holder b after one transition, 4 seconds", l.Spec)
	}
}

// flaky passes requests on until fail is set; then it fails them, or holds
// them until they are cancelled.
type flaky struct {
	rt   http.RoundTripper
	fail atomic.Bool
	hang bool

	mu        sync.Mutex
	lastWrite time.Time // when the last write that took effect was answered
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if !f.fail.Load() {
		resp, err := f.rt.RoundTrip(r)
		if err == nil && r.Method != http.MethodGet && resp.StatusCode < 300 {
			f.mu.Lock()
			f.lastWrite = time.Now()
			f.mu.Unlock()
		}
		return resp, err
	}
	if f.hang {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return nil, errors.New("the API server is unreachable")
}

// TestRenewFailure: a leader that cannot reach the API server (its requests
// fail, or hang) stops leading within the renew deadline, before a standby
// takes the Lease over once it ran out.
func TestRenewFailure(t *testing.T) {
	for _, hang := range []bool{false, true} {
		name := "failing"
		if hang {
			name = "hanging"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			tl := &tally{}
			p := periods{lease: 3 * time.Second, renew: 1500 * time.Millisecond, retry: 250 * time.Millisecond}
			cfg := rest.CopyConfig(e.srv.Config)
			f := &flaky{hang: hang}
			cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { f.rt = rt; return f }
			a := e.ours(t, newCandidate("a", tl), p, true, cfg, nil)
			waitLeading(t, a, 5*time.Second)
			b := e.ours(t, newCandidate("b", tl), p, true, nil, nil)
			standsBy(t, b, "a", p.lease/2)
			f.fail.Store(true)
			failed := time.Now()
			bLed := waitLeading(t, b, 2*p.lease)
			_, stopped := a.terms()
			if len(stopped) != 1 {
				t.Fatalf("the leader's terms ended %d times, want once", len(stopped))
			}
			if took := stopped[0].Sub(failed); took > p.renew+200*time.Millisecond {
				t.Errorf("the leader stopped %v after it could no longer renew, want within the renew deadline %v", took, p.renew)
			}
			if !stopped[0].Before(bLed) {
				t.Errorf("the standby led at %v, before the leader stopped at %v", bLed, stopped[0])
			}
			// The standby counts the lease duration from when it saw the
			// last renewal, which was answered before the failures began
			// (a loaded machine may have renewed less often than every
			// retry period).
			f.mu.Lock()
			last := f.lastWrite
			f.mu.Unlock()
			if took := bLed.Sub(last); took < p.lease-100*time.Millisecond {
				t.Errorf("the standby took the Lease %v after the leader's last renewal, want after the lease duration %v", took, p.lease)
			}
			if n := tl.max(); n != 1 {
				t.Fatalf("%d candidates led at once", n)
			}
		})
	}
}

// TestClientGoCompatibility: this package's candidates and client-go's
// share a Lease: neither leads while the other holds it, each takes over at
// once when the other releases it, and a lease duration after the other
// stopped renewing it.
func TestClientGoCompatibility(t *testing.T) {
	type start func(e *env, t *testing.T, c *candidate, p periods, release bool) *candidate
	ours := func(e *env, t *testing.T, c *candidate, p periods, release bool) *candidate {
		return e.ours(t, c, p, release, nil, nil)
	}
	clientGo := (*env).clientGo
	for _, c := range []struct {
		name          string
		first, second start
	}{
		{"client-go leads", clientGo, ours},
		{"rotor leads", ours, clientGo},
	} {
		for _, release := range []bool{true, false} {
			name := c.name + "/expires"
			if release {
				name = c.name + "/releases"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				tl := &tally{}
				a := c.first(e, t, newCandidate("first", tl), short, release)
				waitLeading(t, a, 5*time.Second)
				b := c.second(e, t, newCandidate("second", tl), short, release)
				standsBy(t, b, "first", 3*short.lease/2)
				stopped := time.Now()
				a.stop(t)
				// The first's last renewal: the second counts the lease
				// duration from when it saw it (the first may have renewed
				// less often than every retry period on a loaded machine).
				var renewed time.Time
				if l, err := e.srv.Client(t).CoordinationV1().Leases(e.ns).Get(context.Background(), e.lease, metav1.GetOptions{}); err == nil &&
					l.Spec.RenewTime != nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == a.id {
					renewed = l.Spec.RenewTime.Time
				} else if !release {
					t.Fatalf("the stopped first no longer holds the Lease: %v", err)
				}
				led := waitLeading(t, b, 2*short.lease)
				took := led.Sub(stopped)
				next := time.Duration((1 + election.JitterFactor) * float64(short.retry))
				if release && took > next+500*time.Millisecond {
					t.Errorf("the second led %v after the first released the Lease, want within %v", took, next)
				}
				// client-go's candidate compares Lease records with their
				// times in whole seconds, so it sees a renewal only when
				// renewTime's second changes, and may take over up to a
				// second before a lease duration after the last renewal.
				early := 100 * time.Millisecond
				if c.name == "rotor leads" {
					early += time.Second
				}
				if !release && (led.Sub(renewed) < short.lease-early || took > short.lease+next+500*time.Millisecond) {
					t.Errorf("the second led %v after the first stopped renewing and %v after its last renewal, want about the lease duration %v",
						took, led.Sub(renewed), short.lease)
				}
				if n := tl.max(); n != 1 {
					t.Fatalf("%d candidates led at once", n)
				}
			})
		}
	}
}

// TestLeaseSecondsRoundUp: a lease duration that is not whole seconds is
// written rounded up, so the others never wait less than the leader goes
// on leading without renewing.
func TestLeaseSecondsRoundUp(t *testing.T) {
	e := newEnv(t)
	a := e.ours(t, newCandidate("a", &tally{}), periods{lease: 1500 * time.Millisecond, renew: 900 * time.Millisecond, retry: 200 * time.Millisecond}, true, nil, nil)
	waitLeading(t, a, 5*time.Second)
	l, err := e.srv.Client(t).CoordinationV1().Leases(e.ns).Get(context.Background(), e.lease, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != 2 {
		t.Errorf("leaseDurationSeconds = %v, want 2 for 1.5s", l.Spec.LeaseDurationSeconds)
	}
}
