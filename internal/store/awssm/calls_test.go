package awssm_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/awssm"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// rotationBudget is the number of API calls a whole password rotation
// makes: DescribeSecret and RotateSecret to start, then GetSecretValue
// (AWSCURRENT) and PutSecretValue in createSecret, nothing in setSecret (the
// kind sets nothing) or testSecret (the pending value is the one just made),
// UpdateSecretVersionStage in finishSecret, and one more to remove
// AWSPENDING. awssm adds none of its own. A change that makes more calls
// must say why here; AWS's own password template makes 10.
const rotationBudget = 6

// eventBudget is the number of calls the four events of one rotation make
// when a rotation function runs each on its own (the Lambda path), where
// every step starts with the templates' DescribeSecret guard: createSecret 4
// (guard, AWSPENDING read that finds nothing, AWSCURRENT read, write),
// setSecret 1, testSecret 2, finishSecret 2.
const eventBudget = 9

// countingStore counts the store methods the engine calls.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingStore) count(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[method]++
}

func (c *countingStore) DescribeSecret(ctx context.Context, id string) (*store.Description, error) {
	c.count("DescribeSecret")
	return c.Store.DescribeSecret(ctx, id)
}

func (c *countingStore) GetSecretValue(ctx context.Context, in store.GetSecretValueInput) (*store.SecretValue, error) {
	c.count("GetSecretValue")
	return c.Store.GetSecretValue(ctx, in)
}

func (c *countingStore) PutSecretValue(ctx context.Context, in store.PutSecretValueInput) (*store.VersionRef, error) {
	c.count("PutSecretValue")
	return c.Store.PutSecretValue(ctx, in)
}

func (c *countingStore) UpdateSecretVersionStage(ctx context.Context, in store.UpdateSecretVersionStageInput) (*store.SecretRef, error) {
	c.count("UpdateSecretVersionStage")
	return c.Store.UpdateSecretVersionStage(ctx, in)
}

func (c *countingStore) ListSecretVersionIDs(ctx context.Context, in store.ListSecretVersionIDsInput) (*store.ListSecretVersionIDsOutput, error) {
	c.count("ListSecretVersionIds")
	return c.Store.ListSecretVersionIDs(ctx, in)
}

func (c *countingStore) BeginRotation(ctx context.Context, in store.BeginRotationInput) (*store.BeginRotationOutput, error) {
	c.count("RotateSecret")
	return c.Store.BeginRotation(ctx, in)
}

func (c *countingStore) CancelRotation(ctx context.Context, id string) (*store.SecretRef, error) {
	c.count("CancelRotateSecret")
	return c.Store.CancelRotation(ctx, id)
}

func (c *countingStore) MarkRotated(ctx context.Context, id string, at time.Time) error {
	c.count("MarkRotated")
	return c.Store.MarkRotated(ctx, id, at)
}

// rotation is a password secret ready to rotate through awssm.
type rotation struct {
	srv     *server
	st      *awssm.Store
	counted *countingStore
	eng     *engine.Engine
	arn     string
	logs    *syncbuf.Buffer
}

const initialPassword = "Initial-Passw0rd-4f9c2b7e"

