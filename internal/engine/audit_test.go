package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rotorhq/rotor/internal/audit"
	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

type recorder struct {
	mu  sync.Mutex
	ev  []audit.Event
	all []audit.Event
}

func (r *recorder) sink(_ context.Context, e audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev = append(r.ev, e)
	r.all = append(r.all, e)
}

func (r *recorder) take() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ev
	r.ev = nil
	return out
}

func types(evs []audit.Event) []string {
	var out []string
	for _, e := range evs {
		s := string(e.Type)
		if e.Step != "" && (e.Type == audit.StepSucceeded || e.Type == audit.StepFailed) {
			s += ":" + e.Step
		}
		out = append(out, s)
	}
	return out
}

// failingTest wraps the target kind with a testSecret that fails on demand.
type failingTest struct {
	rotator.Rotator
	fail *bool
}

func (f failingTest) Test(ctx context.Context, req rotator.Request) error {
	if *f.fail {
		return errors.New("the service refused the new credential")
	}
	return f.Rotator.Test(ctx, req)
}

// Every rotation, step and revocation yields an audit event with the
// schema's fields, in order, and none carries a value.
func TestAuditEvents(t *testing.T) {
	ctx := context.Background()
	tg := rotatortest.NewTarget()
	fail := false
	base := rotatortest.TargetKind(tg, false)
	kind := rotator.Kind{Name: "target", Summary: base.Summary, New: func(o rotator.Options) (rotator.Rotator, error) {
		r, err := base.New(o)
		return failingTest{r, &fail}, err
	}}
	rec := &recorder{}
	st := local.NewMemory(local.Config{})
	eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(kind), Audit: rec.sink})
	v := tg.Issue("initial")
	ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "app/audited", Value: &v, Tags: []store.Tag{kindTag}})
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for i := range 2 {
		res, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN})
		if err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
		got, _ := st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: ref.ARN, VersionID: res.Token})
		values = append(values, got.Value.Text())
	}
	evs := rec.take()
	want := []string{"RotationStarted", "StepSucceeded:createSecret", "StepSucceeded:setSecret", "StepSucceeded:testSecret", "StepSucceeded:finishSecret", "RotationSucceeded"}
	second := slices.Clone(want)
	second = slices.Insert(second, 4, "RevocationSucceeded")
	if g := types(evs); !slices.Equal(g, append(slices.Clone(want), second...)) {
		t.Fatalf("events of two rotations:\n%v\nwant\n%v", g, append(want, second...))
	}
	for _, e := range evs {
		if e.Schema != audit.SchemaVersion || e.Time.IsZero() || e.Secret != "app/audited" || e.ARN != ref.ARN || e.Kind != "target" || e.Version == "" {
			t.Errorf("event lacks a field: %+v", e)
		}
	}
	last := evs[len(evs)-1]
	if last.Previous == "" || last.DurationMS < 0 {
		t.Errorf("RotationSucceeded: %+v", last)
	}

	fail = true
	if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN}); err == nil {
		t.Fatal("rotation with a failing testSecret succeeded")
	}
	evs = rec.take()
	if g := types(evs); !slices.Equal(g, []string{"RotationStarted", "StepSucceeded:createSecret", "StepSucceeded:setSecret", "StepFailed:testSecret", "RotationFailed"}) {
		t.Fatalf("events of a failed rotation: %v", g)
	}
	if f := evs[len(evs)-1]; f.Step != string(engine.StepTest) || !strings.Contains(f.Error, "refused the new credential") {
		t.Errorf("RotationFailed: %+v", f)
	}
	pending := evs[0].Version
	if _, err := eng.Cancel(ctx, ref.ARN); err != nil {
		t.Fatal(err)
	}
	evs = rec.take()
	if g := types(evs); !slices.Equal(g, []string{"RotationAbandoned", "RevocationSucceeded"}) || evs[0].Version != pending || evs[0].Reason != "cancelled" {
		t.Fatalf("events of a cancel: %v %+v", g, evs)
	}

	// One event as Secrets Manager's rotation function gets it.
	fail = false
	tok := engine.NewToken()
	if _, err := st.BeginRotation(ctx, store.BeginRotationInput{SecretID: ref.ARN, Token: tok}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Step(ctx, engine.Event{Step: engine.StepCreate, SecretID: ref.ARN, Token: tok}); err != nil {
		t.Fatal(err)
	}
	if g := types(rec.take()); !slices.Equal(g, []string{"StepSucceeded:createSecret", "RotationStarted"}) {
		t.Errorf("events of a createSecret event: %v", g)
	}
	if err := eng.Step(ctx, engine.Event{Step: engine.StepSet, SecretID: ref.ARN, Token: engine.NewToken()}); err == nil {
		t.Fatal("a step for an unknown token succeeded")
	}
	if g := types(rec.take()); !slices.Equal(g, []string{"StepFailed:setSecret", "RotationFailed"}) {
		t.Errorf("events of a refused event: %v", g)
	}

	// The wire form: the documented keys, never a value.
	b, err := json.Marshal(last)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	_ = json.Unmarshal(b, &keys)
	for _, k := range []string{"schema", "time", "event", "secret", "arn", "kind", "version", "previous_version"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("RotationSucceeded as JSON lacks %q: %s", k, b)
		}
	}
	all, _ := json.Marshal(rec.all)
	for _, val := range append(values, v.Text()) {
		if strings.Contains(string(all), val) {
			t.Error("an audit event holds a secret value")
		}
	}
}
