package proxy

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// connect answers a CONNECT (HTTP/1.1 only). To a host egress.allowHosts
// lists, it is spliced to a connection to that host. To a mesh service,
// the tunnel ends here: what the client sends through it is served as
// requests to that service (meshTunnel). A spliced tunnel counts as in
// flight until it ends, so the drain waits for it and then closes it; a
// mesh tunnel is one of the listener's keep-alive connections.
func (e *Egress) connect(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		// Its bytes would reach the other end as the tunnel's first ones.
		http.Error(w, "CONNECT with a body", http.StatusBadRequest)
		return
	}
	// An allowed host keeps its tunnel even when a mesh service has its
	// name: listing it is the operator's explicit choice, and a tunnel is
	// what CONNECT asked for.
	if !e.opts.Allow.Allow(target) {
		if name, ok := e.opts.Resolver.Resolve(target); ok && e.opts.Tables.Load().Service(name) != nil {
			e.meshTunnel(w, r, name, target)
			return
		}
		http.Error(w, "CONNECT to "+target+" is not allowed: no mesh service by that name, and not in egress.allowHosts", http.StatusForbidden)
		return
	}
	if _, ok := w.(http.Hijacker); !ok {
		http.Error(w, "CONNECT needs HTTP/1.1", http.StatusNotImplemented)
		return
	}
	up, err := net.DialTimeout("tcp", target, e.opts.DialTimeout)
	if err != nil {
		w.Header().Set("X-Mesh-Error", chain.ReasonConnect)
		http.Error(w, "connect "+target+": "+err.Error(), http.StatusBadGateway)
		return
	}
	t, bw, err := takeConn(w, r, up)
	if err != nil {
		_ = up.Close() // we never used it
		return
	}
	if _, err := bw.WriteString("HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil || bw.Flush() != nil {
		t.cut() // the client is gone
		return
	}
	t.run()
}

// meshTunnel serves a CONNECT to a mesh service: clients that reach an
// HTTP proxy only by CONNECT (WebSocket clients such as the JDK's and
// gorilla/websocket, gRPC clients with a proxy set) send plain HTTP/1.1
// or h2c through the tunnel, and each request goes through the outbound
// chain to the service, as on the service's loopback listener in
// discovery mode. TLS cannot be routed (the sidecar cannot read it): such
// a tunnel is closed, with a warning naming the service.
func (e *Egress) meshTunnel(w http.ResponseWriter, r *http.Request, name, target string) {
	srv := httpx.ServerOf(r)
	hj, ok := w.(http.Hijacker)
	if srv == nil || !ok || r.ProtoMajor != 1 {
		http.Error(w, "CONNECT to a mesh service needs the sidecar's HTTP/1.1 listener", http.StatusNotImplemented)
		return
	}
	if srv.Draining() {
		// Draining: a tunnel opened now would have no request served.
		w.Header().Set("Connection", "close")
		http.Error(w, "the sidecar is shutting down", http.StatusServiceUnavailable)
		return
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := brw.WriteString("HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil || brw.Flush() != nil {
		_ = nc.Close() // the client is gone
		return
	}
	_ = nc.SetReadDeadline(time.Now().Add(srv.Options().ReadHeaderTimeout))
	first, err := brw.Reader.Peek(1)
	if err != nil {
		_ = nc.Close() // nothing came through the tunnel
		return
	}
	if first[0] == tlsHandshake {
		if e.tlsWarned.allow(time.Now()) {
			e.opts.Logger.Warn("TLS through a CONNECT tunnel to a mesh service cannot be routed; call it over plain HTTP (the mesh secures the hop); further ones are logged at most once a minute",
				"service", name, "target", target, "remote", nc.RemoteAddr().String())
		}
		_ = nc.Close()
		return
	}
	srv.ServeConn(&httpx.BufferedConn{Conn: nc, Br: brw.Reader}, e.ForService(name))
}

// tlsHandshake is the first byte of a TLS connection (a handshake record).
const tlsHandshake = 0x16

// everyMinute lets a repeated warning through at most once a minute, so a
// client that keeps retrying cannot flood the log.
type everyMinute struct{ last atomic.Int64 }

func (m *everyMinute) allow(now time.Time) bool {
	last := m.last.Load()
	return now.UnixNano()-last >= int64(time.Minute) && m.last.CompareAndSwap(last, now.UnixNano())
}
