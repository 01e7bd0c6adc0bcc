package host

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
	info := p.Info()
	if !info.HTTP() {
		return nil, fmt.Errorf("plugins: %q is not an HTTP handler plugin", p.Name())
	}
	return &middleware{p: p, next: next, info: info}, nil
}

type middleware struct {
	p    *Plugin
	next http.Handler
	info sdk.Info
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var view *sdk.Request
	var state string
	if m.info.Request {
		req, err := requestView(r, m.info.RequestBodyLimit)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("read request body: %v", err))
			return
		}
		res, err := m.p.HandleRequest(r.Context(), req)
		switch {
		case err != nil && r.Context().Err() != nil:
			return // the client is gone; nobody reads an answer
		case err != nil && m.p.FailOpen():
			m.next.ServeHTTP(w, r)
			return
		case err != nil:
			writeUnavailable(w, m.p.Name())
			return
		case res.Response != nil:
			writeDirect(w, res.Response)
			return
		}
		applyRequestChanges(r, res.Header)
		view, state = req, res.State
	}
	if !m.info.Response {
		m.next.ServeHTTP(w, r)
		return
	}
	if view == nil {
		view = &sdk.Request{}
	}
	// The response phase sees the request as it went on, without its body,
	// in a copy: next may still be using r.Header when it writes its header.
	v := *view
	fillRequest(&v, r)
	v.Header = r.Header.Clone()
	v.Body, v.BodyTruncated = nil, false
	pw := &phaseWriter{ResponseWriter: w, m: m, r: r, info: &sdk.ResponseInfo{Request: &v, State: state}}
	m.next.ServeHTTP(pw, r)
	if !pw.wroteHeader {
		pw.WriteHeader(http.StatusOK) // what net/http would send for a handler that wrote nothing
	}
}

// requestView is what the plugin sees of r: headers (shared, not copied:
// the message is marshalled before anything changes them) and, for plugins
// that asked, the start of the body, which is put back in front of the rest
// so the whole body still goes on.
func requestView(r *http.Request, bodyLimit int) (*sdk.Request, error) {
	req := &sdk.Request{}
	fillRequest(req, r)
	if bodyLimit <= 0 || r.Body == nil || r.Body == http.NoBody {
		return req, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, int64(bodyLimit)+1))
	if err != nil {
		return nil, err
	}
	if len(buf) > bodyLimit {
		req.Body, req.BodyTruncated = buf[:bodyLimit], true
	} else {
		req.Body = buf
	}
	r.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	return req, nil
}

func fillRequest(req *sdk.Request, r *http.Request) {
	req.Method = r.Method
	req.Scheme = "http"
	if r.TLS != nil {
		req.Scheme = "https"
	}
	req.Host = r.Host
	req.Path = r.URL.Path
	req.RawQuery = r.URL.RawQuery
	req.Proto = r.Proto
	req.RemoteAddr = r.RemoteAddr
	req.Header = r.Header
	req.ContentLength = r.ContentLength
}

type replayBody struct {
	io.Reader
	io.Closer
}

// applyRequestChanges edits the request's headers; a change of Host moves
// the request to that host, as Go keeps it outside the header map.
func applyRequestChanges(r *http.Request, c sdk.HeaderChanges) {
	if c.Empty() {
		return
	}
	c.Apply(r.Header)
	if host := r.Header.Get("Host"); host != "" {
		r.Host = host
		r.Header.Del("Host")
	}
}

func writeDirect(w http.ResponseWriter, resp *sdk.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	if len(resp.Body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", http.DetectContentType(resp.Body))
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body) // a failed write means the client is gone
}

// writeError writes the project's JSON error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}}) // cannot fail for strings
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
	info        *sdk.ResponseInfo
	wroteHeader bool
	// swallow drops next's body after a fail-closed response phase answered 503.
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
	w.info.Status, w.info.Header = code, w.Header()
	res, err := w.m.p.HandleResponse(w.r.Context(), w.info)
	switch {
	case err != nil && w.r.Context().Err() != nil:
		w.swallow = true
		return
	case err != nil && w.m.p.FailOpen():
	case err != nil:
		clear(w.Header())
		writeUnavailable(w.ResponseWriter, w.m.p.Name())
		w.swallow = true
		return
	default:
		res.Header.Apply(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
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
