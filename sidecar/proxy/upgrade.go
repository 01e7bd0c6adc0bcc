package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// upgrade completes an exchange the upstream answered with 101 Switching
// Protocols: the answer goes to the client, then the client's connection
// and the upstream's are spliced until both are done. The request counts
// as in flight as long as its tunnel, and the listener's drain waits for
// it (up to the drain timeout, when it is closed).
func (rn *runner) upgrade(w http.ResponseWriter, ex *chain.Exchange, resp *http.Response, service string) {
	up, ok := resp.Body.(io.ReadWriteCloser)
	got := httpx.Upgrade(resp.Header)
	if !ok || ex.Upgrade == "" || !strings.EqualFold(got, ex.Upgrade) {
		_ = resp.Body.Close() // refused: nobody will speak on it
		rn.fail(w, ex, service, &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonBadUpgrade,
			Err: fmt.Errorf("upstream switched to %q; %q was asked for", got, ex.Upgrade)})
		return
	}
	t, bw, err := takeConn(w, ex.Request, up)
	if err != nil {
		_ = up.Close() // the client cannot be given the tunnel
		rn.fail(w, ex, service, &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonBadUpgrade, Err: err})
		return
	}
	rn.observe.Observe(service, ex.Subset(), resp.StatusCode, time.Since(ex.Start))
	if err := writeSwitch(bw, resp.Header, got); err != nil {
		t.cut() // the client is gone
		return
	}
	dir := rn.dir.String()
	rn.metrics.Upgrades.WithLabelValues(dir, service).Inc()
	open := rn.metrics.UpgradesOpen.WithLabelValues(dir, service)
	open.Inc()
	defer open.Dec()
	t.run()
}

// writeSwitch writes the 101 head to the client: the upstream's fields
// but the hop-by-hop ones, and the two that say what the connection
// became.
func writeSwitch(bw *bufio.Writer, h http.Header, proto string) error {
	removeHopHeaders(h)
	bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n")
	httpx.WriteField(bw, "Upgrade", proto)
	httpx.WriteHeader(bw, h, nil)
	bw.WriteString("\r\n")
	return bw.Flush()
}

var errNoHijack = errors.New("the client's connection cannot be taken over (HTTP/2?)")

// takeConn takes w's connection, r's, as the client end of a tunnel to
// up, and returns the writer for the answer's head; the client's bytes
// the server had already buffered after the request head go through the
// tunnel first. On the sidecar's server (httpx) the connection stays
// tracked while the handler runs, so the drain waits for the tunnel and
// then closes it; on a bare net/http server (tests) it is simply hijacked.
func takeConn(w http.ResponseWriter, r *http.Request, up io.ReadWriteCloser) (*tunnel, *bufio.Writer, error) {
	var idle time.Duration
	if srv := httpx.ServerOf(r); srv != nil {
		idle = srv.Options().TunnelIdleTimeout
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errNoHijack
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &tunnel{client: nc, fromClient: rw.Reader, upstream: up, idle: idle}, rw.Writer, nil
}
