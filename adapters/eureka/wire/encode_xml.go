package wire

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// The XML encoders write exactly what the server's XStream codec writes:
// PrettyPrintWriter layout (two-space indent, "\n" line ends, no XML
// declaration, <x/> for empty elements), the converters' element order,
// XStream escaping and name coding.

// InstanceDocXML encodes a root <instance> document.
func InstanceDocXML(in *Instance) []byte {
	return AppendInstanceXML(make([]byte, 0, 2048), in, 0)
}

// ApplicationDocXML encodes a root <application> document.
func ApplicationDocXML(app *Application) []byte {
	b := make([]byte, 0, 256+2048*len(app.Instances))
	b = append(b, "<application>"...)
	b = xmlLeaf(b, 1, "name", app.Name)
	for _, in := range app.Instances {
		b = xmlNewline(b, 1)
		b = AppendInstanceXML(b, in, 1)
	}
	return append(b, "\n</application>"...)
}

// ApplicationsDocXML encodes a root <applications> document.
func ApplicationsDocXML(apps *Applications) []byte {
	enc := make([]EncodedApplication, len(apps.Apps))
	for i, a := range apps.Apps {
		ins := make([][]byte, len(a.Instances))
		for j, in := range a.Instances {
			ins[j] = InstanceXML(in)
		}
		enc[i] = EncodedApplication{Name: a.Name, Instances: ins}
	}
	return EncodedApplicationsXML(apps.VersionsDelta, apps.AppsHashcode, enc)
}

// InstanceXML encodes an <instance> element as it appears inside
// <applications><application>, ready for EncodedApplicationsXML.
func InstanceXML(in *Instance) []byte {
	return AppendInstanceXML(make([]byte, 0, 2048), in, 2)
}

// EncodedApplicationsXML assembles the registry document from instances
// encoded by InstanceXML.
func EncodedApplicationsXML(versionsDelta, hashcode string, apps []EncodedApplication) []byte {
	size := 128
	for _, a := range apps {
		size += 64 + len(a.Name)
		for _, in := range a.Instances {
			size += len(in) + 5
		}
	}
	b := make([]byte, 0, size)
	b = append(b, "<applications>"...)
	b = xmlLeaf(b, 1, "versions__delta", versionsDelta)
	b = xmlLeaf(b, 1, "apps__hashcode", hashcode)
	for _, a := range apps {
		b = append(b, "\n  <application>"...)
		b = xmlLeaf(b, 2, "name", a.Name)
		for _, in := range a.Instances {
			b = append(b, "\n    "...)
			b = append(b, in...)
		}
		b = append(b, "\n  </application>"...)
	}
	return append(b, "\n</applications>"...)
}

