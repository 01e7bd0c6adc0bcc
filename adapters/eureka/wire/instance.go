package wire

// Defaults the Java InstanceInfo applies when a field is absent.
const (
	DefaultPort       = 7001
	DefaultSecurePort = 7002
	DefaultCountryID  = 1
	// DefaultRenewalInterval and DefaultDuration are LeaseInfo's defaults, in seconds.
	DefaultRenewalInterval = 30
	DefaultDuration        = 90
)

// Data center classes as they appear in "@class" (JSON) and class="" (XML).
const (
	ClassDefaultDataCenter = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"
	ClassAmazonInfo        = "com.netflix.appinfo.AmazonInfo"
	ClassMyDataCenterInfo  = "com.netflix.appinfo.MyDataCenterInfo"
	// ClassEmptyMap marks an empty metadata map, for compatibility with old clients.
	ClassEmptyMap = "java.util.Collections$EmptyMap"
)

// Data center names.
const (
	DataCenterMyOwn  = "MyOwn"
	DataCenterAmazon = "Amazon"
)

// Action types in a delta.
const (
	ActionAdded    = "ADDED"
	ActionModified = "MODIFIED"
	ActionDeleted  = "DELETED"
)

// Instance is Eureka's InstanceInfo. Empty optional strings are left out
// when encoding, as the server leaves out null fields.
type Instance struct {
	InstanceID       string
	HostName         string
	App              string
	AppGroupName     string
	IPAddr           string
	SID              string
	Status           string
	OverriddenStatus string
	Port             Port
	SecurePort       Port
	CountryID        int
	DataCenterInfo   *DataCenterInfo
	LeaseInfo        *LeaseInfo
	Metadata         map[string]string

	HomePageURL          string
	StatusPageURL        string
	HealthCheckURL       string
	SecureHealthCheckURL string
	VIPAddress           string
	SecureVIPAddress     string

	IsCoordinatingDiscoveryServer bool
	LastUpdatedTimestamp          int64
	LastDirtyTimestamp            int64
	ActionType                    string
	ASGName                       string
}

// Port is a port number and whether it is enabled.
type Port struct {
	Number  int
	Enabled bool
}

// DataCenterInfo says where an instance runs. Metadata is only meaningful
// for Amazon.
type DataCenterInfo struct {
	Class    string
	Name     string
	Metadata map[string]string
}

// LeaseInfo is the lease as the client asked for it (intervals, in
// seconds) and as the server keeps it (timestamps, in Unix milliseconds).
type LeaseInfo struct {
	RenewalIntervalInSecs int
	DurationInSecs        int
	RegistrationTimestamp int64
	LastRenewalTimestamp  int64
	EvictionTimestamp     int64
	ServiceUpTimestamp    int64
}

// ID is the instance's identity as the server derives it: instanceId, else
// the Amazon instance-id, else the host name (InstanceInfo.getId).
func (i *Instance) ID() string {
	if i.InstanceID != "" {
		return i.InstanceID
	}
	if d := i.DataCenterInfo; d != nil && d.Name == DataCenterAmazon {
		if id := d.Metadata["instance-id"]; id != "" {
			return id
		}
	}
	return i.HostName
}

// Application is one app with its instances.
type Application struct {
	Name      string
	Instances []*Instance
}

// Applications is the registry document: every app, the delta version
// and the reconcile hash code clients compare after applying a delta.
type Applications struct {
	VersionsDelta string
	AppsHashcode  string
	Apps          []*Application
}

// autoFields are the string fields the server marshals after metadata, in
// its order (the @Auto fields of InstanceInfo); empty ones are left out.
func (i *Instance) autoFields() [7][2]string {
	return [7][2]string{
		{"appGroupName", i.AppGroupName},
		{"homePageUrl", i.HomePageURL},
		{"statusPageUrl", i.StatusPageURL},
		{"healthCheckUrl", i.HealthCheckURL},
		{"secureHealthCheckUrl", i.SecureHealthCheckURL},
		{"vipAddress", i.VIPAddress},
		{"secureVipAddress", i.SecureVIPAddress},
	}
}
