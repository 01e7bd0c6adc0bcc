package v1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve"
)

// Server is the v1 HTTP API.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the API; Handler or Serve expose it.
func New(opts Options) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, log: o.Logger.With("component", "nacos.http"), mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	ns := "/nacos/v1/ns"
	s.mux.HandleFunc("POST "+ns+"/instance", s.secured(s.registerInstance))
	s.mux.HandleFunc("DELETE "+ns+"/instance", s.secured(s.deregisterInstance))
	s.mux.HandleFunc("PUT "+ns+"/instance", s.secured(s.updateInstance))
	s.mux.HandleFunc("GET "+ns+"/instance", s.secured(s.instanceDetail))
	s.mux.HandleFunc("GET "+ns+"/instance/list", s.secured(s.listInstances))
	s.mux.HandleFunc("PUT "+ns+"/instance/beat", s.secured(s.beat))
	s.mux.HandleFunc("GET "+ns+"/service/list", s.secured(s.listServices))
	s.mux.HandleFunc("GET "+ns+"/service", s.secured(s.serviceDetail))
	s.mux.HandleFunc("GET "+ns+"/operator/metrics", s.secured(s.metrics))
	s.mux.HandleFunc("GET "+ns+"/catalog/instances", s.secured(s.catalogInstanceList))
	cs := "/nacos/v1/cs"
	s.mux.HandleFunc("GET "+cs+"/configs", s.secured(s.getConfig))
	s.mux.HandleFunc("POST "+cs+"/configs", s.secured(s.publishConfig))
	s.mux.HandleFunc("DELETE "+cs+"/configs", s.secured(s.removeConfig))
	s.mux.HandleFunc("POST "+cs+"/configs/listener", s.secured(s.listenConfigs))
	s.mux.HandleFunc("POST /nacos/v1/auth/users/login", s.login)
	s.mux.HandleFunc("POST /nacos/v1/auth/login", s.login)
}

// Handler is the API with body limits applied.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		s.mux.ServeHTTP(w, r)
	})
}

// Serve runs an HTTP server on ln until ctx ends, then drains requests in
// flight (long polls answer at once) for up to DrainTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := serve.NewServer(s.Handler(), s.opts.Timeouts, s.opts.Limits)
	hs.WriteTimeout = s.opts.LongPollMax + 10*time.Second
	hs.BaseContext = func(net.Listener) context.Context { return baseCtx }
	hs.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("nacos http: serve: %w", err)
	case <-ctx.Done():
	}
	// End held long polls so the drain does not wait for their timeout.
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close() // drain timed out: cut what is left
		return fmt.Errorf("nacos http: drain: %w", err)
	}
	return nil
}

// params reads request parameters as Nacos's WebUtils does: query string
// first, then a form body. Bodies that are not perfectly URL-encoded (the
// Go SDK does not escape PUT bodies) are read as far as they parse.
type params struct {
	query url.Values
	form  url.Values
}

func readParams(r *http.Request) (*params, error) {
	p := &params{query: r.URL.Query(), form: url.Values{}}
	if !hasForm(r) {
		return p, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	p.form = parseLenient(string(body))
	return p, nil
}

// hasForm tells whether parameters may be in the request's body: a form
// (or untyped) body on anything but a GET.
func hasForm(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet {
		return false
	}
	ct := r.Header.Get("Content-Type")
	return ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// bodyError is the answer to a body that could not be read: 413 over the
// limit, 408 when it did not arrive in time, else the error (500).
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	var bte *serve.BodyTimeoutError
	switch {
	case errors.As(err, &mbe):
		return &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than %d bytes", mbe.Limit)}
	case errors.As(err, &bte):
		return &httpError{status: http.StatusRequestTimeout, msg: bte.Error()}
	}
	return fmt.Errorf("read body: %w", err)
}

// parseLenient parses k=v&k=v, unescaping what unescapes and keeping the
// raw text of what does not.
func parseLenient(s string) url.Values {
	v := url.Values{}
	for pair := range strings.SplitSeq(s, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(val); err == nil {
			val = uv
		}
		v.Add(k, val)
	}
	return v
}

func (p *params) get(key string) string {
	if v := p.query.Get(key); v != "" {
		return v
	}
	return p.form.Get(key)
}

func (p *params) optional(key, def string) string {
	if v := strings.TrimSpace(p.get(key)); v != "" {
		return v
	}
	return def
}

func (p *params) required(key string) (string, error) {
	v := strings.TrimSpace(p.get(key))
	if v == "" {
		return "", badRequest("Param '" + key + "' is required.")
	}
	return v, nil
}

// httpError is an answer other than 200, in Nacos's text form
// ("caused: <message>;", ExceptionUtil.getAllExceptionMsg).
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{status: http.StatusBadRequest, msg: msg} }

func notFound(msg string) error { return &httpError{status: http.StatusNotFound, msg: msg} }

func (s *Server) fail(w http.ResponseWriter, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
	default:
		s.log.Error("request failed", "error", err)
		he = &httpError{status: http.StatusInternalServerError, msg: err.Error()}
	}
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(he.status)
	io.WriteString(w, "caused: "+he.msg+";") // the client may be gone; nothing to do about it
}

func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	io.WriteString(w, text) // the client may be gone; nothing to do about it
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Write(body) // the client may be gone; nothing to do about it
}

// boolParam is commons-lang BooleanUtils.toBoolean: true, on, yes, y, t.
func boolParam(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "on", "yes", "y", "t":
		return true
	}
	return false
}
