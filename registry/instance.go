package registry

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Status is an instance's registration status, using Eureka's vocabulary
// because it is the richest of the three protocols.
type Status string

// The statuses an instance can have.
const (
	StatusUp           Status = "UP"
	StatusDown         Status = "DOWN"
	StatusStarting     Status = "STARTING"
	StatusOutOfService Status = "OUT_OF_SERVICE"
	StatusUnknown      Status = "UNKNOWN"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusUp, StatusDown, StatusStarting, StatusOutOfService, StatusUnknown:
		return true
	}
	return false
}

// Health is the state of an instance's health checks, using Consul's vocabulary.
type Health string

// The health states. An instance without checks is HealthPassing.
const (
	HealthPassing  Health = "passing"
	HealthWarning  Health = "warning"
	HealthCritical Health = "critical"
)

// Valid reports whether h is one of the known health states.
func (h Health) Valid() bool {
	return h == HealthPassing || h == HealthWarning || h == HealthCritical
}

// Defaults applied by Normalize.
const (
	DefaultNamespace = "public"
	DefaultGroup     = "DEFAULT_GROUP"
	DefaultCluster   = "DEFAULT"
	DefaultWeight    = 1.0
)

// Well-known origins. Synced copies use "sync:<syncer-id>".
const (
	OriginControl = "control"
	OriginEureka  = "eureka"
	OriginConsul  = "consul"
	OriginNacos   = "nacos"
)

// Well-known labels the mesh routes on.
const (
	LabelVersion = "version"
	LabelCanary  = "canary"
	LabelShadow  = "shadow"
)

// LabelMetadataPrefix marks metadata entries that become labels with the
// prefix stripped ("label.tier: gold" gives the label "tier: gold").
const LabelMetadataPrefix = "label."

// labelMetadataKeys are metadata keys copied to labels as they are, because
// Spring users already set them (eureka.instance.metadata-map.version=v2).
var labelMetadataKeys = []string{LabelVersion, LabelCanary, LabelShadow, "subset", "zone"}

// Lease describes how an ephemeral instance stays alive.
type Lease struct {
	// RenewalInterval is how often the client promises to renew.
	RenewalInterval time.Duration `json:"renewalInterval,omitempty"`
	// Duration is how long after the last renewal the instance expires; zero never expires.
	Duration time.Duration `json:"duration,omitempty"`
	// LastRenewal is the time of the last renewal (or registration).
	LastRenewal time.Time `json:"lastRenewal,omitzero"`
}

