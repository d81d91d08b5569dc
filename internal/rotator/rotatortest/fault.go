package rotatortest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// ErrInjected is the error every injected fault returns.
var ErrInjected = errors.New("injected fault")

// Mode says whether an injected fault strikes before the call reaches the
// store or rotator (nothing happened) or after it returned (it happened, but
// the caller never learns so: a lost response, or a crash right after).
type Mode int

// The two fault modes.
const (
	Before Mode = iota
	After
)

func (m Mode) String() string {
	if m == Before {
		return "before"
	}
	return "after"
}

// Faults counts the calls made through a FaultStore and FaultRotators and
// fails the one chosen by Arm.
type Faults struct {
	mu    sync.Mutex
	calls []string
	armed int // 1-based index of the call to fail; 0 = none
	mode  Mode
	fired bool
}

// Arm makes call number n (1-based, counted from the last Reset) fail in mode m.
func (f *Faults) Arm(n int, m Mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.mode, f.fired = n, m, false
}

// Reset clears the call log and disarms.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.armed, f.fired = nil, 0, false
}

// Calls returns the names of the calls seen since the last Reset.
func (f *Faults) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Fired reports whether the armed fault struck.
func (f *Faults) Fired() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired
}

// do runs call under the fault plan.
func (f *Faults) do(name string, call func() error) error {
	if f == nil {
		return call()
	}
	f.mu.Lock()
	f.calls = append(f.calls, name)
	strike := f.armed == len(f.calls)
	if strike {
		f.fired = true
	}
	mode := f.mode
	f.mu.Unlock()
	if strike && mode == Before {
		return fmt.Errorf("%s: %w (%s)", name, ErrInjected, mode)
	}
	err := call()
	if strike && err == nil {
		return fmt.Errorf("%s: %w (%s)", name, ErrInjected, mode)
	}
	return err
}

// FaultStore wraps a store.Store and passes every call through Faults.
type FaultStore struct {
	S store.Store
	F *Faults
}

var _ store.Store = (*FaultStore)(nil)
var _ store.RotationLocker = (*FaultStore)(nil)
var _ store.WriteLocker = (*FaultStore)(nil)

// LockRotation passes through to the wrapped store when it can lock, and
// otherwise grants the lock.
func (s *FaultStore) LockRotation(ctx context.Context, id string) (unlock func(), err error) {
	l, ok := s.S.(store.RotationLocker)
	if !ok {
		return func() {}, nil
	}
	err = s.F.do("store.LockRotation", func() (e error) { unlock, e = l.LockRotation(ctx, id); return })
	if err != nil && unlock != nil {
		unlock()
	}
	return unlock, err
}

// LockWrite passes through to the wrapped store's LockWrite, or else its
// LockRotation, and otherwise grants the lock.
func (s *FaultStore) LockWrite(ctx context.Context, id string) (unlock func(), err error) {
	l, ok := s.S.(store.WriteLocker)
	if !ok {
		return s.LockRotation(ctx, id)
	}
	err = s.F.do("store.LockWrite", func() (e error) { unlock, e = l.LockWrite(ctx, id); return })
	if err != nil && unlock != nil {
		unlock()
	}
	return unlock, err
}

