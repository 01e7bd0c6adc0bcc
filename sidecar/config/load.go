package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"

	"gopkg.in/yaml.v3"

	iconfig "github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/sidecar/chain"
)

// MaxFileSize bounds a config file.
const MaxFileSize = 1 << 20

// LoadFile reads, decodes and validates a config file.
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: %s is larger than %d bytes", path, MaxFileSize)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML onto the defaults, strictly, without validating (so
// flags can still change the result before Validate).
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	// First pass: everything but the handler sections, which land in a node.
	var first struct {
		Config   `yaml:",inline"`
		Handlers yaml.Node `yaml:"handlers"`
	}
	first.Config = *cfg
	if err := strictDecode(data, &first); err != nil {
		return nil, err
	}
	*cfg = first.Config
	// Second pass: the handler sections, decoded strictly onto each
	// handler's defaults through a struct type built from the registry.
	names := chain.Names()
	fields := make([]reflect.StructField, len(names))
	for i, n := range names {
		fields[i] = reflect.StructField{
			Name: fmt.Sprintf("H%d", i),
			Type: reflect.TypeOf(cfg.Handlers[n]),
			Tag:  reflect.StructTag(fmt.Sprintf(`yaml:%q`, n)),
		}
	}
	handlersType := reflect.StructOf(fields)
	second := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "Handlers", Type: handlersType, Tag: `yaml:"handlers"`},
		{Name: "Rest", Type: reflect.TypeOf(map[string]yaml.Node{}), Tag: `yaml:",inline"`},
	}))
	hv := second.Elem().Field(0)
	for i, n := range names {
		hv.Field(i).Set(reflect.ValueOf(cfg.Handlers[n]))
	}
	if err := strictDecode(data, second.Interface()); err != nil {
		return nil, err
	}
	for i, n := range names {
		v := hv.Field(i)
		if v.IsNil() { // "retry:" with no value keeps the defaults
			k, _ := chain.Lookup(n)
			cfg.Handlers[n] = k.NewConfig()
			continue
		}
		cfg.Handlers[n] = v.Interface().(chain.Config)
	}
	for i := range cfg.Service.Ports {
		if p := &cfg.Service.Ports[i]; p.Protocol == "" {
			p.Protocol = DefaultProtocol(p.Name)
		}
	}
	return cfg, nil
}

func strictDecode(data []byte, out any) error { return iconfig.Decode(data, out) }
