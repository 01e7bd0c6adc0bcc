package registry

import "context"

// Elector is implemented by stores that can elect one leader among the
// processes using them, for work that must run once however many replicas
// serve the same data (running health checks, expiring TTLs).
type Elector interface {
	// Lead blocks until this process leads name (or ctx ends, returning
	// ctx's error). The returned context ends when leadership is lost or
	// ctx ends; resign gives leadership up at once and must be called once
	// the work stops.
	Lead(ctx context.Context, name string) (lead context.Context, resign func(), err error)
	// Shared reports whether other processes may use the same data at the
	// same time. When false, Lead returns at once: this process is alone
	// and always leads, and nothing needs to be shared through the store
	// for a leader to see it.
	Shared() bool
}
