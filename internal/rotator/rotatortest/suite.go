// Package rotatortest is the conformance suite every credential kind and
// every store must pass. It drives real rotations through the engine and
// checks rotor's promise after each: exactly one AWSCURRENT whose credential
// works, no credential lost, a credential revoked only once it left
// AWSPREVIOUS, nothing orphaned in the target system, every step idempotent,
// recovery from a fault at every store and rotator call, one rotation at a
// time, and no secret value in any log line, error or notification.
package rotatortest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// Harness is what a kind hands the suite: the kind, a working first
// credential, and a view of the target system.
type Harness struct {
	Kind rotator.Kind
	// Options are set on the secret as rotor:* tags.
	Options rotator.Options
	// Initial is a working credential to start from.
	Initial secret.Value
	// Live lists the IDs of the credentials the target system accepts now.
	// Nil when the kind keeps no state outside the store.
	Live func(ctx context.Context) ([]string, error)
	// ID returns the ID of the credential a value holds, as Live lists it.
	ID func(secret.Value) string
	// Secrets returns the parts of a value that must never appear in any
	// output. Nil means the whole value.
	Secrets func(secret.Value) []string
	// InPlace says the kind changes one credential in place (a database
	// user's own password): the previous credential stops working when
	// setSecret sets the new one, so AWSPREVIOUS keeps the old value for
	// the record only and is expected neither to work nor to be live.
	InPlace bool
}

// Config selects what the suite runs against.
type Config struct {
	// NewStore returns an empty store for one scenario.
	NewStore func(t *testing.T) store.Store
	// NewHarness returns the kind under test with a fresh target system.
	NewHarness func(t *testing.T) *Harness
	// Short runs fault injection on one rotation shape only.
	Short bool
}

// env is one scenario's world.
type env struct {
	t        *testing.T
	ctx      context.Context
	raw      store.Store
	faults   *Faults
	h        *Harness
	eng      *engine.Engine
	id       string
	logs     *syncbuf.Buffer
	mu       sync.Mutex
	seen     []secret.Value // every value a Create returned
	errs     []string       // every error and notice text produced
	breaches []string       // revocations of a still-labeled credential
	gate     func()         // runs inside Create, for the concurrency scenario
	failRev  int            // how many Revoke calls fail before they work again
}

func newEnv(t *testing.T, cfg Config, extra rotator.Options) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), raw: cfg.NewStore(t), faults: &Faults{}, h: cfg.NewHarness(t), logs: &syncbuf.Buffer{}}
	kind := e.h.Kind
	inner := kind.New
	kind.New = func(o rotator.Options) (rotator.Rotator, error) {
		r, err := inner(o)
		if err != nil {
			return nil, err
		}
		return &FaultRotator{R: &observer{R: r, env: e}, F: e.faults}, nil
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.eng = engine.New(engine.Config{
		Store: &FaultStore{S: e.raw, F: e.faults}, Kinds: rotator.NewRegistry(kind), Logger: logger,
		Notify: func(_ context.Context, n engine.Notice) {
			e.note(n.Message + " " + n.Action)
			if n.Err != nil {
				e.note(n.Err.Error())
			}
		},
	})
	tags := []store.Tag{{Key: rotator.TagKind, Value: e.h.Kind.Name}}
	for k, v := range rotator.Merge(e.h.Options, extra) {
		tags = append(tags, store.Tag{Key: rotator.TagPrefix + k, Value: v})
	}
	initial := e.h.Initial
	ref, err := e.raw.CreateSecret(e.ctx, store.CreateSecretInput{Name: "conformance/" + strings.ReplaceAll(t.Name(), "/", "-"), Value: &initial, Tags: tags})
	if err != nil {
		t.Fatalf("create the secret under test: %v", err)
	}
	e.id = ref.ARN
	t.Cleanup(e.checkNoLeak)
	return e
}

func (e *env) note(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, s)
}

// rotate runs one whole rotation and records its error text.
func (e *env) rotate() (*engine.Result, error) {
	res, err := e.eng.Rotate(e.ctx, engine.RotateInput{SecretID: e.id})
	if err != nil {
		e.note(err.Error())
	}
	return res, err
}

// mustRotate rotates and fails the test on error.
func (e *env) mustRotate() *engine.Result {
	e.t.Helper()
	res, err := e.rotate()
	if err != nil {
		e.t.Fatalf("rotate: %v", err)
	}
	return res
}

