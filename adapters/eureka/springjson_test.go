package eureka

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// This file is a strict reader of Eureka JSON as Spring Cloud Netflix's
// RestClient/RestTemplate transport reads it (EurekaHttpClientUtils.
// objectMapper(): a plain Jackson ObjectMapper with WRAP/UNWRAP_ROOT_VALUE,
// FAIL_ON_UNKNOWN_PROPERTIES on, no ACCEPT_SINGLE_VALUE_AS_ARRAY, Netflix's
// ApplicationsJacksonBuilder for Applications and InstanceInfo's
// @JsonCreator for instances). It cannot run Jackson; it applies the same
// rules, so a response that passes it is one Spring parses.

// springInstanceKeys are the properties Jackson knows on InstanceInfo (the
// list its "Unrecognized field" error prints, plus overriddenStatus).
var springInstanceKeys = []string{
	"port", "healthCheckUrl", "appGroupName", "sid", "instanceId", "countryId", "hostName",
	"isCoordinatingDiscoveryServer", "vipAddress", "securePort", "secureHealthCheckUrl",
	"overridden_status", "asgName", "app", "overriddenstatus", "leaseInfo", "dataCenterInfo",
	"secureVipAddress", "metadata", "status", "ipAddr", "is_dirty", "homePageUrl", "statusPageUrl",
	"lastUpdatedTimestamp", "lastDirtyTimestamp", "actionType", "status_without_dirty", "overriddenStatus",
}

var springLeaseKeys = []string{
	"renewalIntervalInSecs", "durationInSecs", "registrationTimestamp", "lastRenewalTimestamp",
	"renewalTimestamp", "evictionTimestamp", "serviceUpTimestamp",
}

var springStatuses = []string{"UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN"}

// springApps is what Spring ends up with.
type springApps struct {
	Version  int64
	Hashcode string
	Apps     []springApp
}

type springApp struct {
	Name      string
	Instances []springInstance
}

type springInstance struct {
	InstanceID, App, HostName, IPAddr, Status, OverriddenStatus string
	VIPAddress, SecureVIPAddress, ActionType, HealthCheckURL    string
	Port, SecurePort                                            int64
	PortEnabled, SecurePortEnabled                              bool
	CountryID                                                   int64
	DataCenter                                                  string
	Metadata                                                    map[string]string
	Lease                                                       map[string]int64
	LastDirtyTimestamp                                          int64
}

// unwrapRoot applies UNWRAP_ROOT_VALUE: an object with exactly one
// property, named root.
func unwrapRoot(body []byte, root string) (json.RawMessage, error) {
	obj, err := jsonObject(body)
	if err != nil {
		return nil, err
	}
	v, ok := obj[root]
	if !ok || len(obj) != 1 {
		return nil, fmt.Errorf("root name does not match expected (%q): keys %v", root, keysOf(obj))
	}
	return v, nil
}

func parseSpringApplications(body []byte) (*springApps, error) {
	raw, err := unwrapRoot(body, "applications")
	if err != nil {
		return nil, err
	}
	obj, err := jsonObject(raw)
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	out := &springApps{Version: -1}
	for k, v := range obj {
		switch {
		case k == "application":
			arr, err := jsonArray(v)
			if err != nil {
				return nil, fmt.Errorf("applications.application: %w", err)
			}
			for i, a := range arr {
				app, err := parseSpringApplication(a)
				if err != nil {
					return nil, fmt.Errorf("applications.application[%d]: %w", i, err)
				}
				out.Apps = append(out.Apps, *app)
			}
		case len(k) >= 7 && k[:7] == "version":
			var s string
			if json.Unmarshal(v, &s) == nil {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("versions__delta %q unparsable: the client would force full fetches", s)
				}
				out.Version = n
			} else if err := json.Unmarshal(v, &out.Version); err != nil {
				return nil, fmt.Errorf("versions__delta: %w", err)
			}
		case len(k) >= 4 && k[:4] == "apps":
			if err := json.Unmarshal(v, &out.Hashcode); err != nil {
				return nil, fmt.Errorf("apps__hashcode must be a string: %w", err)
			}
		}
	}
	if _, ok := obj["application"]; !ok {
		return nil, fmt.Errorf("applications.application missing (Applications would be built with a null list)")
	}
	return out, nil
}

func parseSpringApplication(raw json.RawMessage) (*springApp, error) {
	obj, err := jsonObject(raw)
	if err != nil {
		return nil, err
	}
	if err := onlyKeys(obj, "name", "instance"); err != nil {
		return nil, err
	}
	app := &springApp{}
	if err := json.Unmarshal(obj["name"], &app.Name); err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	arr, err := jsonArray(obj["instance"])
	if err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	for i, in := range arr {
		inst, err := parseSpringInstance(in)
		if err != nil {
			return nil, fmt.Errorf("instance[%d]: %w", i, err)
		}
		app.Instances = append(app.Instances, *inst)
	}
	return app, nil
}

