package mock

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The mappings in testdata/wiremock are written in WireMock's own format,
// after its documentation and its test fixtures (testdata/README.md).
// Every supported matcher and response field is checked through a real
// net/http client against the loaded folder.
func TestWireMockMappingsLoadUnchanged(t *testing.T) {
	ts := start(t, Options{}, "testdata/wiremock")
	type want struct {
		status int
		body   string // "" checks nothing; a leading "~" checks a part
		header map[string][]string
	}
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		header       []string
		want         want
	}{
		{"url", "GET", "/your/url?and=query", "", nil, want{200, "url", nil}},
		{"urlPattern", "POST", "/your/other?and=query", "", nil, want{200, "urlPattern", nil}},
		{"urlPathPattern: more specific (it names the method)", "GET", "/your/other?and=query", "", nil, want{200, "urlPathPattern", nil}},
		{"urlPath ignores the query", "GET", "/your/path?x=1", "", nil, want{200, "urlPath", nil}},
		{"urlPathPattern", "GET", "/your/abc", "", nil, want{200, "urlPathPattern", nil}},
		{"every header, query and cookie matcher", "GET", "/everything?search_term=WireMock&page=2", "", []string{
			"Content-Type", "application/json", "Accept", "text/plain", "User-Agent", "curl/8.5",
			"X-Flavour", "vanilla", "X-Request-Id", "0b5e2a4c-3b1d-4e6f-8a9b-1c2d3e4f5a6b", "X-Colour", "blue",
			"Cookie", "session=abc12345xyz",
		}, want{200, "everything matched", nil}},
		{"a header that must be absent", "GET", "/everything?search_term=WireMock&page=2", "", []string{
			"Content-Type", "application/json", "Accept", "text/plain", "User-Agent", "curl/8.5",
			"X-Request-Id", "0b5e2a4c-3b1d-4e6f-8a9b-1c2d3e4f5a6b", "Cookie", "session=12345", "X-Debug", "1",
		}, want{404, "~\"headers.X-Debug\"", nil}},
		{"doesNotMatch", "GET", "/everything?search_term=WireMock&page=2", "", []string{
			"Content-Type", "application/json", "Accept", "text/plain", "User-Agent", "curl/8.5",
			"X-Request-Id", "0b5e2a4c-3b1d-4e6f-8a9b-1c2d3e4f5a6b", "Cookie", "session=12345", "X-Colour", "red",
		}, want{404, "~\"headers.X-Colour\"", nil}},
		{"equalToJson inline", "POST", "/json/equal", `{"total_results": 4.0}`, nil, want{200, "equalToJson inline", nil}},
		{"equalToJson string", "POST", "/json/equal-string", `{"total_results":4}`, nil, want{200, "equalToJson string", nil}},
		{"equalToJson less strict", "POST", "/json/less-strict", `{"results":[2,1,3],"total_results":4,"extra":true}`, nil, want{200, "equalToJson less strict", nil}},
		{"equalToJson strict refuses extras", "POST", "/json/equal", `{"total_results":4,"extra":true}`, nil, want{404, "", nil}},
		{"matchesJsonPath presence", "POST", "/json/path", `{"name":"Wiremock"}`, nil, want{200, "matchesJsonPath presence", nil}},
		{"matchesJsonPath presence refused", "POST", "/json/path", `{"price":15}`, nil, want{404, "", nil}},
		{"matchesJsonPath equality in a list", "POST", "/json/path-equality", `{"things":[{"name":"RequiredThing"},{"name":"Wiremock"}]}`, nil, want{200, "matchesJsonPath equality", nil}},
		{"matchesJsonPath equality on an object (Jayway)", "POST", "/json/path-equality", `{"things":{"name":"RequiredThing"}}`, nil, want{200, "matchesJsonPath equality", nil}},
		{"matchesJsonPath equality refused", "POST", "/json/path-equality", `{"things":{"name":"Wiremock"}}`, nil, want{404, "", nil}},
		{"matchesJsonPath regex with a flag", "POST", "/json/path-regex", `{"things":[{"name":"requiredthing"}]}`, nil, want{200, "matchesJsonPath regex", nil}},
		{"matchesJsonPath with a matcher", "POST", "/json/path-nested", `{"todoList":[{"todoItem":"wash the car"}]}`, nil, want{200, "matchesJsonPath nested", nil}},
		{"scenario's first state", "GET", "/todo/items", "", nil, want{200, "<items><item>Buy milk</item></items>", nil}},
		{"jsonBody keeps numbers as written", "GET", "/testjsonmapping", "", nil, want{200, `{"bignumber":1234567890.12,"integer_as_float":2.0,"array":[1,2,3],"integer":2,"key":"value"}`, map[string][]string{"Content-Type": {"application/json"}}}},
		{"bodyFileName", "GET", "/text-file", "", nil, want{200, "Some text from a body file\n", nil}},
		{"bodyFileName in a sub-folder, with a delay", "GET", "/slow-response", "", nil, want{200, "slow stuff", nil}},
		{"Spring Cloud Contract stub", "PUT", "/fraudcheck", `{"client.id":"1234567890","loanAmount":99999}`, []string{"Content-Type", "application/vnd.fraud.v1+json"},
			want{200, `{"fraudCheckStatus":"FRAUD","rejection.reason":"Amount too high","loanAmount":99999}`, map[string][]string{"Content-Type": {"application/vnd.fraud.v1+json;charset=UTF-8"}}}},
		{"Spring Cloud Contract stub refuses a short id", "PUT", "/fraudcheck", `{"client.id":"123","loanAmount":99999}`, []string{"Content-Type", "application/vnd.fraud.v1+json"}, want{404, "", nil}},
		{"templating from the request", "GET", "/templated/things/42?q=a&q=b", "", []string{"X-Trace", "t-1", "Cookie", "session=s1"},
			want{200, "GET templated/things q=a second=b h=t-1 c=s1 url=/templated/things/42?q=a&q=b", map[string][]string{"X-Path-Segment": {"things"}}}},
		{"templating with jsonPath and a default", "POST", "/templated-json", `{"id":"abc"}`, nil, want{201, `{"id": "abc", "size": "M"}`, nil}},
		{"priority: the specific stub first", "GET", "/api/specific-resource", "", nil, want{200, "", nil}},
		{"priority: the catch-all after", "DELETE", "/api/other", "", nil, want{401, `{"status":"Error","message":"Endpoint not found"}`, nil}},
		{"base64Body and a header of several values", "GET", "/binary", "", nil, want{200, "YES INDEED", map[string][]string{"Set-Cookie": {"session=67890; Path=/", "split_test_group=B"}, "Cache-Control": {"no-cache"}}}},
		{"lognormal delay", "GET", "/random/delayed", "", nil, want{200, "", nil}},
		{"uniform delay", "GET", "/uniform/delayed", "", nil, want{200, "", nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, header := call(t, tc.method, ts.URL+tc.path, tc.body, tc.header...)
			if status != tc.want.status {
				t.Fatalf("status %d, want %d; body %s", status, tc.want.status, body)
			}
			if part, ok := strings.CutPrefix(tc.want.body, "~"); ok {
				if !strings.Contains(body, part) {
					t.Errorf("body %s\nwant it to contain %s", body, part)
				}
			} else if tc.want.body != "" && body != tc.want.body {
				t.Errorf("body %q, want %q", body, tc.want.body)
			}
			for k, v := range tc.want.header {
				if got := header.Values(k); strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// A stub's fixed delay and its distribution hold the answer back at
// least as long as they say (only the lower bound is checked: a loaded
// machine may add to it, never take away).
func TestDelays(t *testing.T) {
	ts := start(t, Options{}, "testdata/wiremock")
	for _, tc := range []struct {
		path  string
		least time.Duration
	}{{"/slow-response", 50 * time.Millisecond}, {"/uniform/delayed", 15 * time.Millisecond}} {
		began := time.Now()
		call(t, "GET", ts.URL+tc.path, "")
		if took := time.Since(began); took < tc.least {
			t.Errorf("%s answered in %v, before its delay of at least %v", tc.path, took, tc.least)
		}
	}
}

// Each of WireMock's faults breaks the answer as a real client sees it.
func TestFaults(t *testing.T) {
	ts := start(t, Options{}, "testdata/wiremock")
	for _, tc := range []struct {
		path string
		// check says whether the client's error (or what it read) is the
		// fault's.
		check func(err error) bool
	}{
		{"/fault/reset", func(err error) bool { return err != nil }},
		{"/fault/empty", func(err error) bool {
			return errors.Is(err, io.EOF) || err != nil && strings.Contains(err.Error(), "EOF")
		}},
		{"/fault/malformed", func(err error) bool {
			return errors.Is(err, io.ErrUnexpectedEOF) || err != nil && strings.Contains(err.Error(), "chunk")
		}},
		{"/fault/random", func(err error) bool { return err != nil && strings.Contains(err.Error(), "malformed HTTP") }},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(ts.URL + tc.path)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if !tc.check(err) {
				t.Fatalf("error %v: not the fault's", err)
			}
		})
	}
}
