package local

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/sys/unix"

	"github.com/rotorhq/rotor/internal/store"
)

// Store format 4 is a bbolt database (a B+tree of copy-on-write pages with
// checksummed meta pages, fdatasynced on every commit) with six buckets:
//
//	rotor:    format → "4", check → sealed key check, seq → highest secret Seq
//	secrets:  arnKey → sealed secret entry: the record without its
//	          versions, the labels of each version, the highest slot given
//	versions: arnKey | slot (8 bytes, big endian) → sealed version entry
//	          (id, dates, whether it holds a value), oldest first
//	names:    nameKey → arnKey, for the secrets that hold their name
//	order:    Seq (8 bytes, big endian) → arnKey, creation order for listing
//	values:   arnKey | versionKey → sealed value of one version
//
// arnKey, nameKey and versionKey are HMAC-SHA256 of the ARN, the name and
// the version id under a key derived from the store key, so that neither
// names nor ids appear in the file; everything else is sealed with
// XChaCha20-Poly1305 under another derived key, with the bucket and the
// entry's key as associated data, so that an entry cannot be moved to
// another key unnoticed. Reading one secret reads its entries and nothing
// else; writing it puts its secret entry (small: no version list) and the
// version entries and values that changed or are new, and deletes those it
// lost, so a new version costs three entries whatever the number of
// versions.
//
// Format 3 was the same but for the versions bucket: its secret entries
// hold their versions inline. A format 3 file becomes format 4 on first
// open (the versions bucket is added and the format entry set, in one
// commit); its secret entries are read as they are and rewritten in the
// new layout when next written. A rotor that reads only format 3 refuses a
// format 4 file instead of reading its secrets without their versions.
const (
	formatV4     = "4"
	formatV3     = "3"
	arnKeyLen    = sha256.Size
	slotLen      = 8
	versionKeyLn = 16
)

var (
	bucketMeta    = []byte("rotor")
	bucketSecrets = []byte("secrets")
	bucketNames   = []byte("names")
	bucketOrder   = []byte("order")
	bucketValues  = []byte("values")
	bucketVersion = []byte("versions")

	metaFormat = []byte("format")
	metaCheck  = []byte("check")
	metaSeq    = []byte("seq")

	// The key check and the derived keys' labels say format 3, where
	// they were introduced; format 4 derives and checks keys the same way.
	keyCheckV3 = []byte("rotor store key check, format 3")
)

// boltMagic is how a bbolt file starts: page id 0, flags of a meta page,
// then the magic number 0xED0CDAED (little endian on every platform bbolt
// writes; the page header is 16 bytes).
func isBoltFile(head []byte) bool {
	return len(head) >= 20 && binary.LittleEndian.Uint32(head[16:20]) == 0xED0CDAED
}

// file is a store file of format 4. It is not safe for concurrent use: the
// Store runs one group at a time, each under lockStore.
type file struct {
	path    string
	key     []byte
	keyFrom string // where the key came from, for error messages
	keyFile string
	lock    *os.File // the lock file, flocked for each group
	log     *slog.Logger
	aead    cipher.AEAD
	index   []byte // the HMAC key of lookup keys

	// For tests: fault, when set, decides whether "commit" fails (with
	// the error it returns) before each commit; hook is called after each
	// stage of a group ("opened", "written": the changes are in the
	// transaction, before its commit; "committed").
	fault func(op string) error
	hook  func(stage string)
	// cache holds the secrets read or written lately, decoded, by
	// arnKey, each with the nonce of the sealed entry it came from: an
	// entry whose nonce is the same (every seal draws a new one) is the
	// same entry, so reading it again costs no decryption or decoding.
	cache map[string]cached

	// commits counts the commits, opens the database opens, loads the
	// secrets read.
	commits, opens, loads int
}

type cached struct {
	nonce string
	rec   *record // never handed out: callers get clones
}

// maxCached bounds the cache; it is emptied when full.
const maxCached = 4096

