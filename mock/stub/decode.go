package stub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/internal/config"
)

// Decode reads the mappings in one file's bytes: a single mapping, or an
// object whose "mappings" holds a list of them (WireMock writes both).
// name is the file's name, used for errors and to tell JSON (".json")
// from YAML (anything else). Both decode strictly through the same
// decoder, so an unknown key is an error naming it and its line; a field
// WireMock has and meshbridge does not support is an error naming its
// path. Nothing is compiled yet: see Compile.
func Decode(name string, data []byte) ([]Mapping, error) {
	ms, err := decode(name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ms, nil
}

func decode(name string, data []byte) ([]Mapping, error) {
	if strings.EqualFold(filepath.Ext(name), ".json") {
		var err error
		if data, err = jsonAsYAML(data); err != nil {
			return nil, err
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("no mapping in the file")
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a mapping is an object", doc.Content[0].Line)
	}
	if hasKey(doc.Content[0], "mappings") {
		var many struct {
			Mappings []Mapping `yaml:"mappings"`
			// Meta is what GET /__admin/mappings adds ({"total": n}),
			// so that its answer loads as a file.
			Meta *yaml.Node `yaml:"meta"`
		}
		if err := config.Decode(data, &many); err != nil {
			return nil, err
		}
		for i := range many.Mappings {
			if err := refused(reflect.ValueOf(&many.Mappings[i]).Elem(), fmt.Sprintf("mappings[%d]", i)); err != nil {
				return nil, err
			}
		}
		return many.Mappings, nil
	}
	var one Mapping
	if err := config.Decode(data, &one); err != nil {
		return nil, err
	}
	if err := refused(reflect.ValueOf(&one).Elem(), ""); err != nil {
		return nil, err
	}
	return []Mapping{one}, nil
}

// DecodeJSON decodes one mapping sent as JSON (the admin API's body).
func DecodeJSON(data []byte) (Mapping, error) { return decodeJSONAs[Mapping](data, "") }

// DecodeRequestPattern decodes a request pattern sent as JSON (the
// journal's count and find).
func DecodeRequestPattern(data []byte) (RequestPattern, error) {
	return decodeJSONAs[RequestPattern](data, "request")
}

// decodeJSONAs strictly decodes one JSON value into a T and checks it for
// refused fields under path.
func decodeJSONAs[T any](data []byte, path string) (T, error) {
	var v T
	data, err := jsonAsYAML(data)
	if err != nil {
		return v, err
	}
	if err := config.Decode(data, &v); err != nil {
		return v, err
	}
	if err := refused(reflect.ValueOf(&v).Elem(), path); err != nil {
		return v, err
	}
	return v, nil
}

// jsonAsYAML checks that data is one JSON value, reporting a syntax
// error with its line and column, and returns it ready for the YAML
// decoder: JSON is YAML but for tabs, which YAML does not take as
// indentation. In valid JSON a raw tab can only be white space (inside
// strings it must be escaped), so each becomes a space.
func jsonAsYAML(data []byte) ([]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			return nil, fmt.Errorf("line %d, column %d: invalid JSON: %s", line, col, se.Error())
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: more than one value")
	}
	return bytes.ReplaceAll(data, []byte{'\t'}, []byte{' '}), nil
}

// position turns a byte offset into a line and column, both from 1.
func position(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// refused walks a decoded value and reports the first field that is set
// and tagged `refused`: a WireMock field meshbridge knows and does not
// support. Its error names the field's path and why.
func refused(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return refused(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			sub := join(path, name)
			if f.Anonymous {
				sub = path
			}
			if why := f.Tag.Get("refused"); why != "" {
				if !v.Field(i).IsNil() {
					return fmt.Errorf("%s: %s", sub, why)
				}
				continue
			}
			if err := refused(v.Field(i), sub); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := refused(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := refused(iter.Value(), join(path, fmt.Sprint(iter.Key()))); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// strictKeys fails when the mapping node n has a key that is not one of
// the yaml names of v's struct type (inline structs included): the
// decoder's own check does not reach into types that decode themselves.
func strictKeys(n *yaml.Node, v any) error {
	known := map[string]bool{}
	collectKeys(reflect.TypeOf(v).Elem(), known)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !known[k.Value] {
			return fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
		}
	}
	return nil
}

func collectKeys(t reflect.Type, known map[string]bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			collectKeys(f.Type, known)
			continue
		}
		if f.IsExported() && name != "" && name != "-" {
			known[name] = true
		}
	}
}
