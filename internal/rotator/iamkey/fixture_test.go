package iamkey_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// clock is the fake time shared by the server and the rotator: Sleep
// advances it, so polling costs no real time.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// fixture is one IAM + STS server with users alice (no policy), bob
// (self-rotation policy) and carol (path /eng/, self-rotation policy), an
// admin role, and the record of every secret seen so tests can check none
// leaks.
type fixture struct {
	t       *testing.T
	srv     *iamtest.Server
	clk     *clock
	admin   aws.Credentials
	logs    *syncbuf.Buffer
	secrets []string
	texts   []string // every error text produced
}

func newFixture(t *testing.T, keyDelay time.Duration) *fixture {
	t.Helper()
	clk := &clock{t: time.Now()}
	srv := iamtest.New(iamtest.Config{Now: clk.Now, KeyDelay: keyDelay})
	t.Cleanup(srv.Close)
	for _, u := range []iamtest.User{{Name: "alice"}, {Name: "bob", SelfManage: true}, {Name: "carol", Path: "/eng/", SelfManage: true}} {
		if err := srv.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, srv: srv, clk: clk, logs: &syncbuf.Buffer{}}
	f.admin = srv.AddAdmin("rotor")
	f.secrets = append(f.secrets, f.admin.SecretAccessKey, f.admin.SessionToken)
	t.Cleanup(f.checkNoLeak)
	return f
}

func (f *fixture) deps() iamkey.Deps {
	return iamkey.Deps{
		AWS: aws.Config{
			Region:      "eu-west-1",
			Credentials: credentials.StaticCredentialsProvider{Value: f.admin},
			Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		},
		IAMEndpoint: f.srv.URL,
		STSEndpoint: f.srv.URL,
		Now:         f.clk.Now,
		Sleep:       f.clk.Sleep,
	}
}

func (f *fixture) rotator(opts rotator.Options) *iamkey.Rotator {
	f.t.Helper()
	r, err := iamkey.New(f.deps(), opts)
	if err != nil {
		f.t.Fatalf("New(%v): %v", opts, err)
	}
	return r
}

// seed gives user an old, working key and returns it as a secret value.
func (f *fixture) seed(user string, extra map[string]string) secret.Value {
	f.t.Helper()
	c, err := f.srv.SeedKey(user)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.value(c.AccessKeyID, c.SecretAccessKey, extra)
}

func (f *fixture) value(id, sk string, extra map[string]string) secret.Value {
	m := map[string]string{"access_key_id": id, "secret_access_key": sk}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	f.remember(secret.New(string(b)))
	return secret.New(string(b))
}

// remember records the secret parts of v.
func (f *fixture) remember(v secret.Value) {
	if sk := field(v, "secret_access_key"); sk != "" {
		f.secrets = append(f.secrets, sk)
	}
}

// note records an error's text for the leak check.
func (f *fixture) note(err error) error {
	if err != nil {
		f.texts = append(f.texts, err.Error())
	}
	return err
}

func (f *fixture) request(name string, cur, prev, pend secret.Value, opts rotator.Options) rotator.Request {
	return rotator.Request{SecretID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + name + "-AbCdEf",
		Name: name, Token: "token", Current: cur, Previous: prev, Pending: pend, Options: opts,
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

func (f *fixture) checkNoLeak() {
	out := f.logs.String() + strings.Join(f.texts, "\n")
	for _, s := range f.secrets {
		if s != "" && strings.Contains(out, s) {
			f.t.Errorf("a secret access key or session token appears in a log line or error")
		}
	}
}

// liveIDs returns the user's key ids, oldest first.
func (f *fixture) liveIDs(user string) []string {
	var ids []string
	for _, k := range f.srv.Keys(user) {
		ids = append(ids, k.ID)
	}
	return ids
}

// status returns the status of the user's key id, "" when it does not exist.
func (f *fixture) status(user, id string) string {
	for _, k := range f.srv.Keys(user) {
		if k.ID == id {
			return k.Status
		}
	}
	return ""
}

// wantKeys fails unless the user's keys are exactly those of the values.
func (f *fixture) wantKeys(user string, vals ...secret.Value) {
	f.t.Helper()
	var want []string
	for _, v := range vals {
		if id := field(v, "access_key_id"); id != "" {
			want = append(want, id)
		}
	}
	got := f.liveIDs(user)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		f.t.Fatalf("IAM keys of %s = %v, want exactly %v", user, got, want)
	}
}

func field(v secret.Value, name string) string {
	var m map[string]any
	if json.Unmarshal(v.Bytes(), &m) != nil {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

// labels is a secret's staging labels, and rotate runs the steps the way
// the engine does: Create, Test, move the labels, revoke the version that
// left AWSPREVIOUS.
type labels struct{ cur, prev secret.Value }

func (f *fixture) rotate(r *iamkey.Rotator, name string, st *labels, opts rotator.Options) {
	f.t.Helper()
	ctx := context.Background()
	pend, err := r.Create(ctx, f.request(name, st.cur, st.prev, secret.Value{}, opts))
	if f.note(err) != nil {
		f.t.Fatalf("Create: %v", err)
	}
	f.remember(pend)
	if err := f.note(r.Test(ctx, f.request(name, st.cur, st.prev, pend, opts))); err != nil {
		f.t.Fatalf("Test: %v", err)
	}
	old := st.prev
	st.prev, st.cur = st.cur, pend
	if !old.IsZero() {
		if err := f.note(r.Revoke(ctx, f.request(name, st.cur, st.prev, old, opts))); err != nil {
			f.t.Fatalf("Revoke: %v", err)
		}
	}
}
