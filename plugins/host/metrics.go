package host

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Call results, the "result" label of meshbridge_plugin_calls_total.
const (
	resultOK          = "ok"
	resultFailed      = "failed"
	resultTimeout     = "timeout"
	resultUnavailable = "unavailable"
	resultCanceled    = "canceled"
)

var calls = []string{"request", "response", "transform"}

var results = []string{resultOK, resultFailed, resultTimeout, resultUnavailable, resultCanceled}

type metrics struct {
	calls    *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	restarts *prometheus.CounterVec
	up       *prometheus.GaugeVec
	channel  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_plugin_calls_total",
			Help: "Plugin calls by plugin, call (request, response, transform) and result (ok, failed, timeout, unavailable, canceled).",
		}, []string{"plugin", "call", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meshbridge_plugin_call_seconds",
			Help:    "Time spent in plugin calls, from the host's side.",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 16),
		}, []string{"plugin", "call"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshbridge_plugin_restarts_total",
			Help: "Plugin processes started again after a crash or a failed health check.",
		}, []string{"plugin"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_plugin_up",
			Help: "1 while the plugin's process runs and answers, 0 while it is down or restarting.",
		}, []string{"plugin"}),
		channel: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshbridge_plugin_channel",
			Help: "1 while the plugin's calls go on its calls' channel (two pipes), 0 while they go through gRPC's transport, which is slower (the plugin serves no channel, or it broke), or the plugin is down.",
		}, []string{"plugin"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.seconds, m.restarts, m.up, m.channel)
	}
	return m
}

// pluginMetrics are one plugin's series, resolved once so a call costs no
// label lookups.
type pluginMetrics struct {
	results  map[string]map[string]prometheus.Counter
	seconds  map[string]prometheus.Observer
	restarts prometheus.Counter
	up       prometheus.Gauge
	channel  prometheus.Gauge
}

func (m *metrics) forPlugin(name string) *pluginMetrics {
	pm := &pluginMetrics{
		results:  map[string]map[string]prometheus.Counter{},
		seconds:  map[string]prometheus.Observer{},
		restarts: m.restarts.WithLabelValues(name),
		up:       m.up.WithLabelValues(name),
		channel:  m.channel.WithLabelValues(name),
	}
	for _, c := range calls {
		pm.results[c] = map[string]prometheus.Counter{}
		for _, r := range results {
			pm.results[c][r] = m.calls.WithLabelValues(name, c, r)
		}
		pm.seconds[c] = m.seconds.WithLabelValues(name, c)
	}
	return pm
}

func (pm *pluginMetrics) result(call, result string) { pm.results[call][result].Inc() }

func (pm *pluginMetrics) observe(call string, d time.Duration) { pm.seconds[call].Observe(d.Seconds()) }
