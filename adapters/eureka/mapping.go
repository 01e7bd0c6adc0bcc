package eureka

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/adapters/eureka/fields"
	"github.com/meshbridge/meshbridge/adapters/eureka/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// Attribute keys under which Eureka-only fields are kept on a
// registry.Instance, so what a client registered comes back unchanged;
// package fields holds them for every mapping of Eureka instances.
const (
	attrIPAddr               = fields.IPAddr
	attrAppGroupName         = fields.AppGroupName
	attrSID                  = fields.SID
	attrHomePageURL          = fields.HomePageURL
	attrStatusPageURL        = fields.StatusPageURL
	attrHealthCheckURL       = fields.HealthCheckURL
	attrSecureHealthCheckURL = fields.SecureHealthCheckURL
	attrVIPAddress           = fields.VIPAddress
	attrSecureVIPAddress     = fields.SecureVIPAddress
	attrCountryID            = fields.CountryID
	attrDataCenterName       = fields.DataCenterName
	attrDataCenterMetadata   = fields.DataCenterMetadata
	attrCoordinating         = fields.Coordinating
	attrLastDirty            = fields.LastDirty
	attrServiceUp            = fields.ServiceUp
	attrASGName              = fields.ASGName
	attrDisabledPort         = fields.DisabledPort
)

// Metadata key Spring's Eureka client uses for the zone.
const metadataZone = fields.MetadataZone

// appName is the Eureka application name of an instance: its canonical
// service key, upper-cased as the server upper-cases every app name.
func appName(i *registry.Instance) string { return strings.ToUpper(i.ServiceKey) }

// serviceName picks the model's service name for a registration
// (fields.ServiceName: Spring's spelling from the VIP, else lower case).
func serviceName(w *wire.Instance) string { return fields.ServiceName(w.App, w.VIPAddress) }

// eurekaStatus is the status Eureka shows for an instance, following the
// server's rules: a client that says DOWN, STARTING or UNKNOWN is believed
// (DownOrStartingRule), else an override wins, else the client's status.
// Instances from other protocols that are disabled or failing their checks
// show as OUT_OF_SERVICE or DOWN so Eureka clients send them no traffic.
func eurekaStatus(i *registry.Instance) registry.Status {
	s := i.Status
	switch s {
	case registry.StatusDown, registry.StatusStarting, registry.StatusUnknown:
		return s
	}
	if o := i.OverriddenStatus; o != "" && o != registry.StatusUnknown {
		s = o
	}
	if s == registry.StatusUp {
		switch {
		case i.Disabled:
			return registry.StatusOutOfService
		case i.Health == registry.HealthCritical:
			return registry.StatusDown
		}
	}
	return s
}

