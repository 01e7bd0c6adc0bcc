package consul

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meshbridge/meshbridge/registry"
)

// Instance attributes the adapter keeps so that a service registered
// through Consul reads back as registered, checks included, after a
// restart. Every key starts with "consul." so other front-ends ignore them.
const (
	attrService     = "consul.service"
	attrCheckPrefix = "consul.check."
)

// maxAttrValue is the store's limit on one attribute value.
const maxAttrValue = registry.MaxMetadataLength

// maxCheckIDLength keeps "consul.check.<id>" within the store's key limit.
const maxCheckIDLength = registry.MaxNameLength - len(attrCheckPrefix)

// maxOutput is Consul's default limit on a check's captured output.
const maxOutput = 4096

// Check types that are not run by a prober.
const (
	typeTTL         = "ttl"
	typeHTTP        = "http"
	typeTCP         = "tcp"
	typeMaintenance = "maintenance"
)

// Check statuses.
const (
	statusPassing  = "passing"
	statusWarning  = "warning"
	statusCritical = "critical"
)

// serviceRecord keeps the registration fields the registry model has no place for.
type serviceRecord struct {
	Kind              string                    `json:",omitempty"`
	Address           string                    `json:",omitempty"` // as given; empty means the node's
	TaggedAddresses   map[string]serviceAddress `json:",omitempty"`
	EnableTagOverride bool                      `json:",omitempty"`
	SocketPath        string                    `json:",omitempty"`
	Locality          *serviceLocality          `json:",omitempty"`
	WeightPassing     int                       `json:",omitempty"`
	WeightWarning     int
}

type serviceLocality struct {
	Region string `json:",omitempty"`
	Zone   string `json:",omitempty"`
}

type serviceAddress struct {
	Address string
	Port    int
}

// checkRecord is one check: its definition and its last known state.
type checkRecord struct {
	ID    string `json:"-"`
	Name  string
	Type  string
	Notes string `json:",omitempty"`

	HTTP             string              `json:",omitempty"`
	Header           map[string][]string `json:",omitempty"`
	Method           string              `json:",omitempty"`
	Body             string              `json:",omitempty"`
	TLSServerName    string              `json:",omitempty"`
	TLSSkipVerify    bool                `json:",omitempty"`
	DisableRedirects bool                `json:",omitempty"`
	TCP              string              `json:",omitempty"`
	TCPUseTLS        bool                `json:",omitempty"`

	Interval        time.Duration `json:",omitempty"`
	Timeout         time.Duration `json:",omitempty"`
	TTL             time.Duration `json:",omitempty"`
	DeregisterAfter time.Duration `json:",omitempty"`

	SuccessBeforePassing   int `json:",omitempty"`
	FailuresBeforeWarning  int `json:",omitempty"`
	FailuresBeforeCritical int `json:",omitempty"`

	Status string
	Output string `json:",omitempty"`
	// Heartbeat is when a replica last saw an update of this TTL check.
	// It is recorded only when the store is shared by replicas (at most
	// every TTL/4), so that the replica running the checks sees passes
	// other replicas received.
	Heartbeat time.Time `json:",omitzero"`
}

// definitionKey identifies a check's definition, ignoring its state: a
// re-registration with the same definition keeps the running check.
func (c *checkRecord) definitionKey() string {
	d := *c
	d.Status, d.Output, d.Heartbeat = "", "", time.Time{}
	b, _ := json.Marshal(d) // plain data: cannot fail
	return c.ID + "\x00" + string(b)
}

// encodeCheck renders a check for the store, cutting its output so that
// the value fits the store's attribute limit.
func encodeCheck(c *checkRecord) (string, error) {
	rec := *c
	rec.Output = checkOutput(rec.Output)
	for {
		b, err := json.Marshal(rec)
		if err != nil {
			return "", fmt.Errorf("consul: encode check %q: %w", c.ID, err)
		}
		if len(b) <= maxAttrValue {
			return string(b), nil
		}
		if rec.Output == "" {
			return "", fmt.Errorf("check definition %q is larger than %d bytes", c.ID, maxAttrValue)
		}
		rec.Output = truncateOutput(rec.Output, max(0, len(rec.Output)-(len(b)-maxAttrValue)-64))
	}
}

// checkOutput is a check's output as the store keeps it: characters the
// registry refuses in a value (an HTTP check's output quotes the app's
// body, which may be binary) become U+FFFD rather than fail the update
// that carries the status, and the output is cut at Consul's limit.
func checkOutput(s string) string {
	return truncateOutput(registry.ScrubValue(s), maxOutput)
}

// truncateOutput cuts s to about n bytes on a rune boundary, noting the
// cut the way Consul does.
func truncateOutput(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s ... (captured %d of %d bytes)", s[:cut], cut, len(s))
}

// readRecords decodes the consul attributes of an instance. Entries that
// do not decode are skipped: they can only come from a newer or broken
// writer, and one bad check must not hide the service.
func readRecords(inst *registry.Instance) (*serviceRecord, []*checkRecord) {
	var svc *serviceRecord
	if raw, ok := inst.Attributes[attrService]; ok {
		var rec serviceRecord
		if json.Unmarshal([]byte(raw), &rec) == nil {
			svc = &rec
		}
	}
	var checks []*checkRecord
	for k, raw := range inst.Attributes {
		id, ok := strings.CutPrefix(k, attrCheckPrefix)
		if !ok {
			continue
		}
		c, ok := decodeCheck(raw)
		if !ok {
			continue
		}
		c.ID = id
		checks = append(checks, &c)
	}
	slices.SortFunc(checks, func(a, b *checkRecord) int { return strings.Compare(a.ID, b.ID) })
	return svc, checks
}

// decodeCheck decodes one stored check; ok is false for one that does not
// decode or has no valid status.
func decodeCheck(raw string) (c checkRecord, ok bool) {
	if json.Unmarshal([]byte(raw), &c) != nil || !validStatus(c.Status) {
		return checkRecord{}, false
	}
	return c, true
}

// writeChecks replaces the check attributes of inst and derives its health
// and status from them: the worst check wins, and maintenance mode shows
// as OUT_OF_SERVICE to the other protocols.
func writeChecks(inst *registry.Instance, checks []*checkRecord) error {
	attrs := maps.Clone(inst.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	maps.DeleteFunc(attrs, func(k, _ string) bool { return strings.HasPrefix(k, attrCheckPrefix) })
	health := registry.HealthPassing
	status := registry.StatusUp
	for _, c := range checks {
		v, err := encodeCheck(c)
		if err != nil {
			return err
		}
		attrs[attrCheckPrefix+c.ID] = v
		health = worse(health, registry.Health(c.Status))
		if c.Type == typeMaintenance {
			status = registry.StatusOutOfService
		}
	}
	inst.Attributes = attrs
	inst.Health = health
	inst.Status = status
	return nil
}

func validStatus(s string) bool {
	return s == statusPassing || s == statusWarning || s == statusCritical
}

// worse returns the worse of two health states.
func worse(a, b registry.Health) registry.Health {
	rank := func(h registry.Health) int {
		switch h {
		case registry.HealthCritical:
			return 2
		case registry.HealthWarning:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}
