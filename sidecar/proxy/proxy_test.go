package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/handlers/transport"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func TestNameResolver(t *testing.T) {
	r := &NameResolver{StripSuffixes: []string{".mesh", ".svc.cluster.local"}, Aliases: map[string]string{"legacy": "orders"}}
	tests := map[string]string{
		"orders": "orders", "Orders:80": "orders", "orders.mesh": "orders", "orders.svc.cluster.local.": "orders",
		"legacy:8080": "orders", "api.example.com": "api.example.com",
	}
	for in, want := range tests {
		if got, ok := r.Resolve(in); !ok || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := r.Resolve(""); ok {
		t.Error("empty host resolved")
	}
}

func TestHostPatterns(t *testing.T) {
	p := HostPatterns{"api.example.com", "*.corp.net", "db.local:5432"}
	tests := map[string]bool{
		"api.example.com:443": true, "API.example.com:80": true, "x.corp.net:443": true, "corp.net:443": false,
		"db.local:5432": true, "db.local:80": false, "evil.com:443": false,
	}
	for in, want := range tests {
		if got := p.Allow(in); got != want {
			t.Errorf("Allow(%q) = %v, want %v", in, got, want)
		}
	}
}

// testEgress is an egress without mesh services that may reach allowed
// hosts, over the transport handler (net/http's Transport under the
// differential check, runtime.http).
func testEgress(t *testing.T, allow HostPatterns) *Egress {
	t.Helper()
	cfg := transport.DefaultConfig()
	cfg.NetHTTP = servetest.NetHTTP()
	tr, err := transport.New(cfg, chain.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return NewEgress(EgressOptions{Tables: table.NewHolder(table.Options{}, nil), Chain: tr.Send, Allow: allow, Direct: tr.Send, Metrics: metrics.New()})
}

func newEgress(t *testing.T, allow HostPatterns) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewServer(testEgress(t, allow))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return srv, &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}, Timeout: 5 * time.Second}
}

// CONNECT tunnels reach allowed hosts only; plain HTTP to an allowed host
// outside the mesh passes through.
func TestEgressToAllowedHosts(t *testing.T) {
	ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "external "+r.Host)
	}))
	defer ext.Close()
	extAddr := ext.Listener.Addr().String()
	srv, client := newEgress(t, HostPatterns{extAddr})

	// Plain HTTP passthrough.
	resp, err := client.Get(ext.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "external "+extAddr {
		t.Errorf("passthrough = %q", b)
	}

	// CONNECT to the allowed host, then speak HTTP through the tunnel.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT "+extAddr+" HTTP/1.1\r\nHost: "+extAddr+"\r\n\r\nGET /t HTTP/1.1\r\nHost: tunnel\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(conn)
	cresp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || cresp.StatusCode != 200 {
		t.Fatalf("CONNECT = %v, %v", cresp, err)
	}
	inner, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(inner.Body)
	if string(b) != "external tunnel" {
		t.Errorf("through the tunnel: %q", b)
	}

	// CONNECT elsewhere is refused.
	conn2, _ := net.Dial("tcp", srv.Listener.Addr().String())
	defer conn2.Close()
	io.WriteString(conn2, "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n")
	r2, err := http.ReadResponse(bufio.NewReader(conn2), &http.Request{Method: http.MethodConnect})
	if err != nil || r2.StatusCode != http.StatusForbidden {
		t.Errorf("CONNECT to a host not allowed: %v, %v; want 403", r2, err)
	}
	// Plain HTTP to a host that is neither mesh nor allowed.
	resp, err = client.Get("http://unknown.example/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Mesh-Error") != chain.ReasonUnknownService {
		t.Errorf("unknown host: %d %q", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))
	}
}

func TestOutboundStripsHopHeaders(t *testing.T) {
	r := httptest.NewRequest("GET", "http://orders/", nil)
	r.Header.Set("Connection", "keep-alive, X-Private")
	r.Header.Set("X-Private", "1")
	r.Header.Set("Keep-Alive", "timeout=5")
	r.Header.Set("Te", "trailers, deflate")
	r.Header.Set("X-Canary", "true")
	ex := newExchange(r, chain.Outbound, nil)
	out := ex.Request
	if cleaned := out.Header; !sameMap(ex.EditHeader(), cleaned) {
		t.Error("a handler's edit copied the headers again: the cleaned copy is the exchange's own")
	}
	for _, h := range []string{"Connection", "X-Private", "Keep-Alive"} {
		if out.Header.Get(h) != "" {
			t.Errorf("%s forwarded", h)
		}
	}
	if out.Header.Get("Te") != "trailers" || out.Header.Get("X-Canary") != "true" {
		t.Errorf("kept headers wrong: %v", out.Header)
	}
	if r.Header.Get("X-Private") != "1" {
		t.Error("the server's request was modified")
	}
	plain := httptest.NewRequest("GET", "http://orders/", nil)
	plain.Header.Set("X-A", "1")
	if o := newExchange(plain, chain.Outbound, nil).Request; !sameMap(o.Header, plain.Header) {
		t.Error("a clean request's headers were copied or changed")
	}
}

func sameMap(a, b http.Header) bool {
	a["X-Probe"] = []string{"1"}
	defer delete(a, "X-Probe")
	return b.Get("X-Probe") == "1"
}

// Trailers from the upstream reach the caller.
func TestWriteResponseTrailers(t *testing.T) {
	rec := httptest.NewRecorder()
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/grpc"}},
		Body: io.NopCloser(strings.NewReader("data")), Trailer: http.Header{"Grpc-Status": {"0"}}, ContentLength: -1}
	if err := writeResponse(rec, resp); err != nil {
		t.Fatal(err)
	}
	res := rec.Result()
	io.ReadAll(res.Body)
	if res.Trailer.Get("Grpc-Status") != "0" || rec.Body.String() != "data" {
		t.Errorf("trailers %v body %q", res.Trailer, rec.Body.String())
	}
}

// needsCleaning finds every hop-by-hop field, in small headers (walked)
// and large ones (looked up).
func TestNeedsCleaning(t *testing.T) {
	for _, hop := range hopHeaders {
		for _, size := range []int{0, 3, len(hopHeaders) + 1} {
			h := http.Header{hop: {"x"}}
			for i := range size {
				h["X-Field-"+strconv.Itoa(i)] = []string{"v"}
			}
			if !needsCleaning(h) {
				t.Errorf("%s among %d other fields: not found", hop, size)
			}
			delete(h, hop)
			if needsCleaning(h) {
				t.Errorf("%d plain fields: reported as needing cleaning", size)
			}
		}
	}
}
