package registrysync

import (
	"context"
	"github.com/meshbridge/meshbridge/internal/kinds"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/registry"
)

// Metadata keys every copy carries, in every registry, so that the syncer
// knows it for its own and never exports it again. They are valid as
// Eureka XML element names, Consul meta keys (letters, digits, '-' and
// '_') and Nacos and ZooKeeper metadata keys.
const (
	// MetaOrigin is the name (Registry.Name in the config) of the
	// registry the copied instance was registered in.
	MetaOrigin = "meshbridge-sync-origin"
	// MetaOwner is the id of the syncer that wrote the copy; a syncer
	// updates and deletes only copies with its own id.
	MetaOwner = "meshbridge-sync-owner"
)

// IsCopy reports whether inst was written by a syncer (any syncer): a
// copy is never exported again, which is what keeps A<->B from looping.
func IsCopy(inst *registry.Instance) bool {
	return inst.Metadata[MetaOwner] != "" || inst.Metadata[MetaOrigin] != ""
}

// ServiceKey names a service in a registry. Registries without
// namespaces or groups leave them empty; the pair's mapping fills the
// target's.
type ServiceKey struct {
	Namespace, Group, Service string
}

// Group is every instance one service has in a source at one moment.
// Instances are in the registry model (registry.Instance); each connector
// documents how its registry's fields map to it (docs/registrysync.md).
type Group struct {
	Key       ServiceKey
	Instances []*registry.Instance
}

// Update is what a Source reports. Groups replace what was known of their
// services: a group without instances means the service has none left.
type Update struct {
	Groups []Group
	// Complete is set when the update is a whole, successful listing of
	// the source: every service it holds is in Groups, so a service known
	// before and absent now is gone. Only a complete listing lets the
	// engine delete copies of services it does not name.
	Complete bool
}

// Source reports the instances of one registry.
type Source interface {
	// Run lists the registry, then follows its changes, sending updates
	// until ctx ends; then it returns nil. The first update after a start
	// or a reconnection is Complete. A listing that fails or is partial
	// is not sent (stale beats partial), and a source that cannot be
	// reached sends nothing until it can: the engine keeps what it has.
	// Errors are reported through Env.Logger and the connector's
	// metrics; Run returns an error only when it cannot run at all (a
	// configuration the registry refuses).
	Run(ctx context.Context, updates chan<- Update) error
}

// Sink holds the copies one syncer writes into a registry.
type Sink interface {
	// Owned lists, completely, the copies in the registry whose MetaOwner
	// is the syncer's id, or fails: a partial answer is an error.
	Owned(ctx context.Context) ([]*registry.Instance, error)
	// Put creates or updates a copy. inst carries MetaOrigin and MetaOwner
	// and its identity (service, id) stays the one it was written with,
	// so it can be renewed and removed by it. From Put on, keeping the
	// copy alive the way the registry expects (Eureka lease renewals,
	// Consul TTL checks, Nacos ephemeral instances on the sink's own
	// connection, ZooKeeper ephemeral nodes, re-created after a session
	// expiry) is the sink's job, until Delete or Close.
	Put(ctx context.Context, inst *registry.Instance) error
	// Delete removes a copy; a copy already gone is not an error.
	Delete(ctx context.Context, inst *registry.Instance) error
}

// Connector is one registry as the syncer sees it.
type Connector interface {
	Source
	Sink
	// Close stops keeping the copies alive and releases connections.
	// With remove set it deletes the copies first (a syncer that stops
	// for good); without, copies die the way the registry lets them
	// (lease expiry, TTL, session end) unless a peer takes them over.
	Close(ctx context.Context, remove bool) error
}

// Config is a connector's configuration: the keys under a registry entry
// of registrysync's configuration besides name and type, decoded strictly
// onto NewConfig's defaults.
type Config interface {
	// Validate names every wrong field with its path below the registry
	// entry ("urls: must not be empty").
	Validate() error
}

// Env is what a connector is built with.
type Env struct {
	// Name is the registry's name in the configuration: the value of
	// MetaOrigin on copies of its instances.
	Name string
	// Owner is the syncer's id: the value of MetaOwner on its copies.
	Owner string
	// Logger is scoped to the connector already.
	Logger *slog.Logger
	// Metrics receives the connector's metrics; nil for none.
	Metrics prometheus.Registerer
}

// Kind is a registered connector.
type Kind struct {
	// Name is the registry type as the configuration names it ("eureka").
	Name string
	// NewConfig returns the configuration with every default filled in.
	NewConfig func() Config
	// New builds the connector from a validated configuration. It has no
	// side effects: nothing is dialled until Run, Owned or Put.
	New func(cfg Config, env Env) (Connector, error)
}

var registered = kinds.New[Kind]("registrysync: connector")

// Register adds a connector kind. An empty or duplicate name panics:
// connectors register at init, and a clash is a programming error.
func Register(k Kind) {
	if k.NewConfig == nil || k.New == nil {
		panic("registrysync: connector " + k.Name + " needs NewConfig and New")
	}
	registered.Register(k.Name, k)
}

// Lookup returns a registered connector kind.
func Lookup(name string) (Kind, bool) { return registered.Lookup(name) }

// Names lists the registered connector kinds, sorted.
func Names() []string { return registered.Names() }
