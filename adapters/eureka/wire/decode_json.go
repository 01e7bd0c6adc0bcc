package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DecodeInstanceJSON parses a root-wrapped {"instance":{...}} document the
// way the server does: numbers may come as strings and the reverse,
// booleans as strings, any field may be null, unknown keys are ignored,
// and absent fields take InstanceInfo's defaults.
func DecodeInstanceJSON(data []byte) (*Instance, error) {
	var doc struct {
		Instance *jsonInstance `json:"instance"`
	}
	// Jackson skips a UTF-8 byte order mark; so do we.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode instance JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode instance JSON: trailing data after the document")
	}
	if doc.Instance == nil {
		return nil, errors.New(`decode instance JSON: root element "instance" missing`)
	}
	return doc.Instance.instance(), nil
}

// jsonInstance mirrors what clients send; Go's case-insensitive key
// matching also accepts the legacy "overriddenstatus" spelling.
type jsonInstance struct {
	InstanceID                    flexString            `json:"instanceId"`
	HostName                      flexString            `json:"hostName"`
	App                           flexString            `json:"app"`
	AppGroupName                  flexString            `json:"appGroupName"`
	IPAddr                        flexString            `json:"ipAddr"`
	SID                           flexString            `json:"sid"`
	Status                        flexString            `json:"status"`
	OverriddenStatus              flexString            `json:"overriddenStatus"`
	Port                          *jsonPort             `json:"port"`
	SecurePort                    *jsonPort             `json:"securePort"`
	CountryID                     flexInt               `json:"countryId"`
	DataCenterInfo                *jsonDataCenter       `json:"dataCenterInfo"`
	LeaseInfo                     *jsonLease            `json:"leaseInfo"`
	Metadata                      map[string]flexString `json:"metadata"`
	HomePageURL                   flexString            `json:"homePageUrl"`
	StatusPageURL                 flexString            `json:"statusPageUrl"`
	HealthCheckURL                flexString            `json:"healthCheckUrl"`
	SecureHealthCheckURL          flexString            `json:"secureHealthCheckUrl"`
	VIPAddress                    flexString            `json:"vipAddress"`
	SecureVIPAddress              flexString            `json:"secureVipAddress"`
	IsCoordinatingDiscoveryServer flexString            `json:"isCoordinatingDiscoveryServer"`
	LastUpdatedTimestamp          flexInt               `json:"lastUpdatedTimestamp"`
	LastDirtyTimestamp            flexInt               `json:"lastDirtyTimestamp"`
	ActionType                    flexString            `json:"actionType"`
	ASGName                       flexString            `json:"asgName"`
}

type jsonPort struct {
	Number  flexInt    `json:"$"`
	Enabled flexString `json:"@enabled"`
}

type jsonDataCenter struct {
	Class    flexString            `json:"@class"`
	Name     flexString            `json:"name"`
	Metadata map[string]flexString `json:"metadata"`
}

type jsonLease struct {
	RenewalIntervalInSecs flexInt `json:"renewalIntervalInSecs"`
	DurationInSecs        flexInt `json:"durationInSecs"`
	RegistrationTimestamp flexInt `json:"registrationTimestamp"`
	LastRenewalTimestamp  flexInt `json:"lastRenewalTimestamp"`
	EvictionTimestamp     flexInt `json:"evictionTimestamp"`
	ServiceUpTimestamp    flexInt `json:"serviceUpTimestamp"`
}

func (j *jsonInstance) instance() *Instance {
	in := &Instance{
		InstanceID:                    j.InstanceID.s,
		HostName:                      j.HostName.s,
		App:                           strings.ToUpper(j.App.s),
		AppGroupName:                  strings.ToUpper(j.AppGroupName.s),
		IPAddr:                        j.IPAddr.s,
		SID:                           j.SID.s,
		Status:                        "UP",
		OverriddenStatus:              ParseStatus(j.OverriddenStatus.s),
		Port:                          Port{Number: DefaultPort, Enabled: true},
		SecurePort:                    Port{Number: DefaultSecurePort},
		CountryID:                     DefaultCountryID,
		Metadata:                      stringMap(j.Metadata, true),
		HomePageURL:                   j.HomePageURL.s,
		StatusPageURL:                 j.StatusPageURL.s,
		HealthCheckURL:                j.HealthCheckURL.s,
		SecureHealthCheckURL:          j.SecureHealthCheckURL.s,
		VIPAddress:                    j.VIPAddress.s,
		SecureVIPAddress:              j.SecureVIPAddress.s,
		IsCoordinatingDiscoveryServer: j.IsCoordinatingDiscoveryServer.s == "true",
		LastUpdatedTimestamp:          j.LastUpdatedTimestamp.n,
		LastDirtyTimestamp:            j.LastDirtyTimestamp.n,
		ActionType:                    j.ActionType.s,
		ASGName:                       j.ASGName.s,
	}
	if j.Status.set {
		in.Status = ParseStatus(j.Status.s)
	}
	if j.Port != nil {
		in.Port = j.Port.port(true)
	}
	if j.SecurePort != nil {
		in.SecurePort = j.SecurePort.port(false)
	}
	if j.CountryID.set {
		in.CountryID = int(j.CountryID.n)
	}
	if d := j.DataCenterInfo; d != nil {
		in.DataCenterInfo = &DataCenterInfo{Class: d.Class.s, Name: d.Name.s, Metadata: stringMap(d.Metadata, false)}
	}
	if l := j.LeaseInfo; l != nil {
		in.LeaseInfo = &LeaseInfo{
			RenewalIntervalInSecs: int(l.RenewalIntervalInSecs.n),
			DurationInSecs:        int(l.DurationInSecs.n),
			RegistrationTimestamp: l.RegistrationTimestamp.n,
			LastRenewalTimestamp:  l.LastRenewalTimestamp.n,
			EvictionTimestamp:     l.EvictionTimestamp.n,
			ServiceUpTimestamp:    l.ServiceUpTimestamp.n,
		}
	}
	return in
}

// port applies the Java defaults: the plain port is enabled unless told
// otherwise, the secure port only when told so.
func (p *jsonPort) port(defaultEnabled bool) Port {
	out := Port{Number: int(p.Number.n), Enabled: defaultEnabled}
	if p.Enabled.set {
		out.Enabled = p.Enabled.s == "true"
	}
	return out
}

// stringMap drops the "@class" compatibility marker Eureka puts in empty
// metadata maps.
func stringMap(m map[string]flexString, dropClass bool) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if dropClass && k == "@class" {
			continue
		}
		out[k] = v.s
	}
	return out
}

// ParseStatus maps a status string to one of Eureka's statuses the way the
// Java enum lookup does: unknown and empty values become UNKNOWN.
func ParseStatus(s string) string {
	switch s = strings.TrimSpace(s); s {
	case "UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN":
		return s
	}
	return "UNKNOWN"
}

// flexString accepts a JSON string, number or boolean (kept as its text)
// or null; objects and arrays are errors.
type flexString struct {
	s   string
	set bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case string(b) == "null":
		*f = flexString{}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString{s: s, set: true}
		return nil
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("expected a string, got %.20s", b)
	}
	*f = flexString{s: string(b), set: true}
	return nil
}

// flexInt accepts a JSON number or a string holding one, or null.
type flexInt struct {
	n   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = flexInt{}
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		// Jackson truncates fractional numbers; so do we.
		fl, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || fl > 1<<62 || fl < -(1<<62) {
			return fmt.Errorf("expected a number, got %.30q", text)
		}
		n = int64(fl)
	}
	*f = flexInt{n: n, set: true}
	return nil
}
