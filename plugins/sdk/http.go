package sdk

import (
	"context"
	"net/http"
)

// RequestHandler handles the request phase of an HTTP call: the request
// goes on with header changes, or the plugin answers it.
type RequestHandler interface {
	HandleRequest(ctx context.Context, req *Request) (*RequestResult, error)
}

// ResponseHandler handles the optional response phase: it sees the status
// and headers the rest of the chain produced and may change the headers.
type ResponseHandler interface {
	HandleResponse(ctx context.Context, resp *ResponseInfo) (*ResponseResult, error)
}

// RequestHandlerFunc adapts a function to RequestHandler.
type RequestHandlerFunc func(ctx context.Context, req *Request) (*RequestResult, error)

// HandleRequest calls f.
func (f RequestHandlerFunc) HandleRequest(ctx context.Context, req *Request) (*RequestResult, error) {
	return f(ctx, req)
}

// ResponseHandlerFunc adapts a function to ResponseHandler.
type ResponseHandlerFunc func(ctx context.Context, resp *ResponseInfo) (*ResponseResult, error)

// HandleResponse calls f.
func (f ResponseHandlerFunc) HandleResponse(ctx context.Context, resp *ResponseInfo) (*ResponseResult, error) {
	return f(ctx, resp)
}

// Request is what a plugin sees of an HTTP request.
type Request struct {
	Method string
	// Scheme is "http" or "https", as the request reached the host.
	Scheme     string
	Host       string
	Path       string
	RawQuery   string
	Proto      string
	RemoteAddr string
	// Header is keyed by canonical header name.
	Header http.Header
	// Body holds at most the plugin's RequestBodyLimit bytes of the body;
	// it is nil for headers-only plugins (the default).
	Body []byte
	// BodyTruncated reports that the body was longer than the limit and
	// Body holds only its start. The whole body still goes upstream.
	BodyTruncated bool
	// ContentLength is the length the client declared; -1 when unknown.
	ContentLength int64
}

// Cookie returns the named cookie of the request, or http.ErrNoCookie.
func (r *Request) Cookie(name string) (*http.Cookie, error) {
	for _, line := range r.Header.Values("Cookie") {
		cookies, err := http.ParseCookie(line)
		if err != nil {
			continue // a malformed Cookie header is the client's problem, not a plugin failure
		}
		for _, c := range cookies {
			if c.Name == name {
				return c, nil
			}
		}
	}
	return nil, http.ErrNoCookie
}

// RequestResult is the outcome of the request phase.
type RequestResult struct {
	// Header is applied to the request before it goes on; it is ignored
	// when Response is set.
	Header HeaderChanges
	// Response, when set, answers the request directly: the rest of the
	// chain and the upstream are not called.
	Response *Response
	// State is handed back unchanged in the response phase
	// (ResponseInfo.State), so a plugin can keep per-request notes without
	// keeping state itself.
	State string
}

// Response is a direct answer to a request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Continue lets the request go on unchanged.
func Continue() *RequestResult { return &RequestResult{} }

// Reply answers the request directly with status, headers and body.
func Reply(status int, header http.Header, body []byte) *RequestResult {
	return &RequestResult{Response: &Response{Status: status, Header: header, Body: body}}
}

// HeaderChanges edit a header set: Remove first, then Set (replaces every
// value), then Add (appends).
type HeaderChanges struct {
	Set    http.Header
	Add    http.Header
	Remove []string
}

// Empty reports whether c changes nothing.
func (c HeaderChanges) Empty() bool {
	return len(c.Set) == 0 && len(c.Add) == 0 && len(c.Remove) == 0
}

// Apply makes the changes to h.
func (c HeaderChanges) Apply(h http.Header) {
	for _, k := range c.Remove {
		h.Del(k)
	}
	for k, vs := range c.Set {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, vs := range c.Add {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
}

// ResponseInfo is what the response phase sees.
type ResponseInfo struct {
	// Request is the request as it left the request phase, without a body.
	Request *Request
	Status  int
	Header  http.Header
	// State is what the request phase returned in RequestResult.State.
	State string
}

// ResponseResult is the outcome of the response phase.
type ResponseResult struct {
	// Header is applied to the response before it is written.
	Header HeaderChanges
}
