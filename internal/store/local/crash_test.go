package local

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/secret"
)

// These tests make, byte by byte, the files a crash can leave (see scan.go)
// and some it cannot, and check that the store opens with exactly the
// acknowledged writes in the first case and refuses to open in the second.

const diskPage = 4096

// dump is the whole state of s: every secret with every version and value.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	var recs []*record
	for _, arn := range s.db.sorted() {
		recs = append(recs, s.db.byARN[arn])
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// openDump opens the store file at path and dumps it.
func openDump(t *testing.T, path string, key []byte) (string, error) {
	t.Helper()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		return "", err
	}
	defer s.Close()
	return dump(t, s), nil
}

// writeMany changes the named secrets in one operation, each gaining a
// version with a value of size bytes: one write, one frame of several
// entries spanning several pages.
func writeMany(t *testing.T, s *Store, names []string, size int) {
	t.Helper()
	err := s.run(t.Context(), "", func(tx *txn) error {
		for _, name := range names {
			r, err := tx.find(name)
			if err != nil {
				return err
			}
			tok, err := s.newToken()
			if err != nil {
				return err
			}
			e := tx.edit(r)
			v := &version{ID: tok, Created: tx.now}
			v.setValue(secret.New(rand.Text() + strings.Repeat("v", size)))
			e.Versions = append(e.Versions, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// lastWrite is a store before and after a write that was never
// acknowledged, and the same write made again from the same state (other
// nonces, same position): what an earlier attempt a crash cut short left.
type lastWrite struct {
	path          string
	key           []byte
	before, after []byte
	stale         []byte
	acked, all    string // the dumps before and after the write
}

func makeLastWrite(t *testing.T) *lastWrite {
	t.Helper()
	dir := t.TempDir()
	w := &lastWrite{path: filepath.Join(dir, "store.db"), key: testKey()}
	s, err := Open(Config{Path: w.path, Key: w.key})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"app/a", "app/b", "app/c"}
	for i, n := range names {
		mustCreate(t, s, n, fmt.Sprintf("first-%d", i))
	}
	writeMany(t, s, names[:2], 700)
	w.before, w.acked = readFile(t, w.path), dump(t, s)
	s.Close()

	// The same write from a copy of the same state.
	twin := filepath.Join(dir, "twin.db")
	if err := os.WriteFile(twin, w.before, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Config{Path: twin, Key: w.key})
	if err != nil {
		t.Fatal(err)
	}
	writeMany(t, s2, names, 4000)
	w.stale = readFile(t, twin)
	w.stale = append(w.stale, randomBytes(diskPage)...) // in case its dates encode shorter
	s2.Close()

	s, err = Open(Config{Path: w.path, Key: w.key})
	if err != nil {
		t.Fatal(err)
	}
	writeMany(t, s, names, 4000)
	w.after, w.all = readFile(t, w.path), dump(t, s)
	s.Close()
	if !bytes.Equal(w.after[:len(w.before)], w.before) || len(w.after)-len(w.before) < 3*diskPage {
		t.Fatalf("the last write did not append a frame of several pages (%d bytes)", len(w.after)-len(w.before))
	}
	return w
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// check writes file as the store and opens it: it must hold exactly the
// acknowledged writes, or all of them and the last one when that landed
// whole. When writeAfter is set, it then writes, which cuts the remains of
// the last write off, and checks that a reopened store has that write.
func (w *lastWrite) check(t *testing.T, file []byte, writeAfter bool) {
	t.Helper()
	if err := os.WriteFile(w.path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	want := w.acked
	if len(file) >= len(w.after) && bytes.Equal(file[:len(w.after)], w.after) {
		want = w.all
	}
	s, err := Open(Config{Path: w.path, Key: w.key})
	if err != nil {
		t.Fatalf("open after a crash in the last write: %v", err)
	}
	defer s.Close()
	if got := dump(t, s); got != want {
		t.Fatalf("opened with other data than was acknowledged:\n got %.300s\nwant %.300s", got, want)
	}
	if !writeAfter {
		return
	}
	mustCreate(t, s, "after-crash", "v")
	s2, err := Open(Config{Path: w.path, Key: w.key})
	if err != nil {
		t.Fatalf("open after writing over the remains of the last write: %v", err)
	}
	defer s2.Close()
	if dump(t, s2) != dump(t, s) || mustValue(t, s2, "after-crash") != "v" {
		t.Fatal("the write after the crash is lost")
	}
	if fi, _ := os.Stat(w.path); fi.Size() != s2.file.off {
		t.Fatalf("the store is %d bytes but its frames end at %d: the remains of the last write were not cut off", fi.Size(), s2.file.off)
	}
}

// TestKilledInLastWrite opens every prefix a killed writer can leave.
func TestKilledInLastWrite(t *testing.T) {
	w := makeLastWrite(t)
	start := len(w.before)
	for cut := start; cut <= len(w.after); cut++ {
		if cut-start > 2*frameHeadLen+nonceLen && cut < len(w.after)-8 && (cut-start)%97 != 0 {
			continue // every byte of the frame's head and end, a sample in between
		}
		t.Run(fmt.Sprintf("cut at %d of %d", cut-start, len(w.after)-start), func(t *testing.T) {
			w.check(t, w.after[:cut], (cut-start)%13 == 0)
		})
	}
}

// TestPowerLossInLastWrite opens what a power loss in the last write can
// leave: any subset of its pages landed, in any order; each of the others
// zero, random, or holding an earlier attempt at the same write; and the
// file as long as the write, or longer when an earlier attempt was.
func TestPowerLossInLastWrite(t *testing.T) {
	w := makeLastWrite(t)
	start, end := len(w.before), len(w.after)
	first, last := start/diskPage, (end-1)/diskPage
	pages := last - first + 1
	if pages > 10 {
		t.Fatalf("the last write spans %d pages; too many to try every subset", pages)
	}
	junk := randomBytes(end)
	for landed := range 1 << pages {
		for variant := range 3 {
			name := fmt.Sprintf("pages %0*b variant %d", pages, landed, variant)
			t.Run(name, func(t *testing.T) {
				file := slices.Clone(w.after)
				for p := range pages {
					if landed&(1<<p) != 0 {
						continue
					}
					lo, hi := max(start, (first+p)*diskPage), min(end, (first+p+1)*diskPage)
					switch (p + variant) % 3 {
					case 0:
						clear(file[lo:hi])
					case 1:
						copy(file[lo:hi], junk[lo:hi])
					case 2:
						copy(file[lo:hi], w.stale[lo:hi])
					}
				}
				if variant == 1 {
					file = append(file, junk[:diskPage+100]...) // an earlier, longer attempt
				}
				w.check(t, file, landed%7 == 0)
			})
		}
	}
}

// TestOthersFramesSyncedFirst checks the half of the crash model that is
// the writer's: frames another process appended (which may not be on disk:
// it may have died before its fdatasync) are synced before anything is
// appended after them, so that only the last frame can ever be damaged.
func TestOthersFramesSyncedFirst(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	a, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	syncs := func(s *Store, write func()) int {
		n := s.file.datasyncs
		write()
		return s.file.datasyncs - n
	}
	for _, step := range []struct {
		name string
		s    *Store
		want int
	}{
		{"a, on a new store", a, 1},
		{"a again", a, 1},
		{"b after a", b, 2},
		{"b again", b, 1},
		{"a after b", a, 2},
	} {
		if got := syncs(step.s, func() { mustCreate(t, step.s, rand.Text(), "v") }); got != step.want {
			t.Errorf("write by %s: %d fdatasyncs, want %d", step.name, got, step.want)
		}
	}
	c, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := syncs(c, func() { mustCreate(t, c, "c", "v") }); got != 2 {
		t.Errorf("first write by a process that opened a store with appended frames: %d fdatasyncs, want 2", got)
	}
}

// TestCrashNoted checks that dropping the remains of an interrupted write is
// logged, once, without a value.
func TestCrashNoted(t *testing.T) {
	w := makeLastWrite(t)
	if err := os.WriteFile(w.path, w.after[:len(w.after)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := Open(Config{Path: w.path, Key: w.key, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustValue(t, s, "app/a")
	mustValue(t, s, "app/b")
	out := logs.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, w.path) || !strings.Contains(out, "crash") {
		t.Fatalf("want one warning naming the store and the crash; logged:\n%s", out)
	}
	if strings.Contains(out, "first-") || strings.Contains(out, "vvvv") {
		t.Fatalf("a value was logged:\n%s", out)
	}
	mustCreate(t, s, "d", "v")
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings after the next write, want 1", n)
	}
}
