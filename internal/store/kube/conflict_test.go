package kube_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
)

// hook runs before the first request that matches, once.
type hook struct {
	rt    http.RoundTripper
	match func(*http.Request) bool
	once  sync.Once
	run   func()
	mu    sync.Mutex
	codes []int // status of every matching request
}

func (h *hook) RoundTrip(req *http.Request) (*http.Response, error) {
	m := h.match(req)
	if m {
		h.once.Do(h.run)
	}
	resp, err := h.rt.RoundTrip(req)
	if m && err == nil {
		h.mu.Lock()
		h.codes = append(h.codes, resp.StatusCode)
		h.mu.Unlock()
	}
	return resp, err
}

// TestConcurrentWriterConflict: another rotor writes the secret between
// this one's read and its write. The write is refused (409), read and run
// again: both versions survive, none is overwritten.
func TestConcurrentWriterConflict(t *testing.T) {
	srv := kubetest.Need(t)
	ns := srv.Namespace(t, "conflict")
	other, err := kube.New(kube.Config{Client: srv.RotorClient(t), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	first := secret.New(`{"password":"first-value-111111"}`)
	if _, err := other.CreateSecret(ctx, store.CreateSecretInput{Name: "db", Value: &first}); err != nil {
		t.Fatal(err)
	}
	tokA, tokB := token(t), token(t)
	cfg := rest.CopyConfig(srv.Config)
	var h *hook
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		h = &hook{rt: rt,
			match: func(r *http.Request) bool {
				return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/secrets/db"+kube.StateSuffix)
			},
			run: func() {
				if _, err := other.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: "db", ClientRequestToken: tokB,
					Value: secret.New(`{"password":"second-value-22222"}`)}); err != nil {
					t.Errorf("the concurrent write: %v", err)
				}
			}}
		return h
	}
	c, err := kubeclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := kube.New(kube.Config{Client: c, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSecretValue(ctx, store.PutSecretValueInput{SecretID: "db", ClientRequestToken: tokA,
		Value: secret.New(`{"password":"third-value-333333"}`)}); err != nil {
		t.Fatal(err)
	}
	if len(h.codes) < 2 || h.codes[0] != http.StatusConflict {
		t.Fatalf("companion writes answered %v, want a 409 conflict, then success", h.codes)
	}
	d, err := s.DescribeSecret(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	if d.VersionWithStage(store.Current) != tokA || d.VersionWithStage(store.Previous) != tokB {
		t.Fatalf("labels %v: want %s AWSCURRENT (the retried write) and %s AWSPREVIOUS (the concurrent one)", d.VersionIDsToStages, tokA, tokB)
	}
	sec, err := srv.Client(t).CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(sec.Data["password"]); got != "third-value-333333" || sec.Annotations[kube.AnnotationVersion] != tokA {
		t.Fatalf("the Secret's data holds version %s, want %s", sec.Annotations[kube.AnnotationVersion], tokA)
	}
}

func token(t *testing.T) string {
	tok, err := store.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