// Instance is one registered endpoint of a service.
type Instance struct {
	ID string `json:"id"`
	// Service is the service name as the client gave it; ServiceKey is its
	// canonical form (lower case) under which Eureka's "ORDERS" and Consul's
	// "orders" meet.
	Service    string `json:"service"`
	ServiceKey string `json:"serviceKey"`
	Namespace  string `json:"namespace"`
	Group      string `json:"group"`
	Cluster    string `json:"cluster,omitempty"`
	Zone       string `json:"zone,omitempty"`

	Host          string `json:"host"`
	Port          int    `json:"port,omitempty"`
	SecurePort    int    `json:"securePort,omitempty"`
	SecureEnabled bool   `json:"secureEnabled,omitempty"`
	Scheme        string `json:"scheme,omitempty"`

	Status Status `json:"status"`
	// OverriddenStatus, when set, wins over Status (Eureka's status override).
	OverriddenStatus Status `json:"overriddenStatus,omitempty"`
	Health           Health `json:"health"`
	// Weight is the share of traffic relative to other instances; zero means
	// the default 1.0 (Normalize sets it), so zero weight is not representable.
	Weight float64 `json:"weight"`
	// Disabled instances stay registered but get no traffic (Nacos "enabled").
	Disabled  bool `json:"disabled,omitempty"`
	Ephemeral bool `json:"ephemeral"`

	Metadata map[string]string `json:"metadata,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Attributes keep protocol-specific fields that have no place in the
	// model (Eureka URLs, Consul check definitions) so a front-end can give
	// back what it was given; keys are prefixed by the protocol ("eureka.").
	Attributes map[string]string `json:"attributes,omitempty"`

	Lease  Lease  `json:"lease"`
	Origin string `json:"origin"`

	Registered time.Time `json:"registered,omitzero"`
	Updated    time.Time `json:"updated,omitzero"`
	Revision   int64     `json:"revision"`
}

// InstanceKey identifies an instance in the store.
type InstanceKey struct {
	Namespace  string `json:"namespace"`
	Group      string `json:"group"`
	ServiceKey string `json:"serviceKey"`
	ID         string `json:"id"`
}

// ServiceID identifies a service: a canonical name within a namespace and group.
type ServiceID struct {
	Namespace  string `json:"namespace"`
	Group      string `json:"group"`
	ServiceKey string `json:"serviceKey"`
}

// String gives "namespace/group/service".
func (s ServiceID) String() string { return s.Namespace + "/" + s.Group + "/" + s.ServiceKey }

// String gives "namespace/group/service/id".
func (k InstanceKey) String() string {
	return k.Namespace + "/" + k.Group + "/" + k.ServiceKey + "/" + k.ID
}

// Service returns the ServiceID the key belongs to.
func (k InstanceKey) Service() ServiceID {
	return ServiceID{Namespace: k.Namespace, Group: k.Group, ServiceKey: k.ServiceKey}
}

// NewInstanceKey builds a key with namespace and group trimmed and
// defaulted and the service name canonicalised, as Normalize does.
func NewInstanceKey(namespace, group, service, id string) InstanceKey {
	return InstanceKey{
		Namespace:  orDefault(strings.TrimSpace(namespace), DefaultNamespace),
		Group:      orDefault(strings.TrimSpace(group), DefaultGroup),
		ServiceKey: CanonicalServiceKey(service),
		ID:         id,
	}
}

// CanonicalServiceKey maps a service name to the key under which every
// protocol's spelling of it meets.
func CanonicalServiceKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Key returns the instance's identity in the store.
func (i *Instance) Key() InstanceKey {
	return InstanceKey{Namespace: i.Namespace, Group: i.Group, ServiceKey: i.ServiceKey, ID: i.ID}
}

// ServiceID returns the identity of the instance's service.
func (i *Instance) ServiceID() ServiceID { return i.Key().Service() }

// EffectiveStatus applies Eureka's override rules: an instance that itself
// reports DOWN or STARTING keeps that status (the client knows best), an
// OUT_OF_SERVICE override always wins, and otherwise an override, when set,
// replaces the reported status.
func (i *Instance) EffectiveStatus() Status {
	switch {
	case i.OverriddenStatus == StatusOutOfService:
		return StatusOutOfService
	case i.Status == StatusDown || i.Status == StatusStarting:
		return i.Status
	case i.OverriddenStatus != "" && i.OverriddenStatus != StatusUnknown:
		return i.OverriddenStatus
	}
	return i.Status
}

// Healthy reports whether traffic may be sent to the instance: UP, checks
// not critical, and not disabled.
func (i *Instance) Healthy() bool {
	return i.EffectiveStatus() == StatusUp && i.Health != HealthCritical && !i.Disabled
}

// Expired reports whether an ephemeral instance's lease ran out at now.
func (i *Instance) Expired(now time.Time) bool {
	return i.Ephemeral && i.Lease.Duration > 0 && now.Sub(i.Lease.LastRenewal) > i.Lease.Duration
}

// Address is host:port of the plain port, or of the secure port when only it is enabled.
func (i *Instance) Address() string {
	port := i.Port
	if port == 0 && i.SecureEnabled {
		port = i.SecurePort
	}
	return joinHostPort(i.Host, port)
}

// CallPort is the port a registry client should call and whether it
// speaks TLS there, as Spring Cloud's clients pick it: the secure port when
// it is enabled and the instance prefers https (Eureka's isSecure: an
// instance registered with both ports is called on the secure one), or
// when it has no plain port; else the plain port, secure when the scheme
// says so (a Nacos or Consul instance marked secure=true). Views that show
// one port and a secure flag use it, so no client calls https on a plain
// port.
func (i *Instance) CallPort() (port int, secure bool) {
	if i.SecureEnabled && i.SecurePort > 0 && (i.Scheme == "https" || i.Port == 0) {
		return i.SecurePort, true
	}
	return i.Port, i.Scheme == "https"
}

// Clone returns a deep copy.
func (i *Instance) Clone() *Instance {
	if i == nil {
		return nil
	}
	c := *i
	c.Metadata = maps.Clone(i.Metadata)
	c.Tags = slices.Clone(i.Tags)
	c.Labels = maps.Clone(i.Labels)
	c.Attributes = maps.Clone(i.Attributes)
	return &c
}

// Normalize fills defaults (namespace, group, cluster, status, health,
// weight, scheme, service key) and derives labels from well-known metadata
// keys. It is applied by every Store on register.
func (i *Instance) Normalize() {
	i.Service = strings.TrimSpace(i.Service)
	i.ServiceKey = CanonicalServiceKey(i.Service)
	// Namespaces and groups are trimmed as service names are, and as the
	// Nacos view trims what clients ask for: "  g" could not be looked up.
	i.Namespace = orDefault(strings.TrimSpace(i.Namespace), DefaultNamespace)
	i.Group = orDefault(strings.TrimSpace(i.Group), DefaultGroup)
	i.Cluster = orDefault(i.Cluster, DefaultCluster)
	if i.Status == "" {
		i.Status = StatusUp
	}
	if i.Health == "" {
		i.Health = HealthPassing
	}
	if i.Weight == 0 {
		i.Weight = DefaultWeight
	}
	if i.Scheme == "" {
		i.Scheme = "http"
		if i.Port == 0 && i.SecureEnabled {
			i.Scheme = "https"
		}
	}
	for _, k := range labelMetadataKeys {
		if v, ok := i.Metadata[k]; ok {
			if _, set := i.Labels[k]; !set {
				i.setLabel(k, v)
			}
		}
	}
	for k, v := range i.Metadata {
		if name, ok := metadataLabel(k); ok {
			if _, set := i.Labels[name]; !set {
				i.setLabel(name, v)
			}
		}
	}
}

// SetMetadata sets metadata key k to v. A label that was derived from the
// old value (one of the label keys, or "label.<name>") is dropped so that
// Normalize derives it again; a label set to anything else stays, as
// explicit labels win over metadata.
func (i *Instance) SetMetadata(k, v string) {
	if i.Metadata == nil {
		i.Metadata = map[string]string{}
	}
	if old, had := i.Metadata[k]; had && old != v {
		if name, derived := metadataLabel(k); derived && i.Labels[name] == old {
			delete(i.Labels, name)
		}
	}
	i.Metadata[k] = v
}

// metadataLabel names the label Normalize derives from metadata key k, if
// any: one of labelMetadataKeys as it is, or "label.<name>" as name.
func metadataLabel(k string) (name string, ok bool) {
	if slices.Contains(labelMetadataKeys, k) {
		return k, true
	}
	name, ok = strings.CutPrefix(k, LabelMetadataPrefix)
	return name, ok && name != ""
}

func (i *Instance) setLabel(k, v string) {
	if i.Labels == nil {
		i.Labels = map[string]string{}
	}
	i.Labels[k] = v
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
