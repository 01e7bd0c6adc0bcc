package embedded

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

const benchTotal = storetest.BenchServices * storetest.BenchPerService

var (
	benchOnce  sync.Once
	benchStore *Store
	benchLoad  time.Duration
	benchHeap  [2]uint64
	benchRSS   [2]uint64
)

// populated returns a store holding the 100,000-instance population, shared
// by the benchmarks that only read or renew.
func populated(b *testing.B) *Store {
	benchOnce.Do(func() {
		benchHeap[0], benchRSS[0] = storetest.HeapAndRSS()
		// Not b.TempDir: the store outlives the benchmark that first asks for it.
		dir, err := os.MkdirTemp("", "meshbridge-bench")
		if err != nil {
			b.Fatal(err)
		}
		s, err := Open(Options{Dir: dir, Expiry: ExpiryOptions{Disabled: true},
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		benchLoad = storetest.Populate(b, s, benchTotal, 256)
		benchHeap[1], benchRSS[1] = storetest.HeapAndRSS()
		benchStore = s
	})
	return benchStore
}

// BenchmarkRegister100k registers the whole population into an empty store
// with 256 concurrent writers (every write fsynced, group-committed).
func BenchmarkRegister100k(b *testing.B) {
	for range b.N {
		s, err := Open(Options{Dir: b.TempDir(), Expiry: ExpiryOptions{Disabled: true},
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		d := storetest.Populate(b, s, benchTotal, 256)
		b.ReportMetric(float64(benchTotal)/d.Seconds(), "registrations/s")
		s.Close()
	}
}

func BenchmarkRenew(b *testing.B) {
	storetest.BenchRenew(b, populated(b), benchTotal)
}

func BenchmarkListOneService(b *testing.B) {
	storetest.BenchListOneService(b, populated(b))
}

// BenchmarkFullSnapshot lists every instance (what a full Eureka fetch or a
// sidecar resync reads) and writes a durable snapshot of the whole state.
func BenchmarkFullSnapshot(b *testing.B) {
	s := populated(b)
	b.Run("list-all", func(b *testing.B) {
		for range b.N {
			list, _, _ := s.List(context.Background(), registry.Filter{})
			if len(list) != benchTotal {
				b.Fatalf("listed %d", len(list))
			}
		}
	})
	b.Run("write-snapshot", func(b *testing.B) {
		for range b.N {
			before := s.walSize
			s.snapshot()
			if s.walSize != 0 && before != 0 {
				b.Fatal("snapshot failed: the log was not truncated")
			}
		}
	})
}

// BenchmarkMemoryPerInstance reports heap and resident memory per instance
// of the loaded population.
func BenchmarkMemoryPerInstance(b *testing.B) {
	populated(b)
	b.ReportMetric(float64(benchHeap[1]-benchHeap[0])/benchTotal, "heap-B/instance")
	b.ReportMetric(float64(benchRSS[1]-benchRSS[0])/benchTotal, "rss-B/instance")
	b.ReportMetric(float64(benchTotal)/benchLoad.Seconds(), "load-registrations/s")
}
