package control

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshbridge/meshbridge/registry"
)

// ServerOptions configure the control API server. Zero values take the
// defaults named beside each field.
type ServerOptions struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every write; reads stay open.
	Token string
	// MaxCanariesPerService caps simultaneous CanaryRules per service (default 5).
	MaxCanariesPerService int
	// MaxBodyBytes caps request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxWait caps a watch long-poll (default 5m); DefaultWait is used
	// when the client gives none (default 60s).
	MaxWait, DefaultWait time.Duration
	Logger               *slog.Logger
	// Registerer receives the server's metrics and Gatherer serves /metrics
	// (both default to a private registry).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Ready, when set, decides /readyz.
	Ready func() error
}

// Backend is what the control API serves: every part of a registry.Store
// but Close, since the binary that opened the store owns its lifetime.
type Backend interface {
	registry.Discovery
	registry.Resources
}

// Server serves the control API over a Backend.
type Server struct {
	store Backend
	opts  ServerOptions
	log   *slog.Logger
	mux   *http.ServeMux
	// applyMu serialises CanaryRule applies so the per-service cap holds.
	applyMu  sync.Mutex
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// fallbacks records paths that already answer 405 for other methods.
	fallbacks map[string]bool
	// elections are the leader elections clients campaign in.
	elections *elections
}

// NewServer builds the server; it has no side effects until served.
func NewServer(store Backend, opts ServerOptions) *Server {
	if opts.MaxCanariesPerService <= 0 {
		opts.MaxCanariesPerService = 5
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 5 * time.Minute
	}
	if opts.DefaultWait <= 0 {
		opts.DefaultWait = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registerer == nil || opts.Gatherer == nil {
		reg := prometheus.NewRegistry()
		opts.Registerer, opts.Gatherer = reg, reg
	}
	s := &Server{store: store, opts: opts, log: opts.Logger.With("component", "control.server"), mux: http.NewServeMux(), fallbacks: map[string]bool{}}
	s.elections = newElections(store, s.log)
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshbridge_control_requests_total",
		Help: "Control API requests by route and status code.",
	}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "meshbridge_control_request_seconds",
		Help:    "Control API request latency by route (watches and campaigns excluded).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"route"})
	opts.Registerer.MustRegister(s.requests, s.latency)
	s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	const p = "/api/v1"
	s.handle("GET "+p+"/services", s.listServices)
	s.handle("GET "+p+"/instances", s.listInstances)
	s.handle("POST "+p+"/instances", s.write(s.registerInstance))
	s.handle("GET "+p+"/instances/{namespace}/{group}/{service}/{id}", s.getInstance)
	s.handle("DELETE "+p+"/instances/{namespace}/{group}/{service}/{id}", s.write(s.deregisterInstance))
	s.handle("PUT "+p+"/instances/{namespace}/{group}/{service}/{id}/renew", s.write(s.renewInstance))
	s.handle("PUT "+p+"/instances/{namespace}/{group}/{service}/{id}/status", s.write(s.setStatus))
	s.handle("DELETE "+p+"/instances/{namespace}/{group}/{service}/{id}/status", s.write(s.clearStatus))
	s.handle("GET "+p+"/kinds", s.listKinds)
	s.handle("GET "+p+"/resources", s.listResources)
	s.handle("GET "+p+"/resources/{kind}", s.listResources)
	s.handle("GET "+p+"/resources/{kind}/{name}", s.getResource)
	s.handle("PUT "+p+"/resources/{kind}/{name}", s.write(s.putResource))
	s.handle("DELETE "+p+"/resources/{kind}/{name}", s.write(s.deleteResource))
	s.handle("GET "+p+"/kv/{key...}", s.getKV)
	s.handle("PUT "+p+"/kv/{key...}", s.write(s.putKV))
	s.handle("DELETE "+p+"/kv/{key...}", s.write(s.deleteKV))
	s.handle("GET "+p+"/watch", s.watch)
	s.handle("GET "+p+"/elections/{name}", s.election)
	s.handle("PUT "+p+"/elections/{name}/candidates/{candidate}", s.write(s.campaign))
	s.handle("DELETE "+p+"/elections/{name}/candidates/{candidate}", s.write(s.resign))
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, "")
	})
}

// statusRecorder remembers the status for metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	route := pattern
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		if !longPoll(route) {
			s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}
	})
	// A path that exists with another method answers 405, not 404.
	if method, path, ok := strings.Cut(pattern, " "); ok {
		s.registerMethodFallback(method, path)
	}
}

// longPoll reports whether route may wait on purpose (a watch, a
// campaign): its latency says nothing about the server.
func longPoll(route string) bool {
	return strings.HasSuffix(route, "/watch") || strings.HasPrefix(route, "PUT ") && strings.HasSuffix(route, "/candidates/{candidate}")
}

func (s *Server) registerMethodFallback(method, path string) {
	if s.fallbacks[path] {
		return
	}
	s.fallbacks[path] = true
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path, "")
	})
}

// write wraps a mutating handler with the token check and the body limit.
func (s *Server) write(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="meshbridge"`)
				writeError(w, http.StatusUnauthorized, CodeUnauthorized, "a valid bearer token is required for writes", "")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		h(w, r)
	}
}

// decodeBody strictly decodes the JSON body into v.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &registry.ValidationError{Field: "body", Message: "a JSON body is required"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ve *registry.ValidationError
		if errors.As(err, &ve) {
			return ve
		}
		return &registry.ValidationError{Field: "body", Message: decodeMessage(err)}
	}
	if dec.More() {
		return &registry.ValidationError{Field: "body", Message: "trailing data after the JSON value"}
	}
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error(), "")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "revision": s.store.Revision()})
}
