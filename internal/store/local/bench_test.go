package local

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// benchStores runs a benchmark against a memory store and a file store.
func benchStores(b *testing.B, fn func(b *testing.B, s *Store)) {
	b.Run("memory", func(b *testing.B) { fn(b, NewMemory(Config{})) })
	b.Run("file", func(b *testing.B) { fn(b, openWith(b, Config{})) })
}

// seed fills an empty store with n secrets of one version each, writing a
// store file in one go instead of once per secret.
func seed(tb testing.TB, s *Store, n int) {
	tb.Helper()
	now := s.now().UTC()
	recs := make([]*record, n)
	for i := range n {
		name := fmt.Sprintf("bench/secret-%05d", i)
		arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%06d", s.region, s.account, name, i%1000000)
		tok, _ := s.newToken()
		v := &version{ID: tok, Stages: []string{store.Current}, Created: now}
		v.setValue(secret.New(fmt.Sprintf(`{"username":"svc-%05d","password":"%032d"}`, i, i)))
		recs[i] = &record{ARN: arn, Name: name, Seq: uint64(i + 1), Created: now, Changed: now, Versions: []*version{v},
			Tags: []store.Tag{{Key: "rotor:kind", Value: "password"}}}
	}
	if s.file == nil {
		tx := &txn{db: s.db, now: now}
		for _, r := range recs {
			tx.add(r)
		}
		tx.commit()
		return
	}
	unlock, err := s.file.lockStore(false)
	if err != nil {
		tb.Fatal(err)
	}
	defer unlock()
	if err := s.file.create(recs); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkPutSecretValue(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		seed(b, s, 1)
		val := secret.New(`{"username":"svc","password":"0123456789abcdef0123456789abcdef"}`)
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: "bench/secret-00000",
				ClientRequestToken: fmt.Sprintf("%036d", i), Value: val}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGetSecretValue(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		seed(b, s, 1000)
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: fmt.Sprintf("bench/secret-%05d", i%1000)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRotation is one whole rotation, as the engine drives it, of one
// of 10,000 secrets: the store calls that rotating the whole store makes,
// per secret.
func BenchmarkRotation(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		const n = 10000
		seed(b, s, n)
		val := secret.New(`{"username":"svc","password":"0123456789abcdef0123456789abcdef"}`)
		b.ResetTimer()
		for i := range b.N {
			id := fmt.Sprintf("bench/secret-%05d", i%n)
			tok := fmt.Sprintf("%036d", i)
			if err := rotateOnce(ctx, s, id, tok, val); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func rotateOnce(ctx context.Context, s *Store, id, tok string, val secret.Value) error {
	unlock, err := s.LockRotation(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.BeginRotation(ctx, store.BeginRotationInput{SecretID: id, Token: tok}); err != nil {
		return err
	}
	d, err := s.DescribeSecret(ctx, id)
	if err != nil {
		return err
	}
	cur := d.VersionWithStage(store.Current)
	if _, err := s.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: id, VersionStage: store.Current}); err != nil {
		return err
	}
	if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: id, ClientRequestToken: tok, Value: val,
		VersionStages: []string{store.Pending}}); err != nil {
		return err
	}
	if err := moveCurrent(ctx, s, id, tok, cur); err != nil {
		return err
	}
	if _, err := s.UpdateSecretVersionStage(ctx, store.UpdateSecretVersionStageInput{SecretID: id, VersionStage: store.Pending,
		RemoveFromVersionID: tok}); err != nil {
		return err
	}
	return s.MarkRotated(ctx, id, s.now())
}

func BenchmarkListSecrets(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		seed(b, s, 10000)
		b.ResetTimer()
		for range b.N {
			in := store.ListSecretsInput{Filters: []store.Filter{{Key: "tag-key", Values: []string{"rotor:kind"}}}}
			for {
				out, err := s.ListSecrets(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if in.NextToken = out.NextToken; in.NextToken == "" {
					break
				}
			}
		}
	})
}

// BenchmarkOpen loads a store of 10,000 secrets.
func BenchmarkOpen(b *testing.B) {
	path, key := filepath.Join(b.TempDir(), "store.db"), testKey()
	s, err := Open(Config{Path: path, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	seed(b, s, 10000)
	s.Close()
	b.ResetTimer()
	for range b.N {
		s, err := Open(Config{Path: path, Key: key})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkGetSecretValueNewDay reads 1,000 secrets in turn with a clock
// that moves a day on at every round, so that every read is the first of
// its secret's day and sets LastAccessedDate.
func BenchmarkGetSecretValueNewDay(b *testing.B) {
	var day time.Time
	now := func() time.Time { return day }
	for name, s := range map[string]*Store{"memory": NewMemory(Config{Now: now}), "file": openWith(b, Config{Now: now})} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			day = start
			seed(b, s, 1000)
			b.ResetTimer()
			for i := range b.N {
				day = start.AddDate(0, 0, 1+i/1000)
				if _, err := s.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: fmt.Sprintf("bench/secret-%05d", i%1000)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
