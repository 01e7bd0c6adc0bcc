package eureka

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/adapters/eureka/fields"
	"github.com/meshbridge/meshbridge/registry"
)

// Defaults Eureka's InstanceInfo fills in.
const (
	defaultCountryID  = 1
	defaultSecurePort = 443
	// metadataClass is the key Eureka writes for an empty metadata map
	// ({"@class":"java.util.Collections$EmptyMap"}); it is not metadata.
	metadataClass = "@class"
)

// appName is the Eureka application a service is registered under: the
// canonical service key upper-cased, as the server upper-cases every app.
func appName(service string) string { return strings.ToUpper(registry.CanonicalServiceKey(service)) }

// fromEureka maps an instance as a Eureka server lists it to the registry
// model, as a member of service.
func fromEureka(w *fargo.Instance, service string) (*registry.Instance, error) {
	meta, err := metadataOf(w)
	if err != nil {
		return nil, fmt.Errorf("instance %q of %s: %w", w.Id(), w.App, err)
	}
	inst := &registry.Instance{
		ID:            w.Id(),
		Service:       service,
		Host:          w.HostName,
		SecurePort:    w.SecurePort,
		SecureEnabled: w.SecurePortEnabled,
		Status:        registry.Status(w.Status),
		Health:        registry.HealthPassing,
		Ephemeral:     true,
		Metadata:      meta,
		Zone:          meta[fields.MetadataZone],
		Origin:        registry.OriginEureka,
		Lease: registry.Lease{
			RenewalInterval: time.Duration(w.LeaseInfo.RenewalIntervalInSecs) * time.Second,
			Duration:        time.Duration(w.LeaseInfo.DurationInSecs) * time.Second,
		},
	}
	if !inst.Status.Valid() {
		inst.Status = registry.StatusUnknown
	}
	if o := registry.Status(w.Overriddenstatus); o.Valid() && o != registry.StatusUnknown {
		inst.OverriddenStatus = o
	}
	if w.PortEnabled {
		inst.Port = w.Port
	} else if w.Port > 0 {
		fields.Set(inst, fields.DisabledPort, strconv.Itoa(w.Port))
	}
	if inst.SecureEnabled && w.SecurePort > 0 {
		inst.Scheme = "https"
	}
	fields.Set(inst, fields.IPAddr, w.IPAddr)
	fields.Set(inst, fields.VIPAddress, w.VipAddress)
	fields.Set(inst, fields.SecureVIPAddress, w.SecureVipAddress)
	fields.Set(inst, fields.HomePageURL, w.HomePageUrl)
	fields.Set(inst, fields.StatusPageURL, w.StatusPageUrl)
	fields.Set(inst, fields.HealthCheckURL, w.HealthCheckUrl)
	if w.CountryId != 0 && w.CountryId != defaultCountryID {
		fields.Set(inst, fields.CountryID, strconv.FormatInt(w.CountryId, 10))
	}
	if dc := w.DataCenterInfo.Name; dc != "" && dc != fargo.MyOwn {
		fields.Set(inst, fields.DataCenterName, dc)
		if dc == fargo.Amazon {
			b, _ := json.Marshal(w.DataCenterInfo.Metadata) // a struct of strings always marshals
			fields.Set(inst, fields.DataCenterMetadata, string(b))
			if inst.Zone == "" {
				inst.Zone = w.DataCenterInfo.Metadata.AvailabilityZone
			}
		}
	}
	return inst, nil
}

