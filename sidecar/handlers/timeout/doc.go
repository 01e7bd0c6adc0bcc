// Package timeout is the handler that bounds a whole call, retries
// included: the route's timeout from the ServicePolicy (longest matching
// path prefix), else the policy's, else the configured default. gRPC
// requests get no default timeout, because their streams live long; an
// explicit policy timeout applies to them too.
package timeout
