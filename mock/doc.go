// Package mock is the mock server's engine: it serves stubs (WireMock
// mappings and meshbridge's YAML form of them, package stub) over HTTP,
// keeps their scenarios' states and a bounded journal of what it served,
// and answers WireMock's admin API, so that a team's existing mappings/
// and __files/ folders, Spring Cloud Contract's stubs and WireMock's
// tooling work unchanged. cmd/mockserver runs it; docs/mockserver.md is
// the user's guide with the compatibility table.
//
// Use:
//
//	srv, err := mock.New(mock.Options{Logger: logger})
//	err = srv.LoadFiles("stubs/")              // mappings/ and __files/; a bad file is an error
//	go srv.Watch(ctx, 0)                        // hot reload: a bad change keeps the last good set
//	mux := http.NewServeMux()
//	mux.Handle("/__admin/", srv.Admin())        // WireMock's admin API
//	mux.Handle("/", srv.Handler())              // the stubs
//
// Which stub answers: of the stubs whose request pattern the request
// meets and whose scenario is in the state they require, the one with
// the best priority (1 first, default 5), then the more specific
// (stub.Stub.Specificity), then the one added later (for files: later in
// path order and in the file; admin additions after all files). Stubs
// that can never answer because an equal one shadows them are a warning
// (an error with Options.Strict). The journal records the stub that
// answered and the others that matched. A set indexes its stubs by exact
// path (url or urlPath), so a request is tried only against the stubs for
// its path and those without an exact one (patterns, no URL), in order.
//
// Scenario states are read once per request and moved with a
// compare-and-swap on the state read: of two requests that read the same
// state, the second matches again against the moved state, so no
// transition is lost. A stub's scenarioKey keeps the state per request
// value (a correlation header, a body field).
//
// Options.Middleware puts handlers in front of the stubs (the plugin
// host's HTTPMiddleware fits); Options.Unmatched answers the requests no
// stub matches in place of the 404 (mock/record's recorder proxies and
// records them).
package mock
