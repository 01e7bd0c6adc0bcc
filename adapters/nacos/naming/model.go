package naming

import "github.com/meshbridge/meshbridge/registry"

// Instance is Nacos's instance JSON as servers send it
// (api/naming/pojo/Instance.java; Go SDK model.Instance).
type Instance struct {
	InstanceID  string            `json:"instanceId"`
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	Weight      float64           `json:"weight"`
	Healthy     bool              `json:"healthy"`
	Enabled     bool              `json:"enabled"`
	Ephemeral   bool              `json:"ephemeral"`
	ClusterName string            `json:"clusterName"`
	ServiceName string            `json:"serviceName"`
	Metadata    map[string]string `json:"metadata"`
	// The Java POJO serialises these derived values; clients ignore them on
	// input but older ones read them from list answers.
	InstanceHeartBeatInterval int64  `json:"instanceHeartBeatInterval"`
	InstanceHeartBeatTimeOut  int64  `json:"instanceHeartBeatTimeOut"`
	IPDeleteTimeout           int64  `json:"ipDeleteTimeout"`
	InstanceIDGenerator       string `json:"instanceIdGenerator"`
}

// InstanceInput is an instance as a client sends it. Pointer fields tell
// "absent" (take Nacos's default) from a zero value the client set.
type InstanceInput struct {
	InstanceID  string            `json:"instanceId"`
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	Weight      *float64          `json:"weight"`
	Healthy     *bool             `json:"healthy"`
	Enabled     *bool             `json:"enabled"`
	Ephemeral   *bool             `json:"ephemeral"`
	ClusterName string            `json:"clusterName"`
	ServiceName string            `json:"serviceName"`
	Metadata    map[string]string `json:"metadata"`
}

// ServiceInfo is the instance list of one service as clients cache it
// (api/naming/pojo/ServiceInfo.java; Go SDK model.Service).
type ServiceInfo struct {
	Name        string `json:"name"`
	GroupName   string `json:"groupName"`
	Clusters    string `json:"clusters"`
	CacheMillis int64  `json:"cacheMillis"`
	// Hosts is never null: Java clients drop pushes whose hosts are null.
	Hosts       []Instance `json:"hosts"`
	LastRefTime int64      `json:"lastRefTime"`
	Checksum    string     `json:"checksum"`
	AllIPs      bool       `json:"allIPs"`
	// ReachProtectionThreshold is always false: the protect threshold is 0.
	ReachProtectionThreshold bool `json:"reachProtectionThreshold"`
	Valid                    bool `json:"valid"`
}

// Defaults Nacos clients and servers agree on.
const (
	DefaultNamespace   = "public"
	DefaultGroup       = "DEFAULT_GROUP"
	DefaultCluster     = "DEFAULT"
	GroupSeparator     = registry.GroupSeparator
	DefaultCacheMillis = 10000
	// Heartbeat defaults of v1 ephemeral instances (ms), overridable per
	// instance with the preserved.* metadata keys.
	DefaultBeatInterval  = 5000
	DefaultBeatTimeout   = 15000
	DefaultDeleteTimeout = 30000
)

// Metadata keys clients use to override heartbeat timing (milliseconds).
const (
	MetaBeatInterval  = "preserved.heart.beat.interval"
	MetaBeatTimeout   = "preserved.heart.beat.timeout"
	MetaDeleteTimeout = "preserved.ip.delete.timeout"
)