func newRotation(t testing.TB) *rotation {
	t.Helper()
	r := &rotation{srv: newServer(t, nil), logs: &syncbuf.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.st = r.srv.store(func(c *awssm.Config) { c.Logger = logger })
	r.counted = &countingStore{Store: r.st, calls: map[string]int{}}
	r.eng = engine.New(engine.Config{Store: r.counted, Kinds: rotator.NewRegistry(password.Kind()), Logger: logger})
	v := secret.New(`{"username":"app","password":"` + initialPassword + `","host":"db"}`)
	ref, err := r.st.CreateSecret(context.Background(), store.CreateSecretInput{Name: "app/db", Value: &v,
		Tags: []store.Tag{{Key: rotator.TagKind, Value: "password"}}})
	if err != nil {
		t.Fatal(err)
	}
	r.arn = ref.ARN
	r.st.ResetCalls()
	r.srv.received()
	return r
}

// TestRotationCalls runs a whole password rotation through awssm and rotor
// server, records its API calls, and checks that awssm makes exactly one
// call per store call (none for MarkRotated), that the server saw each of
// them once, and that the rotation stays within its budget.
func TestRotationCalls(t *testing.T) {
	r := newRotation(t)
	ctx := context.Background()
	before := r.logs.String()
	res, err := r.eng.Rotate(ctx, engine.RotateInput{SecretID: r.arn})
	if err != nil {
		t.Fatal(err)
	}
	logs := strings.TrimPrefix(r.logs.String(), before)
	calls := r.st.Calls()
	total := sum(calls)
	t.Logf("a password rotation made %d Secrets Manager calls: %v", total, calls)

	want := maps.Clone(r.counted.calls)
	delete(want, "MarkRotated")
	if !maps.Equal(calls, want) {
		t.Errorf("API calls %v, want exactly one per store call %v (and none for MarkRotated)", calls, want)
	}
	var ops []string
	for _, req := range r.srv.received() {
		ops = append(ops, req.op)
	}
	if len(ops) != total {
		t.Errorf("the server received %d requests %v, the store counted %d calls", len(ops), ops, total)
	}
	if total > rotationBudget {
		t.Errorf("a password rotation made %d calls, more than the budget of %d", total, rotationBudget)
	}

	// The rotation did happen.
	d, err := r.st.DescribeSecret(ctx, r.arn)
	if err != nil {
		t.Fatal(err)
	}
	if d.VersionWithStage(store.Current) != res.Token || d.VersionWithStage(store.Pending) != "" || d.VersionWithStage(store.Previous) == "" {
		t.Fatalf("after the rotation: stages %v, want AWSCURRENT on %s, AWSPREVIOUS on the old version, no AWSPENDING", d.VersionIDsToStages, res.Token)
	}
	cur, err := r.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: r.arn})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cur.Value.Text(), initialPassword) || !strings.Contains(cur.Value.Text(), `"username":"app"`) {
		t.Fatal("the current value does not hold a new password in the same JSON object")
	}

	// One debug line per call, naming operation and secret, without values.
	if n := strings.Count(logs, `"msg":"secretsmanager call"`); n != total {
		t.Errorf("%d call log lines, want one per call: %d", n, total)
	}
	if !strings.Contains(logs, `"operation":"PutSecretValue","secret":"`+r.arn+`"`) {
		t.Errorf("no log line names PutSecretValue and the secret:\n%s", logs)
	}
	for _, v := range []string{initialPassword, passwordOf(t, cur.Value)} {
		if strings.Contains(r.logs.String(), v) {
			t.Fatal("a password appears in the logs")
		}
	}
}

// TestCallsReset checks the counter itself: every call counted once under
// its operation name, failed calls included, and ResetCalls clears them.
func TestCallsReset(t *testing.T) {
	srv := newServer(t, nil)
	st := srv.store(nil)
	ctx := context.Background()
	v := secret.New("v")
	if _, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "a", Value: &v}); err != nil {
		t.Fatal(err)
	}
	_, _ = st.DescribeSecret(ctx, "a")
	_, _ = st.DescribeSecret(ctx, "missing")
	_ = st.MarkRotated(ctx, "a", time.Now())
	if got, want := st.Calls(), map[string]int{"CreateSecret": 1, "DescribeSecret": 2}; !maps.Equal(got, want) {
		t.Fatalf("Calls() = %v, want %v", got, want)
	}
	st.ResetCalls()
	if got := st.Calls(); len(got) != 0 {
		t.Fatalf("Calls() after ResetCalls = %v", got)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// passwordOf returns the password field of a JSON secret value.
func passwordOf(t testing.TB, v secret.Value) string {
	t.Helper()
	var o struct{ Password string }
	if err := json.Unmarshal(v.Bytes(), &o); err != nil || len(o.Password) < 8 {
		t.Fatal("the value is not a JSON object with a password")
	}
	return o.Password
}

// TestEventCalls counts the calls of the four step events a rotation
// function receives, one at a time, as Secrets Manager invokes them.
func TestEventCalls(t *testing.T) {
	r := newRotation(t)
	ctx := context.Background()
	out, err := r.st.BeginRotation(ctx, store.BeginRotationInput{SecretID: r.arn, Token: engine.NewToken()})
	if err != nil {
		t.Fatal(err)
	}
	r.st.ResetCalls()
	for _, step := range engine.Steps {
		if err := r.eng.Step(ctx, engine.Event{Step: step, SecretID: r.arn, Token: out.Token}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	calls := r.st.Calls()
	t.Logf("the four events made %d Secrets Manager calls: %v", sum(calls), calls)
	if total := sum(calls); total > eventBudget {
		t.Errorf("the four events made %d calls, more than the budget of %d", total, eventBudget)
	}
	d, err := r.st.DescribeSecret(ctx, r.arn)
	if err != nil || !d.HasStage(out.Token, store.Current) {
		t.Fatalf("after the four events the new version is not AWSCURRENT (%v)", err)
	}
}
