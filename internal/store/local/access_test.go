package local

import (
	"os"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A read records LastAccessedDate without writing: the date is in memory at
// once, and in the file with the next write, in that write's frame.
func TestAccessDateWithoutWrite(t *testing.T) {
	a := openWith(t, Config{})
	b := openPath(t, a.Path(), a.file.key)
	mustCreate(t, a, "k", "v")
	mustCreate(t, a, "other", "v")
	describe(t, b, "k") // b is up to date
	size, syncs := fileSize(t, a.Path()), a.file.commits
	mustValue(t, a, "k")
	if got := a.file.commits - syncs; got != 0 {
		t.Errorf("GetSecretValue made %d commits, want none", got)
	}
	if got := fileSize(t, a.Path()); got != size {
		t.Errorf("GetSecretValue wrote %d bytes, want none", got-size)
	}
	if d := describe(t, a, "k"); d.LastAccessedDate.IsZero() {
		t.Error("LastAccessedDate not set in the reading store")
	}
	if d := describe(t, b, "k"); !d.LastAccessedDate.IsZero() {
		t.Errorf("another store sees LastAccessedDate %v before any write", d.LastAccessedDate)
	}
	// The next write carries it, with no sync of its own.
	syncs = a.file.commits
	if err := a.TagResource(t.Context(), "other", []store.Tag{{Key: "t", Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	if got := a.file.commits - syncs; got != 1 {
		t.Errorf("the write after a read made %d commits, want 1", got)
	}
	d := describe(t, b, "k")
	if d.LastAccessedDate.IsZero() {
		t.Fatal("LastAccessedDate not in the file after the next write")
	}
	vs, err := b.ListSecretVersionIDs(t.Context(), store.ListSecretVersionIDsInput{SecretID: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions) != 1 || !vs.Versions[0].LastAccessedDate.Equal(d.LastAccessedDate) {
		t.Errorf("the version's LastAccessedDate: %+v, want %v", vs.Versions, d.LastAccessedDate)
	}
	// Once written, a read the same day notes nothing more.
	mustValue(t, a, "k")
	if len(a.access) != 0 {
		t.Errorf("a second read the same day noted %v", a.access)
	}
}

// Close writes the dates no write has carried yet.
func TestAccessDateOnClose(t *testing.T) {
	a := openWith(t, Config{})
	path, key := a.Path(), a.file.key
	mustCreate(t, a, "k", "v")
	mustValue(t, a, "k")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if d := describe(t, openPath(t, path, key), "k"); d.LastAccessedDate.IsZero() {
		t.Error("LastAccessedDate not in the file after Close")
	}
}

// A store that reads and never writes records the dates after a while.
func TestAccessDateTimer(t *testing.T) {
	a := openWith(t, Config{})
	a.accessDelay = 10 * time.Millisecond
	b := openPath(t, a.Path(), a.file.key)
	mustCreate(t, a, "k", "v")
	mustValue(t, a, "k")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if d := describe(t, b, "k"); !d.LastAccessedDate.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("LastAccessedDate not in the file 5 s after the read")
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.access) != 0 || a.notesTimer != nil {
		t.Errorf("after the timed write: noted %v, timer %v", a.access, a.notesTimer)
	}
}

// A date noted before another process changed the secret is written on top
// of that change, not over it; a process that dies before writing it loses
// the date alone.
func TestAccessDateAfterOthersWrite(t *testing.T) {
	a := openWith(t, Config{})
	path, key := a.Path(), a.file.key
	b := openPath(t, path, key)
	mustCreate(t, a, "k", "v1")
	mustCreate(t, a, "other", "v")
	mustValue(t, a, "k")
	v2 := secret.New("v2")
	if _, err := b.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: "k", Value: v2}); err != nil {
		t.Fatal(err)
	}
	if d := describe(t, a, "k"); d.LastAccessedDate.IsZero() {
		t.Error("the reading store lost LastAccessedDate when it caught up with another's write")
	}
	if err := a.TagResource(t.Context(), "other", []store.Tag{{Key: "t", Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	c := openPath(t, path, key)
	if got := mustValue(t, c, "k"); got != "v2" {
		t.Errorf("value after the date was written: %q, want the other store's v2", got)
	}
	if d := describe(t, c, "k"); d.LastAccessedDate.IsZero() {
		t.Error("LastAccessedDate not written")
	}

	// A store that dies with dates noted (no Close) loses them, nothing else.
	mustValue(t, b, "other")
	b.mu.Lock()
	b.notesWritten() // as a kill would: never written
	b.closed = true
	b.mu.Unlock()
	if d := describe(t, openPath(t, path, key), "other"); !d.LastAccessedDate.IsZero() {
		t.Errorf("LastAccessedDate %v of a read whose store died unwritten", d.LastAccessedDate)
	}
}