func parseSpringInstance(raw json.RawMessage) (*springInstance, error) {
	obj, err := jsonObject(raw)
	if err != nil {
		return nil, err
	}
	if err := onlyKeys(obj, springInstanceKeys...); err != nil {
		return nil, err
	}
	in := &springInstance{Lease: map[string]int64{}}
	strs := map[string]*string{
		"instanceId": &in.InstanceID, "app": &in.App, "hostName": &in.HostName, "ipAddr": &in.IPAddr,
		"vipAddress": &in.VIPAddress, "secureVipAddress": &in.SecureVIPAddress, "healthCheckUrl": &in.HealthCheckURL,
		"homePageUrl": new(string), "statusPageUrl": new(string), "secureHealthCheckUrl": new(string),
		"appGroupName": new(string), "sid": new(string), "asgName": new(string),
	}
	for k, p := range strs {
		if v, ok := obj[k]; ok {
			if err := jsonString(v, p); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	for _, k := range []string{"status", "overriddenStatus", "overriddenstatus"} {
		v, ok := obj[k]
		if !ok {
			continue
		}
		var s string
		if err := jsonString(v, &s); err != nil || (s != "" && !slices.Contains(springStatuses, s)) {
			return nil, fmt.Errorf("%s: not an InstanceStatus: %s", k, v)
		}
		if k == "status" {
			in.Status = s
		} else {
			in.OverriddenStatus = s
		}
	}
	if v, ok := obj["actionType"]; ok {
		if err := jsonString(v, &in.ActionType); err != nil || !slices.Contains([]string{"", "ADDED", "MODIFIED", "DELETED"}, in.ActionType) {
			return nil, fmt.Errorf("actionType: %s", v)
		}
	}
	for _, p := range []struct {
		key     string
		num     *int64
		enabled *bool
	}{{"port", &in.Port, &in.PortEnabled}, {"securePort", &in.SecurePort, &in.SecurePortEnabled}} {
		v, ok := obj[p.key]
		if !ok {
			continue
		}
		port, err := jsonObject(v)
		if err == nil {
			err = onlyKeys(port, "$", "@enabled")
		}
		if err == nil {
			*p.num, err = jsonLong(port["$"])
		}
		if err == nil {
			*p.enabled, err = jsonBool(port["@enabled"])
		}
		if err != nil {
			return nil, fmt.Errorf("%s (PortWrapper): %w", p.key, err)
		}
	}
	if v, ok := obj["countryId"]; ok {
		if in.CountryID, err = jsonLong(v); err != nil {
			return nil, fmt.Errorf("countryId: %w", err)
		}
	}
	for _, k := range []string{"lastUpdatedTimestamp", "lastDirtyTimestamp"} {
		if v, ok := obj[k]; ok {
			n, err := jsonLong(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if k == "lastDirtyTimestamp" {
				in.LastDirtyTimestamp = n
			}
		}
	}
	if v, ok := obj["isCoordinatingDiscoveryServer"]; ok {
		if _, err := jsonBool(v); err != nil {
			return nil, fmt.Errorf("isCoordinatingDiscoveryServer: %w", err)
		}
	}
	if v, ok := obj["dataCenterInfo"]; ok {
		if in.DataCenter, err = parseSpringDataCenter(v); err != nil {
			return nil, fmt.Errorf("dataCenterInfo: %w", err)
		}
	}
	if v, ok := obj["leaseInfo"]; ok {
		lease, err := jsonObject(v)
		if err == nil {
			err = onlyKeys(lease, springLeaseKeys...)
		}
		for k, n := range lease {
			if err != nil {
				break
			}
			in.Lease[k], err = jsonLong(n)
		}
		if err != nil {
			return nil, fmt.Errorf("leaseInfo: %w", err)
		}
	}
	if v, ok := obj["metadata"]; ok {
		if err := json.Unmarshal(v, &in.Metadata); err != nil {
			return nil, fmt.Errorf("metadata must map strings to strings: %w", err)
		}
		// InstanceInfo drops the compatibility marker when it is all there is.
		if in.Metadata["@class"] == "java.util.Collections$EmptyMap" {
			delete(in.Metadata, "@class")
		}
	}
	return in, nil
}

// parseSpringDataCenter applies DataCenterInfo's @JsonTypeInfo: "@class"
// must name a class Jackson can resolve, and the class's properties only.
func parseSpringDataCenter(raw json.RawMessage) (string, error) {
	obj, err := jsonObject(raw)
	if err != nil {
		return "", err
	}
	var class, name string
	if err := jsonString(obj["@class"], &class); err != nil || class == "" {
		return "", fmt.Errorf("@class missing: polymorphic type id required")
	}
	switch class {
	case "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "com.netflix.appinfo.MyDataCenterInfo":
		err = onlyKeys(obj, "@class", "name")
	case "com.netflix.appinfo.AmazonInfo":
		err = onlyKeys(obj, "@class", "name", "metadata")
	default:
		err = fmt.Errorf("unknown @class %q", class)
	}
	if err != nil {
		return "", err
	}
	if err := jsonString(obj["name"], &name); err != nil || !slices.Contains([]string{"Netflix", "Amazon", "MyOwn"}, name) {
		return "", fmt.Errorf("name %s is not a DataCenterInfo.Name", obj["name"])
	}
	return name, nil
}

func jsonObject(raw []byte) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("expected an object, got %.40s", raw)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func jsonArray(raw []byte) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("expected an array (single values are not accepted as arrays), got %.40s", raw)
	}
	var arr []json.RawMessage
	err := json.Unmarshal(raw, &arr)
	return arr, err
}

// jsonString accepts a string or null, as Jackson does for String.
func jsonString(raw []byte, dst *string) error {
	if string(bytes.TrimSpace(raw)) == "null" {
		*dst = ""
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// jsonLong accepts a number or a string holding one (Jackson's scalar coercion).
func jsonLong(raw []byte) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("expected a number, got %s", raw)
		}
		n = json.Number(s)
	}
	return n.Int64()
}

// jsonBool accepts true/false or "true"/"false".
func jsonBool(raw []byte) (bool, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`:
		return false, nil
	}
	return false, fmt.Errorf("expected a boolean, got %s", raw)
}

func onlyKeys(obj map[string]json.RawMessage, allowed ...string) error {
	for k := range obj {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unrecognized field %q (FAIL_ON_UNKNOWN_PROPERTIES)", k)
		}
	}
	return nil
}

func keysOf(obj map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
