package kube_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/kubeclient"
	"github.com/rotorhq/rotor/internal/kubetest"
	"github.com/rotorhq/rotor/internal/rotator"
	"github.com/rotorhq/rotor/internal/rotator/password"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/kube"
)

type counter struct {
	rt http.RoundTripper
	n  atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// BenchmarkRotatePassword is one engine.Rotate of a password secret on the
// kube store against the local kube-apiserver; requests/op counts the API
// requests of one rotation. new: the secret holds one version; full: it
// holds store.MaxVersions, all in its companion Secret.
func BenchmarkRotatePassword(b *testing.B) {
	srv := kubetest.Need(b)
	for _, full := range []bool{false, true} {
		name := "new"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			ctx := b.Context()
			ns := srv.Namespace(b, "bench")
			cfg := rest.CopyConfig(srv.Config)
			cnt := &counter{}
			cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { cnt.rt = rt; return cnt }
			c, err := kubeclient.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			st, err := kube.New(kube.Config{Client: c, Namespace: ns})
			if err != nil {
				b.Fatal(err)
			}
			eng := engine.New(engine.Config{Store: st, Kinds: rotator.NewRegistry(password.Kind())})
			v := secret.New(`{"username":"app","password":"initial-password-123456"}`)
			ref, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: "db", Value: &v,
				Tags: []store.Tag{{Key: rotator.TagKind, Value: password.Kind().Name}}})
			if err != nil {
				b.Fatal(err)
			}
			if full {
				for range store.MaxVersions {
					if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			cnt.n.Store(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := eng.Rotate(ctx, engine.RotateInput{SecretID: ref.ARN}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cnt.n.Load())/float64(b.N), "requests/op")
		})
	}
}
