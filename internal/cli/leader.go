package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/election"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// Leader election: several rotor server replicas on the kube store elect
// one to run the schedule, on a coordination.k8s.io Lease in the store's
// namespace (internal/election, client-go's protocol); the others serve the
// API (reads, and rotations a client asks for). A leader that dies stops
// renewing, and another replica takes the schedule over once the lease has
// run out (--leader-lease-duration). A leader that cannot renew in time
// (RenewDeadline, two thirds of the duration) stops its schedule first, and
// each rotation also holds its secret's own Lease, so no rotation runs twice
// at once.

// DefaultLeaderLease is the Lease the replicas elect their leader on.
const DefaultLeaderLease = "rotor-scheduler"

// leaderState is what this replica knows of the election.
type leaderState struct {
	mu     sync.Mutex
	leader bool
	holder string
}

func (l *leaderState) get() (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader, l.holder
}

func (l *leaderState) set(leader bool, holder string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leader = leader
	if holder != "" {
		l.holder = holder
	}
}

// leaderIdentity names this replica: the pod's (host) name, the process id
// and a random suffix, so that a restarted process is a new candidate.
func leaderIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "rotor"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b))
}

// runElected runs schedule while this replica leads, campaigning again
// whenever it loses the lease, until ctx ends.
func (r *runner) runElected(ctx context.Context, st *kube.Store, lease string, duration time.Duration, state *leaderState, schedule func(context.Context)) error {
	id := leaderIdentity()
	le, err := election.New(election.Config{
		Leases:          st.Client().Leases(st.Namespace()),
		Name:            lease,
		Identity:        id,
		LeaseDuration:   duration,
		RenewDeadline:   duration * 2 / 3,
		RetryPeriod:     max(duration/5, 200*time.Millisecond),
		ReleaseOnCancel: true,
		OnStartedLeading: func(ctx context.Context) {
			state.set(true, id)
			r.log.Info("leading: this replica runs the schedule", "lease", st.Namespace()+"/"+lease, "identity", id)
			schedule(ctx)
		},
		OnStoppedLeading: func() {
			state.set(false, "")
			if ctx.Err() == nil {
				r.log.Warn("lost the lease: the schedule stopped here", "lease", st.Namespace()+"/"+lease, "identity", id)
			}
		},
		OnNewLeader: func(holder string) {
			if holder != id {
				state.set(false, holder)
				r.log.Info("standing by: another replica runs the schedule", "leader", holder)
			}
		},
		Logger: r.log,
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	r.log.Info("campaigning for the schedule", "lease", st.Namespace()+"/"+lease, "identity", id)
	for ctx.Err() == nil {
		le.Run(ctx) // returns once the schedule stopped: the lease was lost or ctx ended
	}
	return nil
}
