package proxy

import (
	"io"
	"net/http"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// hopHeaders are meaningful for one connection only and never forwarded
// (RFC 9110 7.6.1). TE is kept when it says "trailers": gRPC needs it.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// newExchange starts an exchange for the request to forward: the
// exchange's own shallow copy of r without hop-by-hop headers (but for
// the two an upgrade is made of).
func newExchange(r *http.Request, dir chain.Direction, tbl *table.Table) *chain.Exchange {
	ex := chain.NewExchangeCopy(r, dir, tbl)
	ex.Upgrade = upgradeOf(r)
	forwardable(ex)
	return ex
}

// upgradeOf returns the protocol r asks to switch to ("websocket"), or ""
// when it asks for none. h2c is not passed on: the sidecar speaks HTTP/2
// to the next hop itself when the caller does (with prior knowledge), and
// drops the offer as net/http's server does.
func upgradeOf(r *http.Request) string {
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return ""
	}
	p := httpx.Upgrade(r.Header)
	if strings.EqualFold(p, "h2c") {
		return ""
	}
	return p
}

// forwardable turns ex's request, a shallow copy of a server request, into
// the request to forward. The header map is copied (with ex.EditHeader, so
// that a handler editing it later does not copy it again) only when a
// header has to go, so the common keep-alive request costs no header copy.
// An upgrade request keeps its Upgrade field and "Connection: Upgrade":
// they are hop-by-hop, but every hop must pass them on for the upgrade to
// happen.
func forwardable(ex *chain.Exchange) {
	out := ex.Request
	out.RequestURI = ""
	out.Close = false
	if in := out.Header; in == nil || needsCleaning(in) {
		h := ex.EditHeader()
		removeHopHeaders(h)
		if te := in.Values("Te"); httpguts.HeaderValuesContainsToken(te, "trailers") {
			h.Set("Te", "trailers")
		}
		if ex.Upgrade != "" {
			h["Connection"] = []string{"Upgrade"}
			h["Upgrade"] = in["Upgrade"]
		}
	}
}

// needsCleaning reports whether h has a hop-by-hop field. A usual header
// has fewer fields than there are hop-by-hop names, so it walks the
// fields instead of looking up every name (it runs for every request and
// every response).
func needsCleaning(h http.Header) bool {
	if len(h) > len(hopHeaders) {
		for _, k := range hopHeaders {
			if _, ok := h[k]; ok {
				return true
			}
		}
		return false
	}
	for k := range h {
		if isHopHeader(k) {
			return true
		}
	}
	return false
}

// isHopHeader reports whether k is one of hopHeaders.
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, sf := range strings.Split(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// writeResponse streams resp to w: headers (minus hop-by-hop), body, then
// trailers. Streaming responses (gRPC, server-sent events, unknown length)
// are flushed after every read so nothing waits in a buffer.
func writeResponse(w http.ResponseWriter, resp *http.Response) error {
	defer resp.Body.Close()
	h := w.Header()
	if needsCleaning(resp.Header) {
		removeHopHeaders(resp.Header)
	}
	for k, vv := range resp.Header {
		h[k] = vv
	}
	w.WriteHeader(resp.StatusCode)
	flush := resp.ContentLength == -1 || isStreaming(resp.Header.Get("Content-Type"))
	rc := http.NewResponseController(w)
	bp := httpx.CopyBuffers.Get().(*[]byte)
	defer httpx.CopyBuffers.Put(bp)
	buf := *bp
	var err error
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flush {
				if ferr := rc.Flush(); ferr != nil {
					return ferr
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	// Trailers are known only now; the prefix form needs no announcement.
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = vv
	}
	return err
}

func isStreaming(ct string) bool {
	return strings.HasPrefix(ct, "application/grpc") || strings.HasPrefix(ct, "text/event-stream")
}

// writeError answers a request the sidecar could not forward; a gRPC
// caller gets a gRPC status (writeGRPCError).
func writeError(w http.ResponseWriter, ce *chain.Error, grpc bool) {
	h := w.Header()
	h.Set("X-Mesh-Error", ce.Reason)
	msg := ce.Reason
	if ce.Err != nil {
		msg += ": " + ce.Err.Error()
	}
	if grpc {
		writeGRPCError(w, ce.Status, msg)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	status := ce.Status
	if status == 499 {
		status = http.StatusBadGateway // the caller is gone; nobody reads this
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n") // the caller may be gone; nothing to do
}
