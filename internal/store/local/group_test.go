package local

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// Operations that arrive while a write syncs run next as one group: their
// changes go to the file in one frame with one fdatasync, each operation
// succeeds or fails on its own, and all are durable when they return.
func TestGroupCommit(t *testing.T) {
	s := openWith(t, Config{})
	path, key := s.Path(), s.file.key
	const n = 16
	for i := range n {
		mustCreate(t, s, fmt.Sprintf("k%02d", i), "v0")
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.file.hook = func(stage string) {
		if stage == "written" {
			once.Do(func() { close(entered); <-release })
		}
	}
	commits := s.file.commits
	put := func(id, val string) error {
		_, err := s.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: id, Value: secret.New(val)})
		return err
	}
	first := make(chan error, 1)
	go func() { first <- put("k00", "first") }()
	<-entered // the first write holds the store, before its fdatasync
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = put(fmt.Sprintf("k%02d", i), "v1") })
	}
	wg.Go(func() { errs[n] = put("missing", "v1") })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.queueMu.Lock()
		queued := len(s.queue)
		s.queueMu.Unlock()
		if queued == n+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d operations queued, want %d", queued, n+1)
		}
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("put k%02d: %v", i, err)
		}
	}
	if store.CodeOf(errs[n]) != store.ErrNotFound {
		t.Errorf("put of a missing secret in the group: %v, want ErrNotFound", errs[n])
	}
	if got := s.file.commits - commits; got != 2 {
		t.Errorf("%d commits for the first write and one group, want 2", got)
	}
	o := openPath(t, path, key)
	for i := range n {
		if got := mustValue(t, o, fmt.Sprintf("k%02d", i)); got != "v1" {
			t.Errorf("k%02d after reopening: %q, want v1", i, got)
		}
	}
}

// When a group's frame cannot be made durable, every operation from its
// first write on fails, and the state is the file's again.
func TestGroupCommitSyncFails(t *testing.T) {
	s := openWith(t, Config{})
	const n = 8
	for i := range n {
		mustCreate(t, s, fmt.Sprintf("k%02d", i), "v0")
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.file.hook = func(stage string) {
		if stage == "written" {
			once.Do(func() { close(entered); <-release })
		}
	}
	put := func(id, val string) error {
		_, err := s.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: id, Value: secret.New(val)})
		return err
	}
	first := make(chan error, 1)
	go func() { first <- put("k00", "first") }()
	<-entered
	s.file.fault = func(op string) error {
		if op == "commit" {
			return errInjected
		}
		return nil
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = put(fmt.Sprintf("k%02d", i), "v1") })
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.queueMu.Lock()
		queued := len(s.queue)
		s.queueMu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d operations queued, want %d", queued, n)
		}
	}
	close(release)
	<-first
	wg.Wait()
	s.file.fault = nil
	for i, err := range errs {
		if err == nil {
			t.Errorf("put k%02d succeeded though its group's commit failed", i)
		}
	}
	for i := 1; i < n; i++ {
		if got := mustValue(t, s, fmt.Sprintf("k%02d", i)); got != "v0" {
			t.Errorf("k%02d after the failed group: %q, want v0", i, got)
		}
	}
}

// Groups of reads alone share the store file with other processes' reads
// (a shared lock): two stores on one file read at the same time, while a
// write waits for both.
func TestReadsShareTheFile(t *testing.T) {
	a := openWith(t, Config{})
	mustCreate(t, a, "s", "v")
	b, err := Open(Config{Path: a.Path(), Key: a.file.key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a.file.hook = func(stage string) {
		if stage == "opened" {
			once.Do(func() { close(entered); <-release })
		}
	}
	held := make(chan error, 1)
	go func() { _, err := a.DescribeSecret(t.Context(), "s"); held <- err }()
	<-entered // a's read holds the store
	read := make(chan error, 1)
	go func() {
		_, err := b.GetSecretValue(t.Context(), store.GetSecretValueInput{SecretID: "s"})
		read <- err
	}()
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("b's read waited for a's")
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := b.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: "s", Value: secret.New("w")})
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("b wrote while a read: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if got := mustValue(t, a, "s"); got != "w" {
		t.Fatalf("a reads %q after b's write", got)
	}
}

// A secret past its recovery window that only reads came across is removed
// from the file when the store is closed (or by the next write): reads
// write nothing themselves.
func TestReadsLeaveExpiredSecretsToTheNextWrite(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s := openWith(t, Config{Now: func() time.Time { return now }})
	path, key := s.Path(), s.file.key
	mustCreate(t, s, "keep", "v")
	mustCreate(t, s, "gone", "v")
	if _, err := s.DeleteSecret(t.Context(), store.DeleteSecretInput{SecretID: "gone", RecoveryWindowInDays: 7}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(8 * 24 * time.Hour)
	commits := s.file.commits
	if _, err := s.DescribeSecret(t.Context(), "gone"); store.CodeOf(err) != store.ErrNotFound {
		t.Fatalf("describe after the window: %v", err)
	}
	if s.file.commits != commits || countEntries(t, s, bucketSecrets) != 2 {
		t.Fatal("a read wrote")
	}
	s.Close()
	s2, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := countEntries(t, s2, bucketSecrets); n != 1 {
		t.Fatalf("%d secrets in the file after close, want 1", n)
	}
	if n := countEntries(t, s2, bucketVersion); n != 1 {
		t.Fatalf("%d version entries in the file after close, want 1", n)
	}
}

// An operation run as a read that tries to write fails, and writes nothing.
func TestReadThatWritesFails(t *testing.T) {
	s := openWith(t, Config{})
	arn := mustCreate(t, s, "s", "v")
	commits := s.file.commits
	err := s.view(t.Context(), "s", func(tx *txn) error {
		r, err := tx.find("s")
		if err != nil {
			return err
		}
		tx.edit(r).Description = "changed by a read"
		return nil
	})
	if store.CodeOf(err) != store.ErrInternal {
		t.Fatalf("a read that writes: %v", err)
	}
	if s.file.commits != commits || describe(t, s, arn).Description != "" {
		t.Fatal("the read's change was written")
	}
}
