package registrysync

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's; each connector registers its own through its
// Env.Metrics, labelled with its registry and role.
type metrics struct {
	copies      *prometheus.GaugeVec
	writes      *prometheus.CounterVec
	deletes     *prometheus.CounterVec
	adopted     *prometheus.CounterVec
	propagation *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	breakerOpen *prometheus.GaugeVec
	trips       *prometheus.CounterVec
	complete    *prometheus.GaugeVec
	lastFull    *prometheus.GaugeVec
	leader      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	flow := []string{"from", "to"}
	m := &metrics{
		copies: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_copies", Help: "Copies a flow holds in its target, as last listed and written.",
		}, flow),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_writes_total",
			Help: "Copies written, by flow and op: add, update, or renew (a copy right already, written again to keep it alive where the sink cannot adopt it).",
		}, []string{"from", "to", "op"}),
		deletes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_deletes_total", Help: "Copies deleted, by flow.",
		}, flow),
		adopted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_adopted_total", Help: "Copies right already that this process took over without writing them.",
		}, flow),
		propagation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meshbridge_registrysync_propagation_seconds",
			Help:    "Time from a source's update reaching the syncer to the write or delete it caused completing in the target.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, flow),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_errors_total",
			Help: "Errors by registry (connector) and op: list, run, owned, put, delete, adopt, transform, record.",
		}, []string{"registry", "op"}),
		breakerOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_breaker_open", Help: "1 while a flow's deletion breaker holds its deletions.",
		}, flow),
		trips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_breaker_trips_total", Help: "Times a flow's deletion breaker opened.",
		}, flow),
		complete: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_source_complete", Help: "1 once a source was listed completely since the process started.",
		}, []string{"registry"}),
		lastFull: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_last_full_sync_timestamp_seconds", Help: "When a flow's last whole pass ended (Unix time).",
		}, flow),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_leader", Help: "1 while this replica writes.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.copies, m.writes, m.deletes, m.adopted, m.propagation, m.errors, m.breakerOpen, m.trips, m.complete, m.lastFull, m.leader)
	}
	return m
}

// scopedRegisterer registers a connector instance's metrics and takes
// them out again when the instance is closed: the engine builds a new
// instance for each leadership term and each listing, and their metrics
// must not clash with the last one's.
type scopedRegisterer struct {
	prometheus.Registerer
	mu         sync.Mutex
	registered []prometheus.Collector
}

func (s *scopedRegisterer) Register(c prometheus.Collector) error {
	if err := s.Registerer.Register(c); err != nil {
		return err
	}
	s.mu.Lock()
	s.registered = append(s.registered, c)
	s.mu.Unlock()
	return nil
}

func (s *scopedRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := s.Register(c); err != nil {
			panic(err)
		}
	}
}

// release unregisters everything registered through s.
func (s *scopedRegisterer) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.registered {
		s.Registerer.Unregister(c)
	}
	s.registered = nil
}
