package kubeclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rotorhq/rotor/internal/kubeclient"
)

// request is what a test API server saw of one request.
type request struct {
	Method, Path, Query        string
	ContentType, Accept, Agent string
	Body                       string
}

// recorder answers every request with a JSON object, or with the Status
// of status when it is set, and keeps what it saw.
type recorder struct {
	mu     sync.Mutex
	seen   []request
	status *metav1.Status
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.seen = append(rec.seen, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"), Agent: r.Header.Get("User-Agent"), Body: string(body)})
	st := rec.status
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if st != nil {
		w.WriteHeader(int(st.Code))
		_ = json.NewEncoder(w).Encode(st)
		return
	}
	_, _ = w.Write([]byte(`{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","resourceVersion":"7"}}`))
}

func (rec *recorder) take() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.seen
	rec.seen = nil
	return out
}

// TestSameRequestsAsClientset: every call rotor makes sends the very request
// the generated clientset sends for it, options (label selectors, paging,
// preconditions, dry run) included.
func TestSameRequestsAsClientset(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, UserAgent: "rotor"}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := kubeclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rv := "41"
	uid := types.UID("8d0a4c53-0f32-4c1e-9d5e-3c6a1b7e2f10")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", ResourceVersion: rv,
		Labels: map[string]string{"rotor.io/state": "true"}}, Data: map[string][]byte{"state": []byte("{}")}, Type: corev1.SecretTypeOpaque}
	holder, secs := "a", int32(15)
	now := metav1.NewMicroTime(metav1.Now().Time)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: "ns", ResourceVersion: rv},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &now}}
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "db.1", Namespace: "ns"}, Reason: "Rotated", Type: corev1.EventTypeNormal}
	timeout := int64(30)
	list := metav1.ListOptions{LabelSelector: "rotor.io/state=true", Limit: 250, Continue: "tok", TimeoutSeconds: &timeout}
	del := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
	ctx := context.Background()
	for _, c := range []struct {
		name       string
		clientset  func() error
		kubeclient func() error
	}{
		{"get secret",
			func() error {
				_, err := cs.CoreV1().Secrets("ns").Get(ctx, "db", metav1.GetOptions{ResourceVersion: "0"})
				return err
			},
			func() error {
				_, err := ours.Secrets("ns").Get(ctx, "db", metav1.GetOptions{ResourceVersion: "0"})
				return err
			}},
		{"list secrets",
			func() error { _, err := cs.CoreV1().Secrets("ns").List(ctx, list); return err },
			func() error { _, err := ours.Secrets("ns").List(ctx, list); return err }},
		{"create secret",
			func() error {
				_, err := cs.CoreV1().Secrets("ns").Create(ctx, secret, metav1.CreateOptions{DryRun: []string{"All"}, FieldManager: "rotor"})
				return err
			},
			func() error {
				_, err := ours.Secrets("ns").Create(ctx, secret, metav1.CreateOptions{DryRun: []string{"All"}, FieldManager: "rotor"})
				return err
			}},
		{"update secret",
			func() error {
				_, err := cs.CoreV1().Secrets("ns").Update(ctx, secret, metav1.UpdateOptions{})
				return err
			},
			func() error { _, err := ours.Secrets("ns").Update(ctx, secret, metav1.UpdateOptions{}); return err }},
		{"delete secret",
			func() error { return cs.CoreV1().Secrets("ns").Delete(ctx, "db", del) },
			func() error { return ours.Secrets("ns").Delete(ctx, "db", del) }},
		{"create event",
			func() error {
				_, err := cs.CoreV1().Events("ns").Create(ctx, event, metav1.CreateOptions{})
				return err
			},
			func() error { _, err := ours.Events("ns").Create(ctx, event, metav1.CreateOptions{}); return err }},
		{"get lease",
			func() error {
				_, err := cs.CoordinationV1().Leases("ns").Get(ctx, "l", metav1.GetOptions{})
				return err
			},
			func() error { _, err := ours.Leases("ns").Get(ctx, "l", metav1.GetOptions{}); return err }},
		{"create lease",
			func() error {
				_, err := cs.CoordinationV1().Leases("ns").Create(ctx, lease, metav1.CreateOptions{})
				return err
			},
			func() error { _, err := ours.Leases("ns").Create(ctx, lease, metav1.CreateOptions{}); return err }},
		{"update lease",
			func() error {
				_, err := cs.CoordinationV1().Leases("ns").Update(ctx, lease, metav1.UpdateOptions{})
				return err
			},
			func() error { _, err := ours.Leases("ns").Update(ctx, lease, metav1.UpdateOptions{}); return err }},
		{"delete lease",
			func() error { return cs.CoordinationV1().Leases("ns").Delete(ctx, "l", del) },
			func() error { return ours.Leases("ns").Delete(ctx, "l", del) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.clientset(); err != nil {
				t.Fatalf("clientset: %v", err)
			}
			want := rec.take()
			if err := c.kubeclient(); err != nil {
				t.Fatalf("kubeclient: %v", err)
			}
			got := rec.take()
			if len(got) != 1 || len(want) != 1 {
				t.Fatalf("%d requests, the clientset sent %d; want 1", len(got), len(want))
			}
			g, w := got[0], want[0]
			if g != w {
				t.Errorf("request\n%+v\nwant the clientset's\n%+v", g, w)
			}
		})
	}
}

