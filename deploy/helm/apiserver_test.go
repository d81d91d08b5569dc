package helm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rotorhq/rotor/internal/cli"
	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/store/kube"
	"github.com/rotorhq/rotor/internal/syncbuf"
)

// install creates the rendered objects in their namespace as the admin, as
// `helm install` would; the API server validates each.
func install(t *testing.T, admin kubernetes.Interface, o *objects) {
	t.Helper()
	ctx := t.Context()
	create := func(kind string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("create the chart's %s: %v", kind, err)
		}
	}
	var err error
	_, err = admin.CoreV1().ServiceAccounts(o.sa.Namespace).Create(ctx, o.sa, metav1.CreateOptions{})
	create("ServiceAccount", err)
	_, err = admin.RbacV1().Roles(o.role.Namespace).Create(ctx, o.role, metav1.CreateOptions{})
	create("Role", err)
	_, err = admin.RbacV1().RoleBindings(o.rb.Namespace).Create(ctx, o.rb, metav1.CreateOptions{})
	create("RoleBinding", err)
	if o.cronJob != nil {
		_, err = admin.BatchV1().CronJobs(o.cronJob.Namespace).Create(ctx, o.cronJob, metav1.CreateOptions{})
		create("CronJob", err)
	}
	if o.deployment != nil {
		_, err = admin.AppsV1().Deployments(o.deployment.Namespace).Create(ctx, o.deployment, metav1.CreateOptions{})
		create("Deployment", err)
	}
	if o.service != nil {
		_, err = admin.CoreV1().Services(o.service.Namespace).Create(ctx, o.service, metav1.CreateOptions{})
		create("Service", err)
	}
}

// allowed asks the API server whether the ServiceAccount of client may do
// verb on resource in ns.
func allowed(t *testing.T, client kubernetes.Interface, ns, group, resource, verb string) bool {
	t.Helper()
	r, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(t.Context(), &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: ns, Group: group, Resource: resource, Verb: verb}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Status.Allowed
}

// granted says whether rules grant verb on group/resource.
func granted(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
			return true
		}
	}
	return false
}

