package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// HTTPMiddleware places an HTTP handler plugin in front of next: the
// request phase runs first (the request goes on with the plugin's header
// changes, or the plugin's direct response is written and next is not
// called), and the response phase, when the plugin has one, runs when next
// writes its header. When a call fails, a fail-open plugin is skipped for
// that request and a fail-closed plugin answers 503. It fails if p is not
// an HTTP handler plugin.
func HTTPMiddleware(p *Plugin, next http.Handler) (http.Handler, error) {
	if err := checkHTTP(p); err != nil {
		return nil, err
	}
	return &middleware{p: p, next: next}, nil
}

type middleware struct {
	p    *Plugin
	next http.Handler
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := m.p.requestPhase(r)
	var bodyErr *bodyError
	switch {
	case errors.As(err, &bodyErr):
		writeError(w, http.StatusBadRequest, "invalid", bodyErr.Error())
		return
	case err != nil && r.Context().Err() != nil:
		return // the client is gone; nobody reads an answer
	case err != nil:
		writeUnavailable(w, m.p.Name())
		return
	case out.direct != nil:
		writeDirect(w, out.direct)
		return
	case out.bypass || !m.p.info.Response:
		m.next.ServeHTTP(w, r)
		return
	}
	pw := &phaseWriter{ResponseWriter: w, m: m, r: r, state: out.state}
	m.next.ServeHTTP(pw, r)
	if !pw.wroteHeader {
		pw.WriteHeader(http.StatusOK) // what net/http would send for a handler that wrote nothing
	}
}

func writeDirect(w http.ResponseWriter, resp *sdk.Response) {
	setDirectHeader(w.Header(), resp)
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body) // a failed write means the client is gone
}

// errorBody is the project's JSON error shape.
func errorBody(code, message string) []byte {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}}) // cannot fail for strings
	return body
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	body := errorBody(code, message)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client is gone
}

func writeUnavailable(w http.ResponseWriter, plugin string) {
	writeError(w, http.StatusServiceUnavailable, "unavailable", fmt.Sprintf("plugin %q is unavailable", plugin))
}

// phaseWriter runs the response phase when next writes its header.
type phaseWriter struct {
	http.ResponseWriter
	m           *middleware
	r           *http.Request
	state       string
	wroteHeader bool
	// swallow drops next's body after the response phase refused it.
	swallow bool
}

func (w *phaseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: the real header comes later
		return
	}
	w.wroteHeader = true
	err := w.m.p.responsePhase(w.r.Context(), w.r, w.state, code, w.Header())
	switch {
	case err != nil && w.r.Context().Err() != nil:
		w.swallow = true
	case err != nil:
		clear(w.Header())
		writeUnavailable(w.ResponseWriter, w.m.p.Name())
		w.swallow = true
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *phaseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the plugin.
func (w *phaseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.swallow {
		_ = http.NewResponseController(w.ResponseWriter).Flush() // not every writer can flush; nothing to do then
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *phaseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
