package host

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// Next continues a client-side chain: it sends the request on and returns
// the response.
type Next func(*http.Request) (*http.Response, error)

// Do runs an HTTP handler plugin around next, for chains that pass
// requests and responses along instead of writing to an
// http.ResponseWriter (the sidecar's). The request phase edits req's
// headers or answers directly (a response with the plugin's status,
// headers and body; next is not called); the response phase, if any, edits
// the response's headers. When a call fails, a fail-open plugin is skipped;
// a fail-closed one makes Do return a *CallError, which the caller answers
// with 503. A request body that cannot be read for the plugin gives an
// error wrapping ErrRequestBody (answer 400); a request whose context ended
// gives the context's error.
func Do(p *Plugin, req *http.Request, next Next) (*http.Response, error) {
	if err := checkHTTP(p); err != nil {
		return nil, err
	}
	out, err := p.requestPhase(req)
	switch {
	case err != nil:
		return nil, err
	case out.direct != nil:
		return directResponse(req, out.direct), nil
	}
	resp, err := next(req)
	if err != nil || out.bypass || !p.info.Response {
		return resp, err
	}
	if err := p.responsePhase(req.Context(), req, out.state, resp.StatusCode, resp.Header); err != nil {
		_ = resp.Body.Close() // the response will not be used
		return nil, err
	}
	return resp, nil
}

func directResponse(req *http.Request, d *sdk.Response) *http.Response {
	header := http.Header{}
	setDirectHeader(header, d)
	header.Set("Content-Length", strconv.Itoa(len(d.Body)))
	return &http.Response{
		Status:        strconv.Itoa(d.Status) + " " + http.StatusText(d.Status),
		StatusCode:    d.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(d.Body)),
		ContentLength: int64(len(d.Body)),
		Request:       req,
	}
}
