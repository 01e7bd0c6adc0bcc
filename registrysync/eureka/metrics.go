package eureka

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/registrysync"
)

// metrics are the connector's Prometheus metrics, labelled with the
// registry's name; with no registerer they are kept but not exported.
type metrics struct {
	reg      prometheus.Registerer
	fetches  *prometheus.CounterVec
	renewals *prometheus.CounterVec
}

func newMetrics(env registrysync.Env) *metrics {
	m := &metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_eureka_fetches_total",
			Help: "Registry fetches by the Eureka source, by kind (full, delta) and result (ok, error, refused: the server serves no delta, mismatch: the delta did not reconcile).",
		}, []string{"kind", "result"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_eureka_renewals_total",
			Help: "Lease renewals of copies by the Eureka sink, by result (ok, reregistered: answered 404 and registered again, gone: an adopted copy answered 404, error).",
		}, []string{"result"}),
	}
	if env.Metrics != nil {
		m.reg = prometheus.WrapRegistererWith(prometheus.Labels{"registry": env.Name}, env.Metrics)
		m.reg.MustRegister(m.fetches, m.renewals)
	}
	return m
}

// keptFunc exports the number of copies renewed.
func (m *metrics) keptFunc(n func() int) {
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "meshbridge_registrysync_eureka_copies_renewed",
		Help: "Copies whose lease the Eureka sink renews.",
	}, func() float64 { return float64(n()) }))
}

func (m *metrics) fetched(kind, result string) { m.fetches.WithLabelValues(kind, result).Inc() }

func (m *metrics) renewed(result string) { m.renewals.WithLabelValues(result).Inc() }
