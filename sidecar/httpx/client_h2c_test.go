package httpx

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/serve/servetest"
)

// settingsFrame is an empty SETTINGS frame: how an HTTP/2 server speaks first.
var settingsFrame = []byte{0, 0, 0, frameTypeSettings, 0, 0, 0, 0, 0}

// dropAfterHeaders is an upstream that speaks h2c enough to be taken for
// an HTTP/2 server (it sends SETTINGS first) and then closes every
// connection as soon as a request's HEADERS frame arrives: each request
// fails on a new connection, with the request in flight, as against an
// app that gives up on every call. It closes with a FIN, not a reset,
// which could discard its SETTINGS before the client reads them.
func dropAfterHeaders(t *testing.T) string {
	return servetest.ServeRaw(t, func(c net.Conn) {
		if _, err := c.Write(settingsFrame); err != nil {
			return
		}
		preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
		if _, err := io.ReadFull(c, preface); err != nil {
			return
		}
		for {
			var hdr [9]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			if hdr[3] == 0x1 { // HEADERS: a request is in flight
				_ = c.(*net.TCPConn).CloseWrite()
				_, _ = io.Copy(io.Discard, c) // until the client closes too
				return
			}
			n := int64(binary.BigEndian.Uint32(append([]byte{0}, hdr[:3]...)))
			if _, err := io.CopyN(io.Discard, c, n); err != nil {
				return
			}
		}
	})
}

// h2cGet is a GET to addr that asks for h2c.
func h2cGet(addr string) *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/", nil)
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	return r
}

// Failed h2c connections leave memory at once, at any rate of failures:
// net/http's HTTP/2 client held each for its ping interval (30 s) and
// its pool's idle timeout (90 s), which took a sidecar from 20 MB to
// 776 MB in 31 s of failing requests. Each connection dialed here is
// counted until the garbage collector frees it.
func TestH2CFailedConnectionsAreReleased(t *testing.T) {
	addr := dropAfterHeaders(t)
	c := NewClient(ClientOptions{})
	defer c.CloseIdleConnections()
	var dialed, live atomic.Int64
	h2c := c.h2c
	dial := h2c.tr.DialContext
	h2c.tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		nc, err := dial(ctx, network, a)
		if pc, ok := nc.(*prefaceConn); ok {
			dialed.Add(1)
			live.Add(1)
			runtime.AddCleanup(pc, func(n *atomic.Int64) { n.Add(-1) }, &live)
		}
		return nc, err
	}

	const requests = 200
	for i := range requests {
		resp, err := c.RoundTrip(h2cGet(addr))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("request %d answered %d; want a failure", i, resp.StatusCode)
		}
	}
	// At least one each (net/http dials again for a request whose
	// connection failed before it was sent): no refusal was remembered.
	if n := dialed.Load(); n < requests {
		t.Fatalf("%d connections dialed for %d failed requests; want one each at least", n, requests)
	}
	poll.UntilNil(t, "the failed h2c connections to leave memory", func() error {
		runtime.GC()
		if n := live.Load(); n != 0 {
			return fmt.Errorf("%d of %d failed h2c connections still in memory", n, dialed.Load())
		}
		return nil
	}, poll.Within(15*time.Second))
}

// scriptedConn returns its reads one by one, then err; writes fail with
// writeErr when set.
type scriptedConn struct {
	net.Conn
	reads    [][]byte
	err      error
	writeErr error
}

func (c *scriptedConn) Write(p []byte) (int, error) {
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	return len(p), nil
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	if len(c.reads) == 0 {
		return 0, c.err
	}
	n := copy(p, c.reads[0])
	c.reads = c.reads[1:]
	return n, nil
}

func TestPrefaceVerdict(t *testing.T) {
	tests := []struct {
		name     string
		reads    []string
		err      error
		writeErr error // the request's write, before any read
		want     int32
		why      string
	}{
		{"SETTINGS first", []string{string(settingsFrame)}, io.EOF, nil, verdictH2C, ""},
		{"SETTINGS a byte at a time", []string{"\x00", "\x00", "\x00", "\x04"}, io.EOF, nil, verdictH2C, ""},
		{"HTTP/1 answer", []string{"HTTP/1.1 400 Bad Request\r\n"}, io.EOF, nil, verdictRefused, "answered in HTTP/1"},
		{"another frame first", []string{"\x00\x00\x08\x06"}, io.EOF, nil, verdictRefused, "answered something other than HTTP/2"},
		{"closed without a word", nil, io.EOF, nil, verdictRefused, "closed the connection before any HTTP/2 frame"},
		{"reset after two bytes", []string{"HT"}, errors.New("connection reset by peer"), nil, verdictRefused, "closed the connection after 2 bytes"},
		{"write broke first", []string{"HTTP/1.1 505"}, io.EOF, syscall.EPIPE, verdictRefused, "closed the connection before any HTTP/2 frame"},
		{"closed by us", nil, net.ErrClosed, nil, verdictUnknown, ""},
		{"our write after our close", nil, net.ErrClosed, net.ErrClosed, verdictUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var why string
			r := newRefusals(time.Minute, func(_, w string) { why = w })
			sc := &scriptedConn{err: tt.err, writeErr: tt.writeErr}
			for _, s := range tt.reads {
				sc.reads = append(sc.reads, []byte(s))
			}
			pc := &prefaceConn{Conn: sc, addr: "app:8080", refusals: r}
			_, _ = pc.Write([]byte("HEADERS")) // fails with writeErr, if any
			buf := make([]byte, 64)
			for {
				if _, err := pc.Read(buf); err != nil {
					break
				}
			}
			if got := pc.verdict.Load(); got != tt.want {
				t.Errorf("verdict %d; want %d", got, tt.want)
			}
			if why != tt.why {
				t.Errorf("reported %q; want %q", why, tt.why)
			}
			if r.has("app:8080") != (tt.want == verdictRefused) {
				t.Errorf("remembered %v; want %v", r.has("app:8080"), tt.want == verdictRefused)
			}
		})
	}
}

// A refusal is forgotten after its time, so an app that gains h2c is
// tried again; it is reported once per period; and the memory is bounded.
func TestRefusalsExpireAndStayBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	reported := 0
	r := newRefusals(time.Minute, func(string, string) { reported++ })
	r.now = func() time.Time { return now }
	r.add("a:1", "answered in HTTP/1")
	r.add("a:1", "answered in HTTP/1")
	if !r.has("a:1") || reported != 1 {
		t.Fatalf("has %v, reported %d; want true, 1", r.has("a:1"), reported)
	}
	now = now.Add(time.Minute)
	if r.has("a:1") {
		t.Error("refusal still remembered after h2cRetryAfter")
	}
	r.add("a:1", "answered in HTTP/1")
	if reported != 2 {
		t.Errorf("reported %d times; want again after expiry (2)", reported)
	}
	for i := range 3 * maxRefusals {
		r.add(fmt.Sprintf("10.0.%d.%d:80", i/256, i%256), "x")
	}
	if n := len(r.known); n > maxRefusals {
		t.Errorf("%d endpoints remembered; want at most %d", n, maxRefusals)
	}
}