// metadataOf reads an instance's metadata as strings. fargo keeps it raw
// and its own parser panics on a JSON null; a number the server wrote as
// a JSON number comes back as it was written.
func metadataOf(w *fargo.Instance) (map[string]string, error) {
	raw := strings.TrimSpace(string(w.Metadata.Raw))
	if raw == "" || raw == "null" {
		if m := w.Metadata.GetMap(); len(m) > 0 { // set by SetMetadataString
			return stringMap(m), nil
		}
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	delete(m, metadataClass)
	if len(m) == 0 {
		return nil, nil
	}
	return stringMap(m), nil
}

func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// registration is a copy as the sink registers it: the instance fargo
// sends, and whether its status is carried by an OUT_OF_SERVICE override
// (Eureka keeps OUT_OF_SERVICE through re-registrations, so the sink sets
// and lifts it with the status endpoint rather than in the body).
type registration struct {
	instance     *fargo.Instance
	outOfService bool
}

// shown is the status Eureka shows for the registration once written.
func (r registration) shown() fargo.StatusType {
	if r.outOfService {
		return fargo.OUTOFSERVICE
	}
	return r.instance.Status
}

// toEureka maps a copy to its Eureka registration, with a lease of renew
// and duration. It refuses what Eureka cannot hold, naming the field.
func toEureka(in *registry.Instance, renew, duration time.Duration) (registration, error) {
	inst := in.Clone()
	inst.Normalize()
	if err := inst.Validate(); err != nil {
		return registration{}, err
	}
	for k := range inst.Metadata {
		if !xmlName(k) {
			return registration{}, fmt.Errorf("metadata.%q: Eureka writes metadata keys as XML element names: must start with a letter or '_' and hold only letters, digits, '.', '-' and '_'", k)
		}
	}
	attr := func(k string) string { return inst.Attributes[k] }
	status, oos := eurekaStatus(inst)
	w := &fargo.Instance{
		InstanceId:        inst.ID,
		HostName:          inst.Host,
		App:               appName(inst.Service),
		IPAddr:            orDefault(attr(fields.IPAddr), inst.Host),
		VipAddress:        orDefault(attr(fields.VIPAddress), inst.Service),
		SecureVipAddress:  orDefault(attr(fields.SecureVIPAddress), inst.Service),
		Status:            status,
		Port:              inst.Port,
		PortEnabled:       inst.Port > 0,
		SecurePort:        inst.SecurePort,
		SecurePortEnabled: inst.SecureEnabled,
		HomePageUrl:       orDefault(attr(fields.HomePageURL), fields.HomePage(inst)),
		StatusPageUrl:     attr(fields.StatusPageURL),
		HealthCheckUrl:    attr(fields.HealthCheckURL),
		CountryId:         defaultCountryID,
		DataCenterInfo:    fargo.DataCenterInfo{Name: orDefault(attr(fields.DataCenterName), fargo.MyOwn)},
		LeaseInfo: fargo.LeaseInfo{
			RenewalIntervalInSecs: int32(renew / time.Second),
			DurationInSecs:        int32(duration / time.Second),
		},
	}
	if n, err := strconv.ParseInt(attr(fields.CountryID), 10, 64); err == nil {
		w.CountryId = n
	}
	if inst.Port == 0 {
		w.Port, _ = strconv.Atoi(attr(fields.DisabledPort)) // 0 when there is none
	}
	if inst.SecurePort == 0 && !inst.SecureEnabled {
		w.SecurePort = defaultSecurePort // Spring's default for a disabled secure port
	}
	switch w.DataCenterInfo.Name {
	case fargo.MyOwn:
	case fargo.Amazon:
		if m := attr(fields.DataCenterMetadata); m != "" {
			if err := json.Unmarshal([]byte(m), &w.DataCenterInfo.Metadata); err != nil {
				return registration{}, fmt.Errorf("attributes.%s: %w", fields.DataCenterMetadata, err)
			}
		}
	default:
		// A data center type of its own: Eureka's server knows it by the
		// class the client names; the model keeps only the name.
		w.DataCenterInfo.Class = "com.netflix.appinfo.MyDataCenterInfo"
	}
	for k, v := range inst.Metadata {
		w.SetMetadataString(k, v)
	}
	if inst.Zone != "" && inst.Metadata[fields.MetadataZone] == "" {
		w.SetMetadataString(fields.MetadataZone, inst.Zone)
	}
	return registration{instance: w, outOfService: oos}, nil
}

// eurekaStatus is the status a copy registers with and whether it is out
// of service. The model's effective status decides; an instance that is
// UP but disabled (Nacos enabled=false) is out of service and one UP but
// failing its checks (Consul critical) is DOWN, so Eureka clients, which
// use UP instances only, send it nothing. UNKNOWN is registered as
// STARTING: Eureka answers every renewal of an UNKNOWN instance with 404,
// which would make the sink register it again every renewal.
func eurekaStatus(inst *registry.Instance) (fargo.StatusType, bool) {
	switch s := inst.EffectiveStatus(); s {
	case registry.StatusOutOfService:
		return fargo.UP, true
	case registry.StatusDown, registry.StatusStarting:
		return fargo.StatusType(s), false
	case registry.StatusUnknown:
		return fargo.STARTING, false
	}
	switch {
	case inst.Disabled:
		return fargo.UP, true
	case inst.Health == registry.HealthCritical:
		return fargo.DOWN, false
	}
	return fargo.UP, false
}

// sameRegistration reports whether got, as the server lists it, holds
// everything want registers: then writing want again changes nothing.
func sameRegistration(want registration, got *fargo.Instance) bool {
	w := want.instance
	gotMeta, err := metadataOf(got)
	if err != nil {
		return false
	}
	wantMeta, _ := metadataOf(w) // set by SetMetadataString: never fails
	return got.Status == want.shown() &&
		got.HostName == w.HostName && got.IPAddr == w.IPAddr &&
		got.VipAddress == w.VipAddress && got.SecureVipAddress == w.SecureVipAddress &&
		got.Port == w.Port && got.PortEnabled == w.PortEnabled &&
		got.SecurePort == w.SecurePort && got.SecurePortEnabled == w.SecurePortEnabled &&
		got.HomePageUrl == w.HomePageUrl && got.StatusPageUrl == w.StatusPageUrl &&
		got.HealthCheckUrl == w.HealthCheckUrl && got.CountryId == w.CountryId &&
		got.DataCenterInfo.Name == w.DataCenterInfo.Name &&
		got.DataCenterInfo.Metadata == w.DataCenterInfo.Metadata &&
		got.LeaseInfo.RenewalIntervalInSecs == w.LeaseInfo.RenewalIntervalInSecs &&
		got.LeaseInfo.DurationInSecs == w.LeaseInfo.DurationInSecs &&
		maps.Equal(gotMeta, wantMeta)
}

// reconcileHash is Eureka's apps__hashcode over instances' statuses: for
// each status in alphabetical order, "STATUS_count_" ("DOWN_1_UP_3_").
// A client whose registry, after applying a delta, does not hash to the
// server's fetches the whole registry again.
func reconcileHash(counts map[fargo.StatusType]int) string {
	statuses := make([]string, 0, len(counts))
	for s, n := range counts {
		if n > 0 {
			statuses = append(statuses, string(s))
		}
	}
	sort.Strings(statuses)
	var b strings.Builder
	for _, s := range statuses {
		b.WriteString(s + "_" + strconv.Itoa(counts[fargo.StatusType(s)]) + "_")
	}
	return b.String()
}

// xmlName reports whether k can be an XML element name as Eureka writes
// metadata keys (a conservative subset: no ':', no characters outside
// letters, digits, '.', '-' and '_').
func xmlName(k string) bool {
	for i, r := range k {
		letter := unicode.IsLetter(r) || r == '_'
		if i == 0 && !letter || !letter && !unicode.IsDigit(r) && r != '.' && r != '-' {
			return false
		}
	}
	return k != ""
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
