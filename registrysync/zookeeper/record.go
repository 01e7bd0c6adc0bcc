package zookeeper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// record is a curator-x-discovery ServiceInstance as Spring Cloud
// Zookeeper writes it (Curator's JsonInstanceSerializer over a
// ZookeeperInstance payload), fields in the order Jackson writes them:
//
//	{"name":"orders","id":"3f7c…","address":"10.0.0.5","port":8080,
//	 "sslPort":null,"payload":{"@class":"org.springframework.cloud.
//	 zookeeper.discovery.ZookeeperInstance","id":"orders","name":"orders",
//	 "metadata":{"instance_status":"UP"}},"registrationTimeUTC":1700000000000,
//	 "serviceType":"DYNAMIC","uriSpec":{"parts":[…]}}
type record struct {
	Name                string   `json:"name"`
	ID                  string   `json:"id"`
	Address             string   `json:"address"`
	Port                *int     `json:"port"`
	SSLPort             *int     `json:"sslPort"`
	Payload             *payload `json:"payload"`
	RegistrationTimeUTC int64    `json:"registrationTimeUTC"`
	ServiceType         string   `json:"serviceType"`
	URISpec             *uriSpec `json:"uriSpec"`
	// Enabled is the flag Curator 4 added (CURATOR-275); Spring's
	// records leave it out, and absent means enabled. Copies never carry
	// it, so that Curator clients older than the flag can read them.
	Enabled *bool `json:"enabled,omitempty"`
}

// payload is Spring's ZookeeperInstance, typed by Jackson's "@class".
type payload struct {
	Class    string            `json:"@class"`
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

type uriSpec struct {
	Parts []uriPart `json:"parts"`
}

type uriPart struct {
	Value    string `json:"value"`
	Variable bool   `json:"variable"`
}

const (
	// springPayloadClass is the payload type Spring's deserializer
	// checks for: a record with another class is not read by Spring apps.
	springPayloadClass = "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance"
	serviceTypeDynamic = "DYNAMIC"
	// maxRecordBytes bounds a record this connector writes: ZooKeeper
	// refuses packets over jute.maxbuffer (1 MiB by default), and a
	// Spring record is well under a kilobyte.
	maxRecordBytes = 512 << 10
)

// defaultURISpec is Spring's "{scheme}://{address}:{port}", parsed as
// Curator's UriSpec holds it.
var defaultURISpec = uriSpec{Parts: []uriPart{
	{Value: "scheme", Variable: true},
	{Value: "://"},
	{Value: "address", Variable: true},
	{Value: ":"},
	{Value: "port", Variable: true},
}}

// decodeRecord reads a node's data.
func decodeRecord(data []byte) (*record, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty node")
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a ServiceInstance record: %w", err)
	}
	return &r, nil
}

// encode writes r as Jackson does: no HTML escaping, no trailing newline.
func (r *record) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
