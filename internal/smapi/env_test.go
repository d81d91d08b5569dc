package smapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/smapi"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

const (
	accessKey = "AKIDSMAPITEST0000001"
	secretKey = "smapi-test-secret-access-key-00000000000"
	region    = "eu-central-1"
)

// tok returns a valid ClientRequestToken (a UUID) numbered n.
func tok(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// env is a rotor Secrets Manager endpoint on a local port and a real SDK
// client signed with a configured key.
type env struct {
	t      testing.TB
	store  store.Store
	srv    *httptest.Server
	sm     *secretsmanager.Client
	logs   *syncbuf.Buffer
	calls  atomic.Int64 // HTTP requests the server received
	cfg    smapi.Config
	client *http.Client
}

type option func(*smapi.Config)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	e := &env{t: t, logs: &syncbuf.Buffer{}}
	e.store = newStore(t)
	e.cfg = smapi.Config{
		Store:       e.store,
		Credentials: map[string]string{accessKey: secretKey},
		Region:      region,
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&e.cfg)
	}
	h := smapi.NewHandler(e.cfg)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.client = e.srv.Client()
	e.sm = e.newClient(accessKey, secretKey)
	return e
}

// newClient returns an SDK client with the SDK's standard retryer (3
// attempts, its own choice of what to retry) minus the sleeps between
// attempts, so that tests stay fast and still see every retry.
func (e *env) newClient(key, secret string, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:   e.client,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	}, optFns...)
}

// count runs f and returns how many HTTP requests it made, so that tests
// see SDK retries instead of having them hidden.
func (e *env) count(f func()) int64 {
	before := e.calls.Load()
	f()
	return e.calls.Load() - before
}

// apiError asserts err is an API error of code and returns its message.
func apiError(t testing.TB, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae.ErrorMessage()
}

// rawResponse is an answer to a hand-made request.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// raw sends a request signed like the SDK signs, for inputs the SDK's own
// client-side validation would not let through. mutate runs after signing.
func (e *env) raw(target, body string, mutate func(*http.Request)) rawResponse {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	e.sign(req, body)
	if mutate != nil {
		mutate(req)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// sign signs req, whose body is body, with the test's access key.
func (e *env) sign(req *http.Request, body string) {
	e.t.Helper()
	req.Header.Del("Authorization")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "secretsmanager", region, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// createSecret creates a secret with a string value and returns its ARN.
func (e *env) createSecret(ctx context.Context, name, value string, n int) string {
	e.t.Helper()
	out, err := e.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(tok(n)),
	})
	if err != nil {
		e.t.Fatalf("CreateSecret(%s): %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// assertNoLeak fails if the log holds any of the values.
func (e *env) assertNoLeak(values ...string) {
	e.t.Helper()
	logs := e.logs.String()
	for _, v := range values {
		if strings.Contains(logs, v) {
			e.t.Errorf("the log contains a secret value %q", v)
		}
	}
}
