// Package chain is the sidecar's handler chain: the two-method Handler
// interface every handler implements, the Exchange a request carries through
// the chain, the registry handlers add themselves to by name, and Compile,
// which links a configured list of handlers once per configuration so a
// request only walks prebuilt closures.
//
// A handler does one job and calls next to go on; it may call next more than
// once (retry), not at all (rate limit, fault abort), or look at the response
// next returned (breaker, outlier detection). The last handler, transport,
// sends the request to Exchange.Endpoint.
package chain
