package consul

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/internal/serve"
)

const plainContentType = "text/plain; charset=utf-8"

// httpError is an answer other than 200, written as Consul writes errors:
// a plain-text reason with the status code.
type httpError struct {
	status int
	reason string
}

func (e *httpError) Error() string { return e.reason }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, reason: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, reason: err.Error()}
	}
	w.Header().Set("Content-Type", plainContentType)
	w.WriteHeader(he.status)
	fmt.Fprint(w, he.reason)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client going away is not our error to report
}

// decodeError maps a body decode failure to Consul's answer: 413 when the
// body was over the limit, 408 when it did not arrive in time, else 400
// "Request decode failed: ...".
func decodeError(err error) *httpError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, "Request body too large, max size: %d bytes", mbe.Limit)
	}
	if he := bodyTimeout(err); he != nil {
		return he
	}
	return errorf(http.StatusBadRequest, "Request decode failed: %v", err)
}

// bodyTimeout is the 408 for a body that did not arrive within the
// listener's read time, nil for any other error.
func bodyTimeout(err error) *httpError {
	var bte *serve.BodyTimeoutError
	if errors.As(err, &bte) {
		return errorf(http.StatusRequestTimeout, "Request body read failed: %v", bte)
	}
	return nil
}

// queryKey keeps a request's parsed query in its context, so that the
// handlers of a request parse the query once.
type queryKey struct{}

// withQuery parses the query once for everything that follows.
func withQuery(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), queryKey{}, r.URL.Query()))
}

// query returns the request's parsed query (read-only).
func query(r *http.Request) url.Values {
	if q, ok := r.Context().Value(queryKey{}).(url.Values); ok {
		return q
	}
	return r.URL.Query()
}

// requestToken finds the ACL token the way Consul's agent does: ?token=
// first, then X-Consul-Token, then "Authorization: Bearer <token>".
func requestToken(r *http.Request) string {
	if t := query(r).Get("token"); t != "" {
		return t
	}
	if t := r.Header.Get("X-Consul-Token"); t != "" {
		return t
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, value, ok := strings.Cut(auth, " ")
		if ok && scheme == "Bearer" {
			if fields := strings.Fields(value); len(fields) > 0 {
				return fields[0]
			}
		}
	}
	return ""
}

// authorize enforces the configured token. Consul answers an unknown token
// with "ACL not found" and a missing one with a permission error, both 403.
func (s *Server) authorize(r *http.Request) *httpError {
	if s.opts.ACLToken == "" || strings.HasPrefix(r.URL.Path, "/v1/status/") {
		return nil
	}
	tok := requestToken(r)
	switch {
	case tok == "":
		return errorf(http.StatusForbidden, "Permission denied: anonymous token lacks permission")
	case subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.ACLToken)) != 1:
		return errorf(http.StatusForbidden, "ACL not found")
	}
	return nil
}

// checkScope refuses datacenters and namespaces this agent does not serve,
// as a Consul CE agent with one datacenter does.
func (s *Server) checkScope(r *http.Request) *httpError {
	q := query(r)
	if dc := q.Get("dc"); dc != "" && dc != s.opts.Datacenter {
		return errorf(http.StatusInternalServerError, "No path to datacenter")
	}
	if ns := q.Get("ns"); ns != "" && ns != "default" {
		return errorf(http.StatusBadRequest, "Invalid query parameter: \"ns\" - Namespaces are a Consul Enterprise feature")
	}
	if p := q.Get("partition"); p != "" && p != "default" {
		return errorf(http.StatusBadRequest, "Invalid query parameter: \"partition\" - Partitions are a Consul Enterprise feature")
	}
	_, stale := q["stale"]
	_, consistent := q["consistent"]
	if stale && consistent {
		return errorf(http.StatusBadRequest, "Cannot specify ?stale with ?consistent, conflicting semantics.")
	}
	return nil
}

// endpoint is one route: the methods it accepts and its handler.
type endpoint struct {
	methods []string
	handle  func(w http.ResponseWriter, r *http.Request) error
}

// wrap applies what every Consul endpoint shares: method check (405 with
// Allow), OPTIONS, ACL, datacenter scope, and error writing.
func (s *Server) wrap(e endpoint) http.Handler {
	allow := strings.Join(append([]string{"OPTIONS"}, e.methods...), ",")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withQuery(r)
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", allow)
			return
		}
		allowed := false
		for _, m := range e.methods {
			allowed = allowed || m == r.Method
		}
		if !allowed {
			w.Header().Set("Allow", allow)
			writeError(w, errorf(http.StatusMethodNotAllowed, "method %s not allowed", r.Method))
			return
		}
		if err := s.authorize(r); err != nil {
			writeError(w, err)
			return
		}
		if err := s.checkScope(r); err != nil {
			writeError(w, err)
			return
		}
		if r.Body != nil && !strings.HasPrefix(r.URL.Path, "/v1/kv/") {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		if err := e.handle(w, r); err != nil {
			if r.Context().Err() == nil {
				var he *httpError
				if !errors.As(err, &he) || he.status >= 500 {
					s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
				}
			}
			writeError(w, err)
		}
	})
}

// index serves "/" and unknown paths the way Consul's agent does.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", plainContentType)
	if r.URL.Path == "/" {
		fmt.Fprint(w, "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.")
		return
	}
	w.WriteHeader(http.StatusNotFound)
	if strings.Contains(r.URL.Path, "/v1/") {
		fmt.Fprintln(w, "Invalid URL path: not a recognized HTTP API endpoint")
		return
	}
	fmt.Fprintln(w, "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'")
}
