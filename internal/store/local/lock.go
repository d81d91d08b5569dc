package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotorhq/rotor/internal/store"
)

// LockRotation takes the rotation lock of a secret, which another process
// or goroutine cannot take until unlock is called or the holding process
// dies. It does not wait: when the lock is held it fails at once with
// store.ErrRotationInProgress.
//
// A file store locks <store>.locks/<sha256 of the ARN>.lock with flock on a
// file descriptor of its own, so the kernel releases the lock with the
// process. The lock files are never removed (removing a lock file while
// another process opens it would let two holders in).
func (s *Store) LockRotation(ctx context.Context, secretID string) (unlock func(), err error) {
	arn, name, err := s.resolve(ctx, secretID)
	if err != nil {
		return nil, err
	}
	return s.lockRotation(arn, name)
}

// LockWrite takes the rotation lock of a secret for a write that is not a
// rotation. While other writes of the secret hold it, it waits for them, in
// turn, until ctx is done; when a rotation holds it, it fails at once with
// store.ErrRotationInProgress.
//
// Writers queue first on a lock of their own: in this process on a channel
// per secret, across processes on a flock of <store>.locks/<sha256 of the
// ARN>.write, polled, since a blocking flock cannot be given up when ctx
// ends. Only the holder of the write lock tries the rotation lock, and it
// lets the rotation lock go before the write lock; so a writer that finds
// the rotation lock taken finds it taken by a rotation.
func (s *Store) LockWrite(ctx context.Context, secretID string) (unlock func(), err error) {
	arn, name, err := s.resolve(ctx, secretID)
	if err != nil {
		return nil, err
	}
	leave, err := s.queueWrite(ctx, arn)
	if err != nil {
		return nil, err
	}
	release := leave
	if s.file != nil {
		fd, err := s.lockFile(arn, name, ".write")
		if err != nil {
			leave()
			return nil, err
		}
		if err := flockWait(ctx, fd); err != nil {
			fd.Close()
			leave()
			return nil, fmt.Errorf("wait for another write of %s: %w", name, err)
		}
		release = func() {
			_ = flock(fd, unix.LOCK_UN)
			fd.Close()
			leave()
		}
	}
	rotUnlock, err := s.lockRotation(arn, name)
	if err != nil {
		release()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			rotUnlock()
			release()
		})
	}, nil
}

// resolve returns the ARN and name of a secret.
func (s *Store) resolve(ctx context.Context, secretID string) (arn, name string, err error) {
	err = s.view(ctx, secretID, func(tx *txn) error {
		r, err := tx.find(secretID)
		if err != nil {
			return err
		}
		arn, name = r.ARN, r.Name
		return nil
	})
	return arn, name, err
}

// lockRotation takes the rotation lock of arn without waiting.
func (s *Store) lockRotation(arn, name string) (func(), error) {
	if s.file == nil {
		return s.lockMemory(arn, name)
	}
	fd, err := s.lockFile(arn, name, ".lock")
	if err != nil {
		return nil, err
	}
	if err := flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		fd.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, inProgress(name)
		}
		return nil, fmt.Errorf("lock rotation of %s (%s): %w", name, fd.Name(), err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = flock(fd, unix.LOCK_UN)
			fd.Close()
		})
	}, nil
}

// lockFile opens <store>.locks/<sha256 of arn><ext>.
func (s *Store) lockFile(arn, name, ext string) (*os.File, error) {
	dir := rotationDir(s.file.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create rotation lock directory: %w", err)
	}
	sum := sha256.Sum256([]byte(arn))
	p := filepath.Join(dir, hex.EncodeToString(sum[:])+ext)
	fd, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock of %s: %w", name, err)
	}
	return fd, nil
}

// flockWait takes an exclusive flock of fd, polling until it is free or ctx
// is done.
func flockWait(ctx context.Context, fd *os.File) error {
	wait := 100 * time.Microsecond
	for {
		err := flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// queueWrite waits, until ctx is done, for the writes of arn in this process
// that came first; leave lets the next one in.
func (s *Store) queueWrite(ctx context.Context, arn string) (leave func(), err error) {
	s.locksMu.Lock()
	if s.writers == nil {
		s.writers = make(map[string]*writeQueue)
	}
	q := s.writers[arn]
	if q == nil {
		q = &writeQueue{turn: make(chan struct{}, 1)}
		s.writers[arn] = q
	}
	q.n++
	s.locksMu.Unlock()
	done := func() {
		s.locksMu.Lock()
		if q.n--; q.n == 0 {
			delete(s.writers, arn)
		}
		s.locksMu.Unlock()
	}
	select {
	case q.turn <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-q.turn
			done()
		})
	}, nil
}

// writeQueue is the writes of one secret waiting in this process: n of
// them, the one holding turn writing.
type writeQueue struct {
	turn chan struct{}
	n    int
}

func (s *Store) lockMemory(arn, name string) (func(), error) {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	if s.memLocks[arn] {
		return nil, inProgress(name)
	}
	s.memLocks[arn] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			s.locksMu.Lock()
			delete(s.memLocks, arn)
			s.locksMu.Unlock()
		})
	}, nil
}

func inProgress(name string) error {
	return store.Errorf(store.ErrRotationInProgress,
		"another rotation of %s is in progress (a lock held by a process that died is released with it)", name)
}
