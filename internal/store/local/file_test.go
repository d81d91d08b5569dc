package local

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

func testKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func mustCreate(t testing.TB, s *Store, name, value string) string {
	t.Helper()
	v := secret.New(value)
	ref, err := s.CreateSecret(t.Context(), store.CreateSecretInput{Name: name, Value: &v})
	if err != nil {
		t.Fatal(err)
	}
	return ref.ARN
}

func mustValue(t testing.TB, s *Store, id string) string {
	t.Helper()
	out, err := s.GetSecretValue(t.Context(), store.GetSecretValueInput{SecretID: id})
	if err != nil {
		t.Fatalf("GetSecretValue %s: %v", id, err)
	}
	return out.Value.Text()
}

// dirBytes returns the contents of every file under dir.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNothingInPlaintext(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Path: filepath.Join(dir, "store.db"), Key: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	const value, name, desc = "hunter2-Sup3rS3cret-value", "payments/db-password", "ledger database"
	arn := mustCreate(t, s, name, value)
	d := desc
	if _, err := s.UpdateSecret(t.Context(), store.UpdateSecretInput{SecretID: arn, Description: &d}); err != nil {
		t.Fatal(err)
	}
	if err := s.TagResource(t.Context(), arn, []store.Tag{{Key: "owner", Value: "team-ledger"}}); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for p, b := range dirBytes(t, dir) {
			for _, plain := range []string{value, name, desc, "team-ledger", "AWSCURRENT"} {
				if bytes.Contains(b, []byte(plain)) {
					t.Fatalf("round %d: %s holds %q in plaintext", round, p, plain)
				}
			}
		}
		// Write more versions, and look again.
		for i := range 50 {
			if _, err := s.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: arn,
				ClientRequestToken: fmt.Sprintf("%032d", i+100*round), Value: secret.New(value)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if mustValue(t, s, name) != value {
		t.Fatal("value lost")
	}
}

