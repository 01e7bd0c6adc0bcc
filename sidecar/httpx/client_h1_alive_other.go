//go:build !unix

package httpx

// probe is empty where connections cannot be peeked at.
type probe struct{}

// alive cannot peek without blocking here; a dead pooled connection shows
// up as a failed request, which RoundTrip sends again on a new connection
// when retryStale allows.
func (c *h1conn) alive() bool { return true }
