package embedded

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	selfPreservation prometheus.Gauge
	expired          prometheus.Counter
	fsyncSeconds     prometheus.Histogram
	walBytes         prometheus.Counter
	snapshots        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Store) *metrics {
	m := &metrics{
		selfPreservation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshbridge_registry_self_preservation",
			Help: "1 while lease expiry is paused because too many leases lapsed at once.",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registry_expired_instances_total",
			Help: "Instances removed because their lease expired.",
		}),
		fsyncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meshbridge_registry_wal_fsync_seconds",
			Help:    "Time to write and fsync one group commit of the write-ahead log.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		walBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registry_wal_bytes_total",
			Help: "Bytes appended to the write-ahead log.",
		}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_registry_snapshots_total",
			Help: "Snapshots written (each one truncates the write-ahead log).",
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.selfPreservation, m.expired, m.fsyncSeconds, m.walBytes, m.snapshots,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_registry_instances",
			Help: "Instances held by the registry.",
		}, func() float64 { n, _, _ := s.state.Counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_registry_resources",
			Help: "Resources held by the registry.",
		}, func() float64 { _, n, _ := s.state.Counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_registry_revision",
			Help: "The registry's current revision.",
		}, func() float64 { return float64(s.state.Revision()) }),
	)
	return m
}
