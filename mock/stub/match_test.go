package stub

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// compileJSON compiles one mapping written as JSON, failing t on error.
func compileJSON(t *testing.T, mapping string) *Stub {
	t.Helper()
	m, err := DecodeJSON([]byte(mapping))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	s, err := Compile(m, nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s
}

func request(method, target, body string, header ...string) *Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return NewRequest(r, []byte(body))
}

// Every matcher and URL form, each with a request it must take and one
// it must refuse, in WireMock's own JSON.
func TestRequestMatching(t *testing.T) {
	for _, tc := range []struct {
		name    string
		request string // the "request" object of a mapping
		yes, no *Request
	}{
		{"method", `{"method":"POST"}`, request("POST", "/", ""), request("GET", "/", "")},
		{"method ANY", `{"method":"ANY","url":"/a"}`, request("DELETE", "/a", ""), request("DELETE", "/b", "")},
		{"url is path and query", `{"url":"/a?x=1"}`, request("GET", "/a?x=1", ""), request("GET", "/a", "")},
		{"urlPath ignores the query", `{"urlPath":"/a"}`, request("GET", "/a?x=1", ""), request("GET", "/a/b", "")},
		{"urlPattern is whole and sees the query", `{"urlPattern":"/a/[0-9]+\\?x=.*"}`, request("GET", "/a/12?x=1", ""), request("GET", "/a/12/b?x=1", "")},
		{"urlPathPattern is whole", `{"urlPathPattern":"/a/[0-9]+"}`, request("GET", "/a/12?x=1", ""), request("GET", "/b/a/12", "")},
		{"urlPathPattern case-insensitive", `{"urlPathPattern":"(?i)/Orders/[0-9]+"}`, request("GET", "/ORDERS/12", ""), request("GET", "/orders/12/x", "")},
		{"urlPathPattern with a literal prefix", `{"urlPathPattern":"/orders/7/[a-f]+"}`, request("GET", "/orders/7/beef", ""), request("GET", "/orders/8/beef", "")},
		{"query equalTo", `{"queryParameters":{"q":{"equalTo":"x y"}}}`, request("GET", "/?q=x%20y", ""), request("GET", "/?q=x", "")},
		{"query one of several values", `{"queryParameters":{"q":{"equalTo":"b"}}}`, request("GET", "/?q=a&q=b", ""), request("GET", "/?q=a", "")},
		{"query absent", `{"queryParameters":{"q":{"absent":true}}}`, request("GET", "/", ""), request("GET", "/?q=1", "")},
		{"header equalTo caseInsensitive", `{"headers":{"Accept":{"equalTo":"APPLICATION/JSON","caseInsensitive":true}}}`, request("GET", "/", "", "Accept", "application/json"), request("GET", "/", "", "Accept", "text/plain")},
		{"header name any case", `{"headers":{"x-colour":{"equalTo":"red"}}}`, request("GET", "/", "", "X-Colour", "red"), request("GET", "/", "")},
		{"header contains", `{"headers":{"Accept":{"contains":"json"}}}`, request("GET", "/", "", "Accept", "application/json"), request("GET", "/", "", "Accept", "text/xml")},
		{"header doesNotContain", `{"headers":{"Accept":{"doesNotContain":"xml"}}}`, request("GET", "/", "", "Accept", "application/json"), request("GET", "/", "", "Accept", "text/xml")},
		{"header matches whole", `{"headers":{"Content-Type":{"matches":"application/json.*"}}}`, request("GET", "/", "", "Content-Type", "application/json;charset=UTF-8"), request("GET", "/", "", "Content-Type", "text/application/json")},
		{"header doesNotMatch", `{"headers":{"X-N":{"doesNotMatch":"[0-9]+"}}}`, request("GET", "/", "", "X-N", "1a"), request("GET", "/", "", "X-N", "12")},
		{"header doesNotMatch without its prefix", `{"headers":{"X-N":{"doesNotMatch":"id-[0-9]+"}}}`, request("GET", "/", "", "X-N", "di-1"), request("GET", "/", "", "X-N", "id-12")},
		{"header absent", `{"headers":{"X-Debug":{"absent":true}}}`, request("GET", "/", ""), request("GET", "/", "", "X-Debug", "1")},
		{"header present (absent false)", `{"headers":{"X-Debug":{"absent":false}}}`, request("GET", "/", "", "X-Debug", "1"), request("GET", "/", "")},
		{"cookie", `{"cookies":{"session":{"matches":"[a-f0-9]+"}}}`, request("GET", "/", "", "Cookie", "a=1; session=beef"), request("GET", "/", "", "Cookie", "session=zz")},
		{"body equalTo", `{"bodyPatterns":[{"equalTo":"hello"}]}`, request("POST", "/", "hello"), request("POST", "/", "hello!")},
		{"body contains", `{"bodyPatterns":[{"contains":"newspaper"}]}`, request("POST", "/", "Cancel newspaper subscription"), request("POST", "/", "milk")},
		{"body matches", `{"bodyPatterns":[{"matches":".*<id>[0-9]+</id>.*"}]}`, request("POST", "/", "<a><id>7</id></a>"), request("POST", "/", "<a><id>x</id></a>")},
		{"body absent", `{"bodyPatterns":[{"absent":true}]}`, request("POST", "/", ""), request("POST", "/", "x")},
		{"equalToJson as a string", `{"bodyPatterns":[{"equalToJson":"{\"a\":1,\"b\":[1,2]}"}]}`, request("POST", "/", `{"b":[1,2],"a":1.0}`), request("POST", "/", `{"a":1,"b":[2,1]}`)},
		{"equalToJson inline", `{"bodyPatterns":[{"equalToJson":{"a":{"b":"c"}}}]}`, request("POST", "/", `{"a":{"b":"c"}}`), request("POST", "/", `{"a":{"b":"c","d":1}}`)},
		{"equalToJson ignoreArrayOrder", `{"bodyPatterns":[{"equalToJson":"[1,2,3]","ignoreArrayOrder":true}]}`, request("POST", "/", `[3,1,2]`), request("POST", "/", `[3,1,1]`)},
		{"equalToJson ignoreExtraElements", `{"bodyPatterns":[{"equalToJson":{"a":1,"l":[1]},"ignoreExtraElements":true}]}`, request("POST", "/", `{"a":1,"b":2,"l":[1,2]}`), request("POST", "/", `{"b":2}`)},
		{"equalToJson not JSON", `{"bodyPatterns":[{"equalToJson":"{}"}]}`, request("POST", "/", `{}`), request("POST", "/", `not json`)},
		{"matchesJsonPath present", `{"bodyPatterns":[{"matchesJsonPath":"$.name"}]}`, request("POST", "/", `{"name":"x"}`), request("POST", "/", `{"other":"x"}`)},
		{"matchesJsonPath null is absent", `{"bodyPatterns":[{"matchesJsonPath":"$.name"}]}`, request("POST", "/", `{"name":[]}`), request("POST", "/", `{"name":null}`)},
		{"matchesJsonPath filter", `{"bodyPatterns":[{"matchesJsonPath":"$.things[?(@.name == 'RequiredThing')]"}]}`, request("POST", "/", `{"things":[{"name":"RequiredThing"}]}`), request("POST", "/", `{"things":[{"name":"Other"}]}`)},
		{"matchesJsonPath Spring Cloud Contract root filter", `{"bodyPatterns":[{"matchesJsonPath":"$[?(@.['loanAmount'] == 99999)]"}]}`, request("PUT", "/", `{"loanAmount":99999}`), request("PUT", "/", `{"loanAmount":123}`)},
		{"matchesJsonPath Jayway regex is whole", `{"bodyPatterns":[{"matchesJsonPath":"$[?(@.clientId =~ /([0-9]{10})/)]"}]}`, request("PUT", "/", `{"clientId":"1234567890"}`), request("PUT", "/", `{"clientId":"12345678901"}`)},
		{"matchesJsonPath with a matcher", `{"bodyPatterns":[{"matchesJsonPath":{"expression":"$..todoItem","contains":"wash"}}]}`, request("POST", "/", `{"a":{"todoItem":"wash the car"}}`), request("POST", "/", `{"a":{"todoItem":"dry"}}`)},
		{"matchesJsonPath with equalToJson", `{"bodyPatterns":[{"matchesJsonPath":{"expression":"$.a","equalToJson":"{\"b\":1}"}}]}`, request("POST", "/", `{"a":{"b":1}}`), request("POST", "/", `{"a":{"b":2}}`)},
		{"matchesJsonPath with absent", `{"bodyPatterns":[{"matchesJsonPath":{"expression":"$.a","absent":true}}]}`, request("POST", "/", `{"b":1}`), request("POST", "/", `{"a":1}`)},
		{"all body patterns", `{"bodyPatterns":[{"contains":"a"},{"contains":"b"}]}`, request("POST", "/", "ab"), request("POST", "/", "a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := compileJSON(t, `{"request":`+tc.request+`}`)
			if !s.Matches(tc.yes) {
				t.Errorf("refused %s %s %q: %+v", tc.yes.Method, tc.yes.URL(), tc.yes.Body, s.Explain(tc.yes))
			}
			if s.Matches(tc.no) {
				t.Errorf("took %s %s %q", tc.no.Method, tc.no.URL(), tc.no.Body)
			}
			if len(s.Explain(tc.no)) == 0 {
				t.Errorf("no mismatch explained for the request it refused")
			}
		})
	}
}

