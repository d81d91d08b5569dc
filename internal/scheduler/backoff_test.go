package scheduler

import (
	"errors"
	"testing"
	"time"
)

func TestRetryBackoff(t *testing.T) {
	var nilB *retryBackoff
	if !nilB.allow("x", time.Now()) {
		t.Fatal("a nil backoff must allow everything")
	}
	b := &retryBackoff{first: time.Minute, max: 5 * time.Minute}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fail := errors.New("boom")
	if !b.allow("s", t0) {
		t.Fatal("a secret that never failed must be allowed")
	}
	// Waits after 1, 2, 3, 4 failures: 1m, 2m, 4m, then capped at 5m.
	at := t0
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		b.record("s", at, fail)
		if b.allow("s", at.Add(wait-time.Second)) {
			t.Errorf("failure %d: allowed before %v passed", i+1, wait)
		}
		if !b.allow("s", at.Add(wait)) {
			t.Errorf("failure %d: not allowed after %v", i+1, wait)
		}
		if !b.allow("other", at) {
			t.Errorf("another secret is held back by this one's failures")
		}
		at = at.Add(wait)
	}
	b.record("s", at, nil)
	if !b.allow("s", at) {
		t.Error("a success must reset the backoff")
	}
}
