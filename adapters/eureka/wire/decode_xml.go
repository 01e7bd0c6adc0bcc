package wire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DecodeInstanceXML parses an <instance> document the way the server's
// XStream converter does: element order does not matter, unknown elements
// are ignored, names are XStream-decoded ("__" is "_", "_-" is "$"), and
// absent fields take InstanceInfo's defaults.
func DecodeInstanceXML(data []byte) (*Instance, error) {
	xd := xml.NewDecoder(bytes.NewReader(data))
	xd.CharsetReader = charsetReader
	d := &xmlReader{dec: xd}
	root, err := nextStart(d)
	if err != nil {
		return nil, fmt.Errorf("decode instance XML: %w", err)
	}
	if root.Name.Local != "instance" {
		return nil, fmt.Errorf("decode instance XML: root element is <%s>, want <instance>", root.Name.Local)
	}
	in := &Instance{
		Status:           "UP",
		OverriddenStatus: "UNKNOWN",
		Port:             Port{Number: DefaultPort, Enabled: true},
		SecurePort:       Port{Number: DefaultSecurePort},
		CountryID:        DefaultCountryID,
	}
	err = eachChild(d, func(el xml.StartElement) error {
		return in.decodeXMLField(d, el)
	})
	if err != nil {
		return nil, fmt.Errorf("decode instance XML: %w", err)
	}
	return in, nil
}

func (in *Instance) decodeXMLField(d *xmlReader, el xml.StartElement) error {
	name := DecodeXMLName(el.Name.Local)
	switch name {
	case "port", "securePort":
		text, err := readText(d)
		if err != nil {
			return err
		}
		n, err := atoi(name, text)
		if err != nil {
			return err
		}
		// The plain port is enabled unless told otherwise, the secure one only when told so.
		enabled, ok := attr(el, "enabled")
		if name == "port" {
			in.Port = Port{Number: n, Enabled: !ok || enabled != "false"}
		} else {
			in.SecurePort = Port{Number: n, Enabled: ok && enabled == "true"}
		}
		return nil
	case "dataCenterInfo":
		return in.decodeXMLDataCenter(d, el)
	case "leaseInfo":
		return in.decodeXMLLease(d)
	case "metadata":
		m, err := readMap(d)
		in.Metadata = m
		return err
	}
	text, err := readText(d)
	if err != nil {
		return err
	}
	switch name {
	case "instanceId":
		in.InstanceID = text
	case "hostName":
		in.HostName = text
	case "app":
		in.App = strings.ToUpper(text)
	case "appGroupName":
		in.AppGroupName = strings.ToUpper(text)
	case "ipAddr":
		in.IPAddr = text
	case "sid":
		in.SID = text
	case "status":
		in.Status = ParseStatus(text)
	case "overriddenstatus", "overriddenStatus":
		in.OverriddenStatus = ParseStatus(text)
	case "countryId":
		n, err := atoi(name, text)
		if err != nil {
			return err
		}
		in.CountryID = n
	case "homePageUrl":
		in.HomePageURL = text
	case "statusPageUrl":
		in.StatusPageURL = text
	case "healthCheckUrl":
		in.HealthCheckURL = text
	case "secureHealthCheckUrl":
		in.SecureHealthCheckURL = text
	case "vipAddress":
		in.VIPAddress = text
	case "secureVipAddress":
		in.SecureVIPAddress = text
	case "isCoordinatingDiscoveryServer":
		in.IsCoordinatingDiscoveryServer = strings.TrimSpace(text) == "true"
	case "lastUpdatedTimestamp":
		// The server ignores unparsable automatic fields; so do we.
		in.LastUpdatedTimestamp, _ = strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	case "lastDirtyTimestamp":
		in.LastDirtyTimestamp, _ = strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	case "actionType":
		in.ActionType = text
	case "asgName":
		in.ASGName = text
	}
	return nil
}

