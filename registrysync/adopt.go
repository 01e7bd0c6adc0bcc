package registrysync

import (
	"context"

	"github.com/meshbridge/meshbridge/registry"
)

// Adopter is a Sink that can keep alive copies it did not Put: copies a
// syncer with the same id wrote before it restarted, or a replica that
// led before this one. The engine hands it the copies Owned listed that
// are right already, instead of writing each of them again, so that a
// restart or a takeover writes nothing into the target (issue rules 7
// and 10). A Sink without it gets those copies through Put once per
// process, which is a write the target sees, where the registry makes
// one of a registration (Eureka, Consul) at all; a registry whose copies
// live with their writer's connection (Nacos, ZooKeeper) lost them with
// the process anyway.
type Adopter interface {
	// Adopt takes the copies over as if Put had written them: from now
	// on the sink keeps them alive, until Delete or Close. They are as
	// Owned listed them.
	Adopt(ctx context.Context, copies []*registry.Instance) error
}

// Elector elects the one replica of a syncer that writes (issue rule
// 10): the others follow their sources, ready to take over.
type Elector interface {
	// Lead blocks until this replica leads (or ctx ends, returning its
	// error). The returned context ends when leadership may be lost;
	// resign gives it up at once and must be called when the work stops.
	Lead(ctx context.Context) (lead context.Context, resign func(), err error)
}

// alone is the Elector of a syncer without replicas: it always leads.
type alone struct{}

func (alone) Lead(ctx context.Context) (context.Context, func(), error) {
	lead, cancel := context.WithCancel(ctx)
	return lead, cancel, nil
}
