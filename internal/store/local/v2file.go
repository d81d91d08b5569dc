package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/rotorhq/rotor/internal/store"
)

// entry is one change in a frame (whose plaintext is the JSON array of the
// entries of one write): a secret's new state, or its removal. The state
// carries no values: Values holds those of the versions that got one since
// the secret's previous entry (all of them after a compaction), so that
// moving a label does not rewrite every value.
type entry struct {
	Put    *record           `json:"put,omitempty"`
	Values map[string][]byte `json:"values,omitempty"`
	Del    string            `json:"del,omitempty"`
}

// v2file reads a store file of format 2 (an encrypted append-only log of
// frames, see codec.go), to migrate it to format 4 (see open.go).
type v2file struct {
	path    string
	key     []byte
	keyFrom string // where the key came from, for error messages
	keyFile string
	log     *slog.Logger
}

// read reads the whole file into a new db.
func (f *v2file) read() (*db, error) {
	buf, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("read store %s: %w", f.path, err)
	}
	c, err := openHeader(f.key, buf)
	switch {
	case errors.Is(err, errWrongKey):
		return nil, store.Errorf(store.ErrDecryptionFailure,
			"the store at %s cannot be decrypted with this key (from %s); set %s to the key the store was created with, or restore its key file %s",
			f.path, f.keyFrom, KeyEnv, f.keyFile)
	case errors.Is(err, errOldFormat):
		return nil, fmt.Errorf("%s was written by a development build of rotor in store format 1, which this build does not read; move it away (a new store is created in its place)", f.path)
	case err != nil:
		return nil, fmt.Errorf("%s is not a rotor store or its header is damaged (%w); move it away or restore it from a backup", f.path, err)
	}
	d := newDB()
	n, _, err := c.scan(buf[headerLen:], int64(headerLen), 0, func(plain []byte) error { return apply(d, plain) })
	if err != nil {
		return nil, f.corrupt(err)
	}
	if end := int64(headerLen + n); end < int64(len(buf)) {
		f.log.Warn("ignoring the end of the store file: a crash interrupted a write there before it was acknowledged, so nothing acknowledged is lost",
			"path", f.path, "offset", end, "bytes", int64(len(buf))-end)
	}
	return d, nil
}

// corrupt is the error for damage that no crash leaves behind.
func (f *v2file) corrupt(err error) error {
	return store.Errorf(store.ErrInternal,
		"the store at %s is damaged: %v. A crash cannot cause this; failing storage, a bad copy or an edit can. Restore %s from a backup",
		f.path, err, f.path)
}

// apply applies the entries of one frame to d.
func apply(d *db, plain []byte) error {
	var entries []json.RawMessage
	if err := json.Unmarshal(plain, &entries); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(entries) == 0 {
		return errors.New("empty write")
	}
	for _, raw := range entries {
		if err := applyEntry(d, raw); err != nil {
			return err
		}
	}
	return nil
}

func applyEntry(d *db, raw []byte) error {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch {
	case e.Put != nil:
		old := d.byARN[e.Put.ARN]
		for _, v := range e.Put.Versions {
			if !v.HasValue {
				continue
			}
			if b, ok := e.Values[v.ID]; ok {
				v.Value = b
			} else if ov := old.versionOrNil(v.ID); ov != nil && ov.HasValue {
				v.Value = ov.Value
			} else {
				return fmt.Errorf("secret %s: the value of version %s is missing", e.Put.Name, v.ID)
			}
		}
		d.put(e.Put)
	case e.Del != "":
		d.remove(e.Del)
	default:
		return errors.New("empty entry")
	}
	return nil
}
