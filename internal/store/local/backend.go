package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// Backend keeps a Store's secrets somewhere other than a store file, such as
// Kubernetes Secrets. The Store keeps the Secrets Manager semantics; the
// backend only loads and saves whole secrets, each as an opaque Record.
//
// Every operation loads the secrets it needs, runs on them, and saves the
// ones it changed. Save must refuse, with an error that wraps ErrConflict, a
// change to a secret that changed since it was loaded (optimistic
// concurrency, such as a resourceVersion precondition): the Store then loads
// again and reruns the operation, so a concurrent write is never
// overwritten.
type Backend interface {
	// Load returns the secret id names (a name or an ARN; the Store
	// matches an ARN exactly, so Load may return the secret of the ARN's
	// name), none when it does not exist, or every secret when id is "".
	Load(ctx context.Context, id string) ([]Record, error)
	// Save writes the changes of one operation.
	Save(ctx context.Context, changes []Change) error
}

// ErrConflict is what Backend.Save wraps when a secret changed since it was
// loaded.
var ErrConflict = errors.New("the secret changed since it was read")

// Record is one secret as a Backend keeps it.
type Record struct {
	// Data is the secret's whole state, values included, as NewRecord or
	// a Change made it.
	Data []byte
	// Rev is the backend's revision of the secret, handed back in the
	// Change that writes it; the Store does not look at it.
	Rev string
	// Tags are set on the secret when it is loaded, replacing tags of the
	// same keys: configuration the backend keeps outside Data.
	Tags []store.Tag
	// Rotation, when set, enables rotation with these rules (which may be
	// empty: rotation without a schedule), as configuration the backend
	// keeps outside Data. A secret that was never rotated is then due at
	// once, and one without a schedule is due whenever it is loaded: it
	// rotates on every run of rotate --due.
	Rotation *store.RotationRules
}

// Change is a secret an operation wrote, or removed.
type Change struct {
	ARN  string
	Name string
	// Rev is the revision the secret was loaded at; "" for a new secret.
	Rev string
	// Removed is set when the secret is deleted; Data and View are then
	// empty.
	Removed bool
	Data    []byte
	View    View
}

// View is what a backend may need to know of a secret's state.
type View struct {
	ARN, Name string
	Created   time.Time
	Tags      []store.Tag
	// Scheduled is set while the secret is marked for deletion.
	Scheduled bool
	// CurrentID and Current are the AWSCURRENT version and its value;
	// Current is nil when no version holds a value.
	CurrentID string
	Current   *secret.Value
}

// ViewOf decodes what a backend needs from a Record's data.
func ViewOf(data []byte) (View, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return View{}, fmt.Errorf("decode secret state: %w", err)
	}
	return r.view(), nil
}

func (r *record) view() View {
	v := View{ARN: r.ARN, Name: r.Name, Created: r.Created, Tags: r.Tags, Scheduled: r.scheduled()}
	if c := r.holder(store.Current); c != nil {
		v.CurrentID = c.ID
		if c.HasValue {
			val := c.value()
			v.Current = &val
		}
	}
	return v
}

// NewRecord returns the data of a secret the backend found without a state
// of its own (such as a Kubernetes Secret rotor did not create): one version,
// versionID, holding value as AWSCURRENT, or no version when value is nil.
func NewRecord(arn, name string, created time.Time, versionID string, value *secret.Value, tags []store.Tag) ([]byte, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	r := &record{ARN: arn, Name: name, Seq: seqOf(created), Tags: tags, Created: created.UTC(), Changed: created.UTC()}
	if value != nil {
		if err := validValue(*value); err != nil {
			return nil, err
		}
		v := &version{ID: versionID, Stages: []string{store.Current}, Created: created.UTC()}
		v.setValue(*value)
		r.Versions = []*version{v}
	}
	return json.Marshal(r)
}

// seqOf orders the secrets of a backend by creation time.
func seqOf(t time.Time) uint64 { return uint64(max(t.UnixNano(), 0)) }

// NewWithBackend returns a Store that keeps its secrets in b. Path, Key and
// KeyFile are ignored. LockRotation locks within this process only; a
// backend that can lock across processes implements store.RotationLocker
// itself, and the caller uses that.
func NewWithBackend(cfg Config, b Backend) *Store {
	s := newStore(cfg)
	s.backend = b
	s.memLocks = make(map[string]bool)
	return s
}

// maxConflicts is how many times an operation is rerun after a conflict.
const maxConflicts = 20

// runBackend is run for a Store with a Backend.
func (s *Store) runBackend(ctx context.Context, id string, fn func(tx *txn) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := s.backend.Load(ctx, id)
		if err != nil {
			return err
		}
		d := newDB()
		revs := make(map[string]string, len(recs))
		for _, rec := range recs {
			var r record
			if err := json.Unmarshal(rec.Data, &r); err != nil {
				return fmt.Errorf("decode secret state: %w", err)
			}
			if len(rec.Tags) > 0 {
				if r.Tags, err = mergeTags(r.Tags, rec.Tags); err != nil {
					return err
				}
			}
			if rec.Rotation != nil {
				if !rec.Rotation.IsZero() {
					if _, err := parseRules(*rec.Rotation); err != nil {
						return err
					}
				}
				if r.Rules != *rec.Rotation && r.Rotated.IsZero() {
					r.NextRotation = time.Time{}
				}
				r.RotationEnabled, r.Rules = true, *rec.Rotation
				switch {
				case rec.Rotation.IsZero():
					r.NextRotation = s.now().UTC() // no schedule: due on every run
				case r.Rotated.IsZero() && r.NextRotation.IsZero():
					r.NextRotation = s.now().UTC()
				default:
					r.refreshNextRotation(s.now().UTC())
				}
			}
			d.put(&r)
			revs[r.ARN] = rec.Rev
		}
		now := s.now().UTC()
		d.seq = max(d.seq, seqOf(now))
		tx := &txn{db: d, now: now}
		if err := fn(tx); err != nil {
			return err
		}
		// A backend keeps no state between operations: the day's first
		// read of a version writes its LastAccessedDate with the operation.
		for _, a := range tx.accessed {
			if r, err := tx.find(a.arn); err == nil {
				setAccess(tx.edit(r), a.version, a.day)
			}
		}
		changes := tx.commit()
		if len(changes) == 0 {
			return nil
		}
		out := make([]Change, 0, len(changes))
		for _, c := range changes {
			if c.rec == nil {
				out = append(out, Change{ARN: c.arn, Rev: revs[c.arn], Removed: true})
				continue
			}
			data, err := json.Marshal(c.rec)
			if err != nil {
				return err
			}
			out = append(out, Change{ARN: c.arn, Name: c.rec.Name, Rev: revs[c.arn], Data: data, View: c.rec.view()})
		}
		// A removed secret's name is that of the record it had.
		for i := range out {
			if out[i].Removed {
				for _, rec := range recs {
					if v, err := ViewOf(rec.Data); err == nil && v.ARN == out[i].ARN {
						out[i].Name = v.Name
					}
				}
			}
		}
		err = s.backend.Save(ctx, out)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= maxConflicts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}