func TestReopenAndShare(t *testing.T) {
	path, key := filepath.Join(t.TempDir(), "store.db"), testKey()
	a, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	arn := mustCreate(t, a, "shared", "from-a")
	if got := mustValue(t, b, arn); got != "from-a" {
		t.Fatalf("b reads %q, want from-a", got)
	}
	// a writes many times: b reads what it wrote.
	for i := range 100 {
		if _, err := a.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: arn,
			ClientRequestToken: fmt.Sprintf("%032d", i), Value: secret.New(fmt.Sprintf("v%d-%s", i, strings.Repeat("x", 200)))}); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustValue(t, b, arn); !strings.HasPrefix(got, "v99-") {
		t.Fatalf("b reads %q after a's writes, want v99-...", got)
	}
	if _, err := b.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: arn, ClientRequestToken: fmt.Sprintf("%032d", 1000),
		Value: secret.New("from-b")}); err != nil {
		t.Fatal(err)
	}
	if got := mustValue(t, a, arn); got != "from-b" {
		t.Fatalf("a reads %q, want from-b", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Free pages are reused: the file holds about the live data.
	if fi.Size() > 256<<10 {
		t.Fatalf("store is %d bytes after 100 writes of one secret, want it bounded", fi.Size())
	}
	a.Close()
	b.Close()
	c, err := Open(Config{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := mustValue(t, c, "shared"); got != "from-b" {
		t.Fatalf("after reopening: %q, want from-b", got)
	}
	if out, err := c.ListSecrets(t.Context(), store.ListSecretsInput{}); err != nil || len(out.Secrets) != 1 {
		t.Fatalf("secrets after reopening: %v %v, want 1", out, err)
	}
}

func TestWrongKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(Config{Path: path, Key: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "x", "v")
	s.Close()
	_, err = Open(Config{Path: path, Key: testKey()})
	if store.CodeOf(err) != store.ErrDecryptionFailure || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), KeyEnv) {
		t.Fatalf("Open with another key: %v, want %s naming the store and %s", err, store.ErrDecryptionFailure, KeyEnv)
	}
}

func TestNotAStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	if err := os.WriteFile(path, []byte("hello, this is not a rotor store at all, not even close to one, really"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{Path: path, Key: testKey()})
	if err == nil || !strings.Contains(err.Error(), "not a rotor store") {
		t.Fatalf("Open of another file: %v", err)
	}
}

func TestExpiredDeletion(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, s := range map[string]*Store{
		"memory": NewMemory(Config{Now: func() time.Time { return now }}),
		"file":   openWith(t, Config{Now: func() time.Time { return now }}),
	} {
		t.Run(name, func(t *testing.T) {
			arn := mustCreate(t, s, "old", "v")
			if _, err := s.DeleteSecret(t.Context(), store.DeleteSecretInput{SecretID: arn, RecoveryWindowInDays: 7}); err != nil {
				t.Fatal(err)
			}
			now = now.Add(7*24*time.Hour - time.Second)
			if _, err := s.DescribeSecret(t.Context(), arn); err != nil {
				t.Fatalf("within the recovery window: %v", err)
			}
			now = now.Add(time.Second)
			if _, err := s.DescribeSecret(t.Context(), arn); store.CodeOf(err) != store.ErrNotFound {
				t.Fatalf("after the recovery window: %v, want %s", err, store.ErrNotFound)
			}
			out, err := s.ListSecrets(t.Context(), store.ListSecretsInput{IncludePlannedDeletion: true})
			if err != nil || len(out.Secrets) != 0 {
				t.Fatalf("ListSecrets after the recovery window: %v %v", out, err)
			}
			if _, err := s.RestoreSecret(t.Context(), arn); store.CodeOf(err) != store.ErrNotFound {
				t.Fatalf("RestoreSecret after the recovery window: %v", err)
			}
			arn2 := mustCreate(t, s, "old", "new")
			if arn2 == arn || mustValue(t, s, "old") != "new" {
				t.Fatal("the name was not free after the recovery window")
			}
			if s.file == nil {
				return
			}
			// A write that reads a secret gone for good removes it.
			mustCreate(t, s, "gone", "v")
			if _, err := s.DeleteSecret(t.Context(), store.DeleteSecretInput{SecretID: "gone", ForceDeleteWithoutRecovery: true}); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, s, "other", "v")
			if _, err := s.DeleteSecret(t.Context(), store.DeleteSecretInput{SecretID: "other", RecoveryWindowInDays: 7}); err != nil {
				t.Fatal(err)
			}
			now = now.Add(8 * 24 * time.Hour)
			if err := s.TagResource(t.Context(), "old", []store.Tag{{Key: "t", Value: "v"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DescribeSecret(t.Context(), "other"); store.CodeOf(err) != store.ErrNotFound {
				t.Fatalf("describe after the window: %v", err)
			}
			if err := s.TagResource(t.Context(), "old", []store.Tag{{Key: "t", Value: "w"}}); err != nil {
				t.Fatal(err)
			}
			if n := countEntries(t, s, bucketSecrets); n != 1 {
				t.Fatalf("%d secrets in the file, want 1: those gone for good are kept", n)
			}
			if n := countEntries(t, s, bucketValues); n != 1 {
				t.Fatalf("%d values in the file, want 1", n)
			}
		})
	}
}

func openWith(t testing.TB, cfg Config) *Store {
	t.Helper()
	cfg.Path, cfg.Key = filepath.Join(t.TempDir(), "store.db"), testKey()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestARNs(t *testing.T) {
	s := NewMemory(Config{Region: "eu-west-1", AccountID: "123456789012"})
	arn := mustCreate(t, s, "app/key", "v")
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-") || len(arn) != len("arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-")+6 {
		t.Fatalf("ARN %s", arn)
	}
	// A deterministic random source makes deterministic ARNs.
	a := NewMemory(Config{Rand: bytes.NewReader(bytes.Repeat([]byte{5}, 100))})
	if got := mustCreate(t, a, "x", "v"); got != "arn:aws:secretsmanager:us-east-1:000000000000:secret:x-FFFFFF" {
		t.Fatalf("ARN %s", got)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	s := openWith(t, Config{})
	arn := mustCreate(t, s, "c", "v")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := s.PutSecretValue(t.Context(), store.PutSecretValueInput{SecretID: arn,
					ClientRequestToken: fmt.Sprintf("%031d%d", i, w), Value: secret.New("x")}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	out, err := s.ListSecretVersionIDs(t.Context(), store.ListSecretVersionIDsInput{SecretID: arn, IncludeDeprecated: true})
	if err != nil || len(out.Versions) != 41 {
		t.Fatalf("%d versions (%v), want 41", len(out.Versions), err)
	}
}

func TestClosed(t *testing.T) {
	for name, s := range map[string]*Store{"memory": NewMemory(Config{}), "file": openWith(t, Config{})} {
		mustCreate(t, s, "x", "v")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DescribeSecret(t.Context(), "x"); err == nil {
			t.Errorf("%s: DescribeSecret after Close succeeded", name)
		}
	}
}
