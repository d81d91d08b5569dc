package dockerhub_test

import (
	"context"
	"testing"

	"github.com/rotorhq/rotor/internal/rotator/dockerhub"
	"github.com/rotorhq/rotor/internal/rotator/dockerhub/hubtest"
	"github.com/rotorhq/rotor/internal/rotator/rotatortest"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// TestConformance runs the conformance suite against a Docker Hub that
// pages its token list three to a page and answers every seventh request
// with 429. Live lists every token the account holds, deactivated ones
// included, so an orphan fails the suite.
func TestConformance(t *testing.T) {
	rotatortest.Run(t, rotatortest.Config{
		NewStore: func(*testing.T) store.Store { return local.NewMemory(local.Config{}) },
		NewHarness: func(t *testing.T) *rotatortest.Harness {
			w := newWorld(t, hubtest.Config{MaxPageSize: 3, BurstEvery: 7})
			return &rotatortest.Harness{
				Kind:    dockerhub.Kind(w.deps()),
				Options: w.opts(),
				Initial: w.initial(),
				Live:    func(context.Context) ([]string, error) { return w.hub.TokenIDs(user), nil },
				ID:      func(v secret.Value) string { return field(v, "token_id") },
				Secrets: func(v secret.Value) []string { return []string{v.Text(), field(v, "password"), password} },
			}
		},
		Short: testing.Short(),
	})
}
