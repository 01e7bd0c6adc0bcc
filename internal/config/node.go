package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeNode decodes node strictly onto v, a pointer holding the
// defaults: for a part of a file whose type is known only once the file
// is read, such as a registrysync registry entry, whose type: chooses the
// connector and so the keys it takes. yaml.v3 decodes what an
// UnmarshalYAML method hands on without checking its keys, so every key
// of node is checked against v's type first; unknown ones are a
// *yaml.TypeError naming each with its line, as Decode's errors do, which
// the decode that called UnmarshalYAML reports with its own.
func DecodeNode(node *yaml.Node, v any) error {
	var unknown []string
	checkKeys(node, reflect.TypeOf(v), &unknown)
	if len(unknown) > 0 {
		return &yaml.TypeError{Errors: unknown}
	}
	return node.Decode(v)
}

var (
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkKeys adds to unknown every mapping key below n that t has no field
// for, as yaml.v3's KnownFields would.
func checkKeys(n *yaml.Node, t reflect.Type, unknown *[]string) {
	if n == nil || t == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			checkKeys(c, t, unknown)
		}
		return
	case yaml.AliasNode:
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// A type that decodes itself takes what it is given; so does any.
	if t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(yamlUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields, open := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Value == "<<" { // a merge: its keys are this mapping's
				checkKeys(val, t, unknown)
				continue
			}
			ft, ok := fields[key.Value]
			switch {
			case ok:
				checkKeys(val, ft, unknown)
			case !open:
				*unknown = append(*unknown, fmt.Sprintf("line %d: unknown key %q", key.Line, key.Value))
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			checkKeys(n.Content[i], t.Elem(), unknown)
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for _, c := range n.Content {
			checkKeys(c, t.Elem(), unknown)
		}
	}
}

// yamlFields maps the keys yaml.v3 decodes into struct t to their field
// types, inline structs included; open is set when an inline map takes
// any other key.
func yamlFields(t reflect.Type) (fields map[string]reflect.Type, open bool) {
	fields = map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				open = true
				continue
			}
			sub, subOpen := yamlFields(ft)
			for k, v := range sub {
				fields[k] = v
			}
			open = open || subOpen
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields, open
}
