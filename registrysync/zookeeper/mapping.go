package zookeeper

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meshbridge/meshbridge/registry"
)

// Metadata keys the mapping reads and writes besides the instance's own.
const (
	// MetaInstanceStatus is Spring Cloud Zookeeper's status key: its
	// service-registry endpoint sets it (OUT_OF_SERVICE), and its
	// LoadBalancer supplier keeps only instances without it or with UP.
	MetaInstanceStatus = "instance_status"
	// MetaZone is the key Spring Cloud LoadBalancer's zone preference reads.
	MetaZone = "zone"
	// MetaWeight carries the instance's weight, which ZooKeeper records
	// have no field for.
	MetaWeight = "weight"
)

// maxNameBytes bounds a service name or instance id: each is one node
// name, and ZooKeeper itself only bounds the whole request.
const maxNameBytes = 255

// validName checks one node name: ZooKeeper's path rules (no '/', no
// "." or "..", none of the characters its PathUtils refuses), not empty,
// at most maxNameBytes.
func validName(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a node name", name)
	case len(name) > maxNameBytes:
		return fmt.Errorf("longer than %d bytes", maxNameBytes)
	case !utf8.ValidString(name):
		return errors.New("not UTF-8")
	case strings.Contains(name, "/"):
		return errors.New("contains '/'")
	}
	for _, r := range name {
		if r <= 0x1f || (r >= 0x7f && r <= 0x9f) || (r >= 0xd800 && r <= 0xf8ff) || (r >= 0xfff0 && r <= 0xffff) {
			return fmt.Errorf("contains %U, which ZooKeeper refuses in paths", r)
		}
	}
	return nil
}

// nodePath is where an instance's record lives.
func nodePath(root, service, id string) string { return root + "/" + service + "/" + id }

// status is the status a copy is written with: the effective one (a
// Eureka override applied), UP when unset.
func status(inst *registry.Instance) registry.Status {
	if s := inst.EffectiveStatus(); s != "" {
		return s
	}
	return registry.StatusUp
}

// selectable reports whether consumers may pick inst: UP, health not
// critical, not disabled.
func selectable(inst *registry.Instance) bool {
	return status(inst) == registry.StatusUp && inst.Health != registry.HealthCritical && !inst.Disabled
}

// springStatus is the instance_status a copy carries: UP only when it is
// selectable; else its status, or DOWN for an UP instance whose health is
// critical, or OUT_OF_SERVICE for a disabled one (Nacos enabled=false).
func springStatus(inst *registry.Instance) registry.Status {
	switch s := status(inst); {
	case selectable(inst):
		return registry.StatusUp
	case s != registry.StatusUp:
		return s
	case inst.Disabled:
		return registry.StatusOutOfService
	default:
		return registry.StatusDown
	}
}

// checkCopy says why inst cannot be written as a node, or nil.
func checkCopy(inst *registry.Instance) error {
	if err := validName(inst.Service); err != nil {
		return fmt.Errorf("service name: %w", err)
	}
	if err := validName(inst.ID); err != nil {
		return fmt.Errorf("instance id: %w", err)
	}
	if inst.Host == "" {
		return errors.New("no host")
	}
	// Spring reads the port into an int: a record without one makes its
	// consumers fail on the whole service.
	if inst.Port <= 0 && !(inst.SecureEnabled && inst.SecurePort > 0) {
		return errors.New("no port")
	}
	if inst.Port > 65535 || inst.SecurePort > 65535 || inst.SecurePort < 0 {
		return errors.New("port out of range")
	}
	return nil
}

// toRecord maps a copy to the record its node holds. registered is the
// registration time written when inst has none.
func toRecord(inst *registry.Instance, registered time.Time) (*record, error) {
	if err := checkCopy(inst); err != nil {
		return nil, err
	}
	md := maps.Clone(inst.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	md[MetaInstanceStatus] = string(springStatus(inst))
	if _, set := md[MetaZone]; !set && inst.Zone != "" {
		md[MetaZone] = inst.Zone
	}
	if _, set := md[MetaWeight]; !set && inst.Weight > 0 && inst.Weight != registry.DefaultWeight {
		md[MetaWeight] = strconv.FormatFloat(inst.Weight, 'g', -1, 64)
	}
	if !inst.Registered.IsZero() {
		registered = inst.Registered
	}
	r := &record{
		Name:    inst.Service,
		ID:      inst.ID,
		Address: inst.Host,
		Payload: &payload{
			Class: springPayloadClass, ID: inst.ID, Name: inst.Service, Metadata: md,
		},
		RegistrationTimeUTC: registered.UnixMilli(),
		ServiceType:         serviceTypeDynamic,
		URISpec:             &defaultURISpec,
	}
	if port := inst.Port; port > 0 {
		r.Port = &port
	}
	if port := inst.SecurePort; inst.SecureEnabled && port > 0 {
		r.SSLPort = &port
	}
	return r, nil
}

// toInstance maps the record at <root>/<service>/<id> to an instance. The
// node's path names it, as Curator looks instances up by path.
func toInstance(service, id string, r *record, ephemeral bool) (*registry.Instance, error) {
	if r.Address == "" {
		return nil, errors.New("no address")
	}
	inst := &registry.Instance{
		Service:   service,
		ID:        id,
		Host:      r.Address,
		Status:    registry.StatusUp,
		Health:    registry.HealthPassing,
		Weight:    registry.DefaultWeight,
		Ephemeral: ephemeral,
		Metadata:  map[string]string{},
	}
	if r.Port != nil {
		inst.Port = *r.Port
	}
	if r.SSLPort != nil {
		// Spring calls the instance secure and uses only the SSL port.
		inst.SecurePort, inst.SecureEnabled, inst.Scheme = *r.SSLPort, true, "https"
	}
	if inst.Port <= 0 && !inst.SecureEnabled {
		return nil, errors.New("no port")
	}
	if r.RegistrationTimeUTC > 0 {
		inst.Registered = time.UnixMilli(r.RegistrationTimeUTC).UTC()
	}
	if r.Payload != nil {
		for k, v := range r.Payload.Metadata {
			inst.Metadata[k] = v
		}
	}
	if s, set := inst.Metadata[MetaInstanceStatus]; set {
		delete(inst.Metadata, MetaInstanceStatus)
		inst.Status = parseStatus(s)
	}
	inst.Zone = inst.Metadata[MetaZone]
	if w, err := strconv.ParseFloat(inst.Metadata[MetaWeight], 64); err == nil && w > 0 && !math.IsInf(w, 0) {
		inst.Weight = w
	}
	if r.Enabled != nil && !*r.Enabled {
		inst.Disabled = true
	}
	return inst, nil
}

// parseStatus reads instance_status as Spring does: empty is UP (records
// older than the key), UP in any case is UP, and anything else is not
// selectable (UNKNOWN when it is none of Eureka's statuses).
func parseStatus(s string) registry.Status {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return registry.StatusUp
	}
	if st := registry.Status(s); st.Valid() {
		return st
	}
	return registry.StatusUnknown
}