// AppendInstanceXML appends an <instance> element whose start tag sits at
// the given depth (the start tag itself is not indented; its children are).
func AppendInstanceXML(b []byte, in *Instance, depth int) []byte {
	d := depth + 1
	b = append(b, "<instance>"...)
	if in.InstanceID != "" {
		b = xmlLeaf(b, d, "instanceId", in.InstanceID)
	}
	b = xmlLeaf(b, d, "hostName", in.HostName)
	b = xmlLeaf(b, d, "app", in.App)
	b = xmlLeaf(b, d, "ipAddr", in.IPAddr)
	if in.SID != "" && in.SID != "na" && in.SID != "unknown" {
		b = xmlLeaf(b, d, "sid", in.SID)
	}
	b = xmlLeaf(b, d, "status", orUnknown(in.Status))
	b = xmlLeaf(b, d, "overriddenstatus", orUnknown(in.OverriddenStatus))
	b = xmlPort(b, d, "port", in.Port)
	b = xmlPort(b, d, "securePort", in.SecurePort)
	b = xmlLeaf(b, d, "countryId", strconv.Itoa(in.CountryID))
	if dc := in.DataCenterInfo; dc != nil {
		b = xmlNewline(b, d)
		class := ClassDefaultDataCenter
		if dc.Name == DataCenterAmazon {
			class = ClassAmazonInfo
		}
		b = append(b, `<dataCenterInfo class="`...)
		b = appendXMLText(b, class, true)
		b = append(b, `">`...)
		b = xmlLeaf(b, d+1, "name", dc.Name)
		if dc.Name == DataCenterAmazon {
			b = xmlMap(b, d+1, dc.Metadata)
		}
		b = xmlNewline(b, d)
		b = append(b, "</dataCenterInfo>"...)
	}
	if l := in.LeaseInfo; l != nil {
		b = xmlNewline(b, d)
		b = append(b, "<leaseInfo>"...)
		b = xmlLeaf(b, d+1, "renewalIntervalInSecs", strconv.Itoa(l.RenewalIntervalInSecs))
		b = xmlLeaf(b, d+1, "durationInSecs", strconv.Itoa(l.DurationInSecs))
		b = xmlLeaf(b, d+1, "registrationTimestamp", strconv.FormatInt(l.RegistrationTimestamp, 10))
		b = xmlLeaf(b, d+1, "lastRenewalTimestamp", strconv.FormatInt(l.LastRenewalTimestamp, 10))
		b = xmlLeaf(b, d+1, "evictionTimestamp", strconv.FormatInt(l.EvictionTimestamp, 10))
		b = xmlLeaf(b, d+1, "serviceUpTimestamp", strconv.FormatInt(l.ServiceUpTimestamp, 10))
		b = xmlNewline(b, d)
		b = append(b, "</leaseInfo>"...)
	}
	b = xmlMap(b, d, in.Metadata)
	for _, f := range in.autoFields() {
		if f[1] != "" {
			b = xmlLeaf(b, d, f[0], f[1])
		}
	}
	b = xmlLeaf(b, d, "isCoordinatingDiscoveryServer", strconv.FormatBool(in.IsCoordinatingDiscoveryServer))
	b = xmlLeaf(b, d, "lastUpdatedTimestamp", strconv.FormatInt(in.LastUpdatedTimestamp, 10))
	b = xmlLeaf(b, d, "lastDirtyTimestamp", strconv.FormatInt(in.LastDirtyTimestamp, 10))
	if in.ActionType != "" {
		b = xmlLeaf(b, d, "actionType", in.ActionType)
	}
	if in.ASGName != "" {
		b = xmlLeaf(b, d, "asgName", in.ASGName)
	}
	b = xmlNewline(b, depth)
	return append(b, "</instance>"...)
}

// xmlMap writes <metadata> with one child per entry (sorted keys), or the
// empty-map marker.
func xmlMap(b []byte, depth int, m map[string]string) []byte {
	b = xmlNewline(b, depth)
	keys := make([]string, 0, len(m))
	for k := range m {
		if validXMLName(EncodeXMLName(k)) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return append(b, `<metadata class="java.util.Collections$EmptyMap"/>`...)
	}
	slices.Sort(keys)
	b = append(b, "<metadata>"...)
	for _, k := range keys {
		b = xmlLeaf(b, depth+1, EncodeXMLName(k), m[k])
	}
	b = xmlNewline(b, depth)
	return append(b, "</metadata>"...)
}

func xmlPort(b []byte, depth int, name string, p Port) []byte {
	b = xmlNewline(b, depth)
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, ` enabled="`...)
	b = strconv.AppendBool(b, p.Enabled)
	b = append(b, `">`...)
	b = strconv.AppendInt(b, int64(p.Number), 10)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// xmlLeaf writes a newline, indentation and <name>text</name>; name must
// already be XStream-encoded.
func xmlLeaf(b []byte, depth int, name, text string) []byte {
	b = xmlNewline(b, depth)
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendXMLText(b, text, false)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func xmlNewline(b []byte, depth int) []byte {
	b = append(b, '\n')
	for range depth {
		b = append(b, ' ', ' ')
	}
	return b
}

// appendXMLText escapes as XStream's PrettyPrintWriter does in its default
// (quirks) mode: the five entities, CR as &#xd;, other control characters
// as hexadecimal references; tab and newline stay literal in text but are
// escaped in attributes. Invalid UTF-8 becomes U+FFFD.
func appendXMLText(b []byte, s string, attribute bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(b, "\uFFFD"...)
			case r >= 0x7F && r <= 0x9F: // ISO control characters
				b = appendCharRef(b, r)
			default:
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '<':
			b = append(b, "&lt;"...)
		case c == '>':
			b = append(b, "&gt;"...)
		case c == '"':
			b = append(b, "&quot;"...)
		case c == '\'':
			b = append(b, "&apos;"...)
		case c == '\r':
			b = append(b, "&#xd;"...)
		case (c == '\t' || c == '\n') && !attribute:
			b = append(b, c)
		case c < 0x20 || c == 0x7F:
			b = appendCharRef(b, rune(c))
		default:
			b = append(b, c)
		}
		i++
	}
	return b
}

func appendCharRef(b []byte, r rune) []byte {
	b = append(b, "&#x"...)
	b = strconv.AppendInt(b, int64(r), 16)
	return append(b, ';')
}
