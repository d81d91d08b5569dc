package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/secret"
	"github.com/rotorhq/rotor/internal/store"
	"github.com/rotorhq/rotor/internal/store/local"
)

// BenchmarkScrape is one GET /metrics of a store whose every secret has
// rotation enabled and a rotation under way (five gauges each), plain and
// gzipped:
//
//	go test -run '^$' -bench Scrape -benchmem ./internal/metrics
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		ctx := context.Background()
		st := local.NewMemory(local.Config{})
		for i := range n {
			v := secret.New("bench-value")
			name := fmt.Sprintf("svc/bench-%05d", i)
			if _, err := st.CreateSecret(ctx, store.CreateSecretInput{Name: name, Value: &v,
				Tags: []store.Tag{{Key: "rotor:kind", Value: "password"}}}); err != nil {
				b.Fatal(err)
			}
			if _, err := st.BeginRotation(ctx, store.BeginRotationInput{SecretID: name,
				Token: fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i)}); err != nil {
				b.Fatal(err)
			}
		}
		h := metrics.New(st, nil).Handler()
		for _, enc := range []string{"", "gzip"} {
			name := fmt.Sprintf("secrets=%d", n)
			if enc != "" {
				name += "/" + enc
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest("GET", "/metrics", nil)
					if enc != "" {
						req.Header.Set("Accept-Encoding", enc)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatal(rec.Code)
					}
					b.SetBytes(int64(rec.Body.Len()))
					_, _ = io.Copy(io.Discard, rec.Body)
				}
			})
		}
	}
}
