package registry

import (
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on instance fields; they keep one bad client from bloating the store.
const (
	MaxNameLength     = 256
	MaxMetadataKeys   = 128
	MaxMetadataLength = 4096
	MaxTags           = 128
)

// GroupSeparator joins a group and a service in Nacos's grouped names
// ("DEFAULT_GROUP@@orders"). Service and group names may not contain it,
// so that the Nacos view can split every name it joins and a service
// registered through Eureka or Consul can be looked up through Nacos.
const GroupSeparator = "@@"

// The rules as error messages say them; front-ends that check a field
// before the store does answer with the same words.
const (
	NameRule    = "must be 1-256 characters without '/', control characters or Unicode non-characters, and not \".\" or \"..\""
	ServiceRule = NameRule + ", without \"" + GroupSeparator + "\""
	GroupRule   = ServiceRule + " and not ending in '@'"
	HostRule    = "must be an IPv4 address, an IPv6 address without brackets, or a host name of letters, digits, '-' and '_' in dot-separated labels"
	ValueRule   = "must be UTF-8 text without the control characters XML 1.0 forbids (tab, CR and LF are allowed) and without U+FFFE or U+FFFF"
)

// ValidName reports whether s may be used as a service, instance,
// namespace or group name, or as a resource's kind or name. Names are
// path segments in every API, and every view must carry them: so no '/',
// not "." or ".." (HTTP routers clean those segments away, which turns a
// deregistration into a redirect), no control characters and no Unicode
// non-characters (XML 1.0 cannot carry most of them, and no protocol
// means anything by them), and valid UTF-8.
func ValidName(s string) bool {
	return s != "" && len(s) <= MaxNameLength && s != "." && s != ".." &&
		!strings.ContainsRune(s, '/') && validToken(s)
}

// validServiceName is ValidName without the group separator, for the
// names Nacos joins into "group@@service".
func validServiceName(s string) bool {
	return ValidName(s) && !strings.Contains(s, GroupSeparator)
}

// validGroupName is validServiceName for a group, which must not end in
// '@' either: "g@" joined with "orders" would split as "g" and "@orders".
func validGroupName(s string) bool {
	return validServiceName(s) && !strings.HasSuffix(s, "@")
}

// validToken reports whether s is UTF-8 without control characters or
// non-characters: the rule for names, metadata keys and short fields.
func validToken(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if isControl(r) || isNonCharacter(r) {
			return false
		}
	}
	return true
}

// ValidValue reports whether s may be stored as a metadata, label or
// attribute value or as a tag: UTF-8 made only of characters XML 1.0
// allows (Eureka's XML view renders metadata and attributes, and Go's
// encoding/xml and expat refuse a document with any other). Tab, CR and
// LF are allowed; other C0 controls, U+FFFE and U+FFFF are not.
func ValidValue(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, notXMLChar) < 0
}

// ScrubValue returns s with every character ValidValue refuses (and every
// run of bytes that is not UTF-8) replaced by U+FFFD, for free text the
// server itself records, such as a health check's output, where refusing
// the text would lose the status that came with it.
func ScrubValue(s string) string {
	if ValidValue(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if notXMLChar(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// ValidateMap checks the keys and values of a metadata-like map as
// Instance.Validate does, naming the first wrong entry under field. A
// front-end uses it for maps it keeps in a form the model cannot check
// (Eureka's Amazon data center metadata, kept as one JSON attribute).
func ValidateMap(field string, m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return invalid(field, "at most %d keys", MaxMetadataKeys)
	}
	for k, v := range m {
		switch {
		case k == "" || len(k) > MaxNameLength || !validToken(k):
			return invalid(field+"."+strconv.Quote(k), "keys must be 1-%d bytes of UTF-8 without control characters or Unicode non-characters", MaxNameLength)
		case len(v) > MaxMetadataLength:
			return invalid(field+"."+k, "values must be at most %d bytes", MaxMetadataLength)
		case !ValidValue(v):
			return invalid(field+"."+k, "value %s", ValueRule)
		}
	}
	return nil
}

// Validate checks a normalised instance and names the first wrong field.
// What it accepts every view can carry: Eureka's XML and JSON, Consul's
// and Nacos's JSON and the control API.
func (i *Instance) Validate() error {
	switch {
	case !ValidName(i.ID):
		return invalid("id", NameRule)
	case !validServiceName(i.Service):
		return invalid("service", ServiceRule)
	case !ValidName(i.Namespace):
		return invalid("namespace", NameRule)
	case !validGroupName(i.Group):
		return invalid("group", GroupRule)
	case !ValidHost(i.Host):
		return invalid("host", "%s, got %q", HostRule, i.Host)
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
	for _, f := range []struct{ field, v string }{
		{"cluster", i.Cluster}, {"zone", i.Zone}, {"scheme", i.Scheme}, {"origin", i.Origin},
	} {
		if len(f.v) > MaxNameLength || !validToken(f.v) {
			return invalid(f.field, "must be at most %d bytes of UTF-8 without control characters or Unicode non-characters", MaxNameLength)
		}
	}
	for _, m := range []struct {
		field string
		kv    map[string]string
	}{{"metadata", i.Metadata}, {"labels", i.Labels}, {"attributes", i.Attributes}} {
		if err := ValidateMap(m.field, m.kv); err != nil {
			return err
		}
	}
	for n, t := range i.Tags {
		switch {
		case len(t) > MaxMetadataLength:
			return invalid("tags["+strconv.Itoa(n)+"]", "at most %d bytes", MaxMetadataLength)
		case !ValidValue(t):
			return invalid("tags["+strconv.Itoa(n)+"]", ValueRule)
		}
	}
	return nil
}

// ValidHost reports whether s may be an instance's host: an IPv4 address,
// an IPv6 address without brackets as the three protocols carry it (with
// a zone such as "%eth0" if need be), or a host name: dot-separated
// labels of 1-63 letters, digits, '-' and '_' (Docker Compose names
// containers "app_web_1"), at most 253 bytes, with an optional final dot.
// Everything else (spaces, CR/LF, control characters, brackets, a port)
// is refused: clients put the host into URLs and Host headers.
func ValidHost(s string) bool {
	if ip, zone, ok := strings.Cut(s, "%"); ok {
		return strings.Contains(ip, ":") && net.ParseIP(ip) != nil && validLabels(zone)
	}
	if strings.Contains(s, ":") {
		return net.ParseIP(s) != nil
	}
	name := strings.TrimSuffix(s, ".")
	return len(name) <= 253 && validLabels(name)
}

// validLabels reports whether s is dot-separated labels of 1-63 letters,
// digits, '-' and '_'.
func validLabels(s string) bool {
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || strings.IndexFunc(label, notHostChar) >= 0 {
			return false
		}
	}
	return true
}

func notHostChar(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
}

// notXMLChar reports whether XML 1.0 forbids r (its Char production
// allows tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF).
func notXMLChar(r rune) bool {
	return !(r == '\t' || r == '\n' || r == '\r' ||
		0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF)
}

// isControl reports whether r is a C0 or C1 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || 0x7F <= r && r <= 0x9F }

// isNonCharacter reports whether r is one of Unicode's 66 non-characters
// (U+FDD0-U+FDEF and the last two code points of every plane).
func isNonCharacter(r rune) bool { return 0xFDD0 <= r && r <= 0xFDEF || r&0xFFFE == 0xFFFE }

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
