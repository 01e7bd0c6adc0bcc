package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/wire"
)

// upgrade completes an exchange the upstream answered with 101 Switching
// Protocols: the answer goes to the client, then the client's connection
// and the upstream's are spliced until both are done. The request counts
// as in flight as long as its tunnel, and the listener's drain waits for
// it (up to the drain timeout, when it is closed).
func (rn *runner) upgrade(w http.ResponseWriter, ex *chain.Exchange, resp *http.Response, service string) {
	up, ok := resp.Body.(io.ReadWriteCloser)
	got := wire.Upgrade(resp.Header)
	if !ok || ex.Upgrade == "" || !strings.EqualFold(got, ex.Upgrade) {
		_ = resp.Body.Close() // refused: nobody will speak on it
		rn.fail(w, ex, service, &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonBadUpgrade,
			Err: fmt.Errorf("upstream switched to %q; %q was asked for", got, ex.Upgrade)})
		return
	}
	tc, err := takeConn(w)
	if err != nil {
		_ = up.Close() // the client cannot be given the tunnel
		rn.fail(w, ex, service, &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonBadUpgrade, Err: err})
		return
	}
	rn.observe.Observe(service, ex.Subset(), resp.StatusCode, time.Since(ex.Start))
	if err := writeSwitch(tc.rw.Writer, resp.Header, got); err != nil {
		_ = tc.conn.Close() // the client is gone
		_ = up.Close()
		return
	}
	dir := rn.dir.String()
	rn.metrics.Upgrades.WithLabelValues(dir, service).Inc()
	open := rn.metrics.UpgradesOpen.WithLabelValues(dir, service)
	open.Inc()
	defer open.Dec()
	t := &tunnel{client: tc.conn, fromClient: tc.rw.Reader, upstream: up, idle: tc.idle}
	t.run()
}

// writeSwitch writes the 101 head to the client: the upstream's fields
// but the hop-by-hop ones, and the two that say what the connection
// became.
func writeSwitch(bw *bufio.Writer, h http.Header, proto string) error {
	removeHopHeaders(h)
	bw.WriteString(statusLine(http.StatusSwitchingProtocols))
	bw.WriteString("Connection: Upgrade\r\n")
	wire.WriteField(bw, "Upgrade", proto)
	wire.WriteHeader(bw, h, nil)
	bw.WriteString("\r\n")
	return bw.Flush()
}

// taken is a client connection taken from the HTTP server for a tunnel.
type taken struct {
	conn net.Conn
	// rw holds what the server buffered: the client's bytes after the
	// request head, and the way to write the answer's head.
	rw *bufio.ReadWriter
	// idle is the listener's TunnelIdleTimeout (0: none).
	idle time.Duration
}

var errNoHijack = errors.New("the client's connection cannot be taken over (HTTP/2?)")

// takeConn takes w's connection for a tunnel. On the proxy's own server
// the connection stays tracked while the handler runs, so the drain
// waits for the tunnel and then closes it; on net/http's (tests) it is
// simply hijacked.
func takeConn(w http.ResponseWriter) (*taken, error) {
	var idle time.Duration
	if r, ok := w.(*response); ok {
		idle = r.c.srv.opts.TunnelIdleTimeout
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, errNoHijack
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		return nil, err
	}
	return &taken{conn: nc, rw: rw, idle: idle}, nil
}
