package scheduler

import (
	"sync"
	"time"
)

// retryBackoff spaces out the scheduler's retries of a secret whose rotation
// keeps failing: after the first failure it waits first, then twice as long
// after each further failure, up to max. A broken secret then neither
// hammers its service nor floods the notification channels, and the first
// success resets it. A nil *retryBackoff allows everything.
type retryBackoff struct {
	first, max time.Duration

	mu sync.Mutex
	m  map[string]backoffState
}

type backoffState struct {
	fails int
	next  time.Time
}

// allow reports whether secret id may be tried at now.
func (b *retryBackoff) allow(id string, now time.Time) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !now.Before(b.m[id].next)
}

// failures returns how many times in a row secret id failed, and when it
// may be tried again.
func (b *retryBackoff) failures(id string) (int, time.Time) {
	if b == nil {
		return 0, time.Time{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.m[id]
	return st.fails, st.next
}

// record notes the outcome of a try of secret id at now.
func (b *retryBackoff) record(id string, now time.Time, err error) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.m, id)
		return
	}
	if b.m == nil {
		b.m = map[string]backoffState{}
	}
	st := b.m[id]
	st.fails++
	wait := b.first
	for i := 1; i < st.fails && wait < b.max; i++ {
		wait *= 2
	}
	st.next = now.Add(min(wait, b.max))
	b.m[id] = st
}
