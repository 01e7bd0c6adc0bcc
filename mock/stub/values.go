package stub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// JSONValue is a JSON document kept as its compact text, in the order it
// was written. From YAML any value converts; a YAML string is kept as a
// string (equalToJson then reads the JSON inside it, as WireMock does).
type JSONValue struct {
	raw      json.RawMessage
	isString bool
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (j *JSONValue) UnmarshalYAML(n *yaml.Node) error {
	raw, err := nodeJSON(n)
	if err != nil {
		return err
	}
	j.raw, j.isString = raw, n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
	return nil
}

// MarshalJSON implements json.Marshaler.
func (j JSONValue) MarshalJSON() ([]byte, error) { return j.raw, nil }

// Document is the JSON the value stands for: the text inside a string
// when it was given as one (equalToJson's usual form), else the value.
func (j JSONValue) Document() ([]byte, error) {
	if !j.isString {
		return j.raw, nil
	}
	var s string
	if err := json.Unmarshal(j.raw, &s); err != nil {
		return nil, err
	}
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("not a JSON document: %.60q", s)
	}
	return []byte(s), nil
}

// nodeJSON writes a YAML node as compact JSON, keeping the key order and
// numbers as written.
func nodeJSON(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, n); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return writeJSON(b, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			key, _ := json.Marshal(n.Content[i].Value) // cannot fail for a string
			b.Write(key)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		return writeScalar(b, n)
	}
	return nil
}

func writeScalar(b *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		b.WriteString("null")
	case "!!bool":
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return fmt.Errorf("line %d: %q is not a boolean", n.Line, n.Value)
		}
		b.WriteString(strconv.FormatBool(v))
	case "!!int", "!!float":
		if json.Valid([]byte(n.Value)) && !strings.HasPrefix(n.Value, "+") {
			b.WriteString(n.Value) // as written: 2.0 stays 2.0
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		out, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %q has no JSON form", n.Line, n.Value)
		}
		b.Write(out)
	default:
		out, _ := json.Marshal(n.Value) // cannot fail for a string
		b.Write(out)
	}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler: a string is the expression
// alone; an object holds the expression and one matcher.
func (p *JSONPathPattern) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Expression = n.Value
		return nil
	}
	type plain JSONPathPattern // without this method
	v, err := decodeObject[plain](n)
	*p = JSONPathPattern(v)
	p.object = true
	return err
}

// MarshalJSON implements json.Marshaler, in the form it came in.
func (p JSONPathPattern) MarshalJSON() ([]byte, error) {
	if !p.object {
		return json.Marshal(p.Expression)
	}
	inner, err := json.Marshal(p.StringPattern)
	if err != nil {
		return nil, err
	}
	expr, _ := json.Marshal(p.Expression) // cannot fail for a string
	if string(inner) == "{}" {
		return []byte(`{"expression":` + string(expr) + `}`), nil
	}
	return []byte(`{"expression":` + string(expr) + "," + string(inner[1:])), nil
}

// decodeObject decodes the object form of a field that may also be a
// string, strictly: the decoder's own check of unknown keys does not
// reach into types that decode themselves.
func decodeObject[T any](n *yaml.Node) (T, error) {
	var v T
	if err := strictKeys(n, &v); err != nil {
		return v, err
	}
	err := n.Decode(&v)
	return v, err
}

// HeaderValues is a response header's values: WireMock writes one as a
// string and several as a list.
type HeaderValues []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (h *HeaderValues) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*h = HeaderValues{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*h = list
	return nil
}

// MarshalJSON implements json.Marshaler: one value as a string.
func (h HeaderValues) MarshalJSON() ([]byte, error) {
	if len(h) == 1 {
		return json.Marshal(h[0])
	}
	return json.Marshal([]string(h))
}

// UnmarshalYAML implements yaml.Unmarshaler: WireMock's name, or the
// object form.
func (f *Fault) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		f.Type = n.Value
		return nil
	}
	type plain Fault // without this method
	v, err := decodeObject[plain](n)
	*f = Fault(v)
	f.object = true
	return err
}

// MarshalJSON implements json.Marshaler, in the form it came in.
func (f Fault) MarshalJSON() ([]byte, error) {
	if !f.object {
		return json.Marshal(f.Type)
	}
	type plain Fault
	return json.Marshal(plain(f))
}

// Duration is a YAML-form duration ("150ms"), written back as its text.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration such as 150ms", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Refused is a WireMock field meshbridge does not support: decoding
// accepts any value for it so that the check after decoding can name the
// field and say why (its tag "refused").
type Refused struct{}

// UnmarshalYAML implements yaml.Unmarshaler.
func (*Refused) UnmarshalYAML(*yaml.Node) error { return nil }

// The types that decode themselves from YAML decode from JSON the same
// way (JSON is YAML), so that the admin API's answers read back into a
// Mapping.

// UnmarshalJSON implements json.Unmarshaler.
func (j *JSONValue) UnmarshalJSON(b []byte) error { return viaYAML(b, j.UnmarshalYAML) }

// UnmarshalJSON implements json.Unmarshaler.
func (p *JSONPathPattern) UnmarshalJSON(b []byte) error { return viaYAML(b, p.UnmarshalYAML) }

// UnmarshalJSON implements json.Unmarshaler.
func (h *HeaderValues) UnmarshalJSON(b []byte) error { return viaYAML(b, h.UnmarshalYAML) }

// UnmarshalJSON implements json.Unmarshaler.
func (f *Fault) UnmarshalJSON(b []byte) error { return viaYAML(b, f.UnmarshalYAML) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error { return viaYAML(b, d.UnmarshalYAML) }

func viaYAML(b []byte, decode func(*yaml.Node) error) error {
	var n yaml.Node
	if err := yaml.Unmarshal(bytes.ReplaceAll(b, []byte{'\t'}, []byte{' '}), &n); err != nil {
		return err
	}
	if len(n.Content) == 0 {
		return nil
	}
	return decode(n.Content[0])
}
