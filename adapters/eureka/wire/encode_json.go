package wire

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// The JSON encoders write exactly what the server's legacy Jackson codec
// (EurekaJacksonCodec, also used by Spring Cloud's CloudJacksonJson) writes:
// compact, fields in its order, numbers where it writes numbers and strings
// where it writes strings, and root wrapping.

// InstanceDocJSON encodes {"instance":{...}}.
func InstanceDocJSON(in *Instance) []byte {
	b := make([]byte, 0, 1024)
	b = append(b, `{"instance":`...)
	b = AppendInstanceJSON(b, in)
	return append(b, '}')
}

// ApplicationDocJSON encodes {"application":{"name":...,"instance":[...]}}.
func ApplicationDocJSON(app *Application) []byte {
	b := make([]byte, 0, 512+1024*len(app.Instances))
	b = append(b, `{"application":`...)
	b = appendApplicationJSON(b, app.Name, encodeAllJSON(app.Instances))
	return append(b, '}')
}

// ApplicationsDocJSON encodes {"applications":{...}}.
func ApplicationsDocJSON(apps *Applications) []byte {
	enc := make([]EncodedApplication, len(apps.Apps))
	for i, a := range apps.Apps {
		enc[i] = EncodedApplication{Name: a.Name, Instances: encodeAllJSON(a.Instances)}
	}
	return EncodedApplicationsJSON(apps.VersionsDelta, apps.AppsHashcode, enc)
}

// EncodedApplication is an application whose instances are already
// encoded (by AppendInstanceJSON, or InstanceXML at depth 2), so a large
// registry document can be assembled from cached pieces.
type EncodedApplication struct {
	Name      string
	Instances [][]byte
}

// EncodedApplicationsJSON assembles the registry document from encoded instances.
func EncodedApplicationsJSON(versionsDelta, hashcode string, apps []EncodedApplication) []byte {
	size := 128
	for _, a := range apps {
		size += 32 + len(a.Name)
		for _, in := range a.Instances {
			size += len(in) + 1
		}
	}
	b := make([]byte, 0, size)
	b = append(b, `{"applications":{"versions__delta":`...)
	b = appendJSONString(b, versionsDelta)
	b = append(b, `,"apps__hashcode":`...)
	b = appendJSONString(b, hashcode)
	b = append(b, `,"application":[`...)
	for i, a := range apps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendApplicationJSON(b, a.Name, a.Instances)
	}
	return append(b, "]}}"...)
}

