package control

import (
	"testing"

	"github.com/meshbridge/meshbridge/registry/storetest"
)

// BenchmarkRenewHTTP renews leases through the control API (client, HTTP
// over loopback, server, embedded store) with 32 concurrent renewers over
// 10,000 instances: the full path a sidecar's renewal takes.
func BenchmarkRenewHTTP(b *testing.B) {
	f := newFixture(b, ServerOptions{})
	const total = 10_000
	storetest.Populate(b, f.store, total, 64)
	storetest.BenchRenewWith(b, total, f.client.Renew)
}
