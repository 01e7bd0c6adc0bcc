// Package fields says where Eureka's fields live on a registry.Instance:
// the attribute keys Eureka-only fields are kept under, the metadata key
// of the zone, and how an application's name becomes a service name and
// an instance's address a home page. The Eureka front-end
// (adapters/eureka) and registrysync's Eureka connector both map Eureka
// instances with them, so an instance registered at the adapter and one
// listed from a Eureka server carry their fields alike.
package fields

import (
	"strings"

	"github.com/meshbridge/meshbridge/registry"
)

// Attribute keys (registry.Instance.Attributes) of Eureka-only fields.
// Only these go to Attributes, never to Metadata, so the Consul and Nacos
// views do not show them and a Eureka client gets back what it registered.
const (
	IPAddr               = "eureka.ipAddr"
	AppGroupName         = "eureka.appGroupName"
	SID                  = "eureka.sid"
	HomePageURL          = "eureka.homePageUrl"
	StatusPageURL        = "eureka.statusPageUrl"
	HealthCheckURL       = "eureka.healthCheckUrl"
	SecureHealthCheckURL = "eureka.secureHealthCheckUrl"
	VIPAddress           = "eureka.vipAddress"
	SecureVIPAddress     = "eureka.secureVipAddress"
	CountryID            = "eureka.countryId"
	DataCenterName       = "eureka.dataCenterInfo.name"
	// DataCenterMetadata is Amazon's data center metadata as a JSON object.
	DataCenterMetadata = "eureka.dataCenterInfo.metadata"
	Coordinating       = "eureka.isCoordinatingDiscoveryServer"
	LastDirty          = "eureka.lastDirtyTimestamp"
	ServiceUp          = "eureka.serviceUpTimestamp"
	ASGName            = "eureka.asgName"
	// DisabledPort keeps the number of a plain port marked disabled; the
	// model's Port is 0 then, as no plain port is usable.
	DisabledPort = "eureka.port"
)

// MetadataZone is the metadata key Spring's Eureka client keeps the zone under.
const MetadataZone = "zone"

// ServiceName is the model's service name for an application: its first
// VIP address when that is the app's name in another case (Spring sets
// vipAddress to spring.application.name, which keeps its case), else the
// app name in lower case, so Consul and Nacos see "orders", not "ORDERS".
func ServiceName(app, vipAddress string) string {
	vip, _, _ := strings.Cut(vipAddress, ",")
	if vip = strings.TrimSpace(vip); strings.EqualFold(vip, app) {
		return vip
	}
	return strings.ToLower(app)
}

// HomePage is the home page URL Eureka shows for an instance that
// registered none: its plain port over http, else its secure port over
// https, else none.
func HomePage(i *registry.Instance) string {
	switch {
	case i.Port > 0:
		return "http://" + i.Address() + "/"
	case i.SecureEnabled && i.SecurePort > 0:
		return "https://" + i.Address() + "/"
	}
	return ""
}

// Set keeps a Eureka field under attribute key k; an empty value, which
// Eureka writes for a field it does not have, is not kept.
func Set(i *registry.Instance, k, v string) {
	if v == "" {
		return
	}
	if i.Attributes == nil {
		i.Attributes = map[string]string{}
	}
	i.Attributes[k] = v
}
