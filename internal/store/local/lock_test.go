package local

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

func TestRotationLockInProcess(t *testing.T) {
	for name, s := range map[string]*Store{"memory": NewMemory(Config{}), "file": openWith(t, Config{})} {
		t.Run(name, func(t *testing.T) {
			arn := mustCreate(t, s, "app/key", "v")
			other := mustCreate(t, s, "app/other", "v")
			unlock, err := s.LockRotation(t.Context(), "app/key")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.LockRotation(t.Context(), arn) // by ARN: the same secret
			if store.CodeOf(err) != store.ErrRotationInProgress || !strings.Contains(err.Error(), "another rotation of app/key is in progress") {
				t.Fatalf("second LockRotation: %v", err)
			}
			unlockOther, err := s.LockRotation(t.Context(), other)
			if err != nil {
				t.Fatalf("another secret's lock: %v", err)
			}
			unlockOther()
			unlock()
			unlock() // idempotent
			unlock, err = s.LockRotation(t.Context(), arn)
			if err != nil {
				t.Fatalf("LockRotation after unlock: %v", err)
			}
			unlock()
			if _, err := s.LockRotation(t.Context(), "missing"); store.CodeOf(err) != store.ErrNotFound {
				t.Fatalf("LockRotation of a missing secret: %v", err)
			}
		})
	}
}

// Two Stores on one file in one process are as separate as two processes.
func TestRotationLockTwoStores(t *testing.T) {
	a := openWith(t, Config{})
	b, err := Open(Config{Path: a.Path(), Key: a.file.key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustCreate(t, a, "k", "v")
	unlock, err := a.LockRotation(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockRotation(t.Context(), "k"); store.CodeOf(err) != store.ErrRotationInProgress {
		t.Fatalf("LockRotation from the second store: %v", err)
	}
	unlock()
	unlock, err = b.LockRotation(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// Writes of one secret from many goroutines, through two Stores on one file
// (as two processes would), all get the lock, one at a time.
func TestLockWriteSerialises(t *testing.T) {
	a := openWith(t, Config{})
	b, err := Open(Config{Path: a.Path(), Key: a.file.key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mem := NewMemory(Config{})
	for name, stores := range map[string][]*Store{"file": {a, b}, "memory": {mem}} {
		t.Run(name, func(t *testing.T) {
			arn := mustCreate(t, stores[0], "app/key", "v")
			var inside, most atomic.Int32
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for i := range 32 {
				s := stores[i%len(stores)]
				wg.Go(func() {
					for range 10 {
						unlock, err := s.LockWrite(t.Context(), arn)
						if err != nil {
							errs <- err
							return
						}
						n := inside.Add(1)
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						time.Sleep(50 * time.Microsecond)
						inside.Add(-1)
						unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("LockWrite: %v", err)
			}
			if m := most.Load(); m != 1 {
				t.Errorf("%d writers held the lock at once", m)
			}
			if len(stores[0].writers) != 0 {
				t.Errorf("write queues left behind: %v", stores[0].writers)
			}
		})
	}
}

// A write waits for writes, not for rotations: while a rotation holds the
// lock it is refused at once; a rotation is refused while a write holds it.
func TestLockWriteAndRotation(t *testing.T) {
	a := openWith(t, Config{})
	b, err := Open(Config{Path: a.Path(), Key: a.file.key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustCreate(t, a, "k", "v")
	for name, s := range map[string]*Store{"same store": a, "other store": b} {
		t.Run(name, func(t *testing.T) {
			unlock, err := a.LockRotation(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.LockWrite(t.Context(), "k"); store.CodeOf(err) != store.ErrRotationInProgress {
				t.Fatalf("LockWrite during a rotation: %v", err)
			}
			unlock()
			unlockW, err := s.LockWrite(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.LockRotation(t.Context(), "k"); store.CodeOf(err) != store.ErrRotationInProgress {
				t.Fatalf("LockRotation during a write: %v", err)
			}
			unlockW()
			unlock, err = a.LockRotation(t.Context(), "k")
			if err != nil {
				t.Fatalf("LockRotation after the write: %v", err)
			}
			unlock()
		})
	}
}

// A write waiting for another gives up when its context ends.
func TestLockWriteContext(t *testing.T) {
	a := openWith(t, Config{})
	b, err := Open(Config{Path: a.Path(), Key: a.file.key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustCreate(t, a, "k", "v")
	unlock, err := a.LockWrite(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Store{"same store": a, "other store": b} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		_, err := s.LockWrite(ctx, "k")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: LockWrite behind another write: %v", name, err)
		}
	}
	unlock()
	for name, s := range map[string]*Store{"same store": a, "other store": b} {
		unlock, err := s.LockWrite(t.Context(), "k")
		if err != nil {
			t.Fatalf("%s: LockWrite after the wait was given up: %v", name, err)
		}
		unlock()
	}
	if len(a.writers) != 0 || len(b.writers) != 0 {
		t.Errorf("write queues left behind")
	}
}