// state is a snapshot of the secret: labels and the values behind them.
type state struct {
	labels map[string][]string // version -> sorted stages
	byVer  map[string]secret.Value
}

func (e *env) snapshot() state {
	e.t.Helper()
	d, err := e.raw.DescribeSecret(e.ctx, e.id)
	if err != nil {
		e.t.Fatalf("describe: %v", err)
	}
	s := state{labels: map[string][]string{}, byVer: map[string]secret.Value{}}
	for v, st := range d.VersionIDsToStages {
		if len(st) == 0 {
			continue
		}
		st = append([]string(nil), st...)
		sort.Strings(st)
		s.labels[v] = st
		out, err := e.raw.GetSecretValue(e.ctx, store.GetSecretValueInput{SecretID: e.id, VersionID: v})
		if err == nil {
			s.byVer[v] = out.Value
		}
	}
	return s
}

func (s state) holder(label string) string {
	for v, st := range s.labels {
		for _, l := range st {
			if l == label {
				return v
			}
		}
	}
	return ""
}

func (s state) value(label string) secret.Value { return s.byVer[s.holder(label)] }

// live returns the set of live credential IDs, or nil when untracked.
func (e *env) live() map[string]bool {
	e.t.Helper()
	if e.h.Live == nil {
		return nil
	}
	ids, err := e.h.Live(e.ctx)
	if err != nil {
		e.t.Fatalf("list live credentials: %v", err)
	}
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// works reports whether the kind's test accepts v.
func (e *env) works(v secret.Value) error {
	d, err := e.raw.DescribeSecret(e.ctx, e.id)
	if err != nil {
		return err
	}
	r, err := e.h.Kind.New(rotator.FromTags(d.Tags))
	if err != nil {
		return err
	}
	return r.Test(e.ctx, rotator.Request{SecretID: d.ARN, Name: d.Name, Pending: v, Options: rotator.FromTags(d.Tags)})
}

// checkSettled asserts the state after a successful rotation: one
// AWSCURRENT that works, no AWSPENDING, previous as expected, and exactly
// the labeled credentials live.
func (e *env) checkSettled(wantPrevious bool) state {
	e.t.Helper()
	s := e.snapshot()
	cur := s.holder(store.Current)
	if cur == "" {
		e.t.Fatalf("no AWSCURRENT after rotation; labels %v", s.labels)
	}
	if p := s.holder(store.Pending); p != "" && p != cur {
		e.t.Errorf("AWSPENDING left on %s after a successful rotation", p)
	}
	for v, st := range s.labels {
		for _, l := range st {
			if store.IsRevokeLabel(l) {
				e.t.Errorf("a revocation is still due on %s after a successful rotation", v)
			}
		}
	}
	if err := e.works(s.byVer[cur]); err != nil {
		e.t.Errorf("the AWSCURRENT credential does not pass the kind's test: %v", err)
	}
	prev := s.holder(store.Previous)
	if wantPrevious && prev == "" {
		e.t.Errorf("no AWSPREVIOUS after a rotation: the old credential lost its grace period")
	}
	if !wantPrevious && prev != "" {
		e.t.Errorf("AWSPREVIOUS on %s although revoke-at-finish is set", prev)
	}
	if prev != "" && !e.h.InPlace {
		if err := e.works(s.byVer[prev]); err != nil {
			e.t.Errorf("the AWSPREVIOUS credential was revoked during its grace period: %v", err)
		}
	}
	if live := e.live(); live != nil {
		want := map[string]bool{e.h.ID(s.byVer[cur]): true}
		if prev != "" && !e.h.InPlace {
			want[e.h.ID(s.byVer[prev])] = true
		}
		if !sameSet(live, want) {
			e.t.Errorf("live credentials %v, want exactly those of AWSCURRENT and AWSPREVIOUS %v (an orphan or a lost credential)", keys(live), keys(want))
		}
	}
	e.checkBreaches()
	return s
}

func (e *env) checkBreaches() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.breaches {
		e.t.Errorf("revoked too early: %s", b)
	}
	e.breaches = nil
}

// checkNoLeak fails if any secret value reached the logs, an error or a notice.
func (e *env) checkNoLeak() {
	e.mu.Lock()
	out := e.logs.String() + "\n" + strings.Join(e.errs, "\n")
	vals := append([]secret.Value{e.h.Initial}, e.seen...)
	e.mu.Unlock()
	for _, v := range vals {
		for _, part := range e.secretParts(v) {
			if len(part) >= 6 && strings.Contains(out, part) {
				e.t.Errorf("a secret value appears in the output (logs, errors or notifications)")
				return
			}
		}
	}
}

