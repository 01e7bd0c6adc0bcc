package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Set is every metric the sidecar exports.
type Set struct {
	Registry *prometheus.Registry

	Requests         *prometheus.CounterVec   // direction, service, subset, code
	Duration         *prometheus.HistogramVec // direction, service, subset
	Errors           *prometheus.CounterVec   // direction, service, subset, reason
	InFlight         *prometheus.GaugeVec     // direction
	BreakerState     *prometheus.GaugeVec     // service (0 closed, 1 half-open, 2 open)
	BreakerChanges   *prometheus.CounterVec   // service, state
	EjectedInstances *prometheus.GaugeVec     // service
	Ejections        *prometheus.CounterVec   // service
	Retries          *prometheus.CounterVec   // service
	RetriesDenied    *prometheus.CounterVec   // service, reason
	MirrorSent       *prometheus.CounterVec   // service
	MirrorDropped    *prometheus.CounterVec   // service, reason
	RateLimited      *prometheus.CounterVec   // direction, service
	Faults           *prometheus.CounterVec   // direction, service, type
	Upgrades         *prometheus.CounterVec   // direction, service
	UpgradesOpen     *prometheus.GaugeVec     // direction, service
	H2CRefusals      prometheus.Counter
	TableRevision    prometheus.Gauge
	TableSwaps       prometheus.Counter
	HealthStatus     prometheus.Gauge
}

// Namespace prefixes every metric name.
const Namespace = "meshbridge_sidecar"

// New builds a Set on a fresh registry that also carries the Go and process
// collectors.
func New() *Set {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	s := &Set{Registry: r}
	s.Requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "requests_total",
		Help: "Requests handled, by direction, target service, subset and response code."}, []string{"direction", "service", "subset", "code"})
	s.Duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds",
		Help:    "Time from request arrival to response headers, by direction, service and subset.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"direction", "service", "subset"})
	s.Errors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "request_errors_total",
		Help: "Requests answered by the sidecar itself, by reason (connect_failure, timeout, circuit_open, ...)."}, []string{"direction", "service", "subset", "reason"})
	s.InFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "requests_in_flight",
		Help: "Requests being handled now."}, []string{"direction"})
	s.BreakerState = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "breaker_state",
		Help: "Circuit breaker state per target service: 0 closed, 1 half-open, 2 open."}, []string{"service"})
	s.BreakerChanges = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "breaker_transitions_total",
		Help: "Circuit breaker state changes, by the state entered."}, []string{"service", "state"})
	s.EjectedInstances = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "ejected_instances",
		Help: "Instances currently ejected by outlier detection."}, []string{"service"})
	s.Ejections = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "ejections_total",
		Help: "Outlier ejections."}, []string{"service"})
	s.Retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "retries_total",
		Help: "Retried attempts."}, []string{"service"})
	s.RetriesDenied = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "retries_denied_total",
		Help: "Retries not made, by reason (budget, not_replayable)."}, []string{"service", "reason"})
	s.MirrorSent = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "mirror_requests_total",
		Help: "Mirrored requests sent."}, []string{"service"})
	s.MirrorDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "mirror_dropped_total",
		Help: "Mirror copies not sent, by reason (queue_full, body_too_large, no_endpoint, error)."}, []string{"service", "reason"})
	s.RateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "rate_limited_total",
		Help: "Requests refused by a token bucket."}, []string{"direction", "service"})
	s.Faults = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "faults_injected_total",
		Help: "Injected faults, by type (delay, abort)."}, []string{"direction", "service", "type"})
	s.Upgrades = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "upgrades_total",
		Help: "Connections upgraded (101 Switching Protocols: WebSocket and the like), by direction and service."}, []string{"direction", "service"})
	s.UpgradesOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "upgrades_open",
		Help: "Upgraded connections open now, by direction and service."}, []string{"direction", "service"})
	s.H2CRefusals = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "upstream_h2c_refusals_total",
		Help: "Upstream endpoints found not to speak HTTP/2 with prior knowledge (h2c), counted once per endpoint and transport h2cRetryAfter, not per request."})
	s.TableRevision = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "table_revision",
		Help: "Control-plane revision of the routing table in use."})
	s.TableSwaps = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "table_swaps_total",
		Help: "Routing tables published."})
	s.HealthStatus = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "app_healthy",
		Help: "Result of the local app health check: 1 healthy, 0 not (or not checked yet)."})
	for _, c := range []prometheus.Collector{s.Requests, s.Duration, s.Errors, s.InFlight, s.BreakerState, s.BreakerChanges,
		s.EjectedInstances, s.Ejections, s.Retries, s.RetriesDenied, s.MirrorSent, s.MirrorDropped, s.RateLimited,
		s.Faults, s.Upgrades, s.UpgradesOpen, s.H2CRefusals, s.TableRevision, s.TableSwaps, s.HealthStatus} {
		f(c)
	}
	return s
}

// codes caches the label strings of status codes.
var codes = func() [600]string {
	var c [600]string
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}()

// Code returns the label for a status code.
func Code(code int) string {
	if code >= 0 && code < len(codes) {
		return codes[code]
	}
	return strconv.Itoa(code)
}

// Direction records the requests of one direction. It keeps the metrics
// it looked up by label values, so a request costs a map load instead of
// the label hashing and locking of WithLabelValues. It holds one entry per
// series the Set exports anyway (service, subset and code), no more.
type Direction struct {
	set      *Set
	name     string
	InFlight prometheus.Gauge
	series   sync.Map // seriesKey -> *series
}

type seriesKey struct {
	service, subset string
	code            int
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// Direction returns the recorder for one direction ("inbound", "outbound").
func (s *Set) Direction(name string) *Direction {
	return &Direction{set: s, name: name, InFlight: s.InFlight.WithLabelValues(name)}
}

// Observe records one finished request.
func (d *Direction) Observe(service, subset string, code int, took time.Duration) {
	k := seriesKey{service, subset, code}
	v, ok := d.series.Load(k)
	if !ok {
		v, _ = d.series.LoadOrStore(k, &series{
			requests: d.set.Requests.WithLabelValues(d.name, service, subset, Code(code)),
			duration: d.set.Duration.WithLabelValues(d.name, service, subset),
		})
	}
	sr := v.(*series)
	sr.requests.Inc()
	sr.duration.Observe(took.Seconds())
}