func (f *file) remember(ak, sealed []byte, r *record) {
	if f.cache == nil || len(f.cache) >= maxCached {
		f.cache = make(map[string]cached)
	}
	c := r.clone()
	c.partial = true
	for _, v := range c.Versions {
		v.Value = nil
	}
	f.cache[string(ak)] = cached{nonce: string(sealed[:nonceLen]), rec: c}
}

// deriveKeys sets the sealing and index keys from the store key.
func (f *file) deriveKeys(key []byte) error {
	seal, err := hkdf.Key(sha256.New, key, nil, "rotor store format 3: sealing", chacha20poly1305.KeySize)
	if err != nil {
		return err
	}
	f.index, err = hkdf.Key(sha256.New, key, nil, "rotor store format 3: index", sha256.Size)
	if err != nil {
		return err
	}
	f.aead, err = chacha20poly1305.NewX(seal)
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

func (f *file) mac(kind string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, f.index)
	m.Write([]byte(kind))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write(p)
	}
	return m.Sum(nil)
}

func (f *file) arnKey(arn string) []byte   { return f.mac("arn", []byte(arn)) }
func (f *file) nameKey(name string) []byte { return f.mac("name", []byte(name)) }

func (f *file) valueKey(ak []byte, id string) []byte {
	k := make([]byte, 0, arnKeyLen+versionKeyLn)
	k = append(k, ak...)
	return append(k, f.mac("version", ak, []byte(id))[:versionKeyLn]...)
}

func sealAD(bucket, key []byte) []byte {
	ad := make([]byte, 0, 8+len(bucket)+len(key))
	ad = append(ad, "rotor3\x00"...)
	ad = append(ad, bucket...)
	ad = append(ad, 0)
	return append(ad, key...)
}

func (f *file) seal(bucket, key, plain []byte) ([]byte, error) {
	out := make([]byte, nonceLen, nonceLen+len(plain)+tagLen)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	return f.aead.Seal(out, out[:nonceLen], plain, sealAD(bucket, key)), nil
}

func (f *file) open(bucket, key, sealed []byte) ([]byte, error) {
	if len(sealed) < nonceLen+tagLen {
		return nil, errors.New("an entry is cut short")
	}
	plain, err := f.aead.Open(nil, sealed[:nonceLen], sealed[nonceLen:], sealAD(bucket, key))
	if err != nil {
		return nil, errors.New("an entry does not authenticate")
	}
	return plain, nil
}

// lockStore takes the lock that every group holds: exclusive, or shared
// for a group that only reads.
func (f *file) lockStore(shared bool) (unlock func(), err error) {
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	if err := flock(f.lock, how); err != nil {
		return nil, fmt.Errorf("lock store %s: %w", f.path, err)
	}
	return func() { _ = flock(f.lock, unix.LOCK_UN) }, nil
}

// boltOptions opens the database for one group. bbolt flocks the file
// itself while it is open; every process opens it only under lockStore, so
// that lock is free by then, and the timeout only guards against a process
// that opened the file without it.
var (
	boltOptions     = &bolt.Options{Timeout: 30 * time.Second, FreelistType: bolt.FreelistMapType}
	boltReadOptions = &bolt.Options{Timeout: 30 * time.Second, FreelistType: bolt.FreelistMapType, ReadOnly: true}
)

// openDB opens the database, read-only when read is set (which reads no
// free list); the caller holds lockStore and closes it.
func (f *file) openDB(read bool) (*bolt.DB, error) {
	f.opens++
	opts := boltOptions
	if read {
		opts = boltReadOptions
	}
	var db *bolt.DB
	err := f.guard(func() (err error) {
		db, err = bolt.Open(f.path, 0o600, opts)
		return err
	})
	if err != nil {
		if store.CodeOf(err) == store.ErrInternal {
			return nil, err
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the store file %s is gone (%w); restore it from a backup", f.path, err)
		}
		return nil, f.corrupt(err)
	}
	return db, nil
}

