package registry

import (
	"net"
	"strconv"
	"unicode/utf8"
)

// Limits on instance fields; they keep one bad client from bloating the store.
const (
	MaxNameLength     = 256
	MaxMetadataKeys   = 128
	MaxMetadataLength = 4096
	MaxTags           = 128
)

// ValidName reports whether s may be used as a service, instance, namespace
// or group name: non-empty, at most MaxNameLength bytes, printable UTF-8 with
// no '/' (names are path segments in every API).
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLength || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '/' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Validate checks a normalised instance and names the first wrong field.
func (i *Instance) Validate() error {
	switch {
	case !ValidName(i.ID):
		return invalid("id", "must be 1-%d printable characters without '/'", MaxNameLength)
	case !ValidName(i.Service):
		return invalid("service", "must be 1-%d printable characters without '/'", MaxNameLength)
	case !ValidName(i.Namespace):
		return invalid("namespace", "must be 1-%d printable characters without '/'", MaxNameLength)
	case !ValidName(i.Group):
		return invalid("group", "must be 1-%d printable characters without '/'", MaxNameLength)
	case i.Host == "" || len(i.Host) > MaxNameLength:
		return invalid("host", "required, at most %d characters", MaxNameLength)
	case i.Port < 0 || i.Port > 65535:
		return invalid("port", "must be 0-65535, got %d", i.Port)
	case i.SecurePort < 0 || i.SecurePort > 65535:
		return invalid("securePort", "must be 0-65535, got %d", i.SecurePort)
	case !i.Status.Valid():
		return invalid("status", "unknown status %q", i.Status)
	case i.OverriddenStatus != "" && !i.OverriddenStatus.Valid():
		return invalid("overriddenStatus", "unknown status %q", i.OverriddenStatus)
	case !i.Health.Valid():
		return invalid("health", "unknown health %q", i.Health)
	case i.Weight < 0 || i.Weight > 1e6:
		return invalid("weight", "must be between 0 and 1000000")
	case i.Lease.Duration < 0 || i.Lease.RenewalInterval < 0:
		return invalid("lease", "durations must not be negative")
	case len(i.Tags) > MaxTags:
		return invalid("tags", "at most %d tags", MaxTags)
	}
	for _, m := range []struct {
		field string
		kv    map[string]string
	}{{"metadata", i.Metadata}, {"labels", i.Labels}, {"attributes", i.Attributes}} {
		if len(m.kv) > MaxMetadataKeys {
			return invalid(m.field, "at most %d keys", MaxMetadataKeys)
		}
		for k, v := range m.kv {
			if k == "" || len(k) > MaxNameLength || len(v) > MaxMetadataLength {
				return invalid(m.field+"."+k, "keys must be 1-%d bytes and values at most %d bytes", MaxNameLength, MaxMetadataLength)
			}
		}
	}
	for n, t := range i.Tags {
		if len(t) > MaxMetadataLength {
			return invalid("tags["+strconv.Itoa(n)+"]", "at most %d bytes", MaxMetadataLength)
		}
	}
	return nil
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
