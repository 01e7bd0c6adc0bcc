// Package httpx is the sidecar's HTTP machinery, both sides of a hop:
//
//   - Server (the side in) accepts connections, speaks HTTP/1.1 on its
//     own connection loop, hands connections that open with the HTTP/2
//     preface (h2c, what gRPC clients send in cleartext) to net/http's
//     HTTP/2 server, and presents every request to an http.Handler.
//   - Client (the side out) is an http.RoundTripper: HTTP/1.1 over its
//     own keep-alive pool, HTTP/2 with prior knowledge over net/http's
//     Transport, set up so that failed connections leave memory at once
//     and addresses that refuse h2c are remembered.
//   - The wire code both share: heads read in place and written straight
//     into a bufio.Writer (sanitised as net/http does, without the sorting
//     and string building of http.Header.Write), bodies, chunking, and the
//     status and connection rules.
//
// The hand-written HTTP/1.1 paths exist for measured reasons: a proxy
// pays net/http's per-request costs twice per hop (docs/benchmarks.md,
// "Sidecar"). Both sides keep net/http's shape, so net/http's server and
// Transport can take their place: ServerOptions.NetHTTP and
// ClientOptions.NetHTTP (sidecar config runtime.http: nethttp) do, and
// the sidecar's test suites run over both as a differential check.
package httpx