// TestChartOnAPIServer installs the default rendering into a namespace of
// a real kube-apiserver, then: the ServiceAccount may do exactly what the
// Role lists, in its namespace only; and rotor, run with the CronJob's
// arguments as that ServiceAccount, rotates a Secret. The server mode's
// objects are accepted by the API server too.
func TestChartOnAPIServer(t *testing.T) {
	srv := kubetest.Need(t)
	admin := srv.Client(t)
	ns := srv.Namespace(t, "helm")
	o := mustRender(t, ns, nil)
	install(t, admin, o)

	cfg, err := srv.ServiceAccountConfig(t.Context(), ns, o.sa.Name)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The authorizer sees a new RoleBinding within moments.
	for deadline := time.Now().Add(10 * time.Second); !allowed(t, sa, ns, "", "secrets", "update"); {
		if time.Now().After(deadline) {
			t.Fatal("the ServiceAccount may not update Secrets: the Role lacks the verb, or the RoleBinding does not take effect")
		}
		time.Sleep(100 * time.Millisecond)
	}
	resources := []struct{ group, resource string }{
		{"", "secrets"}, {"", "events"}, {"coordination.k8s.io", "leases"},
		{"", "configmaps"}, {"", "pods"}, {"", "serviceaccounts"}, {"rbac.authorization.k8s.io", "roles"},
	}
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	var got []string
	for _, r := range resources {
		for _, v := range verbs {
			want := granted(o.role.Rules, r.group, r.resource, v)
			if allowed(t, sa, ns, r.group, r.resource, v) != want {
				t.Errorf("the ServiceAccount may %s %s: %v, the Role says %v", v, r.resource, !want, want)
			}
			if want {
				got = append(got, r.resource+":"+v)
			}
			if allowed(t, sa, "default", r.group, r.resource, v) {
				t.Errorf("the ServiceAccount may %s %s in another namespace", v, r.resource)
			}
		}
	}
	// What rotate --due needs (the kube store's operations).
	for _, need := range []string{"secrets:get", "secrets:list", "secrets:create", "secrets:update", "events:create",
		"leases:get", "leases:create", "leases:update", "leases:delete"} {
		if !slices.Contains(got, need) {
			t.Errorf("the ServiceAccount may not %s, which rotor needs", need)
		}
	}
	if allowed(t, sa, "", "", "namespaces", "list") {
		t.Error("the ServiceAccount may list namespaces")
	}

	// rotor with the CronJob's arguments, as the ServiceAccount.
	_, err = admin.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Annotations: map[string]string{"rotor.io/kind": "password", "rotor.io/field": "password"}},
		StringData: map[string]string{"username": "app", "password": "initial-password-1234"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	args := o.cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
	var out, errb bytes.Buffer
	app := &cli.App{
		Env:    []string{"KUBECONFIG=" + srv.ServiceAccountKubeconfig(t, ns, o.sa.Name), "HOME=" + t.TempDir()},
		Stdout: &out, Stderr: &errb,
		Kinds: func([]string, cli.SecretReader) *rotator.Registry { return rotator.NewRegistry(password.Kind()) },
	}
	if code := app.Run(t.Context(), args); code != 0 {
		t.Fatalf("rotor %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	s, err := admin.CoreV1().Secrets(ns).Get(t.Context(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := string(s.Data["password"])
	if p == "" || p == "initial-password-1234" || string(s.Data["username"]) != "app" {
		t.Fatalf("the Secret's password did not rotate (data keys %d)", len(s.Data))
	}
	if strings.Contains(out.String()+errb.String(), p) {
		t.Fatal("rotor's output holds the new password")
	}
	if _, err := admin.CoreV1().Secrets(ns).Get(t.Context(), "db"+kube.StateSuffix, metav1.GetOptions{}); err != nil {
		t.Errorf("no companion Secret: %v", err)
	}
	evs, err := admin.CoreV1().Events(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rotated bool
	for _, e := range evs.Items {
		rotated = rotated || e.InvolvedObject.Name == "db" && e.Reason == kube.ReasonRotated
	}
	if !rotated {
		t.Error("no Rotated Event on the Secret")
	}
}

// TestServerModeOnAPIServer installs the server mode's objects (the API
// server validates its Deployment and Service), then runs rotor with the
// Deployment's arguments, on loopback, as the chart's ServiceAccount and
// with the key the Deployment reads from its Secret: a Secrets Manager
// client lists, rotates and reads a Secret of the namespace through it.
func TestServerModeOnAPIServer(t *testing.T) {
	srv := kubetest.Need(t)
	admin := srv.Client(t)
	ns := srv.Namespace(t, "helm-server")
	o := mustRender(t, ns, serverValues())
	install(t, admin, o)

	const keyID, keySecret = "AKIAROTORHELMTEST001", "helm-server-test-secret-key-0123456789"
	c := o.deployment.Spec.Template.Spec.Containers[0]
	env := []string{"KUBECONFIG=" + srv.ServiceAccountKubeconfig(t, ns, o.sa.Name), "HOME=" + t.TempDir()}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == "access-key-id":
			env = append(env, e.Name+"="+keyID)
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == "secret-access-key":
			env = append(env, e.Name+"="+keySecret)
		default:
			t.Fatalf("unexpected environment variable %s", e.Name)
		}
	}
	var args []string
	for _, a := range c.Args {
		if k, _, ok := strings.Cut(a, "="); ok && (k == "--listen" || k == "--metrics-listen") {
			a = k + "=127.0.0.1:0"
		}
		args = append(args, a)
	}
	_, err := admin.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Annotations: map[string]string{"rotor.io/kind": "password", "rotor.io/field": "password"}},
		StringData: map[string]string{"username": "app", "password": "initial-password-1234"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	addrc := make(chan string, 2)
	var out, errb syncbuf.Buffer
	app := &cli.App{Env: env, Stdout: &out, Stderr: &errb,
		Kinds:     func([]string, cli.SecretReader) *rotator.Registry { return rotator.NewRegistry(password.Kind()) },
		Listening: func(a string) { addrc <- a },
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- app.Run(ctx, args) }()
	defer func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("rotor server did not stop")
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case code := <-done:
		done <- code
		t.Fatalf("rotor %s: exit %d before listening\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("rotor server did not start listening")
	}

	sm := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, keySecret, ""), RetryMaxAttempts: 1})
	list, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatalf("ListSecrets: %v\n%s", err, errb.String())
	}
	if len(list.SecretList) != 1 || aws.ToString(list.SecretList[0].Name) != "db" {
		t.Fatalf("ListSecrets: %d secrets, want db", len(list.SecretList))
	}
	// A Secret without a schedule is due at every check: the server's first
	// check, at its start, rotates it.
	password := func() string {
		t.Helper()
		s, err := admin.CoreV1().Secrets(ns).Get(t.Context(), "db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return string(s.Data["password"])
	}
	waitRotated := func(from string) string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if p := password(); p != from && p != "" {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("the Secret's password did not rotate\n%s", errb.String())
			}
		}
	}
	p := waitRotated("initial-password-1234")
	// That rotation ends when it releases its Lease; the next check is 5
	// minutes away. RotateSecret rotates the Secret again now (a request
	// that meets a rotation still running is answered, logged and dropped,
	// as Secrets Manager does: it is sent again).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := admin.CoordinationV1().Leases(ns).Get(t.Context(), "db"+kube.LeaseSuffix, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rotation's Lease is still there (%v)\n%s", err, errb.String())
		}
	}
	rotated := false
	for attempt := 0; attempt < 5 && !rotated; attempt++ {
		if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), RotateImmediately: aws.Bool(true)}); err != nil {
			t.Fatalf("RotateSecret: %v\n%s", err, errb.String())
		}
		if np := password(); np != p {
			p, rotated = np, true
		} else {
			time.Sleep(500 * time.Millisecond)
		}
	}
	if !rotated {
		t.Fatalf("RotateSecret did not rotate the Secret\n%s", errb.String())
	}
	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Username, Password string }
	if err := json.Unmarshal([]byte(aws.ToString(got.SecretString)), &v); err != nil {
		t.Fatalf("GetSecretValue: not the Secret's data as JSON: %v", err)
	}
	if v.Username != "app" || v.Password != p {
		t.Error("GetSecretValue does not return the Secret's rotated data")
	}
	if strings.Contains(out.String()+errb.String(), p) {
		t.Fatal("rotor's output holds the new password")
	}
}
