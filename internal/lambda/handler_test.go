package lambda

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// slowKind's Create waits for its context to end, a step that runs out of
// time, and sends the deadline it was given on deadlines.
func slowKind(deadlines chan<- time.Time) rotator.Kind {
	return rotator.Kind{Name: "slow", New: func(rotator.Options) (rotator.Rotator, error) { return slow{deadlines}, nil }}
}

type slow struct{ deadlines chan<- time.Time }

func (s slow) Create(ctx context.Context, _ rotator.Request) (secret.Value, error) {
	dl, _ := ctx.Deadline()
	s.deadlines <- dl
	<-ctx.Done()
	return secret.Value{}, ctx.Err()
}
func (slow) Set(context.Context, rotator.Request) error    { return nil }
func (slow) Test(context.Context, rotator.Request) error   { return nil }
func (slow) Revoke(context.Context, rotator.Request) error { return nil }

func newHandler(t *testing.T, defaults rotator.Options) (*local.Store, HandlerFunc, *syncbuf.Buffer) {
	t.Helper()
	st := local.NewMemory(local.Config{})
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(password.Kind()),
		Defaults: defaults, Logger: logger})
	return st, Handler(eng, logger), &logs
}

func withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestHandlerRotates(t *testing.T) {
	st, h, logs := newHandler(t, rotator.Options{password.OptLength: "40"})
	sec := newRotating(t, st, "password", store.Tag{Key: "rotor:exclude-punctuation", Value: "true"})
	// Both spellings of the step names reach the same steps.
	for _, step := range []string{"createSecret", "set_secret", "testSecret", "finish_secret"} {
		ev := Event{Step: step, SecretID: sec.arn, ClientRequestToken: token, RotationToken: rotationToken}
		if err := h(withDeadline(t, time.Minute), ev); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	val := sec.checkRotated(t)
	if len(val) != 40 {
		t.Errorf("new password has %d characters, want 40 (ROTOR_LENGTH default)", len(val))
	}
	if strings.ContainsAny(val, password.Punctuation) {
		t.Errorf("new password has punctuation despite the rotor:exclude-punctuation tag")
	}
	// A repeated finishSecret is a success: the version is already AWSCURRENT.
	if err := h(withDeadline(t, time.Minute), Event{Step: "finishSecret", SecretID: sec.arn, ClientRequestToken: token}); err != nil {
		t.Errorf("repeated finishSecret: %v", err)
	}

	out := logs.String()
	checkNoValues(t, "logs", out, oldValue, val, rotationToken)
	lines := logLines(t, out)
	for _, step := range []string{"createSecret", "set_secret", "testSecret", "finish_secret"} {
		if findLog(lines, map[string]string{"msg": "rotation step succeeded", "step": step, "secret": sec.arn, "token": token}) == nil {
			t.Errorf("no log line of the %s step with its secret and token:\n%s", step, out)
		}
	}
}

func TestHandlerErrors(t *testing.T) {
	st, h, logs := newHandler(t, nil)
	sec := newRotating(t, st, "password")
	tests := []struct {
		name string
		ctx  context.Context
		ev   Event
		want error
		typ  string
	}{
		{"unknown step", withDeadline(t, time.Minute), Event{Step: "rotateSecret", SecretID: sec.arn, ClientRequestToken: token}, ErrInvalidEvent, TypeInvalidEvent},
		{"no secret", withDeadline(t, time.Minute), Event{Step: "createSecret", ClientRequestToken: token}, ErrInvalidEvent, TypeInvalidEvent},
		{"no token", withDeadline(t, time.Minute), Event{Step: "createSecret", SecretID: sec.arn}, ErrInvalidEvent, TypeInvalidEvent},
		{"unknown token", withDeadline(t, time.Minute), Event{Step: "createSecret", SecretID: sec.arn, ClientRequestToken: "no-such-version"}, nil, TypeStepFailed},
		{"unknown secret", withDeadline(t, time.Minute), Event{Step: "createSecret", SecretID: "arn:aws:secretsmanager:us-east-1:000000000000:secret:gone-AbCdEf", ClientRequestToken: token}, store.ErrNotFound, TypeStepFailed},
		{"deadline too close", withDeadline(t, 2*time.Second), Event{Step: "createSecret", SecretID: sec.arn, ClientRequestToken: token}, ErrNotEnoughTime, TypeNotEnoughTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h(tt.ctx, tt.ev)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if got := ErrorType(err); got != tt.typ {
				t.Errorf("ErrorType = %s, want %s", got, tt.typ)
			}
			checkNoValues(t, "the error", err.Error(), oldValue)
		})
	}
	// Nothing was written: the pending version has no value yet.
	if _, err := st.GetSecretValue(context.Background(), store.GetSecretValueInput{SecretID: sec.arn, VersionID: token, VersionStage: store.Pending}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pending value after refused steps: %v", err)
	}
	checkNoValues(t, "logs", logs.String(), oldValue)
}

