package zookeeper

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the connector's own; the engine counts writes, deletes and
// errors per connector. Each carries the registry's name as a constant
// label, so that several ZooKeeper registries share the names.
type metrics struct {
	listings        *prometheus.CounterVec
	watchEvents     prometheus.Counter
	badRecords      prometheus.Counter
	expiries        prometheus.Counter
	recreated       prometheus.Counter
	recreateSeconds prometheus.Histogram
	takenOver       prometheus.Counter
	copies          *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, registryName string) *metrics {
	m := &metrics{
		listings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_zookeeper_listings_total",
			Help: "Complete listings of the registry by the source, by result (complete, failed).",
		}, []string{"result"}),
		watchEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_zookeeper_watch_events_total",
			Help: "Watch events the source received.",
		}),
		badRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_zookeeper_bad_records_total",
			Help: "Instance nodes skipped because they hold no readable ServiceInstance record.",
		}),
		// No role label of its own: the engine builds a connector per
		// role and labels its metrics with it (role="source" or "sink").
		expiries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_zookeeper_session_expiries_total",
			Help: "Sessions the server expired.",
		}),
		recreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_zookeeper_recreated_copies_total",
			Help: "Copies written again because the sink's session was replaced after an expiry.",
		}),
		recreateSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meshbridge_registrysync_zookeeper_recreate_seconds",
			Help:    "Time to write every copy again in a new session.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		takenOver: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_zookeeper_copies_taken_over_total",
			Help: "Copies given up after an expiry because another session of the same owner holds them.",
		}),
		copies: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_zookeeper_copies",
			Help: "Copies the sink keeps, by state (kept: a node of its session; withheld: not selectable, no node, downAs absent).",
		}, []string{"state"}),
	}
	if reg == nil {
		return m
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"registry": registryName}, reg)
	m.listings = register(reg, m.listings)
	m.watchEvents = register(reg, m.watchEvents)
	m.badRecords = register(reg, m.badRecords)
	m.expiries = register(reg, m.expiries)
	m.recreated = register(reg, m.recreated)
	m.recreateSeconds = register(reg, m.recreateSeconds)
	m.takenOver = register(reg, m.takenOver)
	m.copies = register(reg, m.copies)
	return m
}

// register registers c, or returns the collector registered before under
// the same name and labels (a connector built again for the same
// registry counts on).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) {
			if existing, ok := dup.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // two different metrics under one name: a programming error
	}
	return c
}
