package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// expiring is a kind whose value is the RFC 3339 time its credential
// expires; it is refreshed an hour before.
type expiring struct{ now func() time.Time }

func (e expiring) Create(context.Context, rotator.Request) (secret.Value, error) {
	return secret.New(e.now().Add(12 * time.Hour).UTC().Format(time.RFC3339)), nil
}
func (expiring) Set(context.Context, rotator.Request) error    { return nil }
func (expiring) Test(context.Context, rotator.Request) error   { return nil }
func (expiring) Revoke(context.Context, rotator.Request) error { return nil }
func (expiring) ExpiresAt(v secret.Value) time.Time {
	t, _ := time.Parse(time.RFC3339, v.Text())
	return t
}
func (e expiring) RefreshAt(v secret.Value) time.Time {
	if t := e.ExpiresAt(v); !t.IsZero() {
		return t.Add(-time.Hour)
	}
	return time.Time{}
}

func TestFreshUntilAndExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := local.NewMemory(local.Config{Now: clock})
	kind := rotator.Kind{Name: "expiring", New: func(rotator.Options) (rotator.Rotator, error) { return expiring{clock}, nil }}
	eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(kind), Now: clock})
	v := secret.New("not a time")
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "tok", Value: &v, Tags: []store.Tag{{Key: rotator.TagKind, Value: "expiring"}}})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() *store.Description {
		d, err := st.DescribeSecret(ctx, ref.ARN)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if _, fresh, err := eng.FreshUntil(ctx, describe(), nil); err != nil || fresh {
		t.Fatalf("a value of unknown expiry: fresh %v (%v), want due", fresh, err)
	}
	if _, ok, _ := eng.CredentialExpiry(ctx, describe()); ok {
		t.Fatal("a value of unknown expiry has an expiry")
	}
	if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN}); err != nil {
		t.Fatal(err)
	}
	until, fresh, err := eng.FreshUntil(ctx, describe(), nil)
	if err != nil || !fresh || !until.Equal(now.Add(11*time.Hour)) {
		t.Fatalf("after a rotation: fresh %v until %v (%v), want fresh until 11h on", fresh, until, err)
	}
	if at, ok, err := eng.CredentialExpiry(ctx, describe()); err != nil || !ok || !at.Equal(now.Add(12*time.Hour)) {
		t.Fatalf("expiry %v %v %v, want 12h on", at, ok, err)
	}
	now = now.Add(11 * time.Hour)
	if _, fresh, _ := eng.FreshUntil(ctx, describe(), nil); fresh {
		t.Fatal("within the refresh margin: still fresh")
	}
	// A schedule decides by itself.
	now = now.Add(-11 * time.Hour)
	if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN, Rules: &store.RotationRules{ScheduleExpression: "rate(4 hours)"}}); err != nil {
		t.Fatal(err)
	}
	if _, fresh, _ := eng.FreshUntil(ctx, describe(), nil); fresh {
		t.Fatal("a secret with a schedule was judged by its expiry")
	}
}