// check verifies that a database is of format 4 and opens with the key.
func (f *file) check(tx *bolt.Tx) error {
	format, err := f.checkKey(tx)
	if err == nil && format != formatV4 {
		// start upgrades a format 3 file before any group runs, under
		// the same lock: a format 3 file here was put back since.
		err = fmt.Errorf("%s is a rotor store of format %s again (it was upgraded when opened); open it anew", f.path, format)
	}
	return err
}

// checkKey verifies the key against a database's check entry and that it
// has the buckets of its format, 3 or 4, which it returns.
func (f *file) checkKey(tx *bolt.Tx) (string, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return "", f.corrupt(errors.New("its meta bucket is missing"))
	}
	format := string(b.Get(metaFormat))
	if format != formatV4 && format != formatV3 {
		return "", fmt.Errorf("%s is a rotor store of format %q, which this build of rotor does not read; use the rotor that wrote it", f.path, format)
	}
	plain, err := f.open(bucketMeta, metaCheck, b.Get(metaCheck))
	if err != nil || !bytes.Equal(plain, keyCheckV3) {
		return "", store.Errorf(store.ErrDecryptionFailure,
			"the store at %s cannot be decrypted with this key (from %s); set %s to the key the store was created with, or restore its key file %s",
			f.path, f.keyFrom, KeyEnv, f.keyFile)
	}
	buckets := [][]byte{bucketSecrets, bucketNames, bucketOrder, bucketValues}
	if format == formatV4 {
		buckets = append(buckets, bucketVersion)
	}
	for _, name := range buckets {
		if tx.Bucket(name) == nil {
			return "", f.corrupt(fmt.Errorf("its %s bucket is missing", name))
		}
	}
	return format, nil
}

// upgradeV3 makes a format 3 database one of format 4: the secret entries
// of format 3 (versions inline) are read as they are.
func (f *file) upgradeV3(tx *bolt.Tx) error {
	format, err := f.checkKey(tx)
	if err != nil || format == formatV4 {
		return err
	}
	if _, err := tx.CreateBucketIfNotExists(bucketVersion); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(metaFormat, []byte(formatV4))
}

// initDB creates the buckets and the key check of a new database.
func (f *file) initDB(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	check, err := f.seal(bucketMeta, metaCheck, keyCheckV3)
	if err != nil {
		return err
	}
	if err := meta.Put(metaFormat, []byte(formatV4)); err != nil {
		return err
	}
	if err := meta.Put(metaCheck, check); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketSecrets, bucketNames, bucketOrder, bucketValues, bucketVersion} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// corrupt is the error for damage that no crash leaves behind.
func (f *file) corrupt(err error) error {
	return store.Errorf(store.ErrInternal,
		"the store at %s is damaged: %v. A crash cannot cause this; failing storage, a bad copy or an edit can. Restore %s from a backup",
		f.path, err, f.path)
}

// guard runs fn, turning a panic of bbolt on a damaged page (or a fault on
// its memory map) into the error for damage.
func (f *file) guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if p := recover(); p != nil {
			err = f.corrupt(fmt.Errorf("%v", p))
		}
	}()
	return fn()
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// source reads the secrets of one group's transaction for a db.
type source struct {
	f  *file
	tx *bolt.Tx
	// loaded is called on each record read, before the db sees it.
	loaded func(r *record)
}

// get reads the secret id names (a full ARN or a name), nil when none.
func (s *source) get(id string) (*record, error) {
	var ak []byte
	if strings.HasPrefix(id, "arn:") {
		ak = s.f.arnKey(id)
	} else if ak = s.tx.Bucket(bucketNames).Get(s.f.nameKey(id)); ak == nil {
		return nil, nil
	}
	return s.load(ak)
}

