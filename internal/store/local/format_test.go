package local

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

var errInjected = errors.New("injected I/O error")

func openPath(t *testing.T, path string, key []byte) *Store {
	t.Helper()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func describe(t *testing.T, s *Store, id string) *store.Description {
	t.Helper()
	d, err := s.DescribeSecret(t.Context(), id)
	if err != nil {
		t.Fatalf("DescribeSecret %s: %v", id, err)
	}
	return d
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// dumpErr is the whole state of s: every secret, oldest first, with every
// version and value.
func dumpErr(t *testing.T, s *Store) (string, error) {
	t.Helper()
	var recs []*record
	err := s.run(t.Context(), "", func(tx *txn) error {
		var arns []string
		err := tx.db.each(true, 0, func(r *record) bool {
			if !r.expired(tx.now) {
				arns = append(arns, r.ARN)
			}
			return true
		})
		if err != nil {
			return err
		}
		for _, arn := range arns {
			r, err := tx.find(arn)
			if err != nil {
				return err
			}
			c := r.clone()
			for _, v := range c.Versions {
				if _, err := tx.value(c, v); err != nil {
					return err
				}
			}
			c.partial = false
			recs = append(recs, c)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

func dump(t *testing.T, s *Store) string {
	t.Helper()
	d, err := dumpErr(t, s)
	if err != nil {
		t.Fatalf("read the whole store: %v", err)
	}
	return d
}

// fillStore gives s secrets with several versions, labels, tags, binary
// and text values, one marked for deletion and one deleted for good.
func fillStore(t *testing.T, s *Store, now *time.Time) {
	t.Helper()
	ctx := t.Context()
	for i := range 12 {
		name := fmt.Sprintf("app/%02d", i)
		arn := mustCreate(t, s, name, fmt.Sprintf("first-%d", i))
		for j := range i % 4 {
			v := secret.New(fmt.Sprintf("v%d-%d-%s", i, j, strings.Repeat("x", 50*j)))
			if j == 2 {
				v = secret.NewBinary([]byte{0, 1, 2, byte(i)})
			}
			if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: arn, Value: v,
				ClientRequestToken: fmt.Sprintf("%08d-0000-4000-8000-%012d", i, j)}); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			if err := s.TagResource(ctx, arn, []store.Tag{{Key: "team", Value: fmt.Sprint(i)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.DeleteSecret(ctx, store.DeleteSecretInput{SecretID: "app/05", RecoveryWindowInDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteSecret(ctx, store.DeleteSecretInput{SecretID: "app/07", RecoveryWindowInDays: 7}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(8 * 24 * time.Hour) // app/07 is gone
	mustValue(t, s, "app/01")
}

// writeFormat2 writes the state of a memory store as a store file of
// format 2, as the release before format 3 left it (the release before format 4 read it).
func writeFormat2(t *testing.T, m *Store, path string, key []byte, now time.Time) {
	t.Helper()
	if err := writeV2(path, key, m.db, now); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(readFile(t, path), []byte(magic)) {
		t.Fatal("not a format 2 file")
	}
}

// A store file of format 2 is migrated when it is opened: every secret,
// version, value, label, tag and date is there, and the file is format 4.
func TestMigrateFormat2(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := NewMemory(Config{Now: clock})
	fillStore(t, m, &now)
	want := dump(t, m)
	if strings.Contains(want, "app/07") || !strings.Contains(want, "app/05") {
		t.Fatal("the memory store does not hold what the test expects")
	}
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	writeFormat2(t, m, path, key, now.Add(-8*24*time.Hour)) // app/07 still in the file
	s, err := Open(Config{Path: path, Key: key, Now: clock})
	if err != nil {
		t.Fatalf("open a format 2 store: %v", err)
	}
	if got := dump(t, s); got != want {
		t.Fatalf("after migration:\n got %.400s\nwant %.400s", got, want)
	}
	if !isBoltFile(readFile(t, path)) {
		t.Fatal("the store file is not a bbolt file after opening")
	}
	s.Close()
	if f := fileFormat(t, path); f != formatV4 {
		t.Fatalf("format %q after the migration", f)
	}
	if s, err = Open(Config{Path: path, Key: key, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".store.db.tmp-*")); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	// It goes on as any store: a write, a reopen.
	mustCreate(t, s, "after", "migration")
	s.Close()
	s2, err := Open(Config{Path: path, Key: key, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if mustValue(t, s2, "after") != "migration" || mustValue(t, s2, "app/10") == "" {
		t.Fatal("a write after the migration is lost")
	}
	if _, err := s2.RestoreSecret(t.Context(), "app/05"); err != nil {
		t.Fatalf("restore the secret marked for deletion before the migration: %v", err)
	}
}

// A migration with the wrong key changes nothing.
func TestMigrateWrongKey(t *testing.T) {
	m := NewMemory(Config{})
	mustCreate(t, m, "a", "v")
	path := filepath.Join(t.TempDir(), "store.db")
	writeFormat2(t, m, path, testKey(), time.Now())
	before := readFile(t, path)
	_, err := Open(Config{Path: path, Key: testKey()})
	if store.CodeOf(err) != store.ErrDecryptionFailure {
		t.Fatalf("open a format 2 store with another key: %v, want %s", err, store.ErrDecryptionFailure)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("a failed migration changed the store file")
	}
}

func TestFormat1Refused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	if err := os.WriteFile(path, append([]byte(oldMagic), randomBytes(200)...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{Path: path, Key: testKey()})
	if err == nil || !strings.Contains(err.Error(), "format 1") || !strings.Contains(err.Error(), path) {
		t.Fatalf("open of a format 1 store: %v", err)
	}
}

// metaTxid reads the transaction id of the meta page at off.
func metaTxid(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off+64:]) }

// A power loss in the middle of a commit leaves its meta page torn (the
// data pages it wrote are in free space): the store opens at the commit
// before it, which holds everything acknowledged, and goes on writing.
func TestTornMetaPage(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	s := openPath(t, path, key)
	for i := range 5 {
		mustCreate(t, s, fmt.Sprintf("s%d", i), strings.Repeat("v", 3000))
	}
	acked := dump(t, s)
	if _, err := s.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: "s1", Value: secret.New("unacknowledged")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b := readFile(t, path)
	page := os.Getpagesize()
	newer := 0
	if metaTxid(b, page) > metaTxid(b, 0) {
		newer = page
	}
	copy(b[newer+16:newer+page], randomBytes(page-16))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := openPath(t, path, key)
	if got := dump(t, s2); got != acked {
		t.Fatalf("after a torn meta page:\n got %.300s\nwant %.300s", got, acked)
	}
	mustCreate(t, s2, "after", "v")
	s2.Close()
	if got := mustValue(t, openPath(t, path, key), "after"); got != "v" {
		t.Fatal("the write after a torn commit is lost")
	}
}

// An entry changed on disk is refused as damage, naming the store and
// what to do, and the store file is not changed by the attempt.
func TestDamagedEntry(t *testing.T) {
	for _, bucket := range [][]byte{bucketSecrets, bucketVersion, bucketValues} {
		t.Run(string(bucket), func(t *testing.T) {
			path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
			s := openPath(t, path, key)
			mustCreate(t, s, "a", "s3cr3t-value-42")
			s.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucket)
				k, v := b.Cursor().First()
				v = bytes.Clone(v)
				v[len(v)/2] ^= 1
				return b.Put(bytes.Clone(k), v)
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			before := readFile(t, path)
			s2 := openPath(t, path, key)
			_, err = s2.GetSecretValue(t.Context(), store.GetSecretValueInput{SecretID: "a"})
			if store.CodeOf(err) != store.ErrInternal || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "backup") {
				t.Fatalf("read of a damaged entry: %v", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatal("the error holds the value")
			}
			s2.Close()
			if !bytes.Equal(readFile(t, path), before) {
				t.Fatal("reading a damaged store changed it")
			}
		})
	}
}

// Garbage on any one page of the file is either a free page, and the store
// holds everything, the newest meta page, and the store holds everything
// but the last commit (as after a power loss in that commit), or damage the
// store reports: never a crash of the process or other values than were
// written.
func TestDamagedPages(t *testing.T) {
	dir := t.TempDir()
	path, key := filepath.Join(dir, "store.db"), testKey()
	s := openPath(t, path, key)
	var prev string
	for i := range 40 {
		prev = dump(t, s)
		mustCreate(t, s, fmt.Sprintf("s%02d", i), fmt.Sprintf("%d-%s", i, strings.Repeat("v", 400)))
	}
	want := dump(t, s)
	s.Close()
	good := readFile(t, path)
	page := os.Getpagesize()
	damaged := 0
	for p := 0; p < len(good)/page; p++ {
		// A new file each time: a store that bbolt cannot open may
		// keep its descriptor (and bbolt's flock) open.
		path := filepath.Join(dir, fmt.Sprintf("damaged-%d.db", p))
		b := bytes.Clone(good)
		copy(b[p*page:(p+1)*page], randomBytes(page))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Config{Path: path, Key: key})
		if err == nil {
			var got string
			got, err = dumpErr(t, s)
			s.Close()
			// A meta page that does not check is what a power loss in
			// the commit that wrote it leaves: the store opens at the
			// commit before.
			if err == nil && got != want && !(p < 2 && got == prev) {
				t.Fatalf("page %d damaged: the store returned other data than was written", p)
			}
		}
		if err != nil {
			damaged++
			if !strings.Contains(err.Error(), "damaged") && !strings.Contains(err.Error(), "not a rotor store") {
				t.Fatalf("page %d damaged: %v, want an error that says the store is damaged", p, err)
			}
		}
	}
	t.Logf("%d of %d pages were reported damaged", damaged, len(good)/page)
}

// Reading one secret reads that secret alone, however many the store holds.
func TestReadsOnlyWhatIsNeeded(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	s := openPath(t, path, key)
	seed(t, s, 2000)
	s.Close()
	s = openPath(t, path, key)
	loads := s.file.loads
	if got := mustValue(t, s, "bench/secret-01234"); !strings.Contains(got, "svc-01234") {
		t.Fatalf("value %q", got)
	}
	describe(t, s, "bench/secret-00007")
	if n := s.file.loads - loads; n != 2 {
		t.Fatalf("a read and a describe decrypted %d secrets of 2,000, want 2", n)
	}
	loads = s.file.loads
	out, err := s.ListSecrets(t.Context(), store.ListSecretsInput{MaxResults: 10})
	if err != nil || len(out.Secrets) != 10 || out.NextToken == "" {
		t.Fatalf("ListSecrets: %v %v", out, err)
	}
	if n := s.file.loads - loads; n != 11 {
		t.Fatalf("a page of 10 decrypted %d secrets, want 11", n)
	}
}

// viewFile runs fn in a read-only transaction of s's file, under the
// store's lock, as another process would read it.
func viewFile(t *testing.T, s *Store, fn func(tx *bolt.Tx) error) {
	t.Helper()
	unlock, err := s.file.lockStore(true)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	db, err := bolt.Open(s.Path(), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(fn); err != nil {
		t.Fatal(err)
	}
}

// countEntries counts the entries of a bucket of s's file.
func countEntries(t *testing.T, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	viewFile(t, s, func(tx *bolt.Tx) error { n = tx.Bucket(bucket).Stats().KeyN; return nil })
	return n
}

// A secret created earlier in the same group is listed where its creation
// puts it: last in ascending order, first in descending order.
func TestEachSeesTheGroupsNewSecrets(t *testing.T) {
	s := openWith(t, Config{})
	mustCreate(t, s, "a", "v")
	mustCreate(t, s, "b", "v")
	for _, asc := range []bool{true, false} {
		var names []string
		err := s.run(t.Context(), "", func(tx *txn) error {
			tx.db.seq++
			tx.add(&record{ARN: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:000000000000:secret:new%v-AAAAAA", asc),
				Name: fmt.Sprintf("new%v", asc), Seq: tx.db.seq, Created: tx.now})
			tx.commit()
			return tx.db.each(asc, 0, func(r *record) bool { names = append(names, r.Name); return true })
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"a", "b", fmt.Sprintf("new%v", asc)}
		if !asc {
			want = []string{"newfalse", "newtrue", "b", "a"} // the first run wrote newtrue
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("asc=%v: %v, want %v", asc, names, want)
		}
	}
}

// writeFormat3 writes the state of a memory store as a store file of
// format 3, as the release before format 4 left it: each secret entry
// holds its versions, and there is no versions bucket.
func writeFormat3(t *testing.T, m *Store, path string, key []byte) {
	t.Helper()
	f := &file{path: path}
	if err := f.deriveKeys(key); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		if err := f.initDB(tx); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketVersion); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(metaFormat, []byte(formatV3)); err != nil {
			return err
		}
		for _, arn := range m.db.sorted() {
			r := m.db.byARN[arn]
			ak := f.arnKey(arn)
			meta := newEntry(r, nil).Put
			plain, err := json.Marshal(meta)
			if err != nil {
				return err
			}
			sealed, err := f.seal(bucketSecrets, ak, plain)
			if err != nil {
				return err
			}
			if err := errors.Join(tx.Bucket(bucketSecrets).Put(ak, sealed),
				tx.Bucket(bucketNames).Put(f.nameKey(r.Name), ak),
				tx.Bucket(bucketOrder).Put(seqKey(r.Seq), ak)); err != nil {
				return err
			}
			for _, v := range r.Versions {
				if v.HasValue {
					k := f.valueKey(ak, v.ID)
					sealed, err := f.seal(bucketValues, k, v.Value)
					if err != nil {
						return err
					}
					if err := tx.Bucket(bucketValues).Put(k, sealed); err != nil {
						return err
					}
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(metaSeq, seqKey(m.db.seq))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fileFormat reads the format entry of a closed store file.
func fileFormat(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var format string
	if err := db.View(func(tx *bolt.Tx) error { format = string(tx.Bucket(bucketMeta).Get(metaFormat)); return nil }); err != nil {
		t.Fatal(err)
	}
	return format
}

// A store file of format 3 becomes format 4 when it is opened, with every
// secret as it was; a secret written since is in the new layout, and the
// file reads the same as a memory store given the same operations.
func TestUpgradeFormat3(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := NewMemory(Config{Now: clock})
	fillStore(t, m, &now)
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	writeFormat3(t, m, path, key)
	s, err := Open(Config{Path: path, Key: key, Now: clock})
	if err != nil {
		t.Fatalf("open a format 3 store: %v", err)
	}
	if got, want := dump(t, s), dump(t, m); got != want {
		t.Fatalf("after the upgrade:\n got %.400s\nwant %.400s", got, want)
	}
	if n := countEntries(t, s, bucketVersion); n != 0 {
		t.Fatalf("the upgrade wrote %d version entries; secrets are rewritten only when next written", n)
	}
	for _, st := range []*Store{m, s} {
		if _, err := st.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: "app/03", Value: secret.New("after the upgrade"),
			ClientRequestToken: "99999999-0000-4000-8000-000000000000"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateSecretVersionStage(t.Context(), store.UpdateSecretVersionStageInput{SecretID: "app/02",
			VersionStage: "team-label", MoveToVersionID: describe(t, st, "app/02").VersionWithStage(store.Previous)}); err != nil {
			t.Fatal(err)
		}
	}
	want := dump(t, m)
	if got := dump(t, s); got != want {
		t.Fatalf("after writes:\n got %.400s\nwant %.400s", got, want)
	}
	if n := countEntries(t, s, bucketVersion); n != 5+3 {
		t.Fatalf("%d version entries, want the 5 of app/03 (4 and the new one) and the 3 of app/02", n)
	}
	s.Close()
	if f := fileFormat(t, path); f != formatV4 {
		t.Fatalf("format %q after the upgrade", f)
	}
	if s, err = Open(Config{Path: path, Key: key, Now: clock}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := dump(t, s); got != want {
		t.Fatalf("reopened:\n got %.400s\nwant %.400s", got, want)
	}
}

// The upgrade with the wrong key changes nothing.
func TestUpgradeWrongKey(t *testing.T) {
	m := NewMemory(Config{})
	mustCreate(t, m, "a", "v")
	path := filepath.Join(t.TempDir(), "store.db")
	writeFormat3(t, m, path, testKey())
	before := readFile(t, path)
	if _, err := Open(Config{Path: path, Key: bytes.Repeat([]byte{7}, 32)}); store.CodeOf(err) != store.ErrDecryptionFailure {
		t.Fatalf("open with the wrong key: %v", err)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("a failed upgrade changed the file")
	}
}

// entries reads every entry of s's file, by bucket and key.
func entries(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	viewFile(t, s, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out[fmt.Sprintf("%s/%x", name, k)] = string(v)
				return nil
			})
		})
	})
	return out
}

// A new version of a secret at its 100 versions puts the secret's entry,
// the new version's entry and its value, and deletes the entry and value
// of the version it prunes: nothing else of the file changes, whatever the
// number of versions.
func TestWriteChangesOnlyWhatChanged(t *testing.T) {
	s := openWith(t, Config{})
	ctx := t.Context()
	arn := mustCreate(t, s, "busy", "v0")
	mustCreate(t, s, "other", "o")
	put := func(i int) {
		t.Helper()
		if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: arn, Value: secret.New(fmt.Sprintf("v%d", i)),
			ClientRequestToken: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < store.MaxVersions; i++ {
		put(i)
	}
	before := entries(t, s)
	put(store.MaxVersions)
	after := entries(t, s)
	changed := map[string]int{}
	for k, v := range after {
		if old, ok := before[k]; !ok {
			changed["+"+strings.Split(k, "/")[0]]++
		} else if old != v {
			changed["~"+strings.Split(k, "/")[0]]++
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			changed["-"+strings.Split(k, "/")[0]]++
		}
	}
	want := map[string]int{"~secrets": 1, "+versions": 1, "-versions": 1, "+values": 1, "-values": 1}
	if fmt.Sprint(changed) != fmt.Sprint(want) {
		t.Fatalf("a new version changed %v, want %v", changed, want)
	}
	if d := describe(t, s, arn); len(d.VersionIDsToStages) != 2 || mustValue(t, s, arn) != fmt.Sprintf("v%d", store.MaxVersions) {
		t.Fatalf("after the write: %v", d.VersionIDsToStages)
	}
}

// A labelled version whose entry is missing is damage, not a secret
// without it.
func TestMissingVersionEntry(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	s := openPath(t, path, key)
	mustCreate(t, s, "a", "v")
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketVersion).Cursor().First()
		return tx.Bucket(bucketVersion).Delete(bytes.Clone(k))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = openPath(t, path, key)
	if _, err := s.DescribeSecret(t.Context(), "a"); store.CodeOf(err) != store.ErrInternal || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("describe a secret whose version entry is missing: %v", err)
	}
	// A listing reads secret entries alone, labels included, and so
	// neither needs nor notices the version entries.
	out, err := s.ListSecrets(t.Context(), store.ListSecretsInput{})
	if err != nil || len(out.Secrets) != 1 || len(out.Secrets[0].VersionIDsToStages) != 1 {
		t.Fatalf("ListSecrets: %+v %v", out, err)
	}
	for _, stages := range out.Secrets[0].VersionIDsToStages {
		if !slices.Equal(stages, []string{store.Current}) {
			t.Fatalf("listed labels %v", stages)
		}
	}
}