// TestStatusErrors: an error the API server answers is a *StatusError, as
// the clientset's are, so apierrors' predicates work on it.
func TestStatusErrors(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := kubeclient.New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range []struct {
		reason metav1.StatusReason
		code   int32
		is     func(error) bool
	}{
		{metav1.StatusReasonNotFound, http.StatusNotFound, apierrors.IsNotFound},
		{metav1.StatusReasonConflict, http.StatusConflict, apierrors.IsConflict},
		{metav1.StatusReasonAlreadyExists, http.StatusConflict, apierrors.IsAlreadyExists},
		{metav1.StatusReasonForbidden, http.StatusForbidden, apierrors.IsForbidden},
	} {
		rec.status = &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
			Reason: st.reason, Code: st.code, Message: "secrets \"db\": " + string(st.reason)}
		_, err := c.Secrets("ns").Get(ctx, "db", metav1.GetOptions{})
		var se *apierrors.StatusError
		if !st.is(err) || !errors.As(err, &se) {
			t.Errorf("%s: got %T %v, want a *StatusError with that reason", st.reason, err, err)
		}
		err = c.Leases("ns").Delete(ctx, "l", metav1.DeleteOptions{})
		if !st.is(err) {
			t.Errorf("%s on a Lease: got %T %v", st.reason, err, err)
		}
	}
}

// TestServerDate: a request whose context asks for it records the Date of
// the API server's answer, an error's included; others record nothing.
func TestServerDate(t *testing.T) {
	served := time.Date(2026, 12, 7, 9, 30, 15, 0, time.UTC)
	notFound := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", served.Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		if notFound {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
			return
		}
		_, _ = w.Write([]byte(`{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"l"}}`))
	}))
	defer srv.Close()
	c, err := kubeclient.New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	if _, err := c.Leases("ns").Get(kubeclient.WithServerDate(context.Background(), &at), "l", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if !at.Equal(served) {
		t.Errorf("server date %v, want %v", at, served)
	}
	served = served.Add(time.Minute)
	notFound = true
	if _, err := c.Leases("ns").Get(kubeclient.WithServerDate(context.Background(), &at), "l", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("got %v, want NotFound", err)
	}
	if !at.Equal(served) {
		t.Errorf("server date of an error %v, want %v", at, served)
	}
	before := at
	if _, err := c.Leases("ns").Get(context.Background(), "l", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if !at.Equal(before) {
		t.Error("a request that did not ask for the date changed it")
	}
}
