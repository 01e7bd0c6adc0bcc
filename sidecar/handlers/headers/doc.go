// Package headers is the handler that sets the request headers a
// ServicePolicy names (`headers`) on every call to that service, after
// routing, so routing decides on what the app sent and the upstream (and
// any plugin later in the chain) sees the policy's values.
package headers
