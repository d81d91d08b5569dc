package engine

import (
	"context"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
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
	cur := desc.VersionWithStage(store.Current)
	if p := desc.VersionWithStage(store.Pending); cur == "" || (p != "" && p != cur) {
		return time.Time{}, false, nil
	}
	ref, err := e.rotatorFor(desc, call)
	if err != nil {
		return time.Time{}, false, err
	}
	rf, ok := ref.rot.(rotator.Refresher)
	if !ok {
		return time.Time{}, false, nil
	}
	v, err := e.value(ctx, desc.ARN, cur, store.Current)
	if err != nil {
		return time.Time{}, false, err
	}
	at := rf.RefreshAt(v)
	if at.IsZero() || !e.now().Before(at) {
		return at, false, nil
	}
	return at, true, nil
}