func TestExplainNamesEachFailedCondition(t *testing.T) {
	s := compileJSON(t, `{"request":{"method":"POST","urlPath":"/pay","headers":{"Accept":{"equalTo":"application/json"}},"bodyPatterns":[{"matchesJsonPath":"$.amount"}]}}`)
	got := s.Explain(request("GET", "/pay", `{"x":1}`, "Accept", "text/plain"))
	want := []Mismatch{
		{"method", "POST", "GET", methodWeight},
		{"headers.Accept", `equalTo "application/json"`, "text/plain", otherWeight},
		{"bodyPatterns[0]", `matchesJsonPath "$.amount"`, `{"x":1}`, otherWeight},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mismatch %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if s.Conditions() != 4 {
		t.Errorf("conditions %d, want 4", s.Conditions())
	}
	if d := Distance(got, s, 0); d != 5.0/15 {
		t.Errorf("distance %v, want 5/15 (method 3, header 1, body 1 of url 10 + method 3 + 2)", d)
	}
}

func TestJaywayPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"$.a", "$.a"},
		{"$[?(@.['a'] == 1)]", "$[?(@['a'] == 1)]"},
		{"$[?(@.a =~ /x.*/)]", "$[?(@.a =~ /^(?:x.*)$/)]"},
		{"$[?(@.a =~ /x/i)]", "$[?(@.a =~ /(?i)^(?:x)$/)]"},
		{`$[?(@.a =~ /a\/b/)]`, `$[?(@.a =~ /^(?:a\/b)$/)]`},
		{"$[?(@.a == '.[x =~ /y/')]", "$[?(@.a == '.[x =~ /y/')]"},
	} {
		if got := jaywayPath(tc.in); got != tc.want {
			t.Errorf("jaywayPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewRequestKeepsTheURLAsSent(t *testing.T) {
	r := request(http.MethodGet, "/a%2Fb/c?x=%20&y", "")
	if r.URL() != "/a%2Fb/c?x=%20&y" || r.Query.Get("x") != " " {
		t.Fatalf("url %q, query %v", r.URL(), r.Query)
	}
}

// A URL pattern's first segment, by which sets index it, is one every
// request it matches has in its path; patterns without a sure one have
// none.
func TestFirstSegment(t *testing.T) {
	for _, tc := range []struct {
		request string
		match   *Request // a request the stub matches
		want    string   // "" for none
	}{
		{`{"urlPathPattern":"/orders/[0-9]+"}`, request("GET", "/orders/7", ""), "/orders/"},
		{`{"urlPattern":"/orders/[0-9]+\\?x=1"}`, request("GET", "/orders/7?x=1", ""), "/orders/"},
		{`{"urlPattern":"/a\\?b/.*"}`, request("GET", "/a?b/c", ""), ""},
		{`{"urlPathPattern":"(?i)/Orders/.*"}`, request("GET", "/ORDERS/7", ""), ""},
		{`{"urlPathPattern":"/orders.*"}`, request("GET", "/orders/7", ""), ""},
		{`{"urlPathPattern":"/v1/orders/.*|/v2/orders/.*"}`, request("GET", "/v2/orders/7", ""), ""},
		{`{"urlPath":"/orders/7"}`, request("GET", "/orders/7", ""), ""},
		{`{"method":"GET"}`, request("GET", "/orders/7", ""), ""},
	} {
		s := compileJSON(t, `{"request":`+tc.request+`}`)
		if !s.Matches(tc.match) {
			t.Fatalf("%s refused %s", tc.request, tc.match.URL())
		}
		got, ok := s.FirstSegment()
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: first segment %q %v, want %q", tc.request, got, ok, tc.want)
		}
		if ok && PathSegment(tc.match.Path) != got {
			t.Errorf("%s matches %s, whose first segment is %q, not %q", tc.request, tc.match.Path, PathSegment(tc.match.Path), got)
		}
	}
}
