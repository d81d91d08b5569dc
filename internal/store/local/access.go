package local

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"
)

// defaultAccessDelay is how long a file store keeps LastAccessedDate
// changes in memory before it writes them with a write of their own, when
// no other write has carried them to the file first.
const defaultAccessDelay = 30 * time.Second

// Secrets Manager keeps the date (not the time) of the last access to a
// secret and to each version. Recording it is a write, but a read must not
// wait for one: GetSecretValue sets the date in memory only, and a file
// store notes it here. The noted dates go to the file with the next write
// of this process (in the same frame, so they cost no fdatasync of their
// own), when the store is closed, or defaultAccessDelay after the first of
// them, whichever comes first. A crash loses at most these dates, never
// anything else: nothing acknowledged rests on them.

// access is one LastAccessedDate to record: of a secret, and of one of its
// versions.
type access struct {
	arn, version string
	day          time.Time
}

// accessNote is the dates of one secret not yet written to the file.
type accessNote struct {
	day      time.Time
	versions map[string]time.Time
}

// noteAccess records that tx read version of r on day.
func (tx *txn) noteAccess(r *record, v *version, day time.Time) {
	if r.Accessed.Equal(day) && v.Accessed.Equal(day) {
		return
	}
	tx.accessed = append(tx.accessed, access{arn: r.ARN, version: v.ID, day: day})
}

// applyAccess sets the dates a successful operation noted on the records in
// s.db (in place: a date is no change an operation could roll back) and,
// for a file store, keeps them for the file. It runs under s.mu.
func (s *Store) applyAccess(accessed []access) {
	for _, a := range accessed {
		r := s.db.byARN[a.arn]
		if r == nil {
			continue
		}
		setAccess(r, a.version, a.day)
		if s.file == nil {
			continue
		}
		if s.access == nil {
			s.access = make(map[string]*accessNote)
		}
		n := s.access[a.arn]
		if n == nil {
			n = &accessNote{versions: make(map[string]time.Time, 1)}
			s.access[a.arn] = n
		}
		n.day = a.day
		n.versions[a.version] = a.day
		if s.notesTimer == nil {
			s.notesTimer = time.AfterFunc(s.accessDelay, s.flushNotesLater)
		}
	}
}

// setAccess sets the access date of r and of its version id.
func setAccess(r *record, id string, day time.Time) {
	if day.After(r.Accessed) {
		r.Accessed = day
	}
	if v := r.version(id); v != nil && day.After(v.Accessed) {
		v.Accessed = day
	}
}

// noteLoaded sets the noted dates on a record a group of a file store
// reads from the file.
func (s *Store) noteLoaded(r *record) {
	if n := s.access[r.ARN]; n != nil {
		setAccess(r, "", n.day)
		for id, day := range n.versions {
			setAccess(r, id, day)
		}
	}
}

// accessChanges returns the changes that write the noted dates: the whole
// record of each secret whose dates are noted and that changes does not
// already write.
func (s *Store) accessChanges(changes []change) []change {
	if len(s.access) == 0 {
		return changes
	}
	written := make(map[string]bool, len(changes))
	for _, c := range changes {
		written[c.arn] = true
	}
	for _, arn := range slices.Sorted(maps.Keys(s.access)) {
		if written[arn] {
			continue
		}
		if r := s.db.lookup(arn); r != nil {
			changes = append(changes, change{arn: arn, rec: r})
		}
	}
	return changes
}

// noteExpired keeps the secrets of d past their recovery window for the
// next write to remove, and makes sure one comes.
func (s *Store) noteExpired(d *db, now time.Time) {
	for arn, r := range d.byARN {
		if r.expired(now) {
			if s.expired == nil {
				s.expired = make(map[string]bool)
			}
			s.expired[arn] = true
		}
	}
	if len(s.expired) > 0 && s.notesTimer == nil {
		s.notesTimer = time.AfterFunc(s.accessDelay, s.flushNotesLater)
	}
}

// lookupExpired reads into d the secrets noteExpired kept, so that
// purgeExpired removes them.
func (s *Store) lookupExpired(d *db) {
	for _, arn := range slices.Sorted(maps.Keys(s.expired)) {
		d.lookup(arn)
	}
}

// notesWritten forgets the noted dates and expired secrets once a write
// carried them.
func (s *Store) notesWritten() {
	s.access, s.expired = nil, nil
	if s.notesTimer != nil {
		s.notesTimer.Stop()
		s.notesTimer = nil
	}
}

// flushNotesLater writes the noted dates and removes the expired secrets
// noted, from the timer that applyAccess or noteExpired set.
func (s *Store) flushNotesLater() {
	s.mu.Lock()
	s.notesTimer = nil
	idle := s.closed || len(s.access) == 0 && len(s.expired) == 0
	s.mu.Unlock()
	if idle {
		return
	}
	if err := s.run(context.Background(), "", func(tx *txn) error { tx.flush = true; return nil }); err != nil && !errors.Is(err, errClosed) {
		s.file.log.Warn("could not record when secrets were last read; the next write records it", "error", err)
	}
}
