package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/store"
)

// LeaseDuration is how long a rotation lock outlives a holder that stopped
// renewing it (a process that died): another rotor may take it over then.
const LeaseDuration = 60 * time.Second

// LeaseSuffix ends the name of a secret's rotation lock, a Lease.
const LeaseSuffix = ".rotor-lock"

var _ store.RotationLocker = (*Store)(nil)

// LockRotation takes the rotation lock of a secret: a Lease <object
// name>.rotor-lock in the namespace, renewed while it is held and deleted by
// unlock. Another process's live lease makes it fail with
// store.ErrRotationInProgress; a lease its holder stopped renewing for
// LeaseDuration (the holder died), on the API server's clock, is taken over.
func (s *Store) LockRotation(ctx context.Context, secretID string) (func(), error) {
	_, unlock, err := s.LockRotationLease(ctx, secretID)
	return unlock, err
}

var _ store.LeaseLocker = (*Store)(nil)

// LockRotationLease is LockRotation, and returns a context that ends, with
// the cause store.ErrLockLost, when the lock is lost: when its Lease was not
// renewed for two thirds of its duration (the others take it over after a
// whole one), or when another process wrote or deleted it. Renewals are
// every third of the duration, and retried every thirtieth after a failure.
func (s *Store) LockRotationLease(ctx context.Context, secretID string) (context.Context, func(), error) {
	secretID = s.canon(secretID)
	unlockLocal, err := s.Store.LockRotation(ctx, secretID)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.DescribeSecret(ctx, secretID)
	if err != nil {
		unlockLocal()
		return nil, nil, err
	}
	name := ObjectName(d.Name) + LeaseSuffix
	holder := holderID()
	sent := time.Now() // no earlier than the write that takes the lock
	lease, err := s.b.acquire(ctx, name, holder, d.Name)
	if err != nil {
		unlockLocal()
		return nil, nil, err
	}
	held, lose := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	done := make(chan struct{})
	lost := false
	go func() {
		defer close(done)
		period, retry, within := s.b.lease/3, max(s.b.lease/30, 100*time.Millisecond), s.b.lease*2/3
		renewed := sent
		next := renewed.Add(period)
		for {
			t := time.NewTimer(min(time.Until(next), time.Until(renewed.Add(within))))
			select {
			case <-stop:
				t.Stop()
				return
			case <-t.C:
			}
			if time.Since(renewed) >= within {
				lost = true
				s.b.log.Error("the rotation lock was not renewed in time: the rotation stops", "lease", s.b.ns+"/"+name, "within", within)
				lose(fmt.Errorf("%w: Lease %s/%s not renewed for %s", store.ErrLockLost, s.b.ns, name, within))
				return
			}
			start := time.Now()
			rctx, cancel := context.WithDeadline(context.Background(), renewed.Add(within))
			l, err := s.b.renew(rctx, lease)
			cancel()
			switch {
			case err == nil:
				lease, renewed, next = l, start, start.Add(period)
			case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
				lost = true
				s.b.log.Error("another process wrote the rotation lock: the rotation stops", "lease", s.b.ns+"/"+name)
				lose(fmt.Errorf("%w: Lease %s/%s was written by another process", store.ErrLockLost, s.b.ns, name))
				return
			default:
				s.b.log.Warn("could not renew the rotation lock", "lease", s.b.ns+"/"+name, "error", err)
				next = time.Now().Add(retry)
			}
		}
	}()
	var once sync.Once
	return held, func() {
		once.Do(func() {
			close(stop)
			<-done
			lose(context.Canceled)
			if !lost {
				rv := lease.ResourceVersion
				err := s.b.c.Leases(s.b.ns).Delete(context.Background(), name,
					metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
				if err != nil && !apierrors.IsNotFound(err) {
					s.b.log.Warn("could not release the rotation lock; it expires by itself", "lease", s.b.ns+"/"+name, "error", err)
				}
			}
			unlockLocal()
		})
	}, nil
}

func holderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("rotor-%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (b *backend) acquire(ctx context.Context, name, holder, secretName string) (*coordinationv1.Lease, error) {
	leases := b.c.Leases(b.ns)
	secs := int32((b.lease + time.Second - 1) / time.Second)
	for attempt := 0; attempt < 5; attempt++ {
		now := metav1.NewMicroTime(b.now())
		spec := coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
		l, err := leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{managedBy: "rotor"}}, Spec: spec}, metav1.CreateOptions{})
		if err == nil {
			return l, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, apiError("create Lease "+b.ns+"/"+name, err)
		}
		var serverNow time.Time
		cur, err := leases.Get(kubeclient.WithServerDate(ctx, &serverNow), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, apiError("read Lease "+b.ns+"/"+name, err)
		}
		if !expired(cur, serverNow, b.now()) {
			return nil, inProgress(secretName, b.ns, cur)
		}
		cur.Spec = spec
		l, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return l, nil
		}
		if !apierrors.IsConflict(err) {
			return nil, apiError("take over Lease "+b.ns+"/"+name, err)
		}
	}
	return nil, store.Errorf(store.ErrRotationInProgress, "another rotation of %s is taking the lock (Lease %s/%s)", secretName, b.ns, name)
}