// toWire renders an instance as Eureka shows it. Instances this adapter
// registered come back as registered; others get the defaults a Spring
// client would have sent.
func toWire(i *registry.Instance, action string) *wire.Instance {
	attr := func(k string) string { return i.Attributes[k] }
	fromEureka := i.Origin == registry.OriginEureka
	w := &wire.Instance{
		InstanceID:                    i.ID,
		HostName:                      i.Host,
		App:                           appName(i),
		AppGroupName:                  attr(attrAppGroupName),
		IPAddr:                        orDefault(attr(attrIPAddr), i.Host),
		SID:                           attr(attrSID),
		Status:                        string(eurekaStatus(i)),
		OverriddenStatus:              string(i.OverriddenStatus),
		Port:                          wire.Port{Number: i.Port, Enabled: i.Port > 0},
		SecurePort:                    wire.Port{Number: i.SecurePort, Enabled: i.SecureEnabled},
		CountryID:                     atoiOr(attr(attrCountryID), wire.DefaultCountryID),
		DataCenterInfo:                &wire.DataCenterInfo{Name: orDefault(attr(attrDataCenterName), wire.DataCenterMyOwn)},
		Metadata:                      i.Metadata,
		HomePageURL:                   attr(attrHomePageURL),
		StatusPageURL:                 attr(attrStatusPageURL),
		HealthCheckURL:                attr(attrHealthCheckURL),
		SecureHealthCheckURL:          attr(attrSecureHealthCheckURL),
		VIPAddress:                    attr(attrVIPAddress),
		SecureVIPAddress:              attr(attrSecureVIPAddress),
		IsCoordinatingDiscoveryServer: attr(attrCoordinating) == "true",
		LastUpdatedTimestamp:          millis(i.Updated),
		LastDirtyTimestamp:            atoi64Or(attr(attrLastDirty), millis(i.Updated)),
		ActionType:                    action,
		ASGName:                       attr(attrASGName),
	}
	if w.Status == "" {
		w.Status = string(registry.StatusUnknown)
	}
	if i.Port == 0 {
		w.Port.Number = atoiOr(attr(attrDisabledPort), 0)
	}
	if i.SecurePort == 0 && !i.SecureEnabled {
		w.SecurePort.Number = 443 // Spring's default for a disabled secure port
	}
	if m := attr(attrDataCenterMetadata); m != "" {
		// Written by fromWire as a JSON object of values the XML view can
		// carry; one that is broken or holds others (the store's rule
		// cannot see into JSON, and the control API writes attributes) is
		// dropped.
		var dcm map[string]string
		if json.Unmarshal([]byte(m), &dcm) == nil && registry.ValidateMap(attrDataCenterMetadata, dcm) == nil {
			w.DataCenterInfo.Metadata = dcm
		}
	}
	w.LeaseInfo = &wire.LeaseInfo{
		RenewalIntervalInSecs: secondsOr(i.Lease.RenewalInterval, wire.DefaultRenewalInterval),
		DurationInSecs:        secondsOr(i.Lease.Duration, wire.DefaultDuration),
		RegistrationTimestamp: millis(i.Registered),
		LastRenewalTimestamp:  millis(i.Lease.LastRenewal),
		ServiceUpTimestamp:    atoi64Or(attr(attrServiceUp), 0),
	}
	if !fromEureka {
		if i.Zone != "" && i.Metadata[metadataZone] == "" {
			w.Metadata = maps.Clone(i.Metadata)
			if w.Metadata == nil {
				w.Metadata = map[string]string{}
			}
			w.Metadata[metadataZone] = i.Zone
		}
		w.VIPAddress = orDefault(w.VIPAddress, i.Service)
		w.SecureVIPAddress = orDefault(w.SecureVIPAddress, i.Service)
		if w.HomePageURL == "" && i.Host != "" {
			w.HomePageURL = homePage(i)
		}
		if w.LeaseInfo.ServiceUpTimestamp == 0 && w.Status == string(registry.StatusUp) {
			w.LeaseInfo.ServiceUpTimestamp = millis(i.Registered)
		}
	}
	return w
}

func homePage(i *registry.Instance) string { return fields.HomePage(i) }

