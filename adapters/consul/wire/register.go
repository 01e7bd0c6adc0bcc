package wire

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
)

// ServiceAddress is one entry of TaggedAddresses.
type ServiceAddress struct {
	Address string
	Port    int
}

// Locality is where a service runs (region and zone).
type Locality struct {
	Region string `json:",omitempty"`
	Zone   string `json:",omitempty"`
}

// Weights are a service's DNS weights.
type Weights struct {
	Passing int
	Warning int
}

// ServiceDefinition is the body of PUT /v1/agent/service/register: every
// field Consul's agent accepts (structs.ServiceDefinition plus the fields
// consul/api@v1.34.5 sends), so a strict decode refuses only what Consul
// refuses. The adapter refuses with 400 what it would not keep (Connect,
// proxy, multi-port Ports, AI, other namespaces and partitions), so
// nothing is accepted and then dropped.
type ServiceDefinition struct {
	Kind              string
	ID                string
	Name              string
	Tags              []string
	Address           string
	TaggedAddresses   map[string]ServiceAddress
	Meta              map[string]string
	Port              int
	Ports             json.RawMessage
	SocketPath        string
	Check             *CheckType
	Checks            []*CheckType
	Weights           *Weights
	Token             string
	EnableTagOverride bool
	Locality          *Locality
	Proxy             json.RawMessage
	Connect           json.RawMessage
	AI                json.RawMessage
	Namespace         string
	Partition         string

	// Snake-case spellings Consul also accepts (service definition files).
	EnableTagOverrideSnake bool                      `json:"enable_tag_override"`
	TaggedAddressesSnake   map[string]ServiceAddress `json:"tagged_addresses"`
}

// CheckType is one health check of a registration (structs.CheckType).
type CheckType struct {
	CheckID string
	Name    string
	Status  string
	Notes   string

	ScriptArgs             []string
	HTTP                   string
	H2PING                 string
	H2PingUseTLS           bool
	Header                 map[string][]string
	Method                 string
	Body                   string
	DisableRedirects       bool
	TCP                    string
	TCPUseTLS              bool
	UDP                    string
	Interval               Duration
	AliasNode              string
	AliasService           string
	DockerContainerID      string
	Shell                  string
	GRPC                   string
	GRPCUseTLS             bool
	OSService              string
	TLSServerName          string
	TLSSkipVerify          bool
	Timeout                Duration
	TTL                    Duration
	SuccessBeforePassing   int
	FailuresBeforeWarning  int
	FailuresBeforeCritical int
	ProxyHTTP              string
	ProxyGRPC              string

	DeregisterCriticalServiceAfter Duration
	OutputMaxSize                  int
}