// inProgress is the refusal to lock a secret whose Lease l another holder
// keeps: it names the holder and the Lease's own duration, which is the
// holder's setting, not this process's.
func inProgress(secretName, ns string, l *coordinationv1.Lease) error {
	holder := "another process"
	if h := l.Spec.HolderIdentity; h != nil && *h != "" {
		holder = *h
	}
	lease := "a lease"
	if d := l.Spec.LeaseDurationSeconds; d != nil {
		lease = fmt.Sprintf("%ds", *d)
	}
	return store.Errorf(store.ErrRotationInProgress,
		"another rotation of %s is in progress (Lease %s/%s, held by %s; if that process died, the lock is free %s after its last renewal)",
		secretName, ns, l.Name, holder, lease)
}

// expired tells whether a Lease's holder stopped renewing it a whole
// LeaseDurationSeconds ago. The holder's renewTime is its own clock's, so
// when it can, expired compares two times of the API server's clock
// instead: when the Lease was last written (its managedFields' latest time,
// which the server sets on every write that changes it, as each renewal
// does) and serverNow, the Date of the answer that read it. Both are to the
// second, so the lease counts as expired only a second later than its
// duration; a holder whose clock is behind or ahead of this process's is
// then neither taken over while it renews nor waited for beyond its
// lease. Without those times (an API server that keeps no managed fields),
// expired compares renewTime with localNow, as client-go's leader election
// does.
func expired(l *coordinationv1.Lease, serverNow, localNow time.Time) bool {
	if l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	d := time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	if written, ok := lastWritten(l); ok && !serverNow.IsZero() {
		return serverNow.Sub(written) > d+time.Second
	}
	if l.Spec.RenewTime == nil {
		return true
	}
	return localNow.After(l.Spec.RenewTime.Add(d))
}

// lastWritten is the latest time of a Lease's managed fields: when the API
// server last stored a change to it.
func lastWritten(l *coordinationv1.Lease) (time.Time, bool) {
	var last time.Time
	for _, mf := range l.ManagedFields {
		if mf.Time != nil && mf.Time.After(last) {
			last = mf.Time.Time
		}
	}
	return last, !last.IsZero()
}

func (b *backend) renew(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	next := l.DeepCopy()
	// Later than the last renewTime, whatever the clock says: a write that
	// changes nothing would not move the Lease's managed-fields time,
	// which is what the others read to see that it is renewed. The API
	// keeps renewTime to the microsecond.
	at := b.now().Truncate(time.Microsecond)
	if prev := l.Spec.RenewTime; prev != nil && !at.After(prev.Time) {
		at = prev.Add(time.Microsecond)
	}
	now := metav1.NewMicroTime(at)
	next.Spec.RenewTime = &now
	return b.c.Leases(b.ns).Update(ctx, next, metav1.UpdateOptions{})
}
