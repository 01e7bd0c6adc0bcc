package stub

import (
	"crypto/tls"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// A packed request reads back as the request it was: every field, the
// query and cookies parsed from it again, and the same stubs match it.
func TestPackedRequestReadsBack(t *testing.T) {
	tlsReq := httptest.NewRequest("PUT", "https://example.com:8443/a%20b/c?x=1", strings.NewReader("x"))
	tlsReq.TLS = &tls.ConnectionState{}
	for _, tc := range []struct {
		name string
		req  *Request
	}{
		{"bare GET", request("GET", "/", "")},
		{"query, headers, cookies and a JSON body", request("POST", "/orders/7?colour=blue&colour=red&empty=", `{"items":[{"sku":"sku-7"}]}`,
			"X-Trace", "a", "X-Trace", "b", "X-Empty", "", "Cookie", "session=s1; theme=dark", "Cookie", "session=s2")},
		{"https, an escaped path, bytes that are not UTF-8", NewRequest(tlsReq, []byte{0xff, 0x00, 0xfe})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Unpack(tc.req.Pack())
			if got.Method != tc.req.Method || got.Scheme != tc.req.Scheme || got.Host != tc.req.Host || got.Path != tc.req.Path || got.RawQuery != tc.req.RawQuery {
				t.Errorf("read back %s %s://%s%s?%s, want %s %s://%s%s?%s", got.Method, got.Scheme, got.Host, got.Path, got.RawQuery,
					tc.req.Method, tc.req.Scheme, tc.req.Host, tc.req.Path, tc.req.RawQuery)
			}
			for _, f := range []struct {
				name      string
				got, want any
			}{{"header", got.Header, tc.req.Header}, {"query", got.Query, tc.req.Query}, {"cookies", got.Cookies, tc.req.Cookies}, {"body", string(got.Body), string(tc.req.Body)}} {
				if !reflect.DeepEqual(f.got, f.want) {
					t.Errorf("%s read back %#v, want %#v", f.name, f.got, f.want)
				}
			}
		})
	}
	s := compileJSON(t, `{"request": {"method": "POST", "urlPath": "/orders/7", "queryParameters": {"colour": {"equalTo": "red"}},
		"cookies": {"theme": {"equalTo": "dark"}}, "headers": {"X-Trace": {"equalTo": "b"}},
		"bodyPatterns": [{"matchesJsonPath": "$.items[?(@.sku == 'sku-7')]"}]}}`)
	req := request("POST", "/orders/7?colour=blue&colour=red", `{"items":[{"sku":"sku-7"}]}`, "X-Trace", "a", "X-Trace", "b", "Cookie", "theme=dark")
	if !s.Matches(req) || !s.Matches(Unpack(req.Pack())) {
		t.Errorf("the stub matches the request: %v, read back: %v; want both", s.Matches(req), s.Matches(Unpack(req.Pack())))
	}
}

// Pack's cost per request, for the journal (go test -bench Pack ./mock/stub/).
func BenchmarkPack(b *testing.B) {
	req := request("GET", "/items/99", "", "User-Agent", "Go-http-client/1.1", "Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		req.Pack()
	}
}
