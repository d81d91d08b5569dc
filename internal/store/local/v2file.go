package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

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

// newEntry makes the entry that writes r with the values of the given versions.
func newEntry(r *record, values []string) entry {
	meta := *r
	meta.Versions = make([]*version, len(r.Versions))
	e := entry{Put: &meta}
	for i, v := range r.Versions {
		vc := *v
		vc.Value = nil
		meta.Versions[i] = &vc
		if v.HasValue && slices.Contains(values, v.ID) {
			if e.Values == nil {
				e.Values = make(map[string][]byte, len(values))
			}
			e.Values[v.ID] = v.Value
		}
	}
	return e
}

// allValues lists the versions of r that hold a value.
func allValues(r *record) []string {
	var ids []string
	for _, v := range r.Versions {
		if v.HasValue {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// v2file reads a store file of format 2 (an encrypted append-only log of
// frames, see codec.go), to migrate it to format 4 (see open.go); tests
// also write one, with compact.
type v2file struct {
	path    string
	key     []byte
	keyFrom string // where the key came from, for error messages
	keyFile string
	log     *slog.Logger

	f      *os.File    // the store file
	fi     os.FileInfo // its identity
	c      *codec
	off    int64  // end of the frames applied to the db
	frames uint64 // number of frames applied
	size   int64  // the file's size; > off when a torn tail follows
	noted  int64  // size when the torn tail at off was last logged
	valid  bool   // the db reflects the file up to off

	recSize map[string]int64 // estimated size of a full record of each secret
	live    int64            // sum of recSize: what a compacted file would hold

	hook func(stage string) // for tests: see writeAtomic
}

// reload reads the whole file into a new db. On failure the file is left
// invalid, so that the next operation tries again.
func (f *v2file) reload(d **db) error {
	f.valid = false
	fd, err := os.OpenFile(f.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open store %s: %w", f.path, err)
	}
	buf, err := io.ReadAll(fd)
	var fi os.FileInfo
	if err == nil {
		fi, err = fd.Stat()
	}
	if err != nil {
		fd.Close()
		return fmt.Errorf("read store %s: %w", f.path, err)
	}
	c, err := openHeader(f.key, buf)
	switch {
	case errors.Is(err, errWrongKey):
		fd.Close()
		return store.Errorf(store.ErrDecryptionFailure,
			"the store at %s cannot be decrypted with this key (from %s); set %s to the key the store was created with, or restore its key file %s",
			f.path, f.keyFrom, KeyEnv, f.keyFile)
	case errors.Is(err, errOldFormat):
		fd.Close()
		return fmt.Errorf("%s was written by a development build of rotor in store format 1, which this build does not read; move it away (a new store is created in its place)", f.path)
	case err != nil:
		fd.Close()
		return fmt.Errorf("%s is not a rotor store or its header is damaged (%w); move it away or restore it from a backup", f.path, err)
	}
	f.recSize, f.live = make(map[string]int64), 0
	nd := newDB()
	n, count, err := c.scan(buf[headerLen:], int64(headerLen), 0, func(plain []byte) error { return f.apply(nd, plain) })
	if err != nil {
		fd.Close()
		return f.corrupt(err)
	}
	if f.f != nil {
		f.f.Close()
	}
	f.f, f.fi, f.c = fd, fi, c
	f.off, f.frames, f.size = int64(headerLen+n), count, int64(len(buf))
	f.noted = 0
	f.valid = true
	*d = nd
	f.noteTail()
	return nil
}

// corrupt is the error for damage that no crash leaves behind.
func (f *v2file) corrupt(err error) error {
	return store.Errorf(store.ErrInternal,
		"the store at %s is damaged: %v. A crash cannot cause this; failing storage, a bad copy or an edit can. Restore %s from a backup",
		f.path, err, f.path)
}

// noteTail logs, once, the remains of a write a crash cut short, which the
// next write cuts off.
func (f *v2file) noteTail() {
	if f.size <= f.off || f.noted == f.size {
		return
	}
	f.noted = f.size
	f.log.Warn("ignoring the end of the store file: a crash interrupted a write there before it was acknowledged, so nothing acknowledged is lost; the next write removes it",
		"path", f.path, "offset", f.off, "bytes", f.size-f.off)
}

// apply applies the entries of one frame to d.
func (f *v2file) apply(d *db, plain []byte) error {
	var entries []json.RawMessage
	if err := json.Unmarshal(plain, &entries); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(entries) == 0 {
		return errors.New("empty write")
	}
	for _, raw := range entries {
		if err := f.applyEntry(d, raw); err != nil {
			return err
		}
	}
	return nil
}

// entrySize is what an encoded entry takes in a compacted frame.
func entrySize(raw []byte) int64 { return int64(len(raw)) + 1 }

// joinEntries is the plaintext of a frame holding the encoded entries.
func joinEntries(raws [][]byte) []byte {
	plain := append([]byte{'['}, bytes.Join(raws, []byte{','})...)
	return append(plain, ']')
}

func (f *v2file) applyEntry(d *db, raw []byte) error {
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
		f.account(e.Put.ARN, entrySize(raw)-valuesSize(e.Values)+valueBytes(e.Put))
	case e.Del != "":
		d.remove(e.Del)
		f.account(e.Del, 0)
	default:
		return errors.New("empty entry")
	}
	return nil
}

// valueBytes estimates what the values of r add to a full record of it.
func valueBytes(r *record) int64 {
	var n int64
	for _, v := range r.Versions {
		n += encodedSize(v.Value)
	}
	return n
}

func valuesSize(values map[string][]byte) int64 {
	var n int64
	for _, b := range values {
		n += encodedSize(b)
	}
	return n
}

// encodedSize estimates the bytes a value takes in a record: base64 and a key.
func encodedSize(b []byte) int64 { return int64(len(b))*4/3 + 48 }

// account records the size a full record of a secret would take (0: removed).
func (f *v2file) account(arn string, size int64) {
	f.live += size - f.recSize[arn]
	if size == 0 {
		delete(f.recSize, arn)
	} else {
		f.recSize[arn] = size
	}
}
