package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Scale of the registry benchmarks: 10,000 services × 10 instances.
const (
	BenchServices   = 10_000
	BenchPerService = 10
)

// BenchInstance is instance n of the benchmark population.
func BenchInstance(n int) *registry.Instance {
	svc := n / BenchPerService
	return &registry.Instance{
		ID:        fmt.Sprintf("svc-%05d-%d", svc, n%BenchPerService),
		Service:   fmt.Sprintf("svc-%05d", svc),
		Host:      fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255),
		Port:      8080,
		Metadata:  map[string]string{"version": "v" + strconv.Itoa(n%3), "zone": "zone-a", "management.port": "8081"},
		Ephemeral: true,
		Lease:     registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second},
		Origin:    registry.OriginEureka,
	}
}

// Populate registers total instances with concurrency writers.
func Populate(tb testing.TB, s registry.Instances, total, concurrency int) time.Duration {
	tb.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < total; n += concurrency {
				if _, err := s.Register(context.Background(), BenchInstance(n)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// BenchRenew measures renewal throughput over a populated store.
func BenchRenew(b *testing.B, s registry.Instances, total int) {
	BenchRenewWith(b, total, s.Renew)
}

// BenchRenewWith measures renewal throughput of renew (a store's, or a
// client's that reaches one) over the total instances Populate registered.
func BenchRenewWith(b *testing.B, total int, renew func(context.Context, registry.InstanceKey) error) {
	keys := make([]registry.InstanceKey, total)
	for n := range total {
		in := BenchInstance(n)
		keys[n] = registry.NewInstanceKey("", "", in.Service, in.ID)
	}
	// Renewals come from many clients at once; with etcd each one is a
	// round trip, so parallelism matters more than cores.
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			if err := renew(context.Background(), keys[r.IntN(total)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renewals/s")
}

// BenchListOneService measures listing one service's 10 instances and
// reports the p50 and p99 latency.
func BenchListOneService(b *testing.B, s registry.Instances) {
	lat := make([]time.Duration, 0, b.N)
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		svc := fmt.Sprintf("svc-%05d", r.IntN(BenchServices))
		start := time.Now()
		list, _, err := s.List(context.Background(), registry.Filter{Namespace: registry.DefaultNamespace, Group: registry.DefaultGroup, Service: svc})
		lat = append(lat, time.Since(start))
		if err != nil || len(list) != BenchPerService {
			b.Fatalf("list %s: %d instances, %v", svc, len(list), err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// HeapAndRSS returns the live heap after a GC and the process's resident set.
func HeapAndRSS() (heap, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	data, err := os.ReadFile("/proc/self/statm")
	if err == nil {
		f := strings.Fields(string(data))
		if len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return m.HeapAlloc, rss
}
