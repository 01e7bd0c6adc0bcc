package wire

import (
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
)

var readFile = os.ReadFile

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeClientBodies decodes what real clients send (captured shapes:
// see PROTOCOLS.md §1.5) and checks the fields the server relies on.
func TestDecodeClientBodies(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Instance
	}{
		{"spring_register.json", Instance{
			InstanceID: "10.1.2.3:orders:8080", HostName: "10.1.2.3", App: "ORDERS", IPAddr: "10.1.2.3", SID: "na",
			Status: "UP", OverriddenStatus: "UNKNOWN", Port: Port{8080, true}, SecurePort: Port{443, false}, CountryID: 1,
			DataCenterInfo:   &DataCenterInfo{Class: ClassDefaultDataCenter, Name: "MyOwn"},
			LeaseInfo:        &LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 90},
			Metadata:         map[string]string{"management.port": "8080", "version": "v1"},
			HomePageURL:      "http://10.1.2.3:8080/",
			StatusPageURL:    "http://10.1.2.3:8080/actuator/info",
			HealthCheckURL:   "http://10.1.2.3:8080/actuator/health",
			VIPAddress:       "orders",
			SecureVIPAddress: "orders", LastUpdatedTimestamp: 1630906180645, LastDirtyTimestamp: 1630906182808,
		}},
		{"fargo_register.json", Instance{
			HostName: "fargo-host", App: "TESTAPP", IPAddr: "10.0.0.7", Status: "UP", OverriddenStatus: "UNKNOWN",
			Port: Port{8080, true}, SecurePort: Port{8443, false}, CountryID: 0,
			DataCenterInfo: &DataCenterInfo{Class: ClassMyDataCenterInfo, Name: "MyOwn"},
			LeaseInfo:      &LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 90},
			Metadata:       map[string]string{"zone": "a"}, VIPAddress: "testapp",
		}},
		{"fargo_register.xml", Instance{
			HostName: "fargo-host", App: "TESTAPP", IPAddr: "10.0.0.7", Status: "UP", OverriddenStatus: "UNKNOWN",
			Port: Port{8080, true}, SecurePort: Port{8443, false}, CountryID: 0,
			DataCenterInfo: &DataCenterInfo{Name: "MyOwn"},
			LeaseInfo:      &LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 90},
			Metadata:       map[string]string{"zone": "a", "a_b": "c"}, VIPAddress: "testapp",
		}},
		{"amazon_register.json", Instance{
			HostName: "ec2-1.compute.internal", App: "BILLING", IPAddr: "172.16.0.4", Status: "STARTING",
			OverriddenStatus: "OUT_OF_SERVICE", Port: Port{7001, true}, SecurePort: Port{7002, true}, CountryID: 1,
			DataCenterInfo: &DataCenterInfo{Class: ClassAmazonInfo, Name: "Amazon", Metadata: map[string]string{
				"instance-id": "i-0abc", "availability-zone": "us-east-1a", "ami-launch-index": "0"}},
			IsCoordinatingDiscoveryServer: true, LastDirtyTimestamp: 1700000000123,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := readFixture(t, tc.file)
			var got *Instance
			var err error
			if strings.HasSuffix(tc.file, ".xml") {
				got, err = DecodeInstanceXML(data)
			} else {
				got, err = DecodeInstanceJSON(data)
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			assertInstance(t, got, &tc.want)
		})
	}
}

