package kube_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
)

// TestConformancePassword runs the conformance suite on the password kind
// over Secrets in a real kube-apiserver.
func TestConformancePassword(t *testing.T) {
	rotatortest.Run(t, rotatortest.Config{
		NewStore: func(t *testing.T) store.Store { return newStore(t) },
		NewHarness: func(t *testing.T) *rotatortest.Harness {
			return &rotatortest.Harness{
				Kind:    password.Kind(),
				Options: rotator.Options{password.OptLength: "40"},
				Initial: secret.New(`{"username":"app","password":"Ab3$Cd4%Ef5&Gh6*Jk7(Mn8)Pq9-Rs2+Tu3=Vw4?","host":"db"}`),
				ID:      func(v secret.Value) string { return field(v, "password") },
				Secrets: func(v secret.Value) []string { return []string{v.Text(), field(v, "password")} },
			}
		},
		Short: testing.Short(),
	})
}

// TestConformanceIAMKey runs the conformance suite on the iam-access-key
// kind, both auth modes, over Secrets in a real kube-apiserver and keys in
// the local IAM/STS server.
func TestConformanceIAMKey(t *testing.T) {
	for _, auth := range []string{iamkey.AuthRole, iamkey.AuthSelf} {
		t.Run("auth="+auth, func(t *testing.T) {
			rotatortest.Run(t, rotatortest.Config{
				NewStore:   func(t *testing.T) store.Store { return newStore(t) },
				NewHarness: func(t *testing.T) *rotatortest.Harness { return iamHarness(t, auth) },
				Short:      testing.Short(),
			})
		})
	}
}

func iamHarness(t *testing.T, auth string) *rotatortest.Harness {
	iam := newIAM(t)
	initial, err := iam.srv.SeedKey("svc")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(map[string]string{"access_key_id": initial.AccessKeyID, "secret_access_key": initial.SecretAccessKey})
	return &rotatortest.Harness{
		Kind:    iamkey.Kind(iam.deps),
		Options: rotator.Options{iamkey.OptUser: "svc", iamkey.OptAuth: auth, iamkey.OptTestTimeout: "30s"},
		Initial: secret.New(string(v)),
		Live:    iam.live("svc"),
		ID:      func(v secret.Value) string { return field(v, "access_key_id") },
		Secrets: func(v secret.Value) []string { return []string{v.Text(), field(v, "secret_access_key")} },
	}
}

// iamFixture is a local IAM/STS server with the user svc, allowed to
// rotate its own keys, and an admin for auth=role.
type iamFixture struct {
	srv  *iamtest.Server
	deps iamkey.Deps
}

func newIAM(t *testing.T) *iamFixture {
	t.Helper()
	clk := &clock{t: time.Now()}
	srv := iamtest.New(iamtest.Config{Now: clk.Now, KeyDelay: 5 * time.Second, MaxSkew: 1000 * time.Hour})
	t.Cleanup(srv.Close)
	if err := srv.AddUser(iamtest.User{Name: "svc", SelfManage: true}); err != nil {
		t.Fatal(err)
	}
	admin := srv.AddAdmin("rotor")
	return &iamFixture{srv: srv, deps: iamkey.Deps{
		AWS: aws.Config{Region: "us-east-1", Credentials: credentials.StaticCredentialsProvider{Value: admin},
			Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		IAMEndpoint: srv.URL, STSEndpoint: srv.URL, Now: clk.Now, Sleep: clk.Sleep,
	}}
}

// live lists every key IAM holds for user, inactive ones included.
func (f *iamFixture) live(user string) func(context.Context) ([]string, error) {
	return func(context.Context) ([]string, error) {
		var ids []string
		for _, k := range f.srv.Keys(user) {
			ids = append(ids, k.ID)
		}
		return ids, nil
	}
}

func field(v secret.Value, name string) string {
	var m map[string]any
	_ = json.Unmarshal(v.Bytes(), &m)
	s, _ := m[name].(string)
	return s
}

// clock is fake time shared by the IAM server and the rotator: Sleep
// advances it, so waiting for a key to become valid costs no real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return nil
}
