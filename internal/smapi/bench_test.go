package smapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/engine"
	"github.com/rotorhq/rotor/internal/smapi"
	"github.com/rotorhq/rotor/internal/store/local"
)

// BenchmarkGetSecretValue measures a signed GetSecretValue through the real
// SDK client: signing, verification, the store read and both JSON codecs.
func BenchmarkGetSecretValue(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	e.createSecret(ctx, "bench/secret", `{"username":"app","password":"bench-password-0001"}`, 1)
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String("bench/secret")}
	for b.Loop() {
		if _, err := e.sm.GetSecretValue(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutSecretValueServer measures PutSecretValue as `rotor server`
// serves it: signed requests through the SDK, the engine's PutValue (the
// secret's write lock, the label bookkeeping) over a file store, from 1, 8
// and 64 clients at once, each writing a secret of its own. ns/op is wall
// time per request: its inverse is the throughput; p99-ms is the 99th
// percentile of one request's latency.
func BenchmarkPutSecretValueServer(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			st, err := local.Open(local.Config{Path: filepath.Join(b.TempDir(), "store.db"), Key: make([]byte, 32), Region: region})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			eng := engine.New(engine.Config{Store: st})
			e := newEnv(b, func(c *smapi.Config) {
				c.Store, c.Put, c.Logger = st, eng.PutValue, slog.New(slog.DiscardHandler)
			})
			e.client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
			ctx := context.Background()
			for i := range clients {
				e.createSecret(ctx, fmt.Sprintf("bench/secret-%02d", i), `{"password":"initial"}`, i+1)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			lat := make([][]time.Duration, clients)
			b.ResetTimer()
			for c := range clients {
				wg.Go(func() {
					id := aws.String(fmt.Sprintf("bench/secret-%02d", c))
					for next.Add(1) <= int64(b.N) {
						start := time.Now()
						if _, err := e.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: id,
							SecretString: aws.String(`{"password":"0123456789abcdef0123456789abcdef"}`)}); err != nil {
							b.Error(err)
							return
						}
						lat[c] = append(lat[c], time.Since(start))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
