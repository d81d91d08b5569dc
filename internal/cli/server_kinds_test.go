package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
)

// trackedKind is a kind whose credentials live in a fake external system:
// it records what it creates and revokes, and its test refuses every new
// credential, so that a rotation stops with a pending credential alive.
type trackedKind struct {
	mu      sync.Mutex
	created []string // version ids
	revoked []string
}

func (k *trackedKind) kind() rotator.Kind {
	return rotator.Kind{Name: "tracked", Summary: "test kind with external credentials",
		New: func(rotator.Options) (rotator.Rotator, error) { return k, nil }}
}

func (k *trackedKind) Create(_ context.Context, req rotator.Request) (secret.Value, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.created = append(k.created, req.Token)
	return secret.New("tracked-credential-" + req.Token), nil
}

func (k *trackedKind) Set(context.Context, rotator.Request) error { return nil }

func (k *trackedKind) Test(context.Context, rotator.Request) error {
	return errors.New("the service refuses the new credential")
}

func (k *trackedKind) Revoke(_ context.Context, req rotator.Request) error {
	if req.Pending.Text() != "tracked-credential-"+req.Token {
		return errors.New("Revoke got another version's credential")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.revoked = append(k.revoked, req.Token)
	return nil
}

func (k *trackedKind) state() (created, revoked []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.created), slices.Clone(k.revoked)
}

// trackedServer starts `rotor server` with the tracked kind and creates
// secret name of that kind through the SDK.
func trackedServer(t *testing.T, name string) (*trackedKind, *serverRun, *secretsmanager.Client) {
	t.Helper()
	dir := t.TempDir()
	tracked := &trackedKind{}
	app := &App{Env: testEnv(dir), Kinds: func([]string, SecretReader) *rotator.Registry {
		return rotator.NewRegistry(password.Kind(), tracked.kind())
	}}
	srv := startServer(t, app, "--check-interval", "0")
	sm, _ := srv.client(dir)
	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String("tracked-initial-credential"),
		Tags: []types.Tag{{Key: aws.String("rotor:kind"), Value: aws.String("tracked")}},
	}); err != nil {
		t.Fatal(err)
	}
	return tracked, srv, sm
}

// CancelRotateSecret on `rotor server` abandons the rotation through the
// engine, which revokes the credential the rotation had already created,
// as `rotor cancel` does.
func TestServerCancelRevokes(t *testing.T) {
	tracked, srv, sm := trackedServer(t, "svc/tracked")
	ctx := context.Background()
	const token = "00000000-0000-4000-8000-000000000042"
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("svc/tracked"), ClientRequestToken: aws.String(token)}); err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	if created, revoked := tracked.state(); !slices.Equal(created, []string{token}) || len(revoked) != 0 {
		t.Fatalf("after the failed rotation: created %v, revoked %v; want %s created and alive", created, revoked, token)
	}

	out, err := sm.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("svc/tracked")})
	if err != nil {
		t.Fatalf("CancelRotateSecret: %v", err)
	}
	if aws.ToString(out.VersionId) != token {
		t.Errorf("CancelRotateSecret VersionId = %q, want %s", aws.ToString(out.VersionId), token)
	}
	if _, revoked := tracked.state(); !slices.Equal(revoked, []string{token}) {
		t.Fatalf("revoked %v after CancelRotateSecret, want the pending credential %s", revoked, token)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("svc/tracked")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(d.RotationEnabled) || slices.Contains(d.VersionIdsToStages[token], "AWSPENDING") {
		t.Errorf("after CancelRotateSecret: enabled %v, stages of %s %v", aws.ToBool(d.RotationEnabled), token, d.VersionIdsToStages[token])
	}

	r := srv.stop()
	if r.code != 0 || !strings.Contains(r.stderr, "msg=RotationAbandoned") {
		t.Fatalf("server exit %d; stderr lacks RotationAbandoned:\n%s", r.code, r.stderr)
	}
}

// PutSecretValue on `rotor server` during a rotation writes through the
// engine: the rotation is abandoned and its credential revoked, so that
// resuming it cannot overwrite the value just written.
func TestServerPutAbandonsRotation(t *testing.T) {
	for i, op := range []string{"PutSecretValue", "UpdateSecret"} {
		t.Run(op, func(t *testing.T) {
			tracked, srv, sm := trackedServer(t, "svc/put")
			ctx := context.Background()
			token := fmt.Sprintf("00000000-0000-4000-8000-00000000004%d", i)
			if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("svc/put"), ClientRequestToken: aws.String(token)}); err != nil {
				t.Fatalf("RotateSecret: %v", err)
			}
			var written string
			if op == "PutSecretValue" {
				out, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("svc/put"), SecretString: aws.String("tracked-by-hand")})
				if err != nil {
					t.Fatalf("PutSecretValue: %v", err)
				}
				written = aws.ToString(out.VersionId)
			} else {
				out, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("svc/put"), SecretString: aws.String("tracked-by-hand"),
					Description: aws.String("changed by hand")})
				if err != nil {
					t.Fatalf("UpdateSecret: %v", err)
				}
				written = aws.ToString(out.VersionId)
			}
			if _, revoked := tracked.state(); !slices.Equal(revoked, []string{token}) {
				t.Errorf("revoked %v after %s during the rotation, want the pending credential %s", revoked, op, token)
			}
			d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("svc/put")})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(d.VersionIdsToStages[written], "AWSCURRENT") || len(d.VersionIdsToStages[token]) != 0 {
				t.Errorf("labels after %s: %v; want the written version AWSCURRENT and the abandoned one unlabeled", op, d.VersionIdsToStages)
			}
			if op == "UpdateSecret" && aws.ToString(d.Description) != "changed by hand" {
				t.Errorf("UpdateSecret lost the description: %q", aws.ToString(d.Description))
			}
			if r := srv.stop(); r.code != 0 || !strings.Contains(r.stderr, "msg=RotationAbandoned") {
				t.Fatalf("server exit %d; stderr lacks RotationAbandoned:\n%s", r.code, r.stderr)
			}
		})
	}
}