func appendApplicationJSON(b []byte, name string, instances [][]byte) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"instance":[`...)
	for i, in := range instances {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, in...)
	}
	return append(b, "]}"...)
}

func encodeAllJSON(ins []*Instance) [][]byte {
	out := make([][]byte, len(ins))
	for i, in := range ins {
		out[i] = AppendInstanceJSON(nil, in)
	}
	return out
}

// AppendInstanceJSON appends one InstanceInfo object.
func AppendInstanceJSON(b []byte, in *Instance) []byte {
	b = append(b, '{')
	if in.InstanceID != "" {
		b = appendJSONField(b, "instanceId", in.InstanceID)
		b = append(b, ',')
	}
	b = appendJSONField(b, "hostName", in.HostName)
	b = append(b, ',')
	b = appendJSONField(b, "app", in.App)
	b = append(b, ',')
	b = appendJSONField(b, "ipAddr", in.IPAddr)
	b = append(b, ',')
	if in.SID != "" && in.SID != "na" && in.SID != "unknown" {
		b = appendJSONField(b, "sid", in.SID)
		b = append(b, ',')
	}
	b = appendJSONField(b, "status", orUnknown(in.Status))
	b = append(b, ',')
	b = appendJSONField(b, "overriddenStatus", orUnknown(in.OverriddenStatus))
	b = append(b, `,"port":`...)
	b = appendJSONPort(b, in.Port)
	b = append(b, `,"securePort":`...)
	b = appendJSONPort(b, in.SecurePort)
	b = append(b, `,"countryId":`...)
	b = strconv.AppendInt(b, int64(in.CountryID), 10)
	if d := in.DataCenterInfo; d != nil {
		b = append(b, `,"dataCenterInfo":{"@class":`...)
		if d.Name == DataCenterAmazon {
			b = appendJSONString(b, ClassAmazonInfo)
		} else {
			b = appendJSONString(b, ClassDefaultDataCenter)
		}
		b = append(b, ',')
		b = appendJSONField(b, "name", d.Name)
		if d.Name == DataCenterAmazon {
			b = append(b, `,"metadata":`...)
			b = appendJSONMap(b, d.Metadata)
		}
		b = append(b, '}')
	}
	if l := in.LeaseInfo; l != nil {
		b = append(b, `,"leaseInfo":{"renewalIntervalInSecs":`...)
		b = strconv.AppendInt(b, int64(l.RenewalIntervalInSecs), 10)
		b = append(b, `,"durationInSecs":`...)
		b = strconv.AppendInt(b, int64(l.DurationInSecs), 10)
		b = append(b, `,"registrationTimestamp":`...)
		b = strconv.AppendInt(b, l.RegistrationTimestamp, 10)
		b = append(b, `,"lastRenewalTimestamp":`...)
		b = strconv.AppendInt(b, l.LastRenewalTimestamp, 10)
		b = append(b, `,"evictionTimestamp":`...)
		b = strconv.AppendInt(b, l.EvictionTimestamp, 10)
		b = append(b, `,"serviceUpTimestamp":`...)
		b = strconv.AppendInt(b, l.ServiceUpTimestamp, 10)
		b = append(b, '}')
	}
	b = append(b, `,"metadata":`...)
	if len(in.Metadata) == 0 {
		b = append(b, `{"@class":"java.util.Collections$EmptyMap"}`...)
	} else {
		b = appendJSONMap(b, in.Metadata)
	}
	// Then the fields XStream and Jackson marshal automatically, all as strings.
	for _, f := range in.autoFields() {
		if f[1] != "" {
			b = append(b, ',')
			b = appendJSONField(b, f[0], f[1])
		}
	}
	b = append(b, `,"isCoordinatingDiscoveryServer":`...)
	b = appendJSONString(b, strconv.FormatBool(in.IsCoordinatingDiscoveryServer))
	b = append(b, `,"lastUpdatedTimestamp":"`...)
	b = strconv.AppendInt(b, in.LastUpdatedTimestamp, 10)
	b = append(b, `","lastDirtyTimestamp":"`...)
	b = strconv.AppendInt(b, in.LastDirtyTimestamp, 10)
	b = append(b, '"')
	if in.ActionType != "" {
		b = append(b, ',')
		b = appendJSONField(b, "actionType", in.ActionType)
	}
	if in.ASGName != "" {
		b = append(b, ',')
		b = appendJSONField(b, "asgName", in.ASGName)
	}
	return append(b, '}')
}

func appendJSONPort(b []byte, p Port) []byte {
	b = append(b, `{"$":`...)
	b = strconv.AppendInt(b, int64(p.Number), 10)
	b = append(b, `,"@enabled":"`...)
	b = strconv.AppendBool(b, p.Enabled)
	return append(b, `"}`...)
}

// appendJSONMap writes a string map with sorted keys (Java's HashMap order
// is arbitrary; sorted output keeps our responses stable).
func appendJSONMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONField(b, k, m[k])
	}
	return append(b, '}')
}

func appendJSONField(b []byte, k, v string) []byte {
	b = appendJSONString(b, k)
	b = append(b, ':')
	return appendJSONString(b, v)
}

func orUnknown(s string) string {
	if s == "" {
		return "UNKNOWN"
	}
	return s
}

const hexDigits = "0123456789ABCDEF"

// appendJSONString quotes s as Jackson does: only '"', '\\' and control
// characters are escaped (short forms for \b \t \n \f \r, \u00XX for the
// rest); everything else, including non-ASCII, is written as it is.
// Invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
