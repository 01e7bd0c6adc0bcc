// Package serve runs a binary's HTTP listeners the same way everywhere:
// one set of timeouts and limits (the time to read a request's header and
// its body, the header's size), a base context that long-polls watch so
// they end at shutdown, and a graceful drain bounded by a deadline. Each
// listener is an actor of the binary's run group (internal/app): Join for
// an HTTP handler, JoinServer for a server of the same shape (the
// sidecar's proxies). Front-ends that run their own server build it with
// NewServer, so every listener gets the same bounds.
package serve
