package naming

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Attribute keys the Nacos adapter keeps on registry instances.
const (
	// AttrConnection names the gRPC connection an ephemeral instance is bound to.
	AttrConnection = "nacos.connectionId"
	// AttrBeat marks v1 instances kept alive by HTTP heartbeats.
	AttrBeat = "nacos.beat"
	// AttrBeatUnhealthy marks instances made unhealthy by missed beats, so
	// the next beat makes them healthy again.
	AttrBeatUnhealthy = "nacos.beatUnhealthy"
	// AttrWeight keeps a Nacos weight of 0, which the registry model cannot
	// hold (0 means the default 1.0); such instances are Disabled for traffic.
	AttrWeight = "nacos.weight"
	// AttrEnabled keeps Nacos's "enabled" of a zero-weight instance, whose
	// Disabled flag no longer tells it.
	AttrEnabled = "nacos.enabled"
	// AttrApp keeps the registering application's name.
	AttrApp = "nacos.app"
)

// MetaSecure is the metadata key Spring Cloud Alibaba reads to build https URIs.
const MetaSecure = "secure"

// MaxWeight is the highest weight Nacos accepts.
const MaxWeight = 10000

// Registration is one Nacos instance registration, resolved to names.
type Registration struct {
	Namespace string
	Group     string
	Service   string
	Instance  InstanceInput
	// App is the client's application name (optional).
	App string
}

// ToRegistry builds the registry instance for a Nacos registration. The
// caller sets Lease and the binding attributes.
func ToRegistry(reg Registration) (*registry.Instance, error) {
	in := reg.Instance
	if in.IP == "" {
		return nil, fmt.Errorf("Param 'ip' is required.")
	}
	// Checked before the store would: the instance id is made from it.
	if !registry.ValidHost(in.IP) {
		return nil, fmt.Errorf("Param 'ip' is illegal, it %s: %q", registry.HostRule, in.IP)
	}
	if in.Port < 0 || in.Port > 65535 {
		return nil, fmt.Errorf("Param 'port' is illegal: %d", in.Port)
	}
	cluster := in.ClusterName
	if cluster == "" {
		cluster = DefaultCluster
	}
	if !ValidCluster(cluster) {
		return nil, fmt.Errorf("Param 'clusterName' is illegal, Cluster name only support letters, numbers and '-': %q", cluster)
	}
	weight := 1.0
	if in.Weight != nil {
		weight = *in.Weight
	}
	if math.IsNaN(weight) || weight < 0 || weight > MaxWeight {
		return nil, fmt.Errorf("Param 'weight' is illegal, weight must be between 0 and %d", MaxWeight)
	}
	enabled := in.Enabled == nil || *in.Enabled
	healthy := in.Healthy == nil || *in.Healthy
	ephemeral := in.Ephemeral == nil || *in.Ephemeral
	id := in.InstanceID
	if id == "" || !registry.ValidName(id) {
		id = InstanceID(in.IP, in.Port, cluster, reg.Group, reg.Service)
	}
	inst := &registry.Instance{
		ID:         id,
		Service:    reg.Service,
		Namespace:  Namespace(reg.Namespace),
		Group:      Group(reg.Group),
		Cluster:    cluster,
		Host:       in.IP,
		Port:       in.Port,
		Status:     registry.StatusUp,
		Health:     registry.HealthPassing,
		Weight:     weight,
		Disabled:   !enabled,
		Ephemeral:  ephemeral,
		Metadata:   maps.Clone(in.Metadata),
		Attributes: map[string]string{},
		Origin:     registry.OriginNacos,
	}
	if !healthy {
		inst.Health = registry.HealthCritical
	}
	if weight == 0 {
		// The registry cannot hold weight 0; Nacos clients never pick such
		// an instance, so the mesh must not send it traffic either.
		inst.Weight = registry.DefaultWeight
		inst.Disabled = true
		inst.Attributes[AttrWeight] = "0"
		inst.Attributes[AttrEnabled] = strconv.FormatBool(enabled)
	}
	if in.Metadata[MetaSecure] == "true" {
		inst.Scheme = "https"
	}
	if reg.App != "" {
		inst.Attributes[AttrApp] = reg.App
	}
	return inst, nil
}

// Enabled is Nacos's "enabled" of a registry instance.
func Enabled(inst *registry.Instance) bool {
	if inst.Attributes[AttrWeight] == "0" {
		return inst.Attributes[AttrEnabled] != "false"
	}
	return !inst.Disabled
}

// Healthy is Nacos's "healthy": UP (after any override) and checks not critical.
func Healthy(inst *registry.Instance) bool {
	return inst.EffectiveStatus() == registry.StatusUp && inst.Health != registry.HealthCritical
}

// Weight is Nacos's weight of a registry instance.
func Weight(inst *registry.Instance) float64 {
	if inst.Attributes[AttrWeight] == "0" {
		return 0
	}
	if inst.Weight == 0 {
		return registry.DefaultWeight
	}
	return inst.Weight
}

// FromRegistry renders a registry instance (of any origin) as Nacos shows
// it; serviceName is the name the client asked for.
func FromRegistry(inst *registry.Instance, group, serviceName string) Instance {
	port, secure := inst.CallPort()
	meta := inst.Metadata
	if secure {
		if meta[MetaSecure] != "true" {
			meta = maps.Clone(meta)
			if meta == nil {
				meta = map[string]string{}
			}
			meta[MetaSecure] = "true"
		}
	}
	if meta == nil {
		meta = map[string]string{}
	}
	cluster := inst.Cluster
	if cluster == "" {
		cluster = DefaultCluster
	}
	return Instance{
		InstanceID:                inst.ID,
		IP:                        inst.Host,
		Port:                      port,
		Weight:                    Weight(inst),
		Healthy:                   Healthy(inst),
		Enabled:                   Enabled(inst),
		Ephemeral:                 inst.Ephemeral,
		ClusterName:               cluster,
		ServiceName:               GroupedName(group, serviceName),
		Metadata:                  meta,
		InstanceHeartBeatInterval: millisFromMeta(meta, MetaBeatInterval, DefaultBeatInterval),
		InstanceHeartBeatTimeOut:  millisFromMeta(meta, MetaBeatTimeout, DefaultBeatTimeout),
		IPDeleteTimeout:           millisFromMeta(meta, MetaDeleteTimeout, DefaultDeleteTimeout),
		InstanceIDGenerator:       "simple",
	}
}

// BeatTiming gives the heartbeat interval, unhealthy timeout and delete
// timeout of an instance: the preserved.* metadata keys, else the defaults.
func BeatTiming(meta map[string]string, interval, timeout, deleteAfter time.Duration) (time.Duration, time.Duration, time.Duration) {
	ms := func(key string, def time.Duration) time.Duration {
		if v, err := strconv.ParseInt(meta[key], 10, 64); err == nil && v > 0 {
			return time.Duration(v) * time.Millisecond
		}
		return def
	}
	return ms(MetaBeatInterval, interval), ms(MetaBeatTimeout, timeout), ms(MetaDeleteTimeout, deleteAfter)
}

func millisFromMeta(meta map[string]string, key string, def int64) int64 {
	if v, err := strconv.ParseInt(meta[key], 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}
