package local

import (
	"slices"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/store"
)

// db is the in-memory state of a store: every secret, by name and by ARN.
type db struct {
	byARN  map[string]*record
	byName map[string]*record
	seq    uint64   // highest record.Seq seen
	order  []string // ARNs by creation; nil when it must be rebuilt
}

func newDB() *db {
	return &db{byARN: make(map[string]*record), byName: make(map[string]*record)}
}

// put inserts or replaces r.
func (d *db) put(r *record) {
	if old, ok := d.byARN[r.ARN]; !ok || old.Seq != r.Seq {
		d.order = nil
	}
	if old, ok := d.byName[r.Name]; ok && old.ARN != r.ARN {
		delete(d.byARN, old.ARN)
		d.order = nil
	}
	d.byARN[r.ARN] = r
	d.byName[r.Name] = r
	d.seq = max(d.seq, r.Seq)
}

func (d *db) remove(arn string) {
	r, ok := d.byARN[arn]
	if !ok {
		return
	}
	delete(d.byARN, arn)
	if d.byName[r.Name] == r {
		delete(d.byName, r.Name)
	}
	d.order = nil
}

// lookup finds a secret by name or full ARN, expired or not.
func (d *db) lookup(id string) *record {
	if strings.HasPrefix(id, "arn:") {
		return d.byARN[id]
	}
	return d.byName[id]
}

// sorted returns the ARNs of all secrets, oldest first.
func (d *db) sorted() []string {
	if d.order == nil {
		d.order = make([]string, 0, len(d.byARN))
		for arn := range d.byARN {
			d.order = append(d.order, arn)
		}
		slices.SortFunc(d.order, func(a, b string) int {
			ra, rb := d.byARN[a], d.byARN[b]
			if ra.Seq != rb.Seq {
				if ra.Seq < rb.Seq {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
	}
	return d.order
}

// change is one secret written (rec set) or removed (rec nil) by an
// operation. newValues are the versions that got their value in it: the
// only values the file store writes for the change.
type change struct {
	arn       string
	rec       *record
	newValues []string
}

// txn is one operation on the state. Operations read records through find
// and change them only through edit, add and remove, which work on copies
// that are installed by commit once the operation has succeeded: a failed
// operation leaves the state untouched.
type txn struct {
	db      *db
	now     time.Time
	changes []change
	edits   map[string]*record
	// accessed is the LastAccessedDates the operation sets (see access.go);
	// flush makes it write those noted before even when it changes nothing.
	accessed []access
	flush    bool
}

func (tx *txn) find(id string) (*record, error) {
	if r := tx.edits[id]; r != nil {
		return r, nil
	}
	r := tx.db.lookup(id)
	if r == nil || r.expired(tx.now) {
		return nil, errNotFound()
	}
	if e := tx.edits[r.ARN]; e != nil {
		return e, nil
	}
	return r, nil
}

// findActive is find for operations that a secret marked for deletion refuses.
func (tx *txn) findActive(id string) (*record, error) {
	r, err := tx.find(id)
	if err != nil {
		return nil, err
	}
	if r.scheduled() {
		return nil, errMarkedForDeletion()
	}
	return r, nil
}

// edit returns a copy of r that commit will install.
func (tx *txn) edit(r *record) *record {
	if e := tx.edits[r.ARN]; e != nil {
		return e
	}
	c := r.clone()
	tx.add(c)
	return c
}

// add installs a new or changed record at commit.
func (tx *txn) add(r *record) {
	if tx.edits == nil {
		tx.edits = make(map[string]*record)
	}
	tx.edits[r.ARN] = r
	tx.changes = append(tx.changes, change{arn: r.ARN, rec: r})
}

// remove deletes r at commit.
func (tx *txn) remove(r *record) {
	delete(tx.edits, r.ARN)
	tx.changes = append(tx.changes, change{arn: r.ARN})
}

// commit installs the changes and returns them, last change per secret only.
func (tx *txn) commit() []change {
	if len(tx.changes) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(tx.changes))
	var out []change
	for i := len(tx.changes) - 1; i >= 0; i-- {
		c := tx.changes[i]
		if seen[c.arn] {
			continue
		}
		seen[c.arn] = true
		out = append(out, c)
	}
	slices.Reverse(out)
	for i, c := range out {
		if c.rec != nil {
			out[i].newValues = newValues(tx.db.byARN[c.arn], c.rec)
			tx.db.put(c.rec)
		} else {
			tx.db.remove(c.arn)
		}
	}
	return out
}

// newValues returns the versions of r that hold a value that they did not
// hold in old.
func newValues(old, r *record) []string {
	had := make(map[string]bool)
	if old != nil {
		for _, v := range old.Versions {
			had[v.ID] = v.HasValue
		}
	}
	var ids []string
	for _, v := range r.Versions {
		if v.HasValue && !had[v.ID] {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

func errNotFound() error {
	return store.Errorf(store.ErrNotFound, "Secrets Manager can't find the specified secret.")
}

func errMarkedForDeletion() error {
	return store.Errorf(store.ErrInvalidRequest,
		"You can't perform this operation on the secret because it was marked for deletion. Restore it with RestoreSecret first.")
}
