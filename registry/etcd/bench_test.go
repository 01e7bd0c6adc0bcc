package etcd

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry/etcd/etcdtest"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

const benchTotal = storetest.BenchServices * storetest.BenchPerService

var (
	benchOnce  sync.Once
	benchStore *Store
	benchLoad  time.Duration
)

// populated loads the 100,000-instance population into a real in-process
// etcd once; the server lives until the test binary exits.
func populated(b *testing.B) *Store {
	benchOnce.Do(func() {
		// Not etcdtest.Start: the server outlives the benchmark that first
		// asks for it and stops with the process.
		cli, _, err := etcdtest.LaunchTemp()
		if err != nil {
			b.Fatal(err)
		}
		s, err := Open(context.Background(), Options{Client: cli, Prefix: "/bench/", Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		benchLoad = storetest.Populate(b, s, benchTotal, 256)
		benchStore = s
	})
	return benchStore
}

// BenchmarkRegister100k reports the rate at which the population was loaded
// (each registration: a read, a lease grant and a compare-and-set transaction).
func BenchmarkRegister100k(b *testing.B) {
	populated(b)
	b.ReportMetric(float64(benchTotal)/benchLoad.Seconds(), "registrations/s")
}

// BenchmarkRenew renews etcd leases (one KeepAliveOnce round trip each).
func BenchmarkRenew(b *testing.B) {
	storetest.BenchRenew(b, populated(b), benchTotal)
}

// BenchmarkListOneService reads from the replica's local index.
func BenchmarkListOneService(b *testing.B) {
	storetest.BenchListOneService(b, populated(b))
}
