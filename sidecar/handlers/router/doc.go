// Package router is the outbound handler that picks the pool of endpoints a
// request may go to: shadow instances for shadow requests, the
// highest-priority matching canary's instances, or the stable instances
// split by weight over label subsets.
package router
