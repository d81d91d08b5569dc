package ecr_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/ecr"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

const (
	own   = "123456789012"
	other = "210987654321"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is an IAM/STS/ECR server with two registries, an admin identity
// (rotor's own role) and a user key allowed GetAuthorizationToken.
type world struct {
	srv     *iamtest.Server
	clk     *clock
	admin   aws.Credentials
	userKey aws.Credentials
	hosts   map[string]string // account -> registry host
	secrets map[string]secret.Value
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clk := &clock{t: time.Now()}
	srv := iamtest.New(iamtest.Config{Account: own, Now: clk.Now, MaxSkew: 1000 * time.Hour})
	t.Cleanup(srv.Close)
	w := &world{srv: srv, clk: clk, admin: srv.AddAdmin("rotor"), hosts: map[string]string{}, secrets: map[string]secret.Value{}}
	for _, a := range []string{own, other} {
		w.hosts[a] = strings.TrimPrefix(srv.AddRegistry(a), "https://")
	}
	if err := srv.AddUser(iamtest.User{Name: "puller"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AllowECR("puller"); err != nil {
		t.Fatal(err)
	}
	k, err := srv.SeedKey("puller")
	if err != nil {
		t.Fatal(err)
	}
	w.userKey = k
	b, _ := json.Marshal(map[string]string{"access_key_id": k.AccessKeyID, "secret_access_key": k.SecretAccessKey})
	w.secrets["aws-iam-user-credentials"] = secret.New(string(b))
	return w
}

func (w *world) ReadSecret(_ context.Context, id string) (secret.Value, error) {
	v, ok := w.secrets[id]
	if !ok {
		return secret.Value{}, store.Errorf(store.ErrNotFound, "secret %s not found", id)
	}
	return v, nil
}

func (w *world) deps() ecr.Deps {
	return ecr.Deps{
		AWS: func() (aws.Config, error) {
			return aws.Config{Region: "us-west-1", Credentials: credentials.StaticCredentialsProvider{Value: w.admin},
				Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, nil
		},
		Secrets: w, HTTPClient: w.srv.RegistryClient(), Now: w.clk.Now,
	}
}

func (w *world) rotator(t *testing.T, opts rotator.Options) *ecr.Rotator {
	t.Helper()
	r, err := ecr.New(w.deps(), rotator.Merge(rotator.Options{ecr.OptEndpoint: w.srv.URL}, opts))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type dockerConfig struct {
	Auths map[string]struct {
		Username, Password, Auth string
	} `json:"auths"`
	ExpiresAt time.Time `json:"expires_at"`
}

func decode(t *testing.T, v secret.Value) dockerConfig {
	t.Helper()
	var c dockerConfig
	if err := json.Unmarshal(v.Bytes(), &c); err != nil {
		t.Fatalf("the value is not a Docker config: %v", err)
	}
	return c
}

// TestCreateAndTest: a Docker config with one entry per registry, each a
// token the registry accepts, expiring in 12 hours; the test refuses a
// token after it expired.
func TestCreateAndTest(t *testing.T) {
	w := newWorld(t)
	r := w.rotator(t, rotator.Options{ecr.OptRegistries: own + "," + other})
	ctx := t.Context()
	v, err := r.Create(ctx, rotator.Request{Name: "pull"})
	if err != nil {
		t.Fatal(err)
	}
	c := decode(t, v)
	if len(c.Auths) != 2 {
		t.Fatalf("%d registries in the Docker config, want 2", len(c.Auths))
	}
	for acct, host := range w.hosts {
		a, ok := c.Auths[host]
		if !ok {
			t.Fatalf("no entry for the registry of %s (%s)", acct, host)
		}
		if a.Username != "AWS" || a.Auth != base64.StdEncoding.EncodeToString([]byte("AWS:"+a.Password)) {
			t.Errorf("entry of %s: user %q, auth not base64 of user:password", host, a.Username)
		}
	}
	if d := c.ExpiresAt.Sub(w.clk.Now()); d < 11*time.Hour || d > 12*time.Hour {
		t.Errorf("expires_at is %v from now, want 12h", d)
	}
	if got := r.RefreshAt(v); !got.Equal(c.ExpiresAt.Add(-ecr.DefaultRefreshBefore)) {
		t.Errorf("RefreshAt = %v, want 3h before %v", got, c.ExpiresAt)
	}
	if err := r.Test(ctx, rotator.Request{Name: "pull", Pending: v}); err != nil {
		t.Fatalf("testSecret of fresh tokens: %v", err)
	}
	// A token for one registry is refused by another's /v2/.
	var swapped dockerConfig
	swapped.Auths = map[string]struct{ Username, Password, Auth string }{w.hosts[other]: c.Auths[w.hosts[own]]}
	b, _ := json.Marshal(swapped)
	if err := r.Test(ctx, rotator.Request{Name: "pull", Pending: secret.New(string(b))}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("another registry's token: %v, want refused with 401", err)
	}
	w.clk.Add(12*time.Hour + time.Second)
	err = r.Test(ctx, rotator.Request{Name: "pull", Pending: v})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("testSecret of expired tokens: %v, want refused with 401", err)
	}
	for _, a := range c.Auths {
		if strings.Contains(err.Error(), a.Password) {
			t.Fatal("the error holds a token")
		}
	}
}

// TestKeySecret: with key-secret, ECR is called with that user's key; a
// user without the ECR policy is refused, and the error says whose key.
func TestKeySecret(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	r := w.rotator(t, rotator.Options{ecr.OptKeySecret: "aws-iam-user-credentials", ecr.OptFormat: ecr.FormatECS})
	v, err := r.Create(ctx, rotator.Request{Name: "pull"})
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Username, Password, Registry string }
	if err := json.Unmarshal(v.Bytes(), &e); err != nil || e.Registry != w.hosts[own] || e.Username != "AWS" || e.Password == "" {
		t.Fatalf("ecs format: registry %q user %q (%v)", e.Registry, e.Username, err)
	}
	if err := r.Test(ctx, rotator.Request{Pending: v}); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddUser(iamtest.User{Name: "nobody"}); err != nil {
		t.Fatal(err)
	}
	k, _ := w.srv.SeedKey("nobody")
	b, _ := json.Marshal(map[string]string{"access_key_id": k.AccessKeyID, "secret_access_key": k.SecretAccessKey})
	w.secrets["nobody"] = secret.New(string(b))
	_, err = w.rotator(t, rotator.Options{ecr.OptKeySecret: "nobody"}).Create(ctx, rotator.Request{})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), k.AccessKeyID) {
		t.Fatalf("a user without the ECR policy: %v, want AccessDenied naming the key", err)
	}
	if strings.Contains(err.Error(), k.SecretAccessKey) {
		t.Fatal("the error holds the secret key")
	}
	_, err = w.rotator(t, rotator.Options{ecr.OptKeySecret: "missing"}).Create(ctx, rotator.Request{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("a key-secret that does not exist: %v", err)
	}
}

func TestOptions(t *testing.T) {
	w := newWorld(t)
	for _, o := range []rotator.Options{
		{ecr.OptRegistries: "12345"},
		{ecr.OptRegistries: own + "," + other, ecr.OptFormat: ecr.FormatECS},
		{ecr.OptFormat: "yaml"},
		{ecr.OptRefreshBefore: "13h"},
		{ecr.OptEndpoint: "ftp://x"},
	} {
		if _, err := ecr.New(w.deps(), o); !errors.Is(err, rotator.ErrPermanent) {
			t.Errorf("options %v: %v, want a permanent error", o, err)
		}
	}
	r := w.rotator(t, nil)
	if c := rotator.CapabilitiesOf(r); c.Revokes || c.Sets {
		t.Errorf("capabilities %+v: ECR tokens are neither set nor revoked", c)
	}
	if !ecr.Kind(w.deps()).After {
		t.Error("the kind reads key-secret: it must rotate after the other secrets of a pass")
	}
}

// TestConformance runs the shared suite: tokens are not tracked by ECR
// (Live is nil), and nothing is revoked.
func TestConformance(t *testing.T) {
	rotatortest.Run(t, rotatortest.Config{
		NewStore: func(*testing.T) store.Store { return local.NewMemory(local.Config{}) },
		NewHarness: func(t *testing.T) *rotatortest.Harness {
			w := newWorld(t)
			opts := rotator.Options{ecr.OptEndpoint: w.srv.URL, ecr.OptRegistries: own + "," + other}
			first, err := w.rotator(t, opts).Create(t.Context(), rotator.Request{})
			if err != nil {
				t.Fatal(err)
			}
			return &rotatortest.Harness{
				Kind: ecr.Kind(w.deps()), Options: opts, Initial: first,
				Secrets: func(v secret.Value) []string {
					out := []string{v.Text()}
					var c dockerConfig
					_ = json.Unmarshal(v.Bytes(), &c)
					for _, a := range c.Auths {
						out = append(out, a.Password, a.Auth)
					}
					return out
				},
			}
		},
		Short: testing.Short(),
	})
}
