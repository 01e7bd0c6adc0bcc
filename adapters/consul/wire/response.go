package wire

import "time"

// Node is a catalog node (api.Node, structs.Node).
type Node struct {
	ID              string
	Node            string
	Address         string
	Datacenter      string
	TaggedAddresses map[string]string
	Meta            map[string]string
	CreateIndex     uint64
	ModifyIndex     uint64
}

// AgentService is a service as /v1/agent/services and /v1/health/service
// write it (api.AgentService; structs.NodeService).
type AgentService struct {
	Kind              string `json:",omitempty"`
	ID                string
	Service           string
	Tags              []string
	Meta              map[string]string
	Port              int
	Address           string
	TaggedAddresses   map[string]ServiceAddress `json:",omitempty"`
	Weights           Weights
	EnableTagOverride bool
	SocketPath        string    `json:",omitempty"`
	Locality          *Locality `json:",omitempty"`
	CreateIndex       uint64    `json:",omitempty"`
	ModifyIndex       uint64    `json:",omitempty"`
	ContentHash       string    `json:",omitempty"`
	Datacenter        string    `json:",omitempty"`
}

// HealthCheckDefinition is the definition a check was registered with.
// Durations are Go duration strings and omitted when zero, as Consul writes
// them: consul/api cannot decode an empty string here.
type HealthCheckDefinition struct {
	HTTP                           string              `json:",omitempty"`
	TLSServerName                  string              `json:",omitempty"`
	TLSSkipVerify                  bool                `json:",omitempty"`
	Header                         map[string][]string `json:",omitempty"`
	Method                         string              `json:",omitempty"`
	Body                           string              `json:",omitempty"`
	DisableRedirects               bool                `json:",omitempty"`
	TCP                            string              `json:",omitempty"`
	TCPUseTLS                      bool                `json:",omitempty"`
	Interval                       string              `json:",omitempty"`
	Timeout                        string              `json:",omitempty"`
	DeregisterCriticalServiceAfter string              `json:",omitempty"`
	// TTL is nanoseconds: Consul writes it without the string treatment
	// the other durations get.
	TTL time.Duration `json:",omitempty"`
}

// HealthCheck is one check (api.HealthCheck, structs.HealthCheck).
type HealthCheck struct {
	Node        string
	CheckID     string
	Name        string
	Status      string
	Notes       string
	Output      string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Type        string
	Interval    string
	Timeout     string
	ExposedPort int
	Definition  HealthCheckDefinition
	CreateIndex uint64
	ModifyIndex uint64
}

// ServiceEntry is one row of /v1/health/service/{name}.
type ServiceEntry struct {
	Node    *Node
	Service *AgentService
	Checks  []*HealthCheck
}

// CatalogService is one row of /v1/catalog/service/{name} (structs.ServiceNode).
type CatalogService struct {
	ID                       string
	Node                     string
	Address                  string
	Datacenter               string
	TaggedAddresses          map[string]string
	NodeMeta                 map[string]string
	ServiceKind              string
	ServiceID                string
	ServiceName              string
	ServiceTags              []string
	ServiceAddress           string
	ServiceTaggedAddresses   map[string]ServiceAddress `json:",omitempty"`
	ServiceWeights           Weights
	ServiceMeta              map[string]string
	ServicePort              int
	ServiceSocketPath        string
	ServiceEnableTagOverride bool
	ServiceLocality          *Locality `json:",omitempty"`
	ServiceProxy             ServiceProxy
	ServiceConnect           struct{}
	CreateIndex              uint64
	ModifyIndex              uint64
}

// ServiceProxy is the (always empty) Connect proxy block Consul writes for
// ordinary services.
type ServiceProxy struct {
	Mode        string
	MeshGateway struct{}
	Expose      struct{}
}

// CatalogNodeServices is /v1/catalog/node/{node}.
type CatalogNodeServices struct {
	Node     *Node
	Services map[string]*AgentService
}

// CatalogNodeServiceList is /v1/catalog/node-services/{node}.
type CatalogNodeServiceList struct {
	Node     *Node
	Services []*AgentService
}

// KVPair is one key as /v1/kv writes it (structs.DirEntry). A nil Value
// encodes as null, as Consul writes empty values.
type KVPair struct {
	LockIndex   uint64
	Key         string
	Flags       uint64
	Value       []byte
	Session     string `json:",omitempty"`
	CreateIndex uint64
	ModifyIndex uint64
}
