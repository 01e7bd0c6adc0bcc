package consul

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/registrysync"
)

// metrics are the connector's Prometheus metrics, labelled with the
// registry's name; with no registerer they are kept but not exported.
type metrics struct {
	reg         prometheus.Registerer
	queries     *prometheus.CounterVec
	indexResets *prometheus.CounterVec
	listings    *prometheus.CounterVec
	renewals    *prometheus.CounterVec
}

func newMetrics(env registrysync.Env) *metrics {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_consul_queries_total",
			Help: "Queries of the Consul source, by kind (catalog: the service list, health: one service) and result (ok, error).",
		}, []string{"kind", "result"}),
		indexResets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_consul_index_resets_total",
			Help: "Blocking queries whose X-Consul-Index went backwards, by kind; the watch starts over.",
		}, []string{"kind"}),
		listings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_consul_listings_total",
			Help: "Complete listings of the catalog by the Consul source, by result (ok, error).",
		}, []string{"result"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_registrysync_consul_ttl_updates_total",
			Help: "TTL check updates of copies by the Consul sink, by result (ok, reregistered: the check was unknown and the copy registered again, gone: an adopted copy's check was unknown, error).",
		}, []string{"result"}),
	}
	if env.Metrics != nil {
		m.reg = prometheus.WrapRegistererWith(prometheus.Labels{"registry": env.Name}, env.Metrics)
		m.reg.MustRegister(m.queries, m.indexResets, m.listings, m.renewals)
	}
	return m
}

// gauges exports the number of copies renewed and withheld.
func (m *metrics) gauges(renewed, withheld func() int) {
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_consul_copies_renewed",
			Help: "Copies whose TTL check the Consul sink passes.",
		}, func() float64 { return float64(renewed()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_registrysync_consul_copies_withheld",
			Help: "Copies not registered while their instance cannot be selected (downAs: absent).",
		}, func() float64 { return float64(withheld()) }),
	)
}

func (m *metrics) queried(kind, result string) { m.queries.WithLabelValues(kind, result).Inc() }

func (m *metrics) indexReset(kind string) { m.indexResets.WithLabelValues(kind).Inc() }

func (m *metrics) listed(result string) { m.listings.WithLabelValues(result).Inc() }

func (m *metrics) renewed(result string) { m.renewals.WithLabelValues(result).Inc() }