// UnmarshalJSON accepts the aliases Consul's agent accepts ("Args" from
// Spring Cloud Consul, snake-case names from definition files) and refuses
// unknown fields.
func (c *CheckType) UnmarshalJSON(data []byte) error {
	type alias CheckType
	aux := &struct {
		Args                                []string  `json:"args"`
		ScriptArgsSnake                     []string  `json:"script_args"`
		DeregisterCriticalServiceAfterSnake *Duration `json:"deregister_critical_service_after"`
		DockerContainerIDSnake              string    `json:"docker_container_id"`
		TLSServerNameSnake                  string    `json:"tls_server_name"`
		TLSSkipVerifySnake                  bool      `json:"tls_skip_verify"`
		TCPUseTLSSnake                      bool      `json:"tcp_use_tls"`
		GRPCUseTLSSnake                     bool      `json:"grpc_use_tls"`
		H2PingUseTLSSnake                   bool      `json:"h2ping_use_tls"`
		ServiceID                           string    `json:"ServiceID"`
		ServiceIDSnake                      string    `json:"service_id"`
		*alias
	}{alias: (*alias)(c)}
	if err := unmarshalStrict(data, aux); err != nil {
		return err
	}
	if len(c.ScriptArgs) == 0 {
		c.ScriptArgs = aux.Args
	}
	if len(c.ScriptArgs) == 0 {
		c.ScriptArgs = aux.ScriptArgsSnake
	}
	if c.DeregisterCriticalServiceAfter == 0 && aux.DeregisterCriticalServiceAfterSnake != nil {
		c.DeregisterCriticalServiceAfter = *aux.DeregisterCriticalServiceAfterSnake
	}
	c.DockerContainerID = firstNonEmpty(c.DockerContainerID, aux.DockerContainerIDSnake)
	c.TLSServerName = firstNonEmpty(c.TLSServerName, aux.TLSServerNameSnake)
	c.TLSSkipVerify = c.TLSSkipVerify || aux.TLSSkipVerifySnake
	c.TCPUseTLS = c.TCPUseTLS || aux.TCPUseTLSSnake
	c.GRPCUseTLS = c.GRPCUseTLS || aux.GRPCUseTLSSnake
	c.H2PingUseTLS = c.H2PingUseTLS || aux.H2PingUseTLSSnake
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Empty reports whether the check carries nothing at all (Consul ignores
// such a "Check" object).
func (c *CheckType) Empty() bool { return c == nil || reflect.DeepEqual(*c, CheckType{}) }

// Kind names the check's type the way Consul's HealthCheck.Type does.
func (c *CheckType) Kind() string {
	switch {
	case c.GRPC != "":
		return "grpc"
	case c.HTTP != "":
		return "http"
	case c.TTL > 0:
		return "ttl"
	case c.TCP != "":
		return "tcp"
	case c.UDP != "":
		return "udp"
	case c.AliasService != "":
		return "alias"
	case c.DockerContainerID != "":
		return "docker"
	case len(c.ScriptArgs) > 0:
		return "script"
	case c.H2PING != "":
		return "h2ping"
	case c.OSService != "":
		return "os_service"
	}
	return ""
}

// Validate applies Consul's CheckType.Validate rules, with Consul's messages.
func (c *CheckType) Validate() error {
	intervalCheck := len(c.ScriptArgs) > 0 || c.HTTP != "" || c.TCP != "" || c.UDP != "" ||
		c.GRPC != "" || c.H2PING != "" || c.OSService != ""
	alias := c.AliasService != ""
	switch {
	case c.Interval > 0 && c.TTL > 0:
		return fmt.Errorf("Interval and TTL cannot both be specified")
	case intervalCheck && c.Interval <= 0:
		return fmt.Errorf("Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks")
	case intervalCheck && alias:
		return fmt.Errorf("Interval cannot be set for Alias checks")
	case alias && c.TTL > 0:
		return fmt.Errorf("TTL must be not be set for Alias checks")
	case !intervalCheck && !alias && c.TTL <= 0:
		return fmt.Errorf("TTL must be > 0 for TTL checks")
	case c.OutputMaxSize < 0:
		return fmt.Errorf("MaxOutputMaxSize must be positive")
	case c.FailuresBeforeWarning > c.FailuresBeforeCritical:
		return fmt.Errorf("FailuresBeforeWarning can't be higher than FailuresBeforeCritical")
	}
	return nil
}

// ValidStatus reports whether s is a check status Consul accepts.
func ValidStatus(s string) bool { return s == "passing" || s == "warning" || s == "critical" }

// DecodeServiceDefinition reads a registration body strictly. The error
// text is what Consul puts after "Request decode failed: ".
func DecodeServiceDefinition(r io.Reader) (*ServiceDefinition, error) {
	var def ServiceDefinition
	if err := decodeStrict(r, &def); err != nil {
		return nil, err
	}
	def.EnableTagOverride = def.EnableTagOverride || def.EnableTagOverrideSnake
	if len(def.TaggedAddresses) == 0 {
		def.TaggedAddresses = def.TaggedAddressesSnake
	}
	def.EnableTagOverrideSnake, def.TaggedAddressesSnake = false, nil
	return &def, nil
}

// CheckTypes returns the registration's checks, "Check" first, skipping an
// empty "Check" object, each validated as Consul validates them.
func (d *ServiceDefinition) CheckTypes() ([]*CheckType, error) {
	var out []*CheckType
	if !d.Check.Empty() {
		if err := d.Check.Validate(); err != nil {
			return nil, err
		}
		out = append(out, d.Check)
	}
	for _, c := range d.Checks {
		if c == nil {
			continue
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Limits on service metadata, as Consul enforces them.
const (
	metaMaxKeyPairs       = 64
	metaKeyMaxLength      = 128
	metaValueMaxLength    = 512
	metaKeyReservedPrefix = "consul-"
)

var metaKeyFormat = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`).MatchString

// ValidateMeta applies Consul's rules for service metadata (keys of
// letters, digits, '-' and '_' only; no "consul-" prefix), with its messages.
func ValidateMeta(meta map[string]string) error {
	if len(meta) > metaMaxKeyPairs {
		return fmt.Errorf("Node metadata cannot contain more than %d key/value pairs", metaMaxKeyPairs)
	}
	for key, value := range meta {
		var err error
		switch {
		case key == "":
			err = fmt.Errorf("Key cannot be blank")
		case !metaKeyFormat(key):
			err = fmt.Errorf("Key contains invalid characters")
		case len(key) > metaKeyMaxLength:
			err = fmt.Errorf("Key is too long (limit: %d characters)", metaKeyMaxLength)
		case strings.HasPrefix(key, metaKeyReservedPrefix):
			err = fmt.Errorf("Key prefix '%s' is reserved for internal use", metaKeyReservedPrefix)
		case len(value) > metaValueMaxLength:
			err = fmt.Errorf("Value is too long (limit: %d characters)", metaValueMaxLength)
		}
		if err != nil {
			return fmt.Errorf("Couldn't load metadata pair ('%s', '%s'): %s", key, value, err)
		}
	}
	return nil
}

// ValidateWeights applies Consul's rules for DNS weights.
func ValidateWeights(w *Weights) error {
	switch {
	case w == nil:
		return nil
	case w.Passing < 1:
		return fmt.Errorf("Passing must be greater than 0")
	case w.Warning < 0:
		return fmt.Errorf("Warning must be greater or equal than 0")
	case w.Passing > 65535 || w.Warning > 65535:
		return fmt.Errorf("DNS Weight must be between 0 and 65535")
	}
	return nil
}

// CheckUpdate is the body of PUT /v1/agent/check/update/{id}.
type CheckUpdate struct {
	Status string
	Output string
}

// DecodeCheckUpdate reads a check update body strictly.
func DecodeCheckUpdate(r io.Reader) (*CheckUpdate, error) {
	var u CheckUpdate
	if err := decodeStrict(r, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// CheckDefinition is the body of PUT /v1/agent/check/register: a check
// with its own ID and the service it belongs to.
type CheckDefinition struct {
	ID        string
	ServiceID string
	Check     CheckType
}

// DecodeCheckDefinition reads a check registration strictly. The check's
// own fields decode as in a service registration; ID, ServiceID, Token,
// Namespace and Partition are taken first (field names match without case,
// as encoding/json matches them).
func DecodeCheckDefinition(r io.Reader) (*CheckDefinition, error) {
	var raw map[string]json.RawMessage
	if err := decodeStrict(r, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, fmt.Errorf("expected a JSON object")
	}
	def := &CheckDefinition{}
	for key, v := range raw {
		var target *string
		var discard string
		switch {
		case strings.EqualFold(key, "ID"):
			target = &def.ID
		case strings.EqualFold(key, "ServiceID"), key == "service_id":
			target = &def.ServiceID
		case strings.EqualFold(key, "Token"), strings.EqualFold(key, "Namespace"), strings.EqualFold(key, "Partition"):
			target = &discard
		default:
			continue
		}
		if string(v) != "null" {
			if err := json.Unmarshal(v, target); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
		delete(raw, key)
	}
	rest, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	if err := def.Check.UnmarshalJSON(rest); err != nil {
		return nil, err
	}
	return def, nil
}

// Unsupported names the first field of the registration the adapter does
// not keep, "" when there is none: set, such a field is refused rather
// than accepted and dropped. Empty objects and null count as unset;
// Namespace and Partition may name the default.
func (d *ServiceDefinition) Unsupported() string {
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"Ports", d.Ports}, {"Proxy", d.Proxy}, {"Connect", d.Connect}, {"AI", d.AI}} {
		if set(f.raw) {
			return f.name
		}
	}
	if d.Namespace != "" && d.Namespace != "default" {
		return "Namespace"
	}
	if d.Partition != "" && d.Partition != "default" {
		return "Partition"
	}
	return ""
}

// set reports whether a raw field carries a value: not absent, null, {} or [].
func set(raw json.RawMessage) bool {
	switch strings.Join(strings.Fields(string(raw)), "") {
	case "", "null", "{}", "[]":
		return false
	}
	return true
}
