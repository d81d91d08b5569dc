// Tests of the CronJob mode against a real kube-apiserver: the manifests'
// Role is applied and rotor runs as their ServiceAccount, so a verb the
// Role lacks fails the test.
package kubernetes_test

import (
	"bytes"

	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"

	"github.com/rotorhq/rotor/internal/cli"
	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/iamkey"
	"github.com/rotorhq/rotor/internal/rotator/iamkey/iamtest"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/store/kube"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	kubetest.Main(m)
}

// decode reads one manifest into out.
func decode(t testing.TB, file string, out any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096).Decode(out); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestManifests checks what the CronJob promises: one run at a time, a
// non-root read-only container, the kube store, and every file the
// kustomization lists.
func TestManifests(t *testing.T) {
	var k struct {
		Resources []string `json:"resources"`
	}
	decode(t, "kustomization.yaml", &k)
	for _, f := range []string{"serviceaccount.yaml", "role.yaml", "rolebinding.yaml", "cronjob.yaml"} {
		if !slices.Contains(k.Resources, f) {
			t.Errorf("kustomization.yaml does not list %s", f)
		}
	}
	var cj batchv1.CronJob
	decode(t, "cronjob.yaml", &cj)
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy = %q, want Forbid", cj.Spec.ConcurrencyPolicy)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if pod.ServiceAccountName != "rotor" {
		t.Errorf("serviceAccountName = %q, want rotor", pod.ServiceAccountName)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod does not set runAsNonRoot")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("the container is not read-only without privilege escalation")
	}
	if !slices.Contains(c.Args, "--store=kube") || !slices.Contains(c.Args, "--due") {
		t.Errorf("container args %v do not run rotate --due on the kube store", c.Args)
	}
}

