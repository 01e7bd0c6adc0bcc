package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/adapters/frontend"
)

// discoveryFields is Discovery without its methods, for decoding its fixed keys.
type discoveryFields Discovery

// UnmarshalYAML decodes discovery: with a key per registered front-end
// (its address) beside the fixed keys, as strictly as the rest of the
// file: any other key is an error naming its line.
func (d *Discovery) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: discovery must be a mapping", n.Line)
	}
	fixed := yamlKeys(reflect.TypeOf(discoveryFields{}))
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: n.Tag, Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if fixed[key.Value] {
			rest.Content = append(rest.Content, key, value)
			continue
		}
		if _, ok := frontend.Lookup(key.Value); !ok {
			return fmt.Errorf("line %d: unknown key %q", key.Line, key.Value)
		}
		if d.FrontEnds == nil {
			d.FrontEnds = map[string]string{}
		}
		addr := d.FrontEnds[key.Value] // a null value keeps the default
		if err := value.Decode(&addr); err != nil {
			return err
		}
		d.FrontEnds[key.Value] = addr
	}
	// Every key of rest is a field's: decoding it cannot meet an unknown key.
	return rest.Decode((*discoveryFields)(d))
}

// yamlKeys are the YAML keys of a struct's fields.
func yamlKeys(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}