func TestHandlerDisabledRotation(t *testing.T) {
	st, h, _ := newHandler(t, nil)
	v := secret.New(oldValue)
	ref, err := st.CreateSecret(context.Background(), store.CreateSecretInput{Name: "plain", Value: &v})
	if err != nil {
		t.Fatal(err)
	}
	err = h(withDeadline(t, time.Minute), Event{Step: "createSecret", SecretID: ref.ARN, ClientRequestToken: ref.VersionID})
	if !errors.Is(err, engine.ErrNotEnabled) || ErrorType(err) != TypeNotEnabled {
		t.Fatalf("error = %v (%s)", err, ErrorType(err))
	}
}

// TestHandlerStopsBeforeTheDeadline runs a step that never finishes: it must
// end Reserve before Lambda's deadline with ErrTimedOut, not be killed.
func TestHandlerStopsBeforeTheDeadline(t *testing.T) {
	st := local.NewMemory(local.Config{})
	sec := newRotating(t, st, "slow")
	deadlines := make(chan time.Time, 1)
	eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(slowKind(deadlines))})
	const reserve = 40 * time.Millisecond
	h := handler{eng: eng, now: time.Now, minRemaining: 10 * time.Millisecond, reserve: reserve}
	ctx := withDeadline(t, 100*time.Millisecond)
	err := h.handle(ctx, Event{Step: "createSecret", SecretID: sec.arn, ClientRequestToken: token})
	if !errors.Is(err, ErrTimedOut) || ErrorType(err) != TypeTimedOut {
		t.Fatalf("error = %v", err)
	}
	lambdaDeadline, _ := ctx.Deadline()
	if got := <-deadlines; !got.Equal(lambdaDeadline.Add(-reserve)) {
		t.Errorf("the step's deadline is %v, want Lambda's %v less the reserve", got, lambdaDeadline)
	}
}

// fixedKind makes "fixed-<token>" as the new value.
func fixedKind() rotator.Kind {
	return rotator.Kind{Name: "fixed", New: func(rotator.Options) (rotator.Rotator, error) { return fixed{}, nil }}
}

type fixed struct{}

func (fixed) Create(_ context.Context, req rotator.Request) (secret.Value, error) {
	return secret.New("fixed-" + req.Token), nil
}
func (fixed) Set(context.Context, rotator.Request) error    { return nil }
func (fixed) Test(context.Context, rotator.Request) error   { return nil }
func (fixed) Revoke(context.Context, rotator.Request) error { return nil }

// TestHandlerRotatesSeveralKinds: one function, secrets of different kinds,
// each rotated by the kind its rotor:kind tag names.
func TestHandlerRotatesSeveralKinds(t *testing.T) {
	st := local.NewMemory(local.Config{})
	eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(password.Kind(), fixedKind())})
	h := Handler(eng, nil)
	pw := newRotating(t, st, "password")
	v := secret.New(oldValue)
	ref, err := st.CreateSecret(context.Background(), store.CreateSecretInput{Name: "app/fixed", Value: &v,
		Tags: []store.Tag{{Key: rotator.TagKind, Value: "fixed"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginRotation(context.Background(), store.BeginRotationInput{SecretID: ref.ARN, Token: token}); err != nil {
		t.Fatal(err)
	}
	fx := rotating{st: st, arn: ref.ARN, old: ref.VersionID}
	for _, step := range engine.Steps {
		for _, arn := range []string{pw.arn, fx.arn} {
			if err := h(withDeadline(t, time.Minute), Event{Step: string(step), SecretID: arn, ClientRequestToken: token}); err != nil {
				t.Fatalf("%s of %s: %v", step, arn, err)
			}
		}
	}
	if got := pw.checkRotated(t); strings.HasPrefix(got, "fixed-") || len(got) != password.DefaultLength {
		t.Errorf("the password secret was not rotated by the password kind")
	}
	if got := fx.checkRotated(t); got != "fixed-"+token {
		t.Errorf("the fixed secret was not rotated by the fixed kind")
	}
}
