package main

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshbridge/meshbridge/mock"
)

// metrics are mockserver's Prometheus series: requests by the stub that
// answered (stub "" and result unmatched when none did), the stubs
// loaded and the journal's dropped entries.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	unmatched prometheus.Counter
	// matched holds each stub's counter by its id: found without
	// hashing the labels on every request, as WithLabelValues does.
	matched sync.Map
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mockserver_requests_total",
		Help: "Requests to the stubs by the stub that answered; result is matched or unmatched (stub empty).",
	}, []string{"stub", "result"})
	m.reg.MustRegister(m.requests, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.unmatched = m.requests.WithLabelValues("", "unmatched")
	return m
}

// served is mock.Options.Served.
func (m *metrics) served(stubID string) {
	if stubID == "" {
		m.unmatched.Inc()
		return
	}
	c, ok := m.matched.Load(stubID)
	if !ok {
		c, _ = m.matched.LoadOrStore(stubID, m.requests.WithLabelValues(stubID, "matched"))
	}
	c.(prometheus.Counter).Inc()
}

// watch adds the series read from srv's status when scraped.
func (m *metrics) watch(srv *mock.Server) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mockserver_journal_dropped_total", Help: "Journal entries dropped, the oldest first, to stay within journal.entries and journal.bytes."},
			func() float64 { return float64(srv.Status().JournalDropped) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mockserver_stubs", Help: "Stubs loaded."},
			func() float64 { return float64(srv.Status().Stubs) }),
	)
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }
