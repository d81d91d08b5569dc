package kube_test

import (
	"testing"

	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
	"github.com/rotorhq/rotor/internal/store/storetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// newStore returns a store over a new namespace of the shared API server.
func newStore(t *testing.T) *kube.Store {
	t.Helper()
	srv := kubetest.Need(t)
	s, err := kube.New(kube.Config{Client: srv.RotorClient(t), Namespace: srv.Namespace(t, "rotor")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoreSuite runs the store behaviour suite against a real kube-apiserver.
func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}
