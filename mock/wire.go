package mock

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// The admin API's JSON shapes, as WireMock writes them (its admin API
// reference, wiremock-admin-api.json), with meshbridge's additions
// marked "own".

// loggedRequest is WireMock's LoggedRequest.
type loggedRequest struct {
	URL                 string                `json:"url"`
	AbsoluteURL         string                `json:"absoluteUrl"`
	Method              string                `json:"method"`
	ClientIP            string                `json:"clientIp"`
	Headers             map[string]any        `json:"headers"`
	Cookies             map[string]any        `json:"cookies"`
	BrowserProxyRequest bool                  `json:"browserProxyRequest"`
	LoggedDate          int64                 `json:"loggedDate"`
	LoggedDateString    string                `json:"loggedDateString"`
	BodyAsBase64        string                `json:"bodyAsBase64"`
	Body                string                `json:"body"`
	QueryParams         map[string]queryParam `json:"queryParams"`
}

type queryParam struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// loggedResponse is WireMock's LoggedResponse.
type loggedResponse struct {
	Status       int            `json:"status"`
	Headers      map[string]any `json:"headers,omitempty"`
	Body         string         `json:"body"`
	BodyAsBase64 string         `json:"bodyAsBase64"`
	// Fault is the fault that broke the answer (own, also WireMock's).
	Fault string `json:"fault,omitempty"`
}

// serveEvent is WireMock's ServeEvent, a journal entry.
type serveEvent struct {
	ID                 string             `json:"id"`
	Request            loggedRequest      `json:"request"`
	ResponseDefinition responseDefinition `json:"responseDefinition"`
	Response           loggedResponse     `json:"response"`
	WasMatched         bool               `json:"wasMatched"`
	StubMapping        *stub.Mapping      `json:"stubMapping,omitempty"`
	// AlsoMatched are the ids of the other stubs that matched, in the
	// order they would have won (own).
	AlsoMatched []string `json:"alsoMatched,omitempty"`
	Timing      timing   `json:"timing"`
}

type responseDefinition struct {
	Status             int  `json:"status"`
	FromConfiguredStub bool `json:"fromConfiguredStub"`
}

type timing struct {
	// AddedDelay is the stub's delay in milliseconds.
	AddedDelay int64 `json:"addedDelay"`
}

func logRequest(e *entry) loggedRequest {
	r := e.request()
	out := loggedRequest{
		URL: r.URL(), AbsoluteURL: r.Scheme + "://" + r.Host + r.URL(), Method: r.Method, ClientIP: e.clientIP,
		Headers: headerMap(r.Header), Cookies: map[string]any{},
		LoggedDate: e.at.UnixMilli(), LoggedDateString: e.at.UTC().Format(time.RFC3339),
		Body: string(r.Body), BodyAsBase64: base64.StdEncoding.EncodeToString(r.Body),
		QueryParams: map[string]queryParam{},
	}
	for name, vs := range r.Cookies {
		out.Cookies[name] = oneOrMany(vs)
	}
	for name, vs := range r.Query {
		out.QueryParams[name] = queryParam{Key: name, Values: vs}
	}
	return out
}

func headerMap(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for name, vs := range h {
		if vs != nil {
			out[name] = oneOrMany(vs)
		}
	}
	return out
}

// oneOrMany is WireMock's way with values: one as a string, several as
// a list.
func oneOrMany(vs []string) any {
	if len(vs) == 1 {
		return vs[0]
	}
	return vs
}

func (e *entry) event() serveEvent {
	out := serveEvent{
		ID: e.ID(), Request: logRequest(e),
		ResponseDefinition: responseDefinition{Status: e.served.Status, FromConfiguredStub: e.stub != nil},
		Response: loggedResponse{
			Status: e.served.Status, Headers: headerMap(e.served.Header), Fault: e.served.Fault,
			Body: string(e.served.Body), BodyAsBase64: base64.StdEncoding.EncodeToString(e.served.Body),
		},
		WasMatched: e.stub != nil, AlsoMatched: e.also,
		Timing: timing{AddedDelay: e.served.Delay.Milliseconds()},
	}
	if e.stub != nil {
		m := e.stub.Mapping
		out.StubMapping = &m
	}
	return out
}

// errorsBody is WireMock's error shape for its admin API.
type errorsBody struct {
	Errors []adminError `json:"errors"`
}

type adminError struct {
	Code   int          `json:"code"`
	Source *errorSource `json:"source,omitempty"`
	Title  string       `json:"title"`
	Detail string       `json:"detail,omitempty"`
}

type errorSource struct {
	Pointer string `json:"pointer"`
}