// fromWire maps a registration to the instance to store. prev is the
// instance already registered under the same key, or nil.
func (s *Server) fromWire(w *wire.Instance, prev *registry.Instance, now time.Time) *registry.Instance {
	inst := &registry.Instance{
		ID:            w.ID(),
		Service:       serviceName(w),
		Namespace:     s.opts.Namespace,
		Host:          w.HostName,
		SecurePort:    w.SecurePort.Number,
		SecureEnabled: w.SecurePort.Enabled,
		Status:        registry.Status(w.Status),
		Ephemeral:     true,
		Metadata:      maps.Clone(w.Metadata),
		Origin:        registry.OriginEureka,
		Attributes:    map[string]string{},
		Lease: registry.Lease{
			RenewalInterval: time.Duration(wire.DefaultRenewalInterval) * time.Second,
			Duration:        time.Duration(wire.DefaultDuration) * time.Second,
		},
	}
	if w.Port.Enabled {
		inst.Port = w.Port.Number
	} else {
		fields.Set(inst, attrDisabledPort, strconv.Itoa(w.Port.Number))
	}
	if inst.SecureEnabled && w.SecurePort.Number > 0 {
		inst.Scheme = "https"
	}
	if l := w.LeaseInfo; l != nil {
		if l.RenewalIntervalInSecs > 0 {
			inst.Lease.RenewalInterval = time.Duration(l.RenewalIntervalInSecs) * time.Second
		}
		if l.DurationInSecs > 0 {
			inst.Lease.Duration = time.Duration(l.DurationInSecs) * time.Second
		}
	}
	inst.Zone = w.Metadata[metadataZone]

	// An override sent at registration only counts when none is set yet
	// (the server's overriddenInstanceStatusMap.putIfAbsent); the store
	// keeps an existing one when this is left empty.
	if o := registry.Status(w.OverriddenStatus); o != registry.StatusUnknown && o != "" && (prev == nil || prev.OverriddenStatus == "") {
		inst.OverriddenStatus = o
	}
	// LeaseExistsRule: without an override, a re-registration that is not
	// DOWN/STARTING/UNKNOWN keeps an existing UP or OUT_OF_SERVICE status.
	if prev != nil && inst.OverriddenStatus == "" && prev.OverriddenStatus == "" {
		switch inst.Status {
		case registry.StatusDown, registry.StatusStarting, registry.StatusUnknown:
		default:
			if prev.Status == registry.StatusUp || prev.Status == registry.StatusOutOfService {
				inst.Status = prev.Status
			}
		}
	}

	fields.Set(inst, attrIPAddr, w.IPAddr)
	fields.Set(inst, attrAppGroupName, w.AppGroupName)
	if w.SID != "na" {
		fields.Set(inst, attrSID, w.SID)
	}
	fields.Set(inst, attrHomePageURL, w.HomePageURL)
	fields.Set(inst, attrStatusPageURL, w.StatusPageURL)
	fields.Set(inst, attrHealthCheckURL, w.HealthCheckURL)
	fields.Set(inst, attrSecureHealthCheckURL, w.SecureHealthCheckURL)
	fields.Set(inst, attrVIPAddress, w.VIPAddress)
	fields.Set(inst, attrSecureVIPAddress, w.SecureVIPAddress)
	fields.Set(inst, attrASGName, w.ASGName)
	if w.CountryID != wire.DefaultCountryID {
		fields.Set(inst, attrCountryID, strconv.Itoa(w.CountryID))
	}
	if w.IsCoordinatingDiscoveryServer {
		fields.Set(inst, attrCoordinating, "true")
	}
	if dc := w.DataCenterInfo; dc != nil {
		if dc.Name != wire.DataCenterMyOwn {
			fields.Set(inst, attrDataCenterName, dc.Name)
		}
		if dc.Name == wire.DataCenterAmazon && len(dc.Metadata) > 0 {
			b, _ := json.Marshal(dc.Metadata) // a map of strings always marshals
			fields.Set(inst, attrDataCenterMetadata, string(b))
			if inst.Zone == "" {
				inst.Zone = dc.Metadata["availability-zone"]
			}
		}
	}
	dirty := w.LastDirtyTimestamp
	if dirty <= 0 {
		dirty = now.UnixMilli()
	}
	fields.Set(inst, attrLastDirty, strconv.FormatInt(dirty, 10))
	// serviceUpTimestamp survives re-registration and is first set when
	// the instance is seen UP.
	if up := prevAttr(prev, attrServiceUp); up != "" {
		fields.Set(inst, attrServiceUp, up)
	} else if eurekaStatus(inst) == registry.StatusUp {
		fields.Set(inst, attrServiceUp, strconv.FormatInt(now.UnixMilli(), 10))
	}
	return inst
}

// lastDirty is the instance's lastDirtyTimestamp in Unix milliseconds.
func lastDirty(i *registry.Instance) int64 {
	return atoi64Or(i.Attributes[attrLastDirty], millis(i.Updated))
}

func prevAttr(i *registry.Instance, k string) string {
	if i == nil {
		return ""
	}
	return i.Attributes[k]
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func secondsOr(d time.Duration, def int) int {
	if d <= 0 {
		return def
	}
	return int(d / time.Second)
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

func atoi64Or(s string, def int64) int64 {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return def
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
