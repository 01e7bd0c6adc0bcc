package nacos_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// BenchmarkGRPCRegister10k registers 10,000 ephemeral instances over gRPC
// from 100 connections (100 services each: Nacos keeps one instance per
// connection and service) and reports the rate and the heap they cost.
// Run with -benchtime=1x.
func BenchmarkGRPCRegister10k(b *testing.B) {
	const conns, perConn = 100, 100
	for range b.N {
		b.StopTimer()
		e := startEnv(b, testOptions())
		clients := make([]*rawClient, conns)
		for i := range clients {
			clients[i] = dialRaw(b, e, true)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perConn {
					typ, r := register(c, fmt.Sprintf("svc-%03d", j), fmt.Sprintf("10.%d.%d.1", i/250, i%250), 8000+j)
					if typ != "InstanceResponse" || r["success"] != true {
						b.Errorf("register: %s %v", typ, r)
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		n := len(listService(b, e.store, ""))
		if n != conns*perConn {
			b.Fatalf("store holds %d instances, want %d", n, conns*perConn)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "instances/s")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heap-B/instance")
		b.ReportMetric(elapsed.Seconds(), "s/10k")
	}
}

// BenchmarkPushFanout1000 subscribes 1,000 connections to one service,
// changes it once through the store and measures how long each subscriber
// waits for its NotifySubscriberRequest. Run with -benchtime=1x.
func BenchmarkPushFanout1000(b *testing.B) {
	const subscribers = 1000
	for range b.N {
		b.StopTimer()
		o := testOptions()
		o.GRPC.AckTimeout = 10 * time.Second
		e := startEnv(b, o)
		clients := make([]*rawClient, subscribers)
		for i := range clients {
			c := dialRaw(b, e, true)
			typ, r := c.call("SubscribeServiceRequest", map[string]any{"serviceName": "hot", "groupName": "DEFAULT_GROUP", "subscribe": true})
			if typ != "SubscribeServiceResponse" || r["success"] != true {
				b.Fatalf("subscribe: %s %v", typ, r)
			}
			clients[i] = c
		}
		latencies := make([]time.Duration, subscribers)
		var wg sync.WaitGroup
		var start time.Time
		ready := make(chan struct{})
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				push := c.nextPush("NotifySubscriberRequest", 10*time.Second)
				latencies[i] = time.Since(start)
				c.send("NotifySubscriberResponse", map[string]any{"requestId": push["requestId"], "resultCode": 200, "success": true})
			}()
		}
		b.StartTimer()
		start = time.Now()
		close(ready)
		if _, err := e.store.Register(context.Background(), &registry.Instance{ID: "hot-1", Service: "hot", Host: "10.0.0.1", Port: 80, Origin: registry.OriginControl}); err != nil {
			b.Fatal(err)
		}
		written := time.Since(start)
		wg.Wait()
		b.StopTimer()
		slices.Sort(latencies)
		pct := func(p float64) float64 {
			return float64(latencies[int(p*float64(subscribers-1))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(pct(1), "max-ms")
		// The store acknowledges (and publishes) a write after its fsync;
		// the push starts from there.
		b.ReportMetric(float64(written.Microseconds())/1000, "store-write-ms")
	}
}
