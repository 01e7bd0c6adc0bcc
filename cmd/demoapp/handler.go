package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/control"
)

// Request headers that steer one answer.
const (
	HeaderLatency = "X-Demo-Latency" // a Go duration added before answering
	HeaderStatus  = "X-Demo-Status"  // answer with this status code
)

// Answer headers naming who answered, so callers need not parse the body.
const (
	HeaderService  = "X-Demo-Service"
	HeaderVersion  = "X-Demo-Version"
	HeaderInstance = "X-Demo-Instance"
)

// maxDownstreamBody bounds what /call reads from a downstream answer.
const maxDownstreamBody = 1 << 20

// fault is the injected misbehaviour of every answer.
type fault struct {
	Latency   time.Duration `json:"latency"`
	ErrorRate float64       `json:"errorRate"`
	Status    int           `json:"status"`
}

// appConfig is what the HTTP behaviour needs.
type appConfig struct {
	Service, Version, Instance string
	// Egress is the sidecar's egress proxy URL; empty means HTTP_PROXY.
	Egress    string
	Propagate []string
	Fault     fault
	// Lookup, when set, finds downstream instances in a registry and
	// calls them directly, as an app without a sidecar does.
	Lookup interface {
		Pick(service string) (string, error)
	}
}

// Answer is the JSON body of every answer.
type Answer struct {
	Service  string `json:"service"`
	Version  string `json:"version"`
	Instance string `json:"instance"`
	Path     string `json:"path"`
	Status   int    `json:"status"`
	Shadow   bool   `json:"shadow,omitempty"`
	// Headers are the propagated headers the request carried.
	Headers map[string]string `json:"headers,omitempty"`
	// Downstream is the answer of the service called by /call.
	Downstream *Answer `json:"downstream,omitempty"`
	// Resent says the call downstream was answered only after this app's
	// HTTP client sent it again (Go re-sends an idempotent request when a
	// reused connection closes before an answer): a retry that is not the
	// mesh's, which the scenario runner counts as a failure.
	Resent bool   `json:"resent,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Stats counts what an instance received since it started.
type Stats struct {
	Requests int64 `json:"requests"`
	// Shadow requests carried X-Mesh-Shadow: true; Plain are the others.
	Shadow int64 `json:"shadow"`
	Plain  int64 `json:"plain"`
	// Errors are answers with a status of 500 or more.
	Errors int64 `json:"errors"`
}

// demo is the demo service: its answers, its downstream calls and the
// misbehaviour it is told to add.
type demo struct {
	cfg    appConfig
	client *http.Client
	mu     sync.RWMutex
	fault  fault
	stats  struct{ requests, shadow, plain, errors atomic.Int64 }
}

func newDemo(cfg appConfig) (*demo, error) {
	proxy := http.ProxyFromEnvironment
	if cfg.Egress != "" {
		u, err := url.Parse(cfg.Egress)
		if err != nil {
			return nil, fmt.Errorf("demoapp: egress: %w", err)
		}
		proxy = http.ProxyURL(u)
	}
	if cfg.Lookup != nil {
		proxy = nil // the lookup gives the instance itself
	}
	if cfg.Fault.Status == 0 {
		cfg.Fault.Status = http.StatusInternalServerError
	}
	a := &demo{cfg: cfg, fault: cfg.Fault}
	a.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               proxy,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     60 * time.Second,
		},
	}
	return a, nil
}

// Handler returns the app's HTTP handler.
func (a *demo) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_demo/stats", a.serveStats)
	mux.HandleFunc("GET /_demo/fault", a.serveFault)
	mux.HandleFunc("PUT /_demo/fault", a.serveFault)
	mux.HandleFunc("GET /actuator/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"UP"}`+"\n") // nothing to do if the prober left
	})
	mux.HandleFunc("/call/{service}/{rest...}", a.serveCall)
	mux.HandleFunc("/", a.serveAnswer)
	return mux
}

// count records one request and says whether it is a shadow copy.
func (a *demo) count(r *http.Request) bool {
	shadow := strings.EqualFold(r.Header.Get(control.HeaderShadow), "true")
	a.stats.requests.Add(1)
	if shadow {
		a.stats.shadow.Add(1)
	} else {
		a.stats.plain.Add(1)
	}
	return shadow
}

// misbehave applies the configured and requested latency and returns the
// status to answer with (0 means answer normally).
func (a *demo) misbehave(ctx context.Context, r *http.Request) int {
	a.mu.RLock()
	f := a.fault
	a.mu.RUnlock()
	delay := f.Latency
	if v := r.Header.Get(HeaderLatency); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 && d <= time.Minute {
			delay += d
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if v := r.Header.Get(HeaderStatus); v != "" {
		if code, err := strconv.Atoi(v); err == nil && code >= 200 && code <= 599 {
			return code
		}
	}
	if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
		return f.Status
	}
	return 0
}

