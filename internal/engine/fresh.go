package engine

import (
	"context"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// FreshUntil says whether a secret without a rotation schedule may skip a
// pass that would otherwise rotate it: its kind's credentials expire
// (rotator.Refresher) and the current one is not yet due for refreshing.
// It returns when it will be, and true; false (rotate now) for a secret
// with a schedule (the schedule decides), a rotation in progress, a kind
// whose credentials do not expire, or a value whose expiry is unknown.
func (e *Engine) FreshUntil(ctx context.Context, desc *store.Description, call rotator.Options) (time.Time, bool, error) {
	if !desc.RotationRules.IsZero() {
		return time.Time{}, false, nil
	}
	if p := desc.VersionWithStage(store.Pending); p != "" && p != desc.VersionWithStage(store.Current) {
		return time.Time{}, false, nil
	}
	rf, v, ok, err := currentAs[rotator.Refresher](ctx, e, desc, call)
	if !ok || err != nil {
		return time.Time{}, false, err
	}
	at := rf.RefreshAt(v)
	if at.IsZero() || !e.now().Before(at) {
		return at, false, nil
	}
	return at, true, nil
}

// CredentialExpiry returns when the credential AWSCURRENT holds expires,
// for kinds whose credentials carry one (rotator.Expirer); ok is false for
// other kinds, a secret without a kind, or a value whose expiry is unknown.
func (e *Engine) CredentialExpiry(ctx context.Context, desc *store.Description) (at time.Time, ok bool, err error) {
	if e.options(desc, nil)[rotator.OptKind] == "" {
		return time.Time{}, false, nil
	}
	ex, v, ok, err := currentAs[rotator.Expirer](ctx, e, desc, nil)
	if !ok || err != nil {
		return time.Time{}, false, err
	}
	at = ex.ExpiresAt(v)
	return at, !at.IsZero(), nil
}

// currentAs returns desc's Rotator as a T and the AWSCURRENT value, when
// the kind implements T and the secret has a current version; it reads the
// value only then.
func currentAs[T any](ctx context.Context, e *Engine, desc *store.Description, call rotator.Options) (T, secret.Value, bool, error) {
	var zero T
	cur := desc.VersionWithStage(store.Current)
	if cur == "" {
		return zero, secret.Value{}, false, nil
	}
	ref, err := e.rotatorFor(desc, call)
	if err != nil {
		return zero, secret.Value{}, false, err
	}
	t, ok := ref.rot.(T)
	if !ok {
		return zero, secret.Value{}, false, nil
	}
	v, err := e.value(ctx, desc.ARN, cur, store.Current)
	if err != nil {
		return zero, secret.Value{}, false, err
	}
	return t, v, true, nil
}