func (e *env) secretParts(v secret.Value) []string {
	if e.h.Secrets != nil {
		return e.h.Secrets(v)
	}
	return []string{v.Text()}
}

var errRevokeRefused = errors.New("the service refused the revocation (a test fault)")

// checkRecovered asserts what must hold as soon as a rotation succeeds,
// even one that ended partially: one working AWSCURRENT, no AWSPENDING,
// AWSPREVIOUS as the strategy says, and every live credential held by a
// label (an AWS label, or a revocation still due).
func (e *env) checkRecovered(wantPrevious bool) {
	e.t.Helper()
	s := e.snapshot()
	cur := s.holder(store.Current)
	if cur == "" {
		e.t.Fatalf("no AWSCURRENT; labels %v", s.labels)
	}
	if p := s.holder(store.Pending); p != "" && p != cur {
		e.t.Errorf("AWSPENDING left on %s after a successful rotation", p)
	}
	if err := e.works(s.byVer[cur]); err != nil {
		e.t.Errorf("the AWSCURRENT credential does not pass the kind's test: %v", err)
	}
	if prev := s.holder(store.Previous); !wantPrevious && prev != "" {
		e.t.Errorf("AWSPREVIOUS on %s although revoke-at-finish is set", prev)
	} else if prev != "" && !e.h.InPlace {
		if err := e.works(s.byVer[prev]); err != nil {
			e.t.Errorf("the AWSPREVIOUS credential was revoked during its grace period: %v", err)
		}
	}
	if live := e.live(); live != nil {
		held := map[string]bool{}
		for v := range s.labels {
			if val, ok := s.byVer[v]; ok {
				held[e.h.ID(val)] = true
			}
		}
		for id := range live {
			if !held[id] {
				e.t.Errorf("credential %s is live but no label holds it: an orphan", id)
			}
		}
	}
	e.checkBreaches()
}

// observer records what a Rotator does that the suite must judge.
type observer struct {
	R   rotator.Rotator
	env *env
}

func (o *observer) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	if o.env.gate != nil {
		o.env.gate()
	}
	v, err := o.R.Create(ctx, req)
	if err == nil {
		o.env.mu.Lock()
		o.env.seen = append(o.env.seen, v)
		o.env.mu.Unlock()
	}
	return v, err
}
func (o *observer) Set(ctx context.Context, req rotator.Request) error  { return o.R.Set(ctx, req) }
func (o *observer) Test(ctx context.Context, req rotator.Request) error { return o.R.Test(ctx, req) }

// Revoke checks that no version holding an AWS label carries the credential.
func (o *observer) Revoke(ctx context.Context, req rotator.Request) error {
	o.env.mu.Lock()
	if o.env.failRev > 0 {
		o.env.failRev--
		o.env.mu.Unlock()
		return errRevokeRefused
	}
	o.env.mu.Unlock()
	d, err := o.env.raw.DescribeSecret(ctx, req.SecretID)
	if err == nil {
		for v, st := range d.VersionIDsToStages {
			for _, l := range st {
				if l != store.Current && l != store.Previous && l != store.Pending {
					continue
				}
				out, err := o.env.raw.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: req.SecretID, VersionID: v})
				if err == nil && out.Value.Equal(req.Pending) {
					o.env.mu.Lock()
					o.env.breaches = append(o.env.breaches, fmt.Sprintf("version %s still holds %s", v, l))
					o.env.mu.Unlock()
				}
			}
		}
	}
	return o.R.Revoke(ctx, req)
}

func (o *observer) Capabilities() rotator.Capabilities { return rotator.CapabilitiesOf(o.R) }

func (o *observer) CredentialID(v secret.Value) string { return credentialID(o.R, v) }

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// retiresPrevious reports whether AWSPREVIOUS may no longer be live once a
// rotation has started: the kind's Create may retire it, or the kind
// changes its credential in place.
func (e *env) retiresPrevious() bool {
	if e.h.InPlace {
		return true
	}
	r, err := e.h.Kind.New(e.h.Options)
	return err == nil && rotator.CapabilitiesOf(r).CreateRetiresPrevious
}