func (s *FaultStore) CreateSecret(ctx context.Context, in store.CreateSecretInput) (out *store.SecretRef, err error) {
	err = s.F.do("store.CreateSecret", func() (e error) { out, e = s.S.CreateSecret(ctx, in); return })
	return
}
func (s *FaultStore) DescribeSecret(ctx context.Context, id string) (out *store.Description, err error) {
	err = s.F.do("store.DescribeSecret", func() (e error) { out, e = s.S.DescribeSecret(ctx, id); return })
	return
}
func (s *FaultStore) ListSecrets(ctx context.Context, in store.ListSecretsInput) (out *store.ListSecretsOutput, err error) {
	err = s.F.do("store.ListSecrets", func() (e error) { out, e = s.S.ListSecrets(ctx, in); return })
	return
}
func (s *FaultStore) GetSecretValue(ctx context.Context, in store.GetSecretValueInput) (out *store.SecretValue, err error) {
	err = s.F.do("store.GetSecretValue", func() (e error) { out, e = s.S.GetSecretValue(ctx, in); return })
	return
}
func (s *FaultStore) PutSecretValue(ctx context.Context, in store.PutSecretValueInput) (out *store.VersionRef, err error) {
	err = s.F.do("store.PutSecretValue", func() (e error) { out, e = s.S.PutSecretValue(ctx, in); return })
	return
}
func (s *FaultStore) UpdateSecret(ctx context.Context, in store.UpdateSecretInput) (out *store.VersionRef, err error) {
	err = s.F.do("store.UpdateSecret", func() (e error) { out, e = s.S.UpdateSecret(ctx, in); return })
	return
}
func (s *FaultStore) UpdateSecretVersionStage(ctx context.Context, in store.UpdateSecretVersionStageInput) (out *store.SecretRef, err error) {
	err = s.F.do("store.UpdateSecretVersionStage", func() (e error) { out, e = s.S.UpdateSecretVersionStage(ctx, in); return })
	return
}
func (s *FaultStore) ListSecretVersionIDs(ctx context.Context, in store.ListSecretVersionIDsInput) (out *store.ListSecretVersionIDsOutput, err error) {
	err = s.F.do("store.ListSecretVersionIDs", func() (e error) { out, e = s.S.ListSecretVersionIDs(ctx, in); return })
	return
}
func (s *FaultStore) TagResource(ctx context.Context, id string, tags []store.Tag) error {
	return s.F.do("store.TagResource", func() error { return s.S.TagResource(ctx, id, tags) })
}
func (s *FaultStore) UntagResource(ctx context.Context, id string, keys []string) error {
	return s.F.do("store.UntagResource", func() error { return s.S.UntagResource(ctx, id, keys) })
}
func (s *FaultStore) DeleteSecret(ctx context.Context, in store.DeleteSecretInput) (out *store.DeleteSecretOutput, err error) {
	err = s.F.do("store.DeleteSecret", func() (e error) { out, e = s.S.DeleteSecret(ctx, in); return })
	return
}
func (s *FaultStore) RestoreSecret(ctx context.Context, id string) (out *store.SecretRef, err error) {
	err = s.F.do("store.RestoreSecret", func() (e error) { out, e = s.S.RestoreSecret(ctx, id); return })
	return
}
func (s *FaultStore) BeginRotation(ctx context.Context, in store.BeginRotationInput) (out *store.BeginRotationOutput, err error) {
	err = s.F.do("store.BeginRotation", func() (e error) { out, e = s.S.BeginRotation(ctx, in); return })
	return
}
func (s *FaultStore) CancelRotation(ctx context.Context, id string) (out *store.SecretRef, err error) {
	err = s.F.do("store.CancelRotation", func() (e error) { out, e = s.S.CancelRotation(ctx, id); return })
	return
}
func (s *FaultStore) MarkRotated(ctx context.Context, id string, at time.Time) error {
	return s.F.do("store.MarkRotated", func() error { return s.S.MarkRotated(ctx, id, at) })
}

// FaultRotator wraps a Rotator and passes every call through Faults.
type FaultRotator struct {
	R rotator.Rotator
	F *Faults
}

var _ rotator.Rotator = (*FaultRotator)(nil)

func (r *FaultRotator) Create(ctx context.Context, req rotator.Request) (v secret.Value, err error) {
	err = r.F.do("rotator.Create", func() (e error) { v, e = r.R.Create(ctx, req); return })
	return
}
func (r *FaultRotator) Set(ctx context.Context, req rotator.Request) error {
	return r.F.do("rotator.Set", func() error { return r.R.Set(ctx, req) })
}
func (r *FaultRotator) Test(ctx context.Context, req rotator.Request) error {
	return r.F.do("rotator.Test", func() error { return r.R.Test(ctx, req) })
}
func (r *FaultRotator) Revoke(ctx context.Context, req rotator.Request) error {
	return r.F.do("rotator.Revoke", func() error { return r.R.Revoke(ctx, req) })
}

// Capabilities passes the wrapped rotator's capabilities through.
func (r *FaultRotator) Capabilities() rotator.Capabilities { return rotator.CapabilitiesOf(r.R) }

// CredentialID passes the wrapped rotator's credential identity through.
func (r *FaultRotator) CredentialID(v secret.Value) string { return credentialID(r.R, v) }

func credentialID(r rotator.Rotator, v secret.Value) string {
	if id, ok := r.(rotator.Identifier); ok {
		return id.CredentialID(v)
	}
	return ""
}
