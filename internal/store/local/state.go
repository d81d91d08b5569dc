package local

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// db is the in-memory state of a store: every secret, by name and by ARN.
//
// The db of a memory store holds every secret. That of a group of
// operations on a store file starts empty and reads the secrets the
// operations look up from src, the group's transaction, once each.
type db struct {
	byARN  map[string]*record
	byName map[string]*record
	seq    uint64   // highest record.Seq seen
	order  []string // ARNs by creation; nil when it must be rebuilt

	src *source
	// gone is the names and ARNs src has no secret of, or whose secret
	// was removed or replaced since it was read.
	gone map[string]bool
	// err is the first error of src, which fails the operation.
	err error
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
	if d.gone != nil {
		delete(d.gone, r.ARN)
		delete(d.gone, r.Name)
	}
}

func (d *db) remove(arn string) {
	r, ok := d.byARN[arn]
	if !ok {
		return
	}
	delete(d.byARN, arn)
	if d.byName[r.Name] == r {
		delete(d.byName, r.Name)
		d.forget(r.Name)
	}
	d.forget(arn)
	d.order = nil
}

// forget notes that src's secret of id (a name or an ARN) is not the db's.
func (d *db) forget(id string) {
	if d.src == nil {
		return
	}
	if d.gone == nil {
		d.gone = make(map[string]bool)
	}
	d.gone[id] = true
}

// lookup finds a secret by name or full ARN, expired or not.
func (d *db) lookup(id string) *record {
	var r *record
	if strings.HasPrefix(id, "arn:") {
		r = d.byARN[id]
	} else {
		r = d.byName[id]
	}
	if r != nil || d.src == nil || d.gone[id] || d.err != nil {
		return r
	}
	r, err := d.src.get(id)
	if err != nil {
		d.err = err
		return nil
	}
	switch {
	case r == nil || d.gone[r.ARN]:
		d.forget(id)
		return nil
	case d.byARN[r.ARN] != nil:
		return d.byARN[r.ARN]
	}
	d.put(r)
	return r
}

// named finds the secret that holds a name.
func (d *db) named(name string) *record {
	if strings.HasPrefix(name, "arn:") {
		return d.byName[name] // not a valid name: none has it
	}
	return d.lookup(name)
}

// each calls fn on the secrets in creation order (descending unless asc),
// from the first after Seq after (0: from the start), until fn returns
// false. fn reads what a listing shows and changes nothing: a secret read
// from a store file comes with its labelled versions only (record.listed).
func (d *db) each(asc bool, after uint64, fn func(r *record) bool) error {
	if d.src != nil {
		// Secrets this group created are not in src yet: they are the
		// newest, after src's in ascending order and before them in
		// descending order.
		stored := d.src.seq()
		var fresh []*record
		for _, r := range d.byARN {
			if r.Seq > stored && (asc && r.Seq > after || !asc && (after == 0 || r.Seq < after)) {
				fresh = append(fresh, r)
			}
		}
		slices.SortFunc(fresh, func(a, b *record) int {
			if asc {
				return cmp.Compare(a.Seq, b.Seq)
			}
			return cmp.Compare(b.Seq, a.Seq)
		})
		more := true
		emit := func() {
			for _, r := range fresh {
				if more = fn(r); !more {
					return
				}
			}
		}
		if !asc {
			if emit(); !more {
				return nil
			}
		}
		err := d.src.scan(asc, after, func(r *record) bool {
			switch {
			case d.byARN[r.ARN] != nil:
				r = d.byARN[r.ARN] // as this group changed it
			case d.gone[r.ARN]:
				return true
			}
			// Not kept in d: a scan may read every secret, and reads
			// them without their versions (record.listed).
			more = fn(r)
			return more
		})
		if err == nil && asc && more {
			emit()
		}
		return err
	}
	order := d.sorted()
	seq := func(i int) uint64 { return d.byARN[order[i]].Seq }
	start := 0
	if after != 0 {
		start = sort.Search(len(order), func(i int) bool { return seq(i) > after })
		if !asc {
			start = len(order) - sort.Search(len(order), func(i int) bool { return seq(i) >= after })
		}
	}
	for k := start; k < len(order); k++ {
		i := k
		if !asc {
			i = len(order) - 1 - k
		}
		if !fn(d.byARN[order[i]]) {
			break
		}
	}
	return nil
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
// operation.
type change struct {
	arn string
	rec *record
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
	if tx.db.err != nil {
		return nil, tx.db.err
	}
	if r == nil || r.expired(tx.now) {
		return nil, errNotFound()
	}
	if e := tx.edits[r.ARN]; e != nil {
		return e, nil
	}
	return r, nil
}

// value returns the value of v, a version of r, reading it from the file
// when r was read without it.
func (tx *txn) value(r *record, v *version) (secret.Value, error) {
	if v.HasValue && v.Value == nil && r.partial && tx.db.src != nil {
		b, err := tx.db.src.value(r, v.ID)
		if err != nil {
			return secret.Value{}, err
		}
		v.Value = b
	}
	return v.value(), nil
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
	for _, c := range out {
		if c.rec != nil {
			tx.db.put(c.rec)
		} else {
			tx.db.remove(c.arn)
		}
	}
	return out
}

func errNotFound() error {
	return store.Errorf(store.ErrNotFound, "Secrets Manager can't find the specified secret.")
}

func errMarkedForDeletion() error {
	return store.Errorf(store.ErrInvalidRequest,
		"You can't perform this operation on the secret because it was marked for deletion. Restore it with RestoreSecret first.")
}