// load reads the secret at ak, without its values, which txn.value reads
// when an operation needs them; nil when there is none.
func (s *source) load(ak []byte) (*record, error) {
	r, err := s.read(ak)
	if err != nil || r == nil {
		return nil, err
	}
	if s.loaded != nil {
		s.loaded(r)
	}
	return r, nil
}

// secretEntry is what the secrets bucket holds for a secret: its record
// without versions (format 3: with them), the labels of each version and
// the highest slot given to one.
type secretEntry struct {
	*record
	Labels map[string][]string `json:"labels,omitempty"`
	Slots  uint64              `json:"slots,omitempty"`
}

// entry reads the secret entry at ak: as the record kept in the cache when
// the entry is the one that record came from (a clone), or else decoded;
// both nil when there is none. The caller runs it under guard.
func (s *source) entry(ak []byte) (cached *record, e *secretEntry, err error) {
	sealed := s.tx.Bucket(bucketSecrets).Get(ak)
	if sealed == nil {
		return nil, nil, nil
	}
	if c, ok := s.f.cache[string(ak)]; ok && len(sealed) > nonceLen && c.nonce == string(sealed[:nonceLen]) {
		return c.rec.clone(), nil, nil
	}
	plain, err := s.f.open(bucketSecrets, ak, sealed)
	if err != nil {
		return nil, nil, s.f.corrupt(err)
	}
	s.f.loads++
	e = &secretEntry{record: new(record)}
	if err := json.Unmarshal(plain, e); err != nil {
		return nil, nil, s.f.corrupt(fmt.Errorf("decode a secret: %w", err))
	}
	e.record.partial, e.record.slots = true, e.Slots
	return nil, e, nil
}

// read is load as the file has it, without the dates noted since.
func (s *source) read(ak []byte) (*record, error) {
	return s.decode(ak, func(e *secretEntry) error {
		r := e.record
		if r.Versions == nil {
			if err := s.readVersions(ak, r, e.Labels); err != nil {
				return err
			}
		}
		s.f.remember(ak, s.tx.Bucket(bucketSecrets).Get(ak), r)
		return nil
	})
}

// decode reads the secret at ak under guard: a cached record as it is, or
// the entry as decoded, completed by fill; nil when there is none.
func (s *source) decode(ak []byte, fill func(*secretEntry) error) (*record, error) {
	var r *record
	err := s.f.guard(func() error {
		cached, e, err := s.entry(ak)
		if err != nil || e == nil {
			r = cached
			return err
		}
		r = e.record
		return fill(e)
	})
	return r, err
}

// listing reads the secret at ak for a listing: its secret entry alone,
// with only its labelled versions, and those without their dates (see
// record.listed); nil when there is none. It reads no version entry.
func (s *source) listing(ak []byte) (*record, error) {
	r, err := s.decode(ak, func(e *secretEntry) error {
		r := e.record
		if r.Versions == nil {
			r.listed = true
			for _, id := range slices.Sorted(maps.Keys(e.Labels)) {
				r.Versions = append(r.Versions, &version{ID: id, Stages: e.Labels[id]})
			}
		}
		return nil
	})
	if err != nil || r == nil {
		return nil, err
	}
	if s.loaded != nil {
		s.loaded(r)
	}
	return r, nil
}

// readVersions reads the version entries of the secret at ak into r, and
// gives them their labels.
func (s *source) readVersions(ak []byte, r *record, labels map[string][]string) error {
	c := s.tx.Bucket(bucketVersion).Cursor()
	for k, sealed := c.Seek(ak); k != nil && bytes.HasPrefix(k, ak); k, sealed = c.Next() {
		if len(k) != arnKeyLen+slotLen {
			return s.f.corrupt(errors.New("a version entry has a key of the wrong length"))
		}
		plain, err := s.f.open(bucketVersion, k, sealed)
		if err != nil {
			return s.f.corrupt(err)
		}
		v := new(version)
		if err := json.Unmarshal(plain, v); err != nil {
			return s.f.corrupt(fmt.Errorf("decode a version: %w", err))
		}
		v.slot = binary.BigEndian.Uint64(k[arnKeyLen:])
		v.Stages = labels[v.ID]
		r.Versions = append(r.Versions, v)
	}
	for id := range labels {
		if r.version(id) == nil {
			return s.f.corrupt(fmt.Errorf("secret %s: the entry of version %s is missing", r.Name, id))
		}
	}
	return nil
}

