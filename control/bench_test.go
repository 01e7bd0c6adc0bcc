package control

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

// BenchmarkRenewHTTP renews leases through the control API (client, HTTP
// over loopback, server, embedded store) with 32 concurrent renewers over
// 10,000 instances: the full path a sidecar's renewal takes.
func BenchmarkRenewHTTP(b *testing.B) {
	f := newFixture(b, ServerOptions{})
	const total = 10_000
	storetest.Populate(b, f.store, total, 64)
	keys := make([]registry.InstanceKey, total)
	for n := range total {
		in := storetest.BenchInstance(n)
		keys[n] = registry.NewInstanceKey("", "", in.Service, in.ID)
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 3))
		for pb.Next() {
			if err := f.client.Renew(context.Background(), keys[r.IntN(total)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renewals/s")
}
