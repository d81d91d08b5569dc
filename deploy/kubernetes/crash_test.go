package kubernetes_test

import (
	"context"

	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/cli"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// The child process: rotor as the CronJob runs it, killed with SIGKILL at
// the point $ROTOR_KUBE_TEST_KILL names.
const (
	childEnv  = "ROTOR_KUBE_TEST_CHILD"
	killEnv   = "ROTOR_KUBE_TEST_KILL"
	iamURLEnv = "ROTOR_KUBE_TEST_IAM"
	// childShipped, as the value of childEnv, runs rotor with the kinds it
	// ships, configured only by the environment.
	childShipped = "shipped"
)

// childLease is the rotation lock's lease of a child that is killed: the
// next run takes the dead child's lock over once the API server has seen it
// unrenewed for that long.
const childLease = 5 * time.Second

// Kill points.
const (
	// killAfterCreate dies after IAM made the new key, before rotor stored
	// it: the key exists only in IAM.
	killAfterCreate = "after-create"
	// killInTest dies in testSecret: the new key is stored as AWSPENDING.
	killInTest = "in-test"
)

func childMain() int {
	if os.Getenv(childEnv) == childShipped {
		// rotor as shipped: its own kinds, AWS configured by the environment.
		app := &cli.App{Env: os.Environ(), Stdout: os.Stdout, Stderr: os.Stderr}
		return app.Run(context.Background(), os.Args[1:])
	}
	base := kinds(os.Getenv(iamURLEnv))
	app := &cli.App{Env: os.Environ(), Stdout: os.Stdout, Stderr: os.Stderr, KubeLockLease: childLease,
		Kinds: func(env []string, sr cli.SecretReader) *rotator.Registry {
			reg := base(env, sr)
			var ks []rotator.Kind
			for _, name := range reg.Names() {
				k, _ := reg.Lookup(name)
				inner := k.New
				k.New = func(o rotator.Options) (rotator.Rotator, error) {
					r, err := inner(o)
					if err != nil {
						return nil, err
					}
					return &killer{Rotator: r, at: os.Getenv(killEnv)}, nil
				}
				ks = append(ks, k)
			}
			return rotator.NewRegistry(ks...)
		}}
	return app.Run(context.Background(), os.Args[1:])
}

// killer kills its own process at a step.
type killer struct {
	rotator.Rotator
	at string
}

func die() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }

func (k *killer) Create(ctx context.Context, req rotator.Request) (secret.Value, error) {
	v, err := k.Rotator.Create(ctx, req)
	if err == nil && k.at == killAfterCreate {
		die()
	}
	return v, err
}

func (k *killer) Test(ctx context.Context, req rotator.Request) error {
	if k.at == killInTest {
		die()
	}
	return k.Rotator.Test(ctx, req)
}

func (k *killer) Capabilities() rotator.Capabilities { return rotator.CapabilitiesOf(k.Rotator) }

func (k *killer) CredentialID(v secret.Value) string {
	if id, ok := k.Rotator.(rotator.Identifier); ok {
		return id.CredentialID(v)
	}
	return ""
}

// runChild runs rotor in a child process killed at the point kill.
func (c *cluster) runChild(t *testing.T, iamURL, kill string, args ...string) (exited bool, out string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], append([]string{"--store", "kube"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1", killEnv+"="+kill, iamURLEnv+"="+iamURL,
		"KUBECONFIG="+c.kubeconfig, "HOME="+t.TempDir())
	b, err := cmd.CombinedOutput()
	if err == nil {
		return true, string(b)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return false, string(b)
		}
	}
	t.Fatalf("child rotor: %v\n%s", err, b)
	return false, ""
}

// rotorAfterLease runs rotor until it no longer finds the rotation in
// progress: until a dead child's lock has expired on the API server's
// clock.
func (c *cluster) rotorAfterLease(t *testing.T, iamURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	deadline := time.Now().Add(3 * childLease)
	for {
		code, stdout, stderr = c.rotor(t, iamURL, args...)
		if code != cli.ExitInProgress || time.Now().After(deadline) {
			return code, stdout, stderr
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestKilledRotationResumes: a rotation killed after IAM made the new key
// (before it was stored), or after it was stored as AWSPENDING, is finished
// by the next run, with no key lost and none orphaned: IAM ends holding
// exactly the Secret's key and the previous one.
func TestKilledRotationResumes(t *testing.T) {
	for _, kill := range []string{killAfterCreate, killInTest} {
		t.Run(kill, func(t *testing.T) {
			c := newCluster(t)
			iam := iamServer(t)
			initial, err := iam.SeedKey("svc")
			if err != nil {
				t.Fatal(err)
			}
			const name = "aws-iam-user-credentials"
			c.seedSecret(t, name, initial)
			if exited, out := c.runChild(t, iam.URL, kill, "rotate", "--due"); exited {
				t.Fatalf("the child was not killed at %s:\n%s", kill, out)
			}
			if got := string(c.secret(t, name).Data["access_key_id"]); got != initial.AccessKeyID {
				t.Fatalf("after the kill the Secret holds %s, want the initial key still", got)
			}
			if n := len(liveKeys(iam, "svc")); n != 2 {
				t.Fatalf("after the kill IAM holds %d keys, want the initial and the new one", n)
			}
			// The dead process's lock holds until its lease expires.
			if code, out, errOut := c.rotor(t, iam.URL, "rotate", "--due"); code != cli.ExitInProgress || !strings.Contains(errOut, "rotation of "+name+" is in progress") {
				t.Fatalf("a run while the dead process's lease is live: exit %d, want %d saying a rotation is in progress\n%s%s", code, cli.ExitInProgress, out, errOut)
			}
			for i := 1; i <= 2; i++ {
				code, out, errOut := c.rotorAfterLease(t, iam.URL, "rotate", "--due")
				if code != 0 {
					t.Fatalf("run %d after the kill: exit %d\n%s%s", i, code, out, errOut)
				}
				cur := string(c.secret(t, name).Data["access_key_id"])
				live := liveKeys(iam, "svc")
				if len(live) != 2 || !slices.Contains(live, cur) {
					t.Fatalf("run %d: IAM holds %v, want the Secret's key %s and the previous one", i, live, cur)
				}
				if i == 1 && !slices.Contains(live, initial.AccessKeyID) {
					t.Fatalf("run %d: the initial key was deleted during its grace period", i)
				}
				if i == 1 && kill == killInTest {
					// The stored pending key was finished, not replaced.
					st := c.secret(t, name+kube.StateSuffix)
					if len(st.Data["state"]) == 0 {
						t.Fatal("no companion state")
					}
				}
			}

		})
	}
}
