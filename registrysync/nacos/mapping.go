package nacos

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// MetaCopyID is the metadata key a copy carries its id in. Nacos makes
// an instance's id of its address (nacos-sdk-go cannot send one), so
// without it a copy could not be named by the id it was written with.
// The source gives a copy this id and leaves the key out of its metadata.
const MetaCopyID = "meshbridge-sync-id"

// metaZone is the metadata key Spring Cloud clients keep the zone in; the
// Eureka view reads the zone from it too.
const metaZone = "zone"

// fromNacos maps an instance a Nacos server listed for service key into
// the registry model, by the rules of the adapter's Nacos view
// (naming.ToRegistry): healthy=false is health critical, enabled=false
// (which servers never list) and weight 0 are Disabled, metadata is kept,
// secure=true is the scheme https. The zone comes from the zone metadata.
func fromNacos(key registrysync.ServiceKey, h model.Instance) (*registry.Instance, error) {
	if h.Port > math.MaxUint16 {
		return nil, fmt.Errorf("port %d is over 65535", h.Port)
	}
	weight, healthy, enabled, ephemeral := h.Weight, h.Healthy, h.Enable, h.Ephemeral
	id, meta := h.InstanceId, maps.Clone(h.Metadata)
	if copyID := meta[MetaCopyID]; copyID != "" && meta[registrysync.MetaOwner] != "" {
		id = copyID
		delete(meta, MetaCopyID)
	}
	inst, err := naming.ToRegistry(naming.Registration{
		Namespace: key.Namespace, Group: key.Group, Service: key.Service,
		Instance: naming.InstanceInput{
			InstanceID: id, IP: h.Ip, Port: int(h.Port), ClusterName: h.ClusterName,
			Weight: &weight, Healthy: &healthy, Enabled: &enabled, Ephemeral: &ephemeral,
			Metadata: meta,
		},
	})
	if err != nil {
		return nil, err
	}
	inst.Zone = inst.Metadata[metaZone]
	if inst.Metadata[naming.MetaSecure] == "true" {
		// Nacos has one port; secure=true says it speaks TLS, which the
		// model says with an enabled secure port (Eureka's view of it).
		inst.SecurePort, inst.SecureEnabled = inst.Port, true
	}
	inst.Normalize()
	if err := inst.Validate(); err != nil {
		return nil, err
	}
	return inst, nil
}

// copyKey is a copy's place in Nacos: the service it is an instance of.
type copyKey struct {
	Namespace, Group, Service string
}

// keyOf is the service a copy belongs to, with Nacos's defaults: ""
// is the public namespace and DEFAULT_GROUP the group.
func keyOf(inst *registry.Instance) copyKey {
	return copyKey{Namespace: naming.Namespace(inst.Namespace), Group: naming.Group(inst.Group), Service: strings.TrimSpace(inst.Service)}
}

// toNacos maps a copy to the registration the sink sends and the service
// it belongs to, as the adapter's Nacos view shows an instance
// (naming.FromRegistry): healthy is "UP and checks not critical" (so
// DOWN, STARTING, UNKNOWN and OUT_OF_SERVICE are healthy=false), enabled
// is not Disabled, the weight is kept (0 if a Nacos source said 0). An
// enabled secure port is the port, with secure=true, as Spring clients
// call the secure port when it is enabled. Records Nacos cannot hold are
// refused with the reason.
func toNacos(inst *registry.Instance) (copyKey, vo.RegisterInstanceParam, error) {
	c := inst.Clone()
	c.Normalize()
	if err := c.Validate(); err != nil {
		return copyKey{}, vo.RegisterInstanceParam{}, err
	}
	key := keyOf(c)
	w := naming.FromRegistry(c, key.Group, key.Service)
	meta := maps.Clone(w.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	if c.SecureEnabled && c.SecurePort > 0 {
		w.Port = c.SecurePort
		meta[naming.MetaSecure] = "true"
	}
	if c.Zone != "" && meta[metaZone] == "" {
		meta[metaZone] = c.Zone
	}
	meta[MetaCopyID] = c.ID
	switch {
	case w.Port <= 0:
		return copyKey{}, vo.RegisterInstanceParam{}, errors.New("no port: a Nacos instance needs one")
	case !naming.ValidCluster(w.ClusterName):
		return copyKey{}, vo.RegisterInstanceParam{}, fmt.Errorf("cluster %q: Nacos allows only letters, digits and '-'", w.ClusterName)
	case math.IsNaN(w.Weight) || w.Weight > naming.MaxWeight:
		return copyKey{}, vo.RegisterInstanceParam{}, fmt.Errorf("weight %v: Nacos allows at most %d", w.Weight, naming.MaxWeight)
	}
	return key, vo.RegisterInstanceParam{
		Ip: w.IP, Port: uint64(w.Port), Weight: w.Weight, Enable: w.Enabled, Healthy: w.Healthy,
		Metadata: meta, ClusterName: w.ClusterName, ServiceName: key.Service, GroupName: key.Group,
		Ephemeral: true,
	}, nil
}

// address is what Nacos tells instances of one service apart by: ip, port
// and cluster. A service cannot hold two instances at the same address.
type address struct {
	IP      string
	Port    uint64
	Cluster string
}

func paramAddress(p vo.RegisterInstanceParam) address {
	return address{IP: p.Ip, Port: p.Port, Cluster: p.ClusterName}
}