func (a *demo) answer(r *http.Request, shadow bool) *Answer {
	ans := &Answer{
		Service: a.cfg.Service, Version: a.cfg.Version, Instance: a.cfg.Instance,
		Path: r.URL.Path, Status: http.StatusOK, Shadow: shadow,
	}
	for _, h := range a.propagated() {
		if v := r.Header.Get(h); v != "" {
			if ans.Headers == nil {
				ans.Headers = map[string]string{}
			}
			ans.Headers[h] = v
		}
	}
	return ans
}

func (a *demo) propagated() []string {
	out := append([]string(nil), a.cfg.Propagate...)
	for _, h := range out {
		if strings.EqualFold(h, control.HeaderShadow) {
			return out
		}
	}
	return append(out, control.HeaderShadow)
}

func (a *demo) serveAnswer(w http.ResponseWriter, r *http.Request) {
	shadow := a.count(r)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDownstreamBody)) // drain so the connection is reused
	ans := a.answer(r, shadow)
	if code := a.misbehave(r.Context(), r); code != 0 {
		ans.Status = code
	}
	a.write(w, ans)
}

// serveCall calls http://<service>/<rest> through the egress proxy with the
// propagated headers and wraps the downstream answer in its own.
func (a *demo) serveCall(w http.ResponseWriter, r *http.Request) {
	shadow := a.count(r)
	ans := a.answer(r, shadow)
	if code := a.misbehave(r.Context(), r); code != 0 {
		ans.Status = code
		a.write(w, ans)
		return
	}
	host := r.PathValue("service")
	if a.cfg.Lookup != nil {
		addr, err := a.cfg.Lookup.Pick(host)
		if err != nil {
			ans.Status, ans.Error = http.StatusServiceUnavailable, "downstream: "+err.Error()
			a.write(w, ans)
			return
		}
		host = addr
	}
	target := "http://" + host + "/" + r.PathValue("rest")
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	if err != nil {
		ans.Status, ans.Error = http.StatusBadRequest, err.Error()
		a.write(w, ans)
		return
	}
	for _, h := range a.propagated() {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	// Each attempt takes a connection; each answer has a first byte.
	var conns, answers atomic.Int32
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { conns.Add(1) },
		GotFirstResponseByte: func() { answers.Add(1) },
	}))
	resp, err := a.client.Do(req)
	ans.Resent = err == nil && conns.Load() > answers.Load()
	if err != nil {
		ans.Status, ans.Error = http.StatusBadGateway, "downstream: "+err.Error()
		a.write(w, ans)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDownstreamBody))
	var down Answer
	if err == nil {
		err = json.Unmarshal(body, &down)
	}
	if err != nil {
		ans.Status, ans.Error = http.StatusBadGateway, fmt.Sprintf("downstream answered %d without a demo answer", resp.StatusCode)
		a.write(w, ans)
		return
	}
	ans.Downstream = &down
	if resp.StatusCode >= 400 {
		// The caller sees the downstream failure as its own, as a real app would.
		ans.Status = resp.StatusCode
	}
	a.write(w, ans)
}

func (a *demo) write(w http.ResponseWriter, ans *Answer) {
	if ans.Status >= 500 {
		a.stats.errors.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(HeaderService, ans.Service)
	w.Header().Set(HeaderVersion, ans.Version)
	w.Header().Set(HeaderInstance, ans.Instance)
	w.WriteHeader(ans.Status)
	_ = json.NewEncoder(w).Encode(ans) // the caller may be gone; nothing to do
}

func (a *demo) serveStats(w http.ResponseWriter, _ *http.Request) {
	s := Stats{
		Requests: a.stats.requests.Load(), Shadow: a.stats.shadow.Load(),
		Plain: a.stats.plain.Load(), Errors: a.stats.errors.Load(),
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s) // the caller may be gone; nothing to do
}

// serveFault shows (GET) or changes (PUT with query latency, errorRate,
// status) the injected fault.
func (a *demo) serveFault(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		a.mu.Lock()
		next, problems := parseFault(a.fault, r.URL.Query())
		if len(problems) == 0 {
			a.fault = next
		}
		a.mu.Unlock()
		if len(problems) > 0 {
			http.Error(w, strings.Join(problems, "; "), http.StatusBadRequest)
			return
		}
	}
	a.mu.RLock()
	f := a.fault
	a.mu.RUnlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(f) // the caller may be gone; nothing to do
}

// parseFault applies the query's changes to cur; bad values are reported
// and change nothing.
func parseFault(cur fault, q url.Values) (fault, []string) {
	next := cur
	var problems []string
	if v := q.Get("latency"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			problems = append(problems, "latency: want a duration from 0 to 1m")
		}
		next.Latency = d
	}
	if v := q.Get("errorRate"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			problems = append(problems, "errorRate: want a number from 0 to 1")
		}
		next.ErrorRate = f
	}
	if v := q.Get("status"); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 200 || c > 599 {
			problems = append(problems, "status: want 200-599")
		}
		next.Status = c
	}
	return next, problems
}
