package nacos

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the connector's own; the engine counts copies, writes and
// errors per pair. Each carries the registry's name as a constant label.
type metrics struct {
	listings *prometheus.CounterVec
	pushes   prometheus.Counter
	refused  prometheus.Counter
	requests *prometheus.CounterVec
	catalog  *prometheus.CounterVec
}

func newMetrics(registryName string, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"registry": registryName}
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "meshbridge", Subsystem: "registrysync_nacos", Name: name, Help: help, ConstLabels: labels}
	}
	m := &metrics{
		listings: prometheus.NewCounterVec(opts("listings_total",
			"Complete listings the source read (result ok) or gave up on (result error: nothing was sent)."), []string{"result"}),
		pushes: prometheus.NewCounter(opts("pushes_total",
			"Pushes that changed a service the source is subscribed to.")),
		refused: prometheus.NewCounter(opts("refused_instances_total",
			"Instances the source left out because the registry model cannot hold them (logged with the reason).")),
		requests: prometheus.NewCounterVec(opts("sink_requests_total",
			"Registrations the sink sent: op batch (a service's copies) or deregister (its last copy), result ok or error."), []string{"op", "result"}),
		catalog: prometheus.NewCounterVec(opts("catalog_requests_total",
			"Catalog lookups of a service's cluster that lost instances (to find disabled ones), result ok or error."), []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.listings, m.pushes, m.refused, m.requests, m.catalog} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("nacos: metrics of registry %q: %w", registryName, err)
		}
	}
	return m, nil
}