func (in *Instance) decodeXMLDataCenter(d *xmlReader, el xml.StartElement) error {
	dc := &DataCenterInfo{}
	dc.Class, _ = attr(el, "class")
	err := eachChild(d, func(child xml.StartElement) error {
		switch DecodeXMLName(child.Name.Local) {
		case "name":
			text, err := readText(d)
			dc.Name = strings.TrimSpace(text)
			return err
		case "metadata":
			m, err := readMap(d)
			dc.Metadata = m
			return err
		}
		return d.skip()
	})
	in.DataCenterInfo = dc
	return err
}

func (in *Instance) decodeXMLLease(d *xmlReader) error {
	l := &LeaseInfo{}
	err := eachChild(d, func(child xml.StartElement) error {
		name := DecodeXMLName(child.Name.Local)
		text, err := readText(d)
		if err != nil {
			return err
		}
		var target *int64
		switch name {
		case "renewalIntervalInSecs":
			n, err := atoi(name, text)
			l.RenewalIntervalInSecs = n
			return err
		case "durationInSecs":
			n, err := atoi(name, text)
			l.DurationInSecs = n
			return err
		case "registrationTimestamp":
			target = &l.RegistrationTimestamp
		case "lastRenewalTimestamp", "renewalTimestamp":
			target = &l.LastRenewalTimestamp
		case "evictionTimestamp":
			target = &l.EvictionTimestamp
		case "serviceUpTimestamp":
			target = &l.ServiceUpTimestamp
		default:
			return nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return fmt.Errorf("leaseInfo.%s: not a number: %.30q", name, text)
		}
		*target = n
		return nil
	})
	in.LeaseInfo = l
	return err
}

// maxXMLDepth bounds element nesting in an instance document. Eureka's
// deepest element sits at depth 4 (instance, dataCenterInfo, metadata, an
// entry); without a bound, the decoder's stack grows with every level, and
// a 1 MiB body of nested elements inside one metadata entry cost 38 MB and
// 150 ms to skip.
const maxXMLDepth = 32

// xmlReader reads tokens and refuses elements nested deeper than
// maxXMLDepth.
type xmlReader struct {
	dec   *xml.Decoder
	depth int
}

func (r *xmlReader) token() (xml.Token, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		if r.depth++; r.depth > maxXMLDepth {
			return nil, fmt.Errorf("elements nested deeper than %d levels", maxXMLDepth)
		}
	case xml.EndElement:
		r.depth--
	}
	return tok, nil
}

// skip is xml.Decoder.Skip through token, so the depth bound holds.
func (r *xmlReader) skip() error {
	for depth := 0; ; {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

// nextStart returns the first start element, skipping the prolog.
func nextStart(d *xmlReader) (xml.StartElement, error) {
	for {
		tok, err := d.token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return xml.StartElement{}, errors.New("no root element")
			}
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

// eachChild calls fn for every child element of the element just opened;
// fn must consume the child up to and including its end tag.
func eachChild(d *xmlReader, fn func(xml.StartElement) error) error {
	for {
		tok, err := d.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// readText returns the text of the element just opened and consumes its
// end tag; nested elements are skipped.
func readText(d *xmlReader) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			if err := d.skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

// readMap reads <k>v</k> children into a map with XStream-decoded keys.
func readMap(d *xmlReader) (map[string]string, error) {
	var m map[string]string
	err := eachChild(d, func(el xml.StartElement) error {
		text, err := readText(d)
		if err != nil {
			return err
		}
		if m == nil {
			m = map[string]string{}
		}
		m[DecodeXMLName(el.Name.Local)] = text
		return nil
	})
	return m, err
}

func attr(el xml.StartElement, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func atoi(field, text string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return 0, fmt.Errorf("%s: not a number: %.30q", field, text)
	}
	return n, nil
}

// charsetReader lets documents declare the single-byte encodings Java
// clients may name besides UTF-8 (which needs no reader).
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "us-ascii", "ascii":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		var out strings.Builder
		out.Grow(len(b))
		for _, c := range b {
			out.WriteRune(rune(c))
		}
		return strings.NewReader(out.String()), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}
