package local

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// start finds the key, then creates the store file when there is none,
// migrates one of format 2 to format 4, upgrades one of format 3, or checks
// that the file is a store this key opens.
func (f *file) start(cfg Config) error {
	unlock, err := f.lockStore(false)
	if err != nil {
		return err
	}
	defer unlock()
	removeTemps(f.path)
	head, second, err := readHead(f.path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s: %w", f.path, err)
	}
	key, keyFrom, err := resolveKey(cfg, f.keyFile, exists)
	if err != nil {
		return err
	}
	f.key, f.keyFrom = key, keyFrom
	if err := f.deriveKeys(key); err != nil {
		return err
	}
	switch {
	case !exists:
		return f.create(nil)
	case bytes.HasPrefix(head, []byte(magic)) || bytes.HasPrefix(head, []byte(oldMagic)):
		now := time.Now
		if cfg.Now != nil {
			now = cfg.Now
		}
		return f.migrate(now().UTC())
	case !isBoltFile(head) && !isBoltFile(second):
		return fmt.Errorf("%s is not a rotor store, or its start is damaged; move it away or restore it from a backup", f.path)
	}
	db, err := f.openDB(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return f.guard(func() error {
		var format string
		err := db.View(func(tx *bolt.Tx) (err error) {
			format, err = f.checkKey(tx)
			return err
		})
		if err != nil || format == formatV4 {
			return err
		}
		if err := db.Update(f.upgradeV3); err != nil {
			return fmt.Errorf("upgrade the store %s from format 3 to 4 (it is unchanged): %w", f.path, err)
		}
		f.log.Info("upgraded the store to format 4", "path", f.path)
		return nil
	})
}

// readHead reads the first bytes of path, and those of its second page,
// where bbolt keeps its second meta page.
func readHead(path string) (head, second []byte, err error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fd.Close()
	read := func(off int64) ([]byte, error) {
		buf := make([]byte, 64)
		n, err := fd.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return buf[:n], nil
	}
	if head, err = read(0); err == nil {
		second, err = read(int64(os.Getpagesize()))
	}
	return head, second, err
}

// migrationBatch is how many secrets a migration writes per transaction.
const migrationBatch = 2000

// create writes a new store file holding recs, in a temporary file beside
// the store that is renamed over it once complete and synced: a crash
// leaves the previous file, or none, never half of the new one.
func (f *file) create(recs []*record) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), tempPattern(f.path))
	if err != nil {
		return fmt.Errorf("create temporary store file: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	fail := func(err error) error {
		os.Remove(name)
		return fmt.Errorf("write store %s: %w", f.path, err)
	}
	db, err := bolt.Open(name, 0o600, boltOptions)
	if err != nil {
		return fail(err)
	}
	err = db.Update(f.initDB)
	for start := 0; err == nil && start < len(recs); start += migrationBatch {
		batch := recs[start:min(start+migrationBatch, len(recs))]
		err = db.Update(func(tx *bolt.Tx) error {
			src := &source{f: f, tx: tx}
			changes := make([]change, len(batch))
			var seq uint64
			for i, r := range batch {
				changes[i] = change{arn: r.ARN, rec: r}
				seq = max(seq, r.Seq)
			}
			return src.write(changes, max(seq, src.seq()))
		})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(name, f.path); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("sync directory of %s: %w", f.path, err)
	}
	return nil
}

// migrate rewrites a store file of format 2 (an encrypted log, see
// v2file.go) as format 4, with every secret and version it holds.
func (f *file) migrate(now time.Time) error {
	old := &v2file{path: f.path, key: f.key, keyFrom: f.keyFrom, keyFile: f.keyFile, log: f.log}
	d, err := old.read()
	if err != nil {
		return err
	}
	var recs []*record
	for _, arn := range d.sorted() {
		if r := d.byARN[arn]; !r.expired(now) {
			recs = append(recs, r)
		}
	}
	if err := f.create(recs); err != nil {
		return fmt.Errorf("migrate the store %s to format 4 (it is unchanged): %w", f.path, err)
	}
	f.log.Info("migrated the store to format 4", "path", f.path, "secrets", len(recs))
	return nil
}
