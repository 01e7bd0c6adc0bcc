package wire

import (
	"encoding/json"
	"io"
)

// CatalogRegistration is the body of PUT /v1/catalog/register
// (structs.RegisterRequest as consul/api's CatalogRegistration sends it).
type CatalogRegistration struct {
	ID              string
	Node            string
	Address         string
	TaggedAddresses map[string]string
	NodeMeta        map[string]string
	Datacenter      string
	Service         *RegisteredService
	Check           *RegisteredCheck
	Checks          []*RegisteredCheck
	SkipNodeUpdate  bool
	Partition       string
	Namespace       string
	Locality        json.RawMessage
}

// RegisteredService is the Service of a catalog registration (api.AgentService).
type RegisteredService struct {
	Kind              string
	ID                string
	Service           string
	Tags              []string
	Meta              map[string]string
	Port              int
	Ports             json.RawMessage
	Address           string
	SocketPath        string
	TaggedAddresses   map[string]ServiceAddress
	Weights           *Weights
	EnableTagOverride bool
	CreateIndex       uint64
	ModifyIndex       uint64
	ContentHash       string
	Proxy             json.RawMessage
	Connect           json.RawMessage
	PeerName          string
	AI                json.RawMessage
	Namespace         string
	Partition         string
	Datacenter        string
	Locality          *Locality
}

// Definition is the registration as the agent's register body carries it,
// so both paths validate and store a service the same way.
func (s *RegisteredService) Definition() *ServiceDefinition {
	weights := s.Weights
	if weights != nil && *weights == (Weights{}) {
		weights = nil // consul/api always sends Weights; zero means the defaults
	}
	return &ServiceDefinition{
		Kind: s.Kind, ID: s.ID, Name: s.Service, Tags: s.Tags, Address: s.Address,
		TaggedAddresses: s.TaggedAddresses, Meta: s.Meta, Port: s.Port, Ports: s.Ports,
		SocketPath: s.SocketPath, Weights: weights, EnableTagOverride: s.EnableTagOverride,
		Locality: s.Locality, Proxy: s.Proxy, Connect: s.Connect, AI: s.AI,
		Namespace: s.Namespace, Partition: s.Partition,
	}
}

// RegisteredCheck is a check of a catalog registration (api.AgentCheck,
// api.HealthCheck): a status holder, not run by anyone.
type RegisteredCheck struct {
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
	Namespace   string
	Partition   string
	ExposedPort int
	PeerName    string
	Definition  RegisteredCheckDefinition
	CreateIndex uint64
	ModifyIndex uint64
}

// RegisteredCheckDefinition is what a catalog check says about how it is
// run elsewhere (api.HealthCheckDefinition).
type RegisteredCheckDefinition struct {
	HTTP                           string
	Header                         map[string][]string
	Method                         string
	Body                           string
	TLSServerName                  string
	TLSSkipVerify                  bool
	TCP                            string
	TCPUseTLS                      bool
	UDP                            string
	GRPC                           string
	OSService                      string
	GRPCUseTLS                     bool
	SessionName                    string
	Interval                       Duration
	Timeout                        Duration
	DeregisterCriticalServiceAfter Duration
}

// Unsupported names the first field of the check the adapter does not
// keep, "" when there is none.
func (c *RegisteredCheck) Unsupported() string {
	d := c.Definition
	switch {
	case d.UDP != "":
		return "Definition.UDP"
	case d.GRPC != "" || d.GRPCUseTLS:
		return "Definition.GRPC"
	case d.OSService != "":
		return "Definition.OSService"
	case d.SessionName != "":
		return "Definition.SessionName"
	case c.ExposedPort != 0:
		return "ExposedPort"
	case c.PeerName != "":
		return "PeerName"
	case c.Namespace != "" && c.Namespace != "default":
		return "Namespace"
	case c.Partition != "" && c.Partition != "default":
		return "Partition"
	}
	return ""
}

// CatalogDeregistration is the body of PUT /v1/catalog/deregister.
type CatalogDeregistration struct {
	Node       string
	Address    string // obsolete, ignored as by Consul
	Datacenter string
	ServiceID  string
	CheckID    string
	Namespace  string
	Partition  string
}

// DecodeCatalogRegistration reads a catalog registration strictly.
func DecodeCatalogRegistration(r io.Reader) (*CatalogRegistration, error) {
	var reg CatalogRegistration
	if err := decodeStrict(r, &reg); err != nil {
		return nil, err
	}
	return &reg, nil
}

// DecodeCatalogDeregistration reads a catalog deregistration strictly.
func DecodeCatalogDeregistration(r io.Reader) (*CatalogDeregistration, error) {
	var d CatalogDeregistration
	if err := decodeStrict(r, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