func slotKey(ak []byte, slot uint64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(ak), slot)
}

// value reads the value of version id of r.
func (s *source) value(r *record, id string) ([]byte, error) {
	k := s.f.valueKey(s.f.arnKey(r.ARN), id)
	var plain []byte
	err := s.f.guard(func() error {
		sealed := s.tx.Bucket(bucketValues).Get(k)
		if sealed == nil {
			return s.f.corrupt(fmt.Errorf("secret %s: the value of version %s is missing", r.Name, id))
		}
		var err error
		if plain, err = s.f.open(bucketValues, k, sealed); err != nil {
			return s.f.corrupt(err)
		}
		return nil
	})
	return plain, err
}

// scan reads the secrets in creation order (descending unless asc), from
// the first after Seq after (0: from the start), until fn returns false.
func (s *source) scan(asc bool, after uint64, fn func(r *record) bool) error {
	return s.f.guard(func() error {
		c := s.tx.Bucket(bucketOrder).Cursor()
		var k, ak []byte
		switch {
		case asc:
			k, ak = c.Seek(seqKey(after + 1))
		case after == 0:
			k, ak = c.Last()
		default:
			if k, ak = c.Seek(seqKey(after)); k == nil {
				k, ak = c.Last()
			}
			for k != nil && binary.BigEndian.Uint64(k) >= after {
				k, ak = c.Prev()
			}
		}
		for k != nil {
			r, err := s.listing(ak)
			if err != nil {
				return err
			}
			if r == nil {
				return s.f.corrupt(errors.New("a secret in the creation order is missing"))
			}
			if !fn(r) {
				return nil
			}
			if asc {
				k, ak = c.Next()
			} else {
				k, ak = c.Prev()
			}
		}
		return nil
	})
}

