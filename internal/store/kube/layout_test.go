package kube_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
)

func TestObjectName(t *testing.T) {
	for _, name := range []string{"db", "app.db-1"} {
		if got := kube.ObjectName(name); got != name {
			t.Errorf("ObjectName(%q) = %q, want the name itself", name, got)
		}
	}
	seen := map[string]string{}
	for _, name := range []string{"App/DB", "app/db", "app-db.rotor", "x_y", strings.Repeat("n", 512), "ü"} {
		got := kube.ObjectName(name)
		if errs := validation.IsDNS1123Subdomain(got + kube.StateSuffix); len(errs) > 0 {
			t.Errorf("ObjectName(%q) = %q: not a Secret name: %v", name, got, errs)
		}
		if other, ok := seen[got]; ok {
			t.Errorf("ObjectName(%q) = ObjectName(%q) = %q", name, other, got)
		}
		seen[got] = name
	}
}

// TestLayout checks what consumers and kubectl see: the Secret's data is
// AWSCURRENT's fields, the companion holds the rest, and a Secret left one
// version behind (a process killed between the two writes) is brought up to
// date by the next read.
func TestLayout(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "layout")
	admin := srv.Client(t)
	s, err := kube.New(kube.Config{Client: srv.RotorClient(t), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	v1 := secret.New(`{"username":"app","password":"pw-one-1234567","port":5432}`)
	ref, err := s.CreateSecret(ctx, store.CreateSecretInput{Name: "App/DB", Value: &v1})
	if err != nil {
		t.Fatal(err)
	}
	obj := kube.ObjectName("App/DB")
	get := func() *corev1.Secret {
		t.Helper()
		sec, err := admin.CoreV1().Secrets(ns).Get(ctx, obj, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sec
	}
	sec := get()
	if string(sec.Data["password"]) != "pw-one-1234567" || string(sec.Data["port"]) != "5432" || len(sec.Data) != 3 ||
		sec.Annotations[kube.AnnotationName] != "App/DB" || sec.Annotations[kube.AnnotationVersion] != ref.VersionID {
		t.Fatalf("the Secret: annotations %v, %d data keys", sec.Annotations, len(sec.Data))
	}
	out, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: ref.ARN, ClientRequestToken: token(t),
		Value: secret.New("not json: pw-two-7654321")})
	if err != nil {
		t.Fatal(err)
	}
	sec = get()
	if string(sec.Data["value"]) != "not json: pw-two-7654321" || len(sec.Data) != 1 {
		t.Fatalf("a value that is not a JSON object: data keys %d, want it whole under \"value\"", len(sec.Data))
	}
	// Put the Secret back one version, as a process killed after writing
	// the companion would leave it.
	sec.Data = map[string][]byte{"password": []byte("pw-one-1234567")}
	sec.Annotations[kube.AnnotationVersion] = ref.VersionID
	if _, err := admin.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DescribeSecret(ctx, "App/DB"); err != nil {
		t.Fatal(err)
	}
	if sec = get(); string(sec.Data["value"]) != "not json: pw-two-7654321" || sec.Annotations[kube.AnnotationVersion] != out.VersionID {
		t.Fatalf("after a read the Secret holds version %s, want %s", sec.Annotations[kube.AnnotationVersion], out.VersionID)
	}
	st, err := admin.CoreV1().Secrets(ns).Get(ctx, obj+kube.StateSuffix, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Labels[kube.LabelState] != "true" || len(st.OwnerReferences) != 1 || st.OwnerReferences[0].UID != sec.UID {
		t.Fatalf("the companion: labels %v, owners %+v", st.Labels, st.OwnerReferences)
	}
	// Tags rotor:* are the Secret's rotor.io/ annotations, both ways.
	if err := s.TagResource(ctx, "App/DB", []store.Tag{{Key: "rotor:kind", Value: "password"}}); err != nil {
		t.Fatal(err)
	}
	if sec = get(); sec.Annotations["rotor.io/kind"] != "password" {
		t.Fatalf("tag rotor:kind is not the annotation rotor.io/kind: %v", sec.Annotations)
	}
	sec.Annotations["rotor.io/length"] = "48"
	if _, err := admin.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := s.DescribeSecret(ctx, "App/DB")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Tag("rotor:length"); v != "48" || !d.RotationEnabled {
		t.Fatalf("annotation rotor.io/length=48 is tag %q, rotation enabled %v", v, d.RotationEnabled)
	}
}

// TestRotationLock: the Lease keeps a second holder out until it is
// released, whatever the second's clock says.
func TestRotationLock(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "lock")
	client := srv.RotorClient(t)
	a, _ := kube.New(kube.Config{Client: client, Namespace: ns})
	b, _ := kube.New(kube.Config{Client: client, Namespace: ns})
	ctx := t.Context()
	v := secret.New("pw-lock-12345678")
	if _, err := a.CreateSecret(ctx, store.CreateSecretInput{Name: "db", Value: &v}); err != nil {
		t.Fatal(err)
	}
	unlock, err := a.LockRotation(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockRotation(ctx, "db"); store.CodeOf(err) != store.ErrRotationInProgress {
		t.Fatalf("a second lock: %v, want %s", err, store.ErrRotationInProgress)
	}
	// The refusal names the holder and the holder's lease, not this
	// process's.
	short, _ := kube.New(kube.Config{Client: client, Namespace: ns, LockLease: 5 * time.Second})
	host, _ := os.Hostname()
	_, err = short.LockRotation(ctx, "db")
	if msg := fmt.Sprint(err); !strings.Contains(msg, "held by rotor-"+host+"-") || !strings.Contains(msg, " 60s after its last renewal") {
		t.Errorf("the refusal does not name the holder and its 60s lease: %v", err)
	}
	unlock()
	unlock2, err := b.LockRotation(ctx, "db")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	t.Cleanup(unlock2)
	// A process whose clock is ahead of the holder's by more than the
	// lease does not take a live lock over (TestLockTakeoverIgnoresHolderClock
	// has a dead holder's taken over).
	late, _ := kube.New(kube.Config{Client: client, Namespace: ns, Now: func() time.Time { return time.Now().Add(kube.LeaseDuration + time.Second) }})
	if _, err := late.LockRotation(ctx, "db"); store.CodeOf(err) != store.ErrRotationInProgress {
		t.Fatalf("a live lock, seen by a clock ahead: %v, want %s", err, store.ErrRotationInProgress)
	}
}

// TestNamespacedName: namespace/name with the store's namespace is the
// Secret name, as kubectl writes it; another namespace's is not found, and
// the error says to pass --namespace; other names with "/" are path names.
func TestNamespacedName(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "names")
	admin := srv.Client(t)
	s, err := kube.New(kube.Config{Client: srv.RotorClient(t), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	v := secret.New("pw-names-12345678")
	ref, err := s.CreateSecret(ctx, store.CreateSecretInput{Name: ns + "/app", Value: &v})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Name != "app" {
		t.Errorf("created %q, want the Secret's name app", ref.Name)
	}
	if _, err := admin.CoreV1().Secrets(ns).Get(ctx, "app", metav1.GetOptions{}); err != nil {
		t.Fatalf("the Secret app: %v", err)
	}
	for _, id := range []string{"app", ns + "/app", ref.ARN} {
		got, err := s.GetSecretValue(ctx, store.GetSecretValueInput{SecretID: id})
		if err != nil || got.Value.Text() != "pw-names-12345678" {
			t.Errorf("GetSecretValue(%q): %v", id, err)
		}
	}
	if err := s.TagResource(ctx, ns+"/app", []store.Tag{{Key: "team", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.DescribeSecret(ctx, "kube-system/app")
	if store.CodeOf(err) != store.ErrNotFound || !strings.Contains(err.Error(), "--namespace kube-system") {
		t.Errorf("another namespace's Secret: %v, want not found saying to pass --namespace kube-system", err)
	}
	// A path name is a secret of its own, in the store's namespace.
	if _, err := s.CreateSecret(ctx, store.CreateSecretInput{Name: "team/app", Value: &v}); err != nil {
		t.Fatal(err)
	}
	d, err := s.DescribeSecret(ctx, "team/app")
	if err != nil || d.Name != "team/app" {
		t.Fatalf("path name team/app: %+v, %v", d, err)
	}
	unlock, err := s.LockRotation(ctx, ns+"/app")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := admin.CoordinationV1().Leases(ns).Get(ctx, "app"+kube.LeaseSuffix, metav1.GetOptions{}); err != nil {
		t.Errorf("the rotation lock of %s/app: %v", ns, err)
	}
}
