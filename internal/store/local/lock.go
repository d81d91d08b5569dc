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
	var arn, name string
	err = s.run(ctx, secretID, func(tx *txn) error {
		r, err := tx.find(secretID)
		if err != nil {
			return err
		}
		arn, name = r.ARN, r.Name
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.file == nil {
		return s.lockMemory(arn, name)
	}
	dir := rotationDir(s.file.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create rotation lock directory: %w", err)
	}
	sum := sha256.Sum256([]byte(arn))
	p := filepath.Join(dir, hex.EncodeToString(sum[:])+".lock")
	fd, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open rotation lock of %s: %w", name, err)
	}
	if err := flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		fd.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, inProgress(name)
		}
		return nil, fmt.Errorf("lock rotation of %s (%s): %w", name, p, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = flock(fd, unix.LOCK_UN)
			fd.Close()
		})
	}, nil
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
