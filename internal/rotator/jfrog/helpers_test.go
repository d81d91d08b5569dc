package jfrog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/jfrog"
	"github.com/rotorhq/rotor/internal/rotator/jfrog/jfrogtest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

const (
	region   = "eu-central-1"
	roleARN  = "arn:aws:iam::123456789012:role/rotor-jfrog"
	puller   = "puller"
	ttlSecs  = 21600
	adminSID = "jfrog/admin"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a JFrog test server with an admin, a user "puller" the IAM role
// is mapped to, and AWS credentials of a session of that role.
type env struct {
	srv        *jfrogtest.Server
	clock      *jfrogtest.Clock
	creds      aws.Credentials
	adminToken string
	secrets    *secretMap
	logs       *syncbuf.Buffer
}

func newEnv(t *testing.T, opts jfrogtest.Options) *env {
	t.Helper()
	return newEnvAt(t, epoch, opts)
}

// newEnvAt is newEnv with the shared clock starting at start.
func newEnvAt(t *testing.T, start time.Time, opts jfrogtest.Options) *env {
	t.Helper()
	e := &env{clock: jfrogtest.NewClock(start), secrets: &secretMap{m: map[string]secret.Value{}}, logs: &syncbuf.Buffer{}}
	opts.Now = e.clock.Now
	e.srv = jfrogtest.New(t, opts)
	e.srv.AddUser("admin", true)
	e.srv.AddUser(puller, false)
	e.srv.AddUser("bob", false)
	e.srv.MapRole(puller, roleARN)
	_, e.adminToken = e.srv.IssueToken("admin", 0, "bootstrap")
	ak, sk, st := e.srv.NewRoleSession(roleARN, "rotor")
	e.creds = aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, SessionToken: st}
	e.secrets.m[adminSID] = secret.New(fmt.Sprintf(`{"username":"admin","password":%q}`, e.adminToken))
	return e
}

func (e *env) deps() jfrog.Deps {
	return jfrog.Deps{
		HTTPClient: e.srv.Client(),
		AWS: aws.Config{
			Region:      region,
			Credentials: credentials.NewStaticCredentialsProvider(e.creds.AccessKeyID, e.creds.SecretAccessKey, e.creds.SessionToken),
		},
		Secrets: e.secrets,
		Now:     e.clock.Now,
		Env:     []string{"JFROG_HOST=" + e.srv.URL, fmt.Sprintf("SECRET_TTL=%d", ttlSecs), "JFROG_ADMIN=" + e.adminToken},
	}
}

func (e *env) rotator(t *testing.T, opts rotator.Options) *jfrog.Rotator {
	t.Helper()
	r, err := jfrog.New(e.deps(), opts)
	if err != nil {
		t.Fatalf("New(%v): %v", opts, err)
	}
	return r
}

func (e *env) request(token string) rotator.Request {
	return rotator.Request{
		SecretID: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:jfrog/puller-AbCdEf",
		Name:     "jfrog/puller",
		Token:    token,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// decoded is the secret value's JSON, for assertions.
type decoded struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	TokenID   string `json:"token_id"`
	ExpiresAt string `json:"expires_at"`
}

func decode(t *testing.T, v secret.Value) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(v.Bytes(), &d); err != nil {
		t.Fatalf("secret value is not JSON: %v", err)
	}
	if d.Username == "" || d.Password == "" || d.TokenID == "" || d.ExpiresAt == "" {
		t.Fatalf("secret value misses a field: username=%q token_id=%q expires_at=%q password set=%v",
			d.Username, d.TokenID, d.ExpiresAt, d.Password != "")
	}
	return d
}

// noLeak fails if any secret appears in text.
func noLeak(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("%s contains a secret", what)
		}
	}
}

// allSecrets returns every token value the server issued plus the AWS secrets.
func (e *env) allSecrets(values ...secret.Value) []string {
	out := []string{e.adminToken, e.creds.SecretAccessKey, e.creds.SessionToken}
	for _, v := range values {
		var d decoded
		_ = json.Unmarshal(v.Bytes(), &d)
		out = append(out, d.Password)
	}
	return out
}

type secretMap struct {
	mu sync.Mutex
	m  map[string]secret.Value
}

func (s *secretMap) ReadSecret(_ context.Context, id string) (secret.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok {
		return secret.Value{}, fmt.Errorf("secret %q not found", id)
	}
	return v, nil
}
