package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// The HTTP phases shared by HTTPMiddleware (server side) and Do (client
// side, for chains that pass *http.Request and *http.Response along).

// requestOutcome is what the request phase decided.
type requestOutcome struct {
	// direct, when set, is the plugin's answer: nothing else runs.
	direct *sdk.Response
	// state goes back to the plugin in the response phase.
	state string
	// bypass: the call failed and the plugin fails open, so the rest of
	// the chain runs as if it were not there (no response phase either).
	bypass bool
}

// bodyError reports a request body that could not be read for a plugin
// that asked for it: the client's fault (400), not the plugin's.
type bodyError struct{ err error }

func (e *bodyError) Error() string   { return ErrRequestBody.Error() + ": " + e.err.Error() }
func (e *bodyError) Unwrap() []error { return []error{ErrRequestBody, e.err} }

// requestPhase runs the plugin's request phase on r and applies its header
// changes to r. Errors: *bodyError, the caller's context error, or a
// *CallError when the call failed and the plugin fails closed.
func (p *Plugin) requestPhase(r *http.Request) (requestOutcome, error) {
	if !p.info.Request {
		return requestOutcome{}, nil
	}
	req, err := requestView(r, p.info.RequestBodyLimit)
	if err != nil {
		return requestOutcome{}, &bodyError{err}
	}
	res, err := p.HandleRequest(r.Context(), req)
	switch {
	case err != nil && r.Context().Err() != nil:
		return requestOutcome{}, err
	case err != nil && p.FailOpen():
		return requestOutcome{bypass: true}, nil
	case err != nil:
		return requestOutcome{}, err
	case res.Response != nil:
		return requestOutcome{direct: res.Response}, nil
	}
	applyRequestChanges(r, res.Header)
	return requestOutcome{state: res.State}, nil
}

// responsePhase runs the plugin's response phase for r's response and
// applies its changes to header. An error means the response must not go
// out: the caller's context ended, or the call failed and the plugin fails
// closed (*CallError).
func (p *Plugin) responsePhase(ctx context.Context, r *http.Request, state string, status int, header http.Header) error {
	// A copy of the request headers: whoever handled the request may still
	// hold r.Header.
	view := &sdk.Request{}
	fillRequest(view, r)
	view.Header = r.Header.Clone()
	res, err := p.HandleResponse(ctx, &sdk.ResponseInfo{Request: view, Status: status, Header: header, State: state})
	switch {
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil && p.FailOpen():
		return nil
	case err != nil:
		return err
	}
	res.Header.Apply(header)
	return nil
}

// requestView is what the plugin sees of r: headers (shared, not copied:
// the message is encoded before anything changes them) and, for plugins
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

// setDirectHeader puts a plugin's direct response headers on h, with a
// sniffed Content-Type when the plugin gave a body but no type.
func setDirectHeader(h http.Header, d *sdk.Response) {
	for k, vs := range d.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	if len(d.Body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", http.DetectContentType(d.Body))
	}
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

func checkHTTP(p *Plugin) error {
	if !p.Info().HTTP() {
		return fmt.Errorf("plugins: %q is not an HTTP handler plugin", p.Name())
	}
	return nil
}
