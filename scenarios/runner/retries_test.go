package runner

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

// counterSum reads the sidecar's own exposition: the retries of every
// target service, and nothing of the counters whose names start alike.
func TestCounterSumReadsTheSidecarsRetries(t *testing.T) {
	m := metrics.New()
	m.Retries.WithLabelValues("orders").Add(3)
	m.Retries.WithLabelValues("payments").Add(4)
	m.RetriesDenied.WithLabelValues("orders", "budget").Add(100)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	got, err := counterSum(rec.Body, retriesMetric)
	if err != nil || got != 7 {
		t.Fatalf("counterSum = %v, %v; want 7", got, err)
	}
	if _, err := counterSum(strings.NewReader(retriesMetric+"{service=\"x\"} many\n"), retriesMetric); err == nil {
		t.Fatal("a value that is not a number was read")
	}
}
