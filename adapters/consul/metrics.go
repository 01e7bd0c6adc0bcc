package consul

import "github.com/prometheus/client_golang/prometheus"

// metrics are the adapter's Prometheus metrics; with no registerer they
// are kept but not exported.
type metrics struct {
	probes    *prometheus.CounterVec
	ttlExpiry prometheus.Counter
	reaped    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Server) *metrics {
	m := &metrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_consul_check_probes_total",
			Help: "HTTP and TCP checks run by the Consul adapter, by type and result status.",
		}, []string{"type", "status"}),
		ttlExpiry: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_consul_ttl_expired_total",
			Help: "TTL checks that went critical because no update came in time.",
		}),
		reaped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshbridge_consul_reaped_services_total",
			Help: "Services deregistered after being critical past DeregisterCriticalServiceAfter.",
		}),
	}
	if reg == nil {
		return m
	}
	collectors := []prometheus.Collector{m.probes, m.ttlExpiry, m.reaped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_consul_blocking_queries",
			Help: "Blocking queries parked waiting for a change.",
		}, func() float64 { return float64(s.blocked.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_consul_local_services",
			Help: "Services registered through the Consul agent API.",
		}, func() float64 { return float64(len(s.agent.all())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_consul_check_leader",
			Help: "1 while this replica leads and runs the checks (probes, TTL expiry, reaping).",
		}, func() float64 {
			if s.leading.Load() {
				return 1
			}
			return 0
		}),
	}
	for _, status := range []string{statusPassing, statusWarning, statusCritical} {
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "meshbridge_consul_checks",
			Help:        "Checks of services registered through the Consul agent API, by status.",
			ConstLabels: prometheus.Labels{"status": status},
		}, func() float64 { return float64(s.agent.countChecks(status)) }))
	}
	reg.MustRegister(collectors...)
	return m
}

// countChecks counts the local checks with a status.
func (a *agentState) countChecks(status string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, lc := range a.checks {
		if lc.rec.Status == status {
			n++
		}
	}
	return n
}
