package kubernetes_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rotorhq/rotor/internal/store/kube"
)

// replica is one rotor server process of a highly available deployment.
type replica struct {
	cmd   *exec.Cmd
	audit string
	log   string
}

func (c *cluster) startReplica(t *testing.T, name string, lease time.Duration) *replica {
	t.Helper()
	dir := t.TempDir()
	r := &replica{audit: filepath.Join(dir, "audit.jsonl"), log: filepath.Join(dir, "stderr")}
	logf, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	r.cmd = exec.Command(os.Args[0], "--store", "kube", "server", "--listen", "127.0.0.1:0", "--check-interval", "1s",
		"--leader-elect", "--leader-lease-duration", lease.String(), "--audit-log", r.audit)
	r.cmd.Env = []string{childEnv + "=" + childShipped, "KUBECONFIG=" + c.kubeconfig, "HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		"ROTOR_SERVER_ACCESS_KEY_ID=AKIAROTORTEST" + strings.ToUpper(name), "ROTOR_SERVER_SECRET_ACCESS_KEY=replica-secret-key-0123456789"}
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(r.log)
			t.Logf("replica %s (pid %d):\n%s", name, r.cmd.Process.Pid, b)
		}
	})
	return r
}

// span is one rotation a replica ran, from its audit log.
type span struct {
	version    string
	start, end time.Time
}

func (r *replica) rotations(t *testing.T) []span {
	t.Helper()
	f, err := os.Open(r.audit)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []span
	open := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Time    time.Time `json:"time"`
			Event   string    `json:"event"`
			Version string    `json:"version"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a line cut by the kill
		}
		switch e.Event {
		case "RotationStarted":
			open[e.Version] = len(out)
			out = append(out, span{version: e.Version, start: e.Time})
		case "RotationSucceeded", "RotationFailed":
			if i, ok := open[e.Version]; ok {
				out[i].end = e.Time
				delete(open, e.Version)
			}
		}
	}
	return out
}

// holder returns the Lease's holder and the pid its identity names.
func (c *cluster) holder(t *testing.T) (string, int) {
	t.Helper()
	l, err := c.admin.CoordinationV1().Leases(c.ns).Get(t.Context(), "rotor-scheduler", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return "", 0
	}
	id := *l.Spec.HolderIdentity
	parts := strings.Split(id, "_")
	if len(parts) < 3 {
		t.Fatalf("lease holder %q is not host_pid_suffix", id)
	}
	pid, _ := strconv.Atoi(parts[len(parts)-2])
	return id, pid
}

// TestLeaderElection: two rotor server replicas elect one scheduler on a
// Lease; the other rotates nothing. Killing the leader (SIGKILL: it cannot
// release the Lease) hands the schedule to the other within the lease
// duration, and no rotation ever runs in both at once.
func TestLeaderElection(t *testing.T) {
	c := newCluster(t)
	if _, err := c.admin.CoreV1().Secrets(c.ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Annotations: map[string]string{"rotor.io/kind": "password", "rotor.io/field": "password"}},
		StringData: map[string]string{"username": "app", "password": "initial-password-1234"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const lease = 4 * time.Second
	a := c.startReplica(t, "a", lease)
	var leaderPid int
	waitFor(t, 30*time.Second, "a leader", func() bool { _, leaderPid = c.holder(t); return leaderPid != 0 })
	if leaderPid != a.cmd.Process.Pid {
		t.Fatalf("lease held by pid %d, want the only replica %d", leaderPid, a.cmd.Process.Pid)
	}
	b := c.startReplica(t, "b", lease)
	waitFor(t, 30*time.Second, "the leader's rotations", func() bool { return len(a.rotations(t)) >= 2 })
	time.Sleep(2 * time.Second)
	if n := len(b.rotations(t)); n != 0 {
		t.Fatalf("the standby replica ran %d rotations", n)
	}

	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = a.cmd.Wait()
	waitFor(t, lease+10*time.Second, "the standby to take the lease", func() bool {
		_, pid := c.holder(t)
		return pid == b.cmd.Process.Pid
	})
	if took := time.Since(killed); took > lease+3*time.Second {
		t.Errorf("the schedule moved %v after the leader died, want within the lease duration %v (and a retry)", took, lease)
	}
	// A rotation the leader was running when it died holds its secret's
	// own Lease until that runs out (kube.LeaseDuration): the new leader
	// then resumes it.
	waitFor(t, kube.LeaseDuration+30*time.Second, "the new leader's rotations", func() bool {
		for _, s := range b.rotations(t) {
			if !s.end.IsZero() {
				return true
			}
		}
		return false
	})
	// No rotation overlaps another: the old leader's last one ended (or
	// was cut off by the kill) before the new leader's first began.
	for _, sb := range b.rotations(t) {
		if sb.start.Before(killed) {
			t.Errorf("the standby started rotation %s at %v, before the leader died at %v", sb.version, sb.start, killed)
		}
	}
	spans := append(a.rotations(t), b.rotations(t)...)
	for i, x := range spans {
		xe := x.end
		if xe.IsZero() {
			xe = killed
		}
		for _, y := range spans[i+1:] {
			ye := y.end
			if ye.IsZero() {
				ye = killed
			}
			if x.start.Before(ye) && y.start.Before(xe) {
				t.Errorf("rotations %s and %s ran at once", x.version, y.version)
			}
		}
	}
	if p := string(c.secret(t, "db").Data["password"]); p == "initial-password-1234" {
		t.Error("the Secret was never rotated")
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