func TestDecodeAmazonID(t *testing.T) {
	got, err := DecodeInstanceJSON(readFixture(t, "amazon_register.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != "i-0abc" {
		t.Errorf("ID() = %q, want the Amazon instance-id", got.ID())
	}
}

// TestDecodeDefaults covers the Java defaults and the leniency real
// clients need.
func TestDecodeDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		json  string
		xml   string
		check func(*Instance) bool
	}{
		{"absent status is UP", `{"instance":{}}`, `<instance/>`, func(i *Instance) bool { return i.Status == "UP" }},
		{"empty status is UNKNOWN", `{"instance":{"status":""}}`, `<instance><status></status></instance>`,
			func(i *Instance) bool { return i.Status == "UNKNOWN" }},
		{"unknown status is UNKNOWN", `{"instance":{"status":"BROKEN"}}`, `<instance><status>BROKEN</status></instance>`,
			func(i *Instance) bool { return i.Status == "UNKNOWN" }},
		{"null status keeps the default", `{"instance":{"status":null}}`, ``, func(i *Instance) bool { return i.Status == "UP" }},
		{"absent ports take 7001 enabled and 7002 disabled", `{"instance":{}}`, `<instance/>`,
			func(i *Instance) bool { return i.Port == Port{7001, true} && i.SecurePort == Port{7002, false} }},
		{"port without enabled is enabled, secure port is not",
			`{"instance":{"port":{"$":80},"securePort":{"$":443}}}`,
			`<instance><port>80</port><securePort>443</securePort></instance>`,
			func(i *Instance) bool { return i.Port == Port{80, true} && i.SecurePort == Port{443, false} }},
		{"legacy and new overridden status spellings",
			`{"instance":{"overriddenstatus":"DOWN"}}`, `<instance><overriddenStatus>DOWN</overriddenStatus></instance>`,
			func(i *Instance) bool { return i.OverriddenStatus == "DOWN" }},
		{"empty-map marker is not metadata",
			`{"instance":{"metadata":{"@class":"java.util.Collections$EmptyMap"}}}`,
			`<instance><metadata class="java.util.Collections$EmptyMap"/></instance>`,
			func(i *Instance) bool { return len(i.Metadata) == 0 }},
		{"app names are upper-cased", `{"instance":{"app":"orders"}}`, `<instance><app>orders</app></instance>`,
			func(i *Instance) bool { return i.App == "ORDERS" }},
		{"numbers as strings and the reverse",
			`{"instance":{"countryId":"7","lastDirtyTimestamp":12.0,"hostName":42}}`, ``,
			func(i *Instance) bool { return i.CountryID == 7 && i.LastDirtyTimestamp == 12 && i.HostName == "42" }},
		{"byte order mark and declared encodings",
			"\xef\xbb\xbf" + `{"instance":{"hostName":"h"}}`,
			`<?xml version="1.0" encoding="ISO-8859-1"?>` + "<instance><hostName>h\xe9</hostName></instance>",
			func(i *Instance) bool { return i.HostName == "h" || i.HostName == "h\u00e9" }},
		{"XStream-coded metadata names", ``, `<instance><metadata><a__b_-c>1</a__b_-c><d_e>2</d_e></metadata></instance>`,
			func(i *Instance) bool { return maps.Equal(i.Metadata, map[string]string{"a_b$c": "1", "d_e": "2"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.json != "" {
				got, err := DecodeInstanceJSON([]byte(tc.json))
				if err != nil || !tc.check(got) {
					t.Errorf("JSON %s: got %+v, %v", tc.json, got, err)
				}
			}
			if tc.xml != "" {
				got, err := DecodeInstanceXML([]byte(tc.xml))
				if err != nil || !tc.check(got) {
					t.Errorf("XML %s: got %+v, %v", tc.xml, got, err)
				}
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	deepJSON := `{"instance":{"metadata":` + strings.Repeat("[", 200000) + `}}`
	deepXML := "<instance><metadata>" + strings.Repeat("<a>", 200000)
	for _, tc := range []struct {
		name, json, xml string
	}{
		{"empty body", "", ""},
		{"wrong root", `{"application":{}}`, `<application/>`},
		{"root not an object", `[]`, `text`},
		{"truncated", `{"instance":{"hostName":"x"`, `<instance><hostName>x</instance>`},
		{"trailing garbage", `{"instance":{}} {}`, ``},
		{"object where a string belongs", `{"instance":{"hostName":{"a":1}}}`, ``},
		{"port not a number", `{"instance":{"port":{"$":"eighty"}}}`, `<instance><port>eighty</port></instance>`},
		{"lease not a number", `{"instance":{"leaseInfo":{"durationInSecs":"x"}}}`, `<instance><leaseInfo><durationInSecs>x</durationInSecs></leaseInfo></instance>`},
		{"metadata value an object", `{"instance":{"metadata":{"a":{"b":1}}}}`, ``},
		{"deep nesting", deepJSON, deepXML},
		// Closed, so only the depth bound refuses them.
		{"deep nesting inside a metadata entry", ``, "<instance><metadata><k>" + strings.Repeat("<a>", 33) + strings.Repeat("</a>", 33) + "</k></metadata></instance>"},
		{"deep nesting in an unknown element", ``, "<instance>" + strings.Repeat("<a>", 32) + strings.Repeat("</a>", 32) + "</instance>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.json != "" || tc.name == "empty body" {
				if got, err := DecodeInstanceJSON([]byte(tc.json)); err == nil {
					t.Errorf("JSON accepted: %+v", got)
				}
			}
			if tc.xml != "" || tc.name == "empty body" {
				if got, err := DecodeInstanceXML([]byte(tc.xml)); err == nil {
					t.Errorf("XML accepted: %+v", got)
				}
			}
		})
	}
}

func TestXMLNameCoding(t *testing.T) {
	for _, tc := range []struct{ name, encoded string }{
		{"versions_delta", "versions__delta"},
		{"a$b", "a_-b"},
		{"plain.key-1", "plain.key-1"},
		{"_x_", "__x__"},
	} {
		if got := EncodeXMLName(tc.name); got != tc.encoded {
			t.Errorf("EncodeXMLName(%q) = %q, want %q", tc.name, got, tc.encoded)
		}
		if got := DecodeXMLName(tc.encoded); got != tc.name {
			t.Errorf("DecodeXMLName(%q) = %q, want %q", tc.encoded, got, tc.name)
		}
	}
}

func assertInstance(t *testing.T, got, want *Instance) {
	t.Helper()
	g, w := *got, *want
	g.DataCenterInfo, w.DataCenterInfo, g.LeaseInfo, w.LeaseInfo = nil, nil, nil, nil
	g.Metadata, w.Metadata = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("instance:\n got %+v\nwant %+v", g, w)
	}
	if (got.DataCenterInfo == nil) != (want.DataCenterInfo == nil) ||
		got.DataCenterInfo != nil && (got.DataCenterInfo.Class != want.DataCenterInfo.Class ||
			got.DataCenterInfo.Name != want.DataCenterInfo.Name || !maps.Equal(got.DataCenterInfo.Metadata, want.DataCenterInfo.Metadata)) {
		t.Errorf("dataCenterInfo: got %+v, want %+v", got.DataCenterInfo, want.DataCenterInfo)
	}
	if (got.LeaseInfo == nil) != (want.LeaseInfo == nil) || got.LeaseInfo != nil && *got.LeaseInfo != *want.LeaseInfo {
		t.Errorf("leaseInfo: got %+v, want %+v", got.LeaseInfo, want.LeaseInfo)
	}
	if !maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("metadata: got %v, want %v", got.Metadata, want.Metadata)
	}
}
