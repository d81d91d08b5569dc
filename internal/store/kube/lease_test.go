package kube_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// unreachable fails every request while on is set, as an API server that
// cannot be reached does.
type unreachable struct {
	rt http.RoundTripper
	on atomic.Bool
}

func (u *unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	if u.on.Load() {
		return nil, errors.New("the API server is unreachable")
	}
	return u.rt.RoundTrip(r)
}

// lockStore is a store with a 3-second rotation lock, its client's requests
// failing while the returned switch is on, and a secret "db".
func lockStore(t *testing.T, srv *kubetest.Server, ns string) (*kube.Store, *unreachable) {
	t.Helper()
	s, u := clockStore(t, srv, ns, nil)
	v := secret.New("pw-lease-12345678")
	if _, err := s.CreateSecret(t.Context(), store.CreateSecretInput{Name: "db", Value: &v}); err != nil {
		t.Fatal(err)
	}
	return s, u
}

// clockStore is a store of ns with a 3-second rotation lock whose clock is
// now (time.Now when nil), its client's requests failing while the
// returned switch is on.
func clockStore(t *testing.T, srv *kubetest.Server, ns string, now func() time.Time) (*kube.Store, *unreachable) {
	t.Helper()
	cfg := rest.CopyConfig(srv.Config)
	u := &unreachable{}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { u.rt = rt; return u }
	c, err := kubeclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := kube.New(kube.Config{Client: c, Namespace: ns, LockLease: 3 * time.Second, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s, u
}

// lockDB takes the rotation lock of "db"; it is released when the test ends.
func lockDB(t *testing.T, s *kube.Store) (context.Context, func()) {
	t.Helper()
	held, unlock, err := s.LockRotationLease(t.Context(), "db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	return held, unlock
}

func waitDone(t *testing.T, ctx context.Context, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ctx.Done():
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("the lock's context did not end within %v", within)
		return 0
	}
}

// TestLockHeldWhileRenewed: a renewed lock's context lasts beyond the
// lease's duration and ends, not as lost, at unlock, which deletes the
// Lease.
func TestLockHeldWhileRenewed(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "lease")
	s, _ := lockStore(t, srv, ns)
	held, unlock := lockDB(t, s)
	select {
	case <-held.Done():
		t.Fatalf("the lock was lost while renewed: %v", context.Cause(held))
	case <-time.After(4 * time.Second):
	}
	unlock()
	if held.Err() == nil || errors.Is(context.Cause(held), store.ErrLockLost) {
		t.Errorf("after unlock: %v, %v; want the context ended, not as lost", held.Err(), context.Cause(held))
	}
	if _, err := srv.Client(t).CoordinationV1().Leases(ns).Get(t.Context(), "db"+kube.LeaseSuffix, metav1.GetOptions{}); err == nil {
		t.Error("unlock left the Lease")
	}
}

// TestLockLostWhenNotRenewed: a holder that cannot reach the API server
// loses the lock after two thirds of the lease, before anyone may take it
// over, and its context says so.
func TestLockLostWhenNotRenewed(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "lease")
	s, u := lockStore(t, srv, ns)
	held, _ := lockDB(t, s)
	l, err := srv.Client(t).CoordinationV1().Leases(ns).Get(t.Context(), "db"+kube.LeaseSuffix, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.on.Store(true)
	took := waitDone(t, held, 4*time.Second)
	if !errors.Is(context.Cause(held), store.ErrLockLost) {
		t.Fatalf("cause %v, want %v", context.Cause(held), store.ErrLockLost)
	}
	// The others take the lock over a whole lease after its last renewal.
	if last := time.Since(l.Spec.RenewTime.Time); took > 2*time.Second+500*time.Millisecond || last >= 3*time.Second {
		t.Errorf("lost %v after the failures began and %v after the last renewal; want within 2s, before the 3s lease ends", took, last)
	}
}

// TestLockLostWhenTaken: a holder whose Lease another process wrote loses
// the lock at its next renewal.
func TestLockLostWhenTaken(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "lease")
	s, _ := lockStore(t, srv, ns)
	held, unlock := lockDB(t, s)
	leases := srv.Client(t).CoordinationV1().Leases(ns)
	l, err := leases.Get(t.Context(), "db"+kube.LeaseSuffix, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := "another-rotor"
	l.Spec.HolderIdentity = &other
	if _, err := leases.Update(t.Context(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDone(t, held, 2*time.Second)
	if !errors.Is(context.Cause(held), store.ErrLockLost) {
		t.Fatalf("cause %v, want %v", context.Cause(held), store.ErrLockLost)
	}
	unlock()
	if got, err := leases.Get(t.Context(), "db"+kube.LeaseSuffix, metav1.GetOptions{}); err != nil || *got.Spec.HolderIdentity != other {
		t.Errorf("unlock of a lost lock touched the other's Lease: %v", err)
	}
}

// TestLockTakeoverIgnoresHolderClock: whether a lock's holder stopped
// renewing it is read from the API server's clock, not from the renewTime
// the holder's clock wrote. A live holder whose clock is ten minutes behind,
// or stopped, keeps its lock; a dead one whose clock is ten minutes ahead loses it a
// lease (and the second of the server's time resolution) after its last
// renewal, not ten minutes later.
func TestLockTakeoverIgnoresHolderClock(t *testing.T) {
	srv := kubetest.Need(t)
	ctx := t.Context()
	skewed := func(by time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(by) } }

	stopped := time.Now()
	for _, c := range []struct {
		name  string
		clock func() time.Time
	}{
		{"holder ten minutes behind, alive", skewed(-10 * time.Minute)},
		{"holder's clock stopped, alive", func() time.Time { return stopped }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := srv.Namespace(t, "skew")
			lockStore(t, srv, ns) // the secret "db"
			holder, _ := clockStore(t, srv, ns, c.clock)
			held, _ := lockDB(t, holder)
			other, _ := clockStore(t, srv, ns, nil)
			// Past the first write's lease: only the renewals keep it live.
			time.Sleep(5 * time.Second)
			if _, err := other.LockRotation(ctx, "db"); store.CodeOf(err) != store.ErrRotationInProgress {
				t.Fatalf("a live holder's lock: %v, want %s", err, store.ErrRotationInProgress)
			}
			if held.Err() != nil {
				t.Fatalf("the holder lost its lock: %v", context.Cause(held))
			}
		})
	}

	t.Run("holder ahead, dead", func(t *testing.T) {
		ns := srv.Namespace(t, "skew")
		lockStore(t, srv, ns) // the secret "db"
		holder, cut := clockStore(t, srv, ns, skewed(10*time.Minute))
		lockDB(t, holder)
		other, _ := clockStore(t, srv, ns, nil)
		if _, err := other.LockRotation(ctx, "db"); store.CodeOf(err) != store.ErrRotationInProgress {
			t.Fatalf("a fresh lock: %v, want %s", err, store.ErrRotationInProgress)
		}
		cut.on.Store(true) // the holder can no longer renew: as if it died
		died := time.Now()
		for {
			unlock, err := other.LockRotation(ctx, "db")
			if err == nil {
				unlock()
				break
			}
			if store.CodeOf(err) != store.ErrRotationInProgress {
				t.Fatal(err)
			}
			if time.Since(died) > 10*time.Second {
				t.Fatalf("a dead holder's lock, renewTime ten minutes ahead, not taken over after %v: %v", time.Since(died), err)
			}
			time.Sleep(250 * time.Millisecond)
		}
		// Its last renewal was at most a third of the lease before it died.
		if took := time.Since(died); took < 2*time.Second {
			t.Errorf("taken over %v after the holder's last chance to renew, before its 3s lease could end", took)
		}
	})
}