// seq reads the highest Seq given to a secret.
func (s *source) seq() uint64 {
	if v := s.tx.Bucket(bucketMeta).Get(metaSeq); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// write puts the changes of a group into its transaction, in order.
func (s *source) write(changes []change, seq uint64) error {
	return s.f.guard(func() error {
		for _, c := range changes {
			if err := s.writeOne(c); err != nil {
				return err
			}
		}
		return s.tx.Bucket(bucketMeta).Put(metaSeq, seqKey(seq))
	})
}

// writeOne puts one change into the transaction: against the secret as
// the file holds it, it writes the version entries and values that are new
// or changed and deletes those the secret lost, then its secret entry.
func (s *source) writeOne(c change) error {
	f := s.f
	if c.rec == nil {
		return s.purge(f.arnKey(c.arn))
	}
	r := c.rec
	if r.listed {
		return store.Errorf(store.ErrInternal, "secret %s: a listing's copy, without its versions, was to be written (a bug in rotor); nothing was written", r.Name)
	}
	ak, nk := f.arnKey(r.ARN), f.nameKey(r.Name)
	names := s.tx.Bucket(bucketNames)
	if prev := names.Get(nk); prev != nil && !bytes.Equal(prev, ak) {
		// A new secret takes the name of one that is gone.
		if err := s.purge(bytes.Clone(prev)); err != nil {
			return err
		}
	}
	stored, err := s.read(ak)
	if err != nil {
		return err
	}
	was := map[string]*version{}
	if stored != nil {
		r.slots = max(r.slots, stored.slots)
		for _, v := range stored.Versions {
			was[v.ID] = v
		}
	}
	versions, values := s.tx.Bucket(bucketVersion), s.tx.Bucket(bucketValues)
	labels := make(map[string][]string, 3)
	for _, v := range r.Versions {
		if len(v.Stages) > 0 {
			labels[v.ID] = v.Stages
		}
		old := was[v.ID]
		delete(was, v.ID)
		if old != nil && old.slot != 0 {
			v.slot = old.slot
		} else {
			r.slots++
			v.slot = r.slots
		}
		if old == nil || old.slot == 0 || !sameEntry(old, v) {
			entry := *v
			entry.Stages, entry.Value = nil, nil
			if err := s.put(bucketVersion, slotKey(ak, v.slot), entry); err != nil {
				return err
			}
		}
		if v.HasValue && (old == nil || !old.HasValue) {
			if v.Value == nil {
				return fmt.Errorf("secret %s: version %s has no value to write", r.Name, v.ID)
			}
			k := f.valueKey(ak, v.ID)
			sealed, err := f.seal(bucketValues, k, v.Value)
			if err != nil {
				return err
			}
			if err := values.Put(k, sealed); err != nil {
				return err
			}
		}
	}
	for _, old := range was {
		if old.slot != 0 {
			if err := versions.Delete(slotKey(ak, old.slot)); err != nil {
				return err
			}
		}
		if old.HasValue {
			if err := values.Delete(f.valueKey(ak, old.ID)); err != nil {
				return err
			}
		}
	}
	meta := *r
	meta.Versions = nil
	sealed, err := s.seal(bucketSecrets, ak, secretEntry{record: &meta, Labels: labels, Slots: r.slots})
	if err != nil {
		return err
	}
	if err := s.tx.Bucket(bucketSecrets).Put(ak, sealed); err != nil {
		return err
	}
	f.remember(ak, sealed, r)
	if !bytes.Equal(names.Get(nk), ak) {
		if err := names.Put(nk, ak); err != nil {
			return err
		}
	}
	if order := s.tx.Bucket(bucketOrder); !bytes.Equal(order.Get(seqKey(r.Seq)), ak) {
		return order.Put(seqKey(r.Seq), ak)
	}
	return nil
}

// sameEntry reports whether two states of a version have the same entry.
func sameEntry(a, b *version) bool {
	return a.ID == b.ID && a.Created.Equal(b.Created) && a.Accessed.Equal(b.Accessed) &&
		a.Binary == b.Binary && a.HasValue == b.HasValue
}

// seal encodes v and seals it for key of bucket.
func (s *source) seal(bucket, key []byte, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode a store entry: %w", err)
	}
	return s.f.seal(bucket, key, plain)
}

// put seals v and puts it at key of bucket.
func (s *source) put(bucket, key []byte, v any) error {
	sealed, err := s.seal(bucket, key, v)
	if err != nil {
		return err
	}
	return s.tx.Bucket(bucket).Put(key, sealed)
}

// purge deletes the secret at ak and everything of it.
func (s *source) purge(ak []byte) error {
	old, err := s.read(ak)
	if err != nil {
		return err
	}
	if old != nil {
		names := s.tx.Bucket(bucketNames)
		nk := s.f.nameKey(old.Name)
		if bytes.Equal(names.Get(nk), ak) {
			if err := names.Delete(nk); err != nil {
				return err
			}
		}
		order := s.tx.Bucket(bucketOrder)
		if bytes.Equal(order.Get(seqKey(old.Seq)), ak) {
			if err := order.Delete(seqKey(old.Seq)); err != nil {
				return err
			}
		}
	}
	delete(s.f.cache, string(ak))
	if err := s.tx.Bucket(bucketSecrets).Delete(ak); err != nil {
		return err
	}
	for _, bucket := range [][]byte{bucketVersion, bucketValues} {
		c := s.tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(ak); k != nil && bytes.HasPrefix(k, ak); k, _ = c.Seek(ak) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

func flock(fd *os.File, how int) error {
	for {
		err := unix.Flock(int(fd.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