// A kind that panics fails its rotations, not the server: RotateSecret
// answers InternalServiceError and the scheduler logs the failure, and the
// server goes on serving. The secret, set up with RotateImmediately=false,
// is due by its schedule alone.
func TestServerSurvivesPanickingKind(t *testing.T) {
	const value = "server-panic-value-6b5a4c3d"
	if err := testCapture.values([]secret.Value{secret.New(value)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clock := &offsetClock{}
	var creates atomic.Int32
	app := &App{Env: testEnv(dir), Now: clock.Now, Kinds: func([]string, SecretReader) *rotator.Registry {
		return rotator.NewRegistry(password.Kind(), rotator.Kind{Name: "panicky",
			New: func(rotator.Options) (rotator.Rotator, error) {
				return panicky{value: secret.New(value), calls: &creates}, nil
			}})
	}}
	srv := startServer(t, app, "--check-interval", "20ms")
	sm, _ := srv.client(dir)
	ctx := context.Background()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("svc/panicky"), SecretString: aws.String("panicky-initial-value-1234"),
		Tags: []types.Tag{{Key: aws.String("rotor:kind"), Value: aws.String("panicky")}},
	}); err != nil {
		t.Fatal(err)
	}
	_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("svc/panicky")})
	var internal *types.InternalServiceError
	if !errors.As(err, &internal) {
		t.Fatalf("RotateSecret with a panicking kind = %v, want InternalServiceError", err)
	}
	if _, err := sm.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("svc/panicky")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("svc/panicky"), RotateImmediately: aws.Bool(false),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1)}}); err != nil {
		t.Fatalf("RotateSecret(RotateImmediately=false): %v", err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("svc/panicky")})
	if err != nil || d.NextRotationDate == nil {
		t.Fatalf("after RotateImmediately=false: NextRotationDate %v (%v), want one", d.NextRotationDate, err)
	}
	// Due: the scheduler rotates at every pass, and the kind panics. Two
	// more calls of Create mean a whole pass failed, and was logged.
	before := creates.Load()
	clock.Advance(50 * time.Hour)
	deadline := time.Now().Add(20 * time.Second)
	for creates.Load() < before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not rotate the due secret twice (%d calls of Create)", creates.Load()-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("svc/panicky")}); err != nil {
		t.Fatalf("the server stopped answering: %v", err)
	}
	r := srv.stop()
	if r.code != 0 {
		t.Fatalf("server exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "msg=\"scheduled rotation failed\" error=\"rotate svc/panicky: internal error: [redacted]; please report it") {
		t.Errorf("stderr lacks the scheduler's failure:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "panic: [redacted]") {
		t.Errorf("stderr lacks RotateSecret's failure:\n%s", r.stderr)
	}
}

// RotateImmediately=false runs the kind's testSecret against the current
// value through the engine (as RotateSecret's configuration test does on
// AWS): a refusal is logged (AWS too reports a failing rotation function in
// its logs, not in RotateSecret's answer), nothing is created, and the
// AWSPENDING placeholder does not stay behind.
func TestServerConfigurationTest(t *testing.T) {
	tracked, srv, sm := trackedServer(t, "svc/config")
	ctx := context.Background()
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("svc/config"), RotateImmediately: aws.Bool(false),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}}); err != nil {
		t.Fatalf("RotateSecret(RotateImmediately=false): %v", err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("svc/config")})
	if err != nil {
		t.Fatal(err)
	}
	for id, stages := range d.VersionIdsToStages {
		if slices.Contains(stages, "AWSPENDING") {
			t.Errorf("version %s keeps AWSPENDING after the configuration test", id)
		}
	}
	if created, revoked := tracked.state(); len(created) != 0 || len(revoked) != 0 {
		t.Errorf("the configuration test created %v and revoked %v, want nothing", created, revoked)
	}
	r := srv.stop()
	if r.code != 0 {
		t.Fatalf("server exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "testSecret of the current value of svc/config: the service refuses the new credential") ||
		!strings.Contains(r.stderr, "rotate_immediately=false") {
		t.Errorf("stderr lacks the failed configuration test:\n%s", r.stderr)
	}
}

// RotateSecret on a secret rotor cannot rotate (no kind) is refused before
// anything is created, with InvalidRequestException saying why.
func TestServerRefusesUnrotatable(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, &App{Env: testEnv(dir)}, "--check-interval", "0")
	sm, _ := srv.client(dir)
	ctx := context.Background()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("svc/kindless"), SecretString: aws.String("kindless-value-1")}); err != nil {
		t.Fatal(err)
	}
	_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("svc/kindless")})
	var inv *types.InvalidRequestException
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "rotor:kind") {
		t.Fatalf("RotateSecret of a secret without a kind: %v; want InvalidRequestException naming rotor:kind", err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("svc/kindless")})
	if err != nil {
		t.Fatal(err)
	}
	for v, st := range d.VersionIdsToStages {
		if slices.Contains(st, "AWSPENDING") || aws.ToBool(d.RotationEnabled) {
			t.Errorf("the refused RotateSecret left state behind: %s %v, enabled %v", v, st, aws.ToBool(d.RotationEnabled))
		}
	}
	srv.stop()
}