// cluster is one namespace with the manifests' ServiceAccount, Role and
// RoleBinding, and a kubeconfig that authenticates as that account.
type cluster struct {
	srv        *kubetest.Server
	admin      kubernetes.Interface
	ns         string
	kubeconfig string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	srv := kubetest.Need(t)
	c := &cluster{srv: srv, admin: srv.Client(t), ns: srv.Namespace(t, "cronjob")}
	ctx := t.Context()
	var sa corev1.ServiceAccount
	decode(t, "serviceaccount.yaml", &sa)
	var role rbacv1.Role
	decode(t, "role.yaml", &role)
	var rb rbacv1.RoleBinding
	decode(t, "rolebinding.yaml", &rb)
	if _, err := c.admin.CoreV1().ServiceAccounts(c.ns).Create(ctx, &sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.admin.RbacV1().Roles(c.ns).Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range rb.Subjects {
		rb.Subjects[i].Namespace = c.ns
	}
	if _, err := c.admin.RbacV1().RoleBindings(c.ns).Create(ctx, &rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.kubeconfig = srv.ServiceAccountKubeconfig(t, c.ns, sa.Name)
	return c
}

// iamServer is a local IAM/STS server with the user svc, who may rotate
// its own keys (the seed's policy).
func iamServer(t *testing.T) *iamtest.Server {
	t.Helper()
	srv := iamtest.New(iamtest.Config{})
	t.Cleanup(srv.Close)
	if err := srv.AddUser(iamtest.User{Name: "svc", SelfManage: true}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// kinds is the registry rotor runs with: the shipped kinds, IAM's
// pointed at the local server.
func kinds(iamURL string) func([]string, cli.SecretReader) *rotator.Registry {
	return func([]string, cli.SecretReader) *rotator.Registry {
		deps := iamkey.Deps{AWS: aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
			IAMEndpoint: iamURL, STSEndpoint: iamURL}
		return rotator.NewRegistry(password.Kind(), iamkey.Kind(deps))
	}
}

// rotor runs the CLI in this process as the cluster's ServiceAccount.
func (c *cluster) rotor(t *testing.T, iamURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli.App{Env: []string{"KUBECONFIG=" + c.kubeconfig, "HOME=" + t.TempDir()}, Stdout: &out, Stderr: &errb,
		Kinds: kinds(iamURL)}
	code = app.Run(t.Context(), append([]string{"--store", "kube"}, args...))
	return code, out.String(), errb.String()
}

func (c *cluster) secret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	s, err := c.admin.CoreV1().Secrets(c.ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seedSecret creates the Secret of the IAM key rotation tool's README.
func (c *cluster) seedSecret(t *testing.T, name string, creds aws.Credentials) {
	t.Helper()
	_, err := c.admin.CoreV1().Secrets(c.ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"aws-rotate-key": "true"}},
		StringData: map[string]string{"access_key_id": creds.AccessKeyID, "secret_access_key": creds.SecretAccessKey},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) events(t *testing.T, secret string) []corev1.Event {
	t.Helper()
	list, err := c.admin.CoreV1().Events(c.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Secret" && e.InvolvedObject.Name == secret {
			out = append(out, e)
		}
	}
	return out
}

func liveKeys(srv *iamtest.Server, user string) []string {
	var ids []string
	for _, k := range srv.Keys(user) {
		ids = append(ids, k.ID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// noLeak fails if any of the secrets appears in the texts.
func noLeak(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(all, s) {
			t.Fatalf("a secret value appears in rotor's output or an Event")
		}
	}
}

// TestSeedSecretRotates is the drop-in promise: the Secret of the IAM key
// rotation tool's README rotates, unchanged, three times under the
// manifests' Role; the old key is deleted on the rotation after its grace
// rotation, the current one never.
func TestSeedSecretRotates(t *testing.T) {
	c := newCluster(t)
	iam := iamServer(t)
	initial, err := iam.SeedKey("svc")
	if err != nil {
		t.Fatal(err)
	}
	const name = "aws-iam-user-credentials"
	c.seedSecret(t, name, initial)
	secrets := []string{initial.SecretAccessKey}
	var texts []string
	keys := []string{initial.AccessKeyID}
	for i := 1; i <= 3; i++ {
		code, out, errOut := c.rotor(t, iam.URL, "rotate", "--due")
		texts = append(texts, out, errOut)
		if code != 0 {
			t.Fatalf("rotation %d: exit %d\n%s%s", i, code, out, errOut)
		}
		s := c.secret(t, name)
		id, sk := string(s.Data["access_key_id"]), string(s.Data["secret_access_key"])
		if id == "" || sk == "" || id == keys[len(keys)-1] {
			t.Fatalf("rotation %d: the Secret holds key %q, want a new key", i, id)
		}
		if len(s.Data) != 2 {
			t.Errorf("rotation %d: the Secret has data keys %v, want access_key_id and secret_access_key only", i, slices.Sorted(mapsKeys(s.Data)))
		}
		secrets = append(secrets, sk)
		keys = append(keys, id)
		// IAM holds the new key and the previous one (its grace period);
		// the one before was deleted by this rotation.
		if got, want := liveKeys(iam, "svc"), sorted(keys[len(keys)-1], keys[len(keys)-2]); !slices.Equal(got, want) {
			t.Fatalf("rotation %d: IAM holds keys %v, want %v", i, got, want)
		}
	}
	evs := c.events(t, name)
	rotated := 0
	for _, e := range evs {
		texts = append(texts, e.Message)
		if e.Reason == kube.ReasonRotated {
			rotated++
		}
	}
	if rotated != 3 {
		t.Errorf("%d Rotated events on the Secret, want 3", rotated)
	}
	st := c.secret(t, name+kube.StateSuffix)
	if len(st.OwnerReferences) != 1 || st.OwnerReferences[0].Name != name {
		t.Errorf("the companion Secret's owner references are %+v, want the Secret", st.OwnerReferences)
	}
	noLeak(t, secrets, texts...)
}

func mapsKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestOneFailureDoesNotStopOthers: a Secret whose rotation fails is
// reported (exit code 1, a Warning Event) and the others rotate.
func TestOneFailureDoesNotStopOthers(t *testing.T) {
	c := newCluster(t)
	ctx := t.Context()
	for name, ann := range map[string]map[string]string{
		"good":   {"rotor.io/kind": "password", "rotor.io/field": "password"},
		"broken": {"rotor.io/kind": "password", "rotor.io/length": "0"},
		"other":  nil, // not rotor's
	} {
		_, err := c.admin.CoreV1().Secrets(c.ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann},
			StringData: map[string]string{"username": "app", "password": "initial-password-1234"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := c.rotor(t, "", "rotate", "--all")
	if code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d\n%s%s", code, cli.ExitFailure, out, errOut)
	}
	if !strings.Contains(out, "rotated good") || !strings.Contains(errOut, "rotate broken") {
		t.Fatalf("output does not report good rotated and broken failed:\n%s%s", out, errOut)
	}
	good := c.secret(t, "good")
	if p := string(good.Data["password"]); p == "initial-password-1234" || p == "" || string(good.Data["username"]) != "app" {
		t.Errorf("good: data %v after rotation, want a new password and the same username", slices.Sorted(mapsKeys(good.Data)))
	}
	if o := c.secret(t, "other"); string(o.Data["password"]) != "initial-password-1234" || len(o.Annotations) != 0 {
		t.Error("rotor changed a Secret it does not manage")
	}
	var warned bool
	for _, e := range c.events(t, "broken") {
		warned = warned || e.Reason == kube.ReasonRotationFailed && e.Type == corev1.EventTypeWarning
	}
	if !warned {
		t.Error("no RotationFailed Warning Event on the broken Secret")
	}
	noLeak(t, []string{string(good.Data["password"]), "initial-password-1234"}, out, errOut)
}

// TestMissingVerbFails: the ServiceAccount without the Role's update verb
// cannot rotate, and rotor says so.
func TestMissingVerbFails(t *testing.T) {
	c := newCluster(t)
	ctx := t.Context()
	role, err := c.admin.RbacV1().Roles(c.ns).Get(ctx, "rotor", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role.Rules[0].Verbs = slices.DeleteFunc(role.Rules[0].Verbs, func(v string) bool { return v == "update" })
	if _, err := c.admin.RbacV1().Roles(c.ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.admin.CoreV1().Secrets(c.ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Annotations: map[string]string{"rotor.io/kind": "password"}},
		StringData: map[string]string{"password": "initial-password-1234"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// RBAC changes reach the authorizer within moments.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, errOut := c.rotor(t, "", "rotate", "--due")
		if code != 0 && strings.Contains(errOut, "forbidden") {
			if !strings.Contains(errOut, "role.yaml") {
				t.Errorf("the error does not say which Role to fix:\n%s", errOut)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotation without the update verb: exit %d\n%s%s", code, out, errOut)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
