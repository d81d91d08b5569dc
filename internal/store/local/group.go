package local

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

// Group commit. Operations of a file store that arrive while another runs
// wait in a queue; when it is done, the next leader runs all those waiting
// as one group: under one store lock, in one transaction of the database,
// one after another, and the changes of them all go to the file in one
// commit. Each operation still sees the state its predecessors left and
// fails or succeeds on its own (a failed one changes nothing), but none
// returns before the commit that holds its group's changes is durable: a
// read in a group after a write could otherwise return what a power loss
// takes back.

// request is one operation waiting to run.
type request struct {
	fn func(tx *txn) error
	// read is set for an operation that changes nothing (see view).
	read bool
	err  error
	// wake is closed when the request has run (done) or must lead the
	// next group (lead).
	wake       chan struct{}
	done, lead bool
}

// run runs one operation: under the store lock, on up-to-date state, and
// durably written before it returns when it changed anything.
//
// id is the secret the operation is on, "" for all of them; only a Backend
// uses it.
func (s *Store) run(ctx context.Context, id string, fn func(tx *txn) error) error {
	return s.do(ctx, id, &request{fn: fn})
}

// view is run for an operation that changes nothing: a group of such
// operations alone shares the store file with other processes' reads (a
// shared lock, a read-only transaction). LastAccessedDate is not a change
// (see access.go).
func (s *Store) view(ctx context.Context, id string, fn func(tx *txn) error) error {
	return s.do(ctx, id, &request{fn: fn, read: true})
}

func (s *Store) do(ctx context.Context, id string, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.backend != nil {
		return s.runBackend(ctx, id, r.fn)
	}
	if s.file == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.runGroup([]*request{r})
		return r.err
	}
	s.queueMu.Lock()
	if s.leading {
		r.wake = make(chan struct{})
		s.queue = append(s.queue, r)
		s.queueMu.Unlock()
		<-r.wake
		if r.done {
			return r.err
		}
	} else {
		s.leading = true
		s.queue = append(s.queue, r)
		s.queueMu.Unlock()
	}
	// This request leads: it runs every request waiting, itself among
	// them, and hands the lead to the first that arrives meanwhile.
	s.mu.Lock()
	s.queueMu.Lock()
	group := s.queue
	s.queue = nil
	s.queueMu.Unlock()
	s.runGroup(group)
	s.mu.Unlock()
	s.queueMu.Lock()
	if len(s.queue) > 0 {
		next := s.queue[0]
		next.lead = true
		close(next.wake)
	} else {
		s.leading = false
	}
	s.queueMu.Unlock()
	for _, g := range group {
		g.done = true
		if g != r && g.wake != nil {
			close(g.wake)
		}
	}
	return r.err
}

// runGroup runs the requests of one group, with s.mu held, and sets their
// errors.
func (s *Store) runGroup(group []*request) {
	if s.closed {
		failAll(group, errClosed)
		return
	}
	if s.file != nil {
		s.runFileGroup(group)
		return
	}
	// A memory store: the state is all there is.
	for _, r := range group {
		tx := &txn{db: s.db, now: s.now().UTC()}
		if r.err = r.fn(tx); r.err != nil {
			continue
		}
		tx.commit()
		s.applyAccess(tx.accessed)
	}
}

// runFileGroup runs the requests of one group on a store file, with s.mu
// held: in one transaction of the database, opened for the group under
// the store lock, in which each request reads what it looks up; the
// changes of them all are committed together, with one fdatasync of the
// data and one of the meta page, before any request returns.
func (s *Store) runFileGroup(group []*request) {
	f := s.file
	read := !slices.ContainsFunc(group, func(r *request) bool { return !r.read })
	unlock, err := f.lockStore(read)
	if err != nil {
		failAll(group, err)
		return
	}
	defer unlock()
	bdb, err := f.openDB(read)
	if err != nil {
		failAll(group, err)
		return
	}
	defer bdb.Close()
	btx, err := bdb.Begin(!read)
	if err != nil {
		failAll(group, f.corrupt(err))
		return
	}
	defer func() { _ = btx.Rollback() }()
	if err := f.guard(func() error { return f.check(btx) }); err != nil {
		failAll(group, err)
		return
	}
	f.stage("opened")
	src := &source{f: f, tx: btx, loaded: s.noteLoaded}
	d := newDB()
	d.src, d.seq = src, src.seq()
	s.db = d
	defer func() { s.db = nil }()
	var changes []change
	first := -1 // the first request that writes
	for i, r := range group {
		tx := &txn{db: d, now: s.now().UTC()}
		if r.err = r.fn(tx); r.err == nil && d.err != nil {
			r.err = d.err
		}
		if r.err != nil {
			continue
		}
		if r.read && (len(tx.changes) > 0 || tx.flush) {
			// A read that wrote: a mistake of this package, which must
			// not lose the write silently.
			r.err = store.Errorf(store.ErrInternal, "a read of the store tried to write (a bug in rotor); nothing was written")
			continue
		}
		c := tx.commit()
		s.applyAccess(tx.accessed)
		if (len(c) > 0 || tx.flush) && first < 0 {
			first = i
		}
		changes = append(changes, c...)
	}
	if first < 0 {
		// Reads alone write nothing; the secrets gone for good that they
		// came across are removed by the next group that writes.
		s.noteExpired(d, s.now().UTC())
		return
	}
	changes = s.accessChanges(changes)
	s.lookupExpired(d)
	changes = purgeExpired(d, changes, s.now().UTC())
	if d.err != nil {
		failAll(group[first:], d.err)
		return
	}
	if len(changes) == 0 {
		s.notesWritten() // nothing was due: the expired secrets noted are gone
		return
	}
	err = src.write(changes, d.seq)
	if err == nil {
		f.stage("written")
		if err = f.inject("commit"); err == nil {
			f.commits++
			err = btx.Commit()
		}
	}
	if err != nil {
		// Nothing of the group's writes is acknowledged: the requests
		// from the first write on ran on changes that may not be there.
		failAll(group[first:], fmt.Errorf("write store %s: %w; the storage may be failing (see the kernel log)", f.path, err))
		return
	}
	f.stage("committed")
	s.notesWritten()
}

func (f *file) stage(name string) {
	if f.hook != nil {
		f.hook(name)
	}
}

func (f *file) inject(op string) error {
	if f.fault != nil {
		return f.fault(op)
	}
	return nil
}

// purgeExpired adds to the changes of a group that writes the removal of
// the secrets it read whose recovery window has passed, which no operation
// sees any more.
func purgeExpired(d *db, changes []change, now time.Time) []change {
	changed := make(map[string]bool, len(changes))
	for _, c := range changes {
		changed[c.arn] = true
	}
	for _, arn := range slices.Sorted(maps.Keys(d.byARN)) {
		if r := d.byARN[arn]; r.expired(now) && !changed[arn] {
			changes = append(changes, change{arn: arn})
		}
	}
	return changes
}

// failAll sets err on the requests that have not failed already.
func failAll(rs []*request, err error) {
	for _, r := range rs {
		if r.err == nil {
			r.err = err
		}
	}
}
