package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// leaseStore's rotation lock is a lease that is lost (once) right after the
// first pending value is written, as a kube store's is when it cannot renew
// its Lease.
type leaseStore struct {
	*local.Store
	lose func(error)
	lost bool
}

func (s *leaseStore) LockRotationLease(ctx context.Context, id string) (context.Context, func(), error) {
	unlock, err := s.Store.LockRotation(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	held, lose := context.WithCancelCause(ctx)
	s.lose = lose
	return held, func() { lose(context.Canceled); unlock() }, nil
}

func (s *leaseStore) PutSecretValue(ctx context.Context, in store.PutSecretValueInput) (*store.VersionRef, error) {
	ref, err := s.Store.PutSecretValue(ctx, in)
	if err == nil && !s.lost && s.lose != nil {
		s.lost = true
		s.lose(store.ErrLockLost)
	}
	return ref, err
}

var _ store.LeaseLocker = (*leaseStore)(nil)

// A rotation whose lock is lost stops before its next step, says why, still
// records and notifies its failure, and the next rotation resumes it with
// nothing orphaned.
func TestRotationStopsWhenItsLockIsLost(t *testing.T) {
	ctx := context.Background()
	st := &leaseStore{Store: local.NewMemory(local.Config{})}
	tg := rotatortest.NewTarget()
	var notices []engine.Notice
	eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(rotatortest.TargetKind(tg, false)),
		Notify: func(ctx context.Context, n engine.Notice) {
			if ctx.Err() != nil {
				t.Errorf("the %s notice was given an ended context: %v", n.Outcome, ctx.Err())
			}
			notices = append(notices, n)
		}})
	v := tg.Issue("initial")
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "app/leased", Value: &v, Tags: []store.Tag{kindTag}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN})
	if !errors.Is(err, store.ErrLockLost) {
		t.Fatalf("rotation with its lock lost: %v, want %v", err, store.ErrLockLost)
	}
	if len(notices) != 1 || notices[0].Outcome != engine.Failed {
		t.Fatalf("notices %+v, want one failure", notices)
	}
	d, err := st.DescribeSecret(ctx, ref.ARN)
	if err != nil {
		t.Fatal(err)
	}
	pend := d.VersionWithStage(store.Pending)
	if pend == "" || pend == d.VersionWithStage(store.Current) {
		t.Fatalf("the stopped rotation left AWSPENDING %q, AWSCURRENT %q: want a pending version to resume", pend, d.VersionWithStage(store.Current))
	}
	res, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN})
	if err != nil || !res.Resumed || res.Token != pend {
		t.Fatalf("the next rotation: %+v, %v; want it to resume %s", res, err, pend)
	}
	// The initial credential stays valid as AWSPREVIOUS and the new one is
	// current: nothing else was issued.
	if live, err := tg.Live(ctx); err != nil || len(live) != 2 {
		t.Errorf("live credentials %v, %v; want the previous and the current only", live, err)
	}
}
