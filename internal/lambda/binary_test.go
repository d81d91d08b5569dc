package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/lambda/runtimetest"
	"github.com/rotorhq/rotor/internal/smapi"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

const (
	testKeyID  = "AKIAROTORLAMBDATEST1"
	testSecret = "lambda-test-secret-access-key-0123456789"
	testRegion = "us-east-1"
)

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from the test directory: %v", err)
	}
	return root
}

// buildBootstrap builds cmd/rotor as Lambda's bootstrap, as the release does
// (without cross-compiling, so it runs here).
func buildBootstrap(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot build cmd/rotor")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-o", bin, "./cmd/rotor")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rotor: %v\n%s", err, out)
	}
	return bin
}

// function is the built binary running against a Runtime API and a Secrets
// Manager API served over a memory store.
type function struct {
	rt     *runtimetest.Server
	st     *local.Store
	cmd    *exec.Cmd
	stdout *syncbuf.Buffer
	stderr *syncbuf.Buffer
	exited chan error
}

// awsKey is the credentials the function runs with, which the Secrets
// Manager API accepts.
type awsKey struct {
	id, secret, session string
}

func startFunction(t *testing.T, bin string, extraEnv ...string) *function {
	t.Helper()
	return startFunctionAs(t, bin, awsKey{id: testKeyID, secret: testSecret}, extraEnv...)
}

// startFunctionAs starts the function with key as its AWS credentials.
func startFunctionAs(t *testing.T, bin string, key awsKey, extraEnv ...string) *function {
	t.Helper()
	st := local.NewMemory(local.Config{Region: testRegion})
	cfg := smapi.Config{Store: st, Region: testRegion, Credentials: map[string]string{key.id: key.secret}}
	if key.session != "" {
		cfg.SessionTokens = map[string]string{key.id: key.session}
	}
	sm := httptest.NewServer(smapi.NewHandler(cfg))
	t.Cleanup(sm.Close)
	rt := runtimetest.New(runtimetest.Config{})
	t.Cleanup(rt.Close)

	home := t.TempDir()
	f := &function{rt: rt, st: st, stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	f.cmd = exec.Command(bin)
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=rotor-rotation",
		"AWS_REGION=" + testRegion,
		"AWS_ACCESS_KEY_ID=" + key.id,
		"AWS_SECRET_ACCESS_KEY=" + key.secret,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + sm.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"HOME=" + home,
	}
	if key.session != "" { // a role's temporary credentials, as Lambda gives
		env = append(env, "AWS_SESSION_TOKEN="+key.session)
	}
	f.cmd.Env = append(env, extraEnv...)
	f.cmd.Stdout, f.cmd.Stderr = f.stdout, f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.exited <- f.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-f.exited:
		default:
			_ = f.cmd.Process.Kill()
			<-f.exited
		}
	})
	return f
}

func (f *function) invoke(t *testing.T, ev Event, deadline time.Duration) *runtimetest.FunctionError {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, fe, err := f.rt.Invoke(ctx, payload, deadline)
	if err != nil {
		t.Fatalf("invoke %s: %v\nstdout:\n%s\nstderr:\n%s", ev.Step, err, f.stdout, f.stderr)
	}
	return fe
}

// wait waits for the process to exit and returns its exit code.
func (f *function) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-f.exited:
		f.exited <- err // for the cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("the function did not exit\nstdout:\n%s\nstderr:\n%s", f.stdout, f.stderr)
		return -1
	}
}

// TestBuiltBinaryRotates runs the real bootstrap the way Lambda does and
// feeds it the four events of a rotation, then events that must fail.
func TestBuiltBinaryRotates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/rotor")
	}
	bin := buildBootstrap(t)
	f := startFunction(t, bin, "ROTOR_LENGTH=40")
	sec := newRotating(t, f.st, "password", store.Tag{Key: "rotor:exclude-punctuation", Value: "true"})

	steps := []string{"createSecret", "setSecret", "test_secret", "finishSecret"}
	for _, step := range steps {
		ev := Event{Step: step, SecretID: sec.arn, ClientRequestToken: token, RotationToken: rotationToken}
		if fe := f.invoke(t, ev, 30*time.Second); fe != nil {
			t.Fatalf("%s failed: %v\nstdout:\n%s\nstderr:\n%s", step, fe, f.stdout, f.stderr)
		}
	}
	val := sec.checkRotated(t)
	if len(val) != 40 {
		t.Errorf("new password has %d characters, want 40 from ROTOR_LENGTH", len(val))
	}

	// Failures come back as function errors, which Secrets Manager records.
	failures := []struct {
		ev       Event
		deadline time.Duration
		typ      string
	}{
		{Event{Step: "createSecret", SecretID: sec.arn, ClientRequestToken: "5e1c9d7a-0000-4000-8000-000000000000"}, 30 * time.Second, TypeStepFailed},
		{Event{Step: "createSecret", SecretID: sec.arn, ClientRequestToken: token}, 2 * time.Second, TypeNotEnoughTime},
		{Event{Step: "rotate", SecretID: sec.arn, ClientRequestToken: token}, 30 * time.Second, TypeInvalidEvent},
	}
	for _, tt := range failures {
		fe := f.invoke(t, tt.ev, tt.deadline)
		if fe == nil {
			t.Errorf("%+v succeeded", tt.ev)
			continue
		}
		if fe.Type != tt.typ || fe.Message == "" {
			t.Errorf("%+v: error %q, want type %s", tt.ev, fe, tt.typ)
		}
		checkNoValues(t, "the function error", string(fe.Body), oldValue, val)
	}
	if v := f.rt.Violations(); len(v) != 0 {
		t.Errorf("the function broke the Runtime API protocol:\n%s", strings.Join(v, "\n"))
	}

	// SIGTERM ends the function cleanly.
	if err := f.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := f.wait(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d\nstderr:\n%s", code, f.stderr)
	}

	out := f.stdout.String()
	checkNoValues(t, "the function's stdout", out, oldValue, val, testSecret)
	checkNoValues(t, "the function's stderr", f.stderr.String(), oldValue, val, testSecret)
	lines := logLines(t, out)
	for _, step := range steps {
		if findLog(lines, map[string]string{"msg": "rotation step succeeded", "step": step, "secret": sec.arn, "token": token}) == nil {
			t.Errorf("no JSON log line of the %s step with its secret and token:\n%s", step, out)
		}
	}
	if findLog(lines, map[string]string{"errorType": TypeStepFailed}) == nil {
		t.Errorf("the failed invocation's error document is not logged as JSON:\n%s", out)
	}
}

// TestBuiltBinaryInitError starts the function without a region: it must
// report an init error to the Runtime API and exit.
func TestBuiltBinaryInitError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/rotor")
	}
	bin := buildBootstrap(t)
	f := startFunction(t, bin, "AWS_REGION=")
	fe := f.invoke(t, Event{Step: "createSecret", SecretID: "x", ClientRequestToken: token}, 30*time.Second)
	if fe == nil || fe.Type != TypeConfigError || !strings.Contains(fe.Message, "region") {
		t.Fatalf("init error = %v", fe)
	}
	if code := f.wait(t); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}

	// Outside Lambda, `rotor lambda` refuses to start.
	cmd := exec.Command(bin, "lambda")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), RuntimeAPIEnv) {
		t.Errorf("rotor lambda outside Lambda: %v\n%s", err, out)
	}
}
