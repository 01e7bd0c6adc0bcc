package registrysync

import (
	"fmt"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registry"
)

// SyncConfig is what the engine syncs with: the syncer's id, the
// registries, the pairs and how passes run. configs/registrysync.yaml
// documents every key with its default.
type SyncConfig struct {
	// ID is the syncer's id, written on every copy as MetaOwner; the
	// replicas of one syncer (HA) share it, and a syncer updates and
	// deletes only copies with its own id (required).
	ID string `yaml:"id"`
	// Registries are the registries the pairs name (at least one pair's
	// worth).
	Registries []RegistryConfig `yaml:"registries"`
	// Pairs say what is copied where.
	Pairs []PairConfig `yaml:"pairs"`
	// Engine tunes the passes.
	Engine EngineConfig `yaml:"engine"`
}

// RegistryConfig is one entry of registries: its name and type, and the
// keys of that type's connector, decoded strictly onto its defaults.
type RegistryConfig struct {
	// Name identifies the registry in pairs, logs and metrics and is the
	// MetaOrigin of copies of its instances (required, unique).
	Name string
	// Type is a registered connector kind (eureka, consul, nacos,
	// zookeeper, mesh).
	Type string
	// Settings is the connector's configuration.
	Settings Config
}

// UnmarshalYAML reads name and type, then decodes the entry's other keys
// strictly onto the type's NewConfig, unknown keys named with their line.
func (r *RegistryConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a registry is a mapping with name, type and the type's keys", n.Line)}}
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	typeLine := n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			r.Name = v.Value
		case "type":
			r.Type, typeLine = v.Value, v.Line
		default:
			rest.Content = append(rest.Content, k, v)
		}
	}
	if r.Type == "" {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: registry %q: type is required (one of %s)", n.Line, r.Name, strings.Join(Names(), ", "))}}
	}
	kind, ok := Lookup(r.Type)
	if !ok {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: registry %q: unknown type %q (one of %s)", typeLine, r.Name, r.Type, strings.Join(Names(), ", "))}}
	}
	r.Settings = kind.NewConfig()
	return config.DecodeNode(rest, r.Settings)
}

// Directions of a pair.
const (
	OneWay = "one-way"
	Both   = "both"
)

// PairConfig is one entry of pairs: instances of From are copied into To,
// and with direction both those of To into From as well.
type PairConfig struct {
	// From and To name registries (required, different).
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Direction is one-way (default) or both.
	Direction string `yaml:"direction"`
	// Services chooses the services copied, by name (default all).
	Services ServiceFilter `yaml:"services"`
	// Namespaces, Groups and Zones map a source's values to the target's
	// ("public: prod"); values not listed are kept (default none). The
	// defaults are spelled public and DEFAULT_GROUP whatever the source
	// calls them. With direction both, each map must be one-to-one and
	// is used the other way round for To's instances.
	Namespaces map[string]string `yaml:"namespaces"`
	Groups     map[string]string `yaml:"groups"`
	Zones      map[string]string `yaml:"zones"`
	// Metadata renames metadata keys ("zone: availability-zone"); a key
	// mapped to "" is dropped (default none). One-to-one, and used the
	// other way round, with direction both.
	Metadata map[string]string `yaml:"metadata"`
	// Status maps an instance's status to its copy's ("STARTING: DOWN"),
	// in both directions as written (default none).
	Status map[registry.Status]registry.Status `yaml:"status"`
	// Transformers names instance transformer plugins (of the binary's
	// plugins: list) every copied record runs through, in order (default
	// none).
	Transformers []string `yaml:"transformers"`
}

// ServiceFilter chooses services by name with path.Match globs, compared
// in lower case: a service is copied when it matches an include (none
// listed: every service) and no exclude.
type ServiceFilter struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// EngineConfig tunes the passes.
type EngineConfig struct {
	// WriteConcurrency bounds the writes in flight to one target
	// (default 32). Each write waits for the target to take it (a durable
	// write at the mesh and at registry-adapter's stand-ins), so a burst
	// of changes goes out at WriteConcurrency per round trip.
	WriteConcurrency int `yaml:"writeConcurrency"`
	// AntiEntropyInterval is how often each target's copies are listed
	// again and compared in full with what the sources hold, repairing a
	// copy changed or lost behind the syncer's back (default 60s).
	AntiEntropyInterval time.Duration `yaml:"antiEntropyInterval"`
	// RelistInterval is how often each source is listed completely again
	// (its watch restarted), repairing a change its watch missed (default
	// 10m; 0 turns it off).
	RelistInterval time.Duration `yaml:"relistInterval"`
	// RetryInterval bounds the wait before a failed listing of a target's
	// copies is tried again (default 5s; it starts at 100ms and doubles).
	RetryInterval time.Duration `yaml:"retryInterval"`
	// Breaker is the deletion breaker.
	Breaker BreakerConfig `yaml:"breaker"`
}

// BreakerConfig is the deletion breaker: deletions that would remove
// more than MaxDeleteShare of a flow's copies within Window stop the
// flow's deletions (adds and updates go on) until they would not, or
// until an operator releases them.
type BreakerConfig struct {
	// MaxDeleteShare is the share of a flow's copies that may be deleted
	// within Window (default 0.3; 1 turns the breaker off).
	MaxDeleteShare float64 `yaml:"maxDeleteShare"`
	// MinDeletes may always be deleted within Window, however few copies
	// there are, so that a small registry's ordinary changes do not trip
	// it (default 5).
	MinDeletes int `yaml:"minDeletes"`
	// Window is the time over which deletions are counted together
	// (default 1m).
	Window time.Duration `yaml:"window"`
}

// DefaultEngineConfig is the engine's configuration with every default.
func DefaultEngineConfig() EngineConfig {
	return EngineConfig{
		WriteConcurrency:    32,
		AntiEntropyInterval: time.Minute,
		RelistInterval:      10 * time.Minute,
		RetryInterval:       5 * time.Second,
		Breaker:             BreakerConfig{MaxDeleteShare: 0.3, MinDeletes: 5, Window: time.Minute},
	}
}

// Validate names every wrong field with its path.
func (c *SyncConfig) Validate() error {
	var errs config.Errors
	errs.Add(c.ID == "", "id", "required: the owner marker on every copy (replicas of one syncer share it)")
	errs.Add(c.ID != "" && !registry.ValidName(c.ID), "id", "%s", registry.NameRule)
	errs.Add(len(c.Registries) == 0, "registries", "at least one registry is required")
	names := map[string]int{}
	for i, r := range c.Registries {
		f := fmt.Sprintf("registries[%d]", i)
		errs.Add(r.Name == "", f+".name", "required")
		errs.Add(r.Name != "" && !registry.ValidName(r.Name), f+".name", "%s", registry.NameRule)
		if j, dup := names[r.Name]; dup && r.Name != "" {
			errs.Add(true, f+".name", "%q is registries[%d]'s name already", r.Name, j)
		}
		names[r.Name] = i
		if r.Settings == nil {
			errs.Add(true, f+".type", "required")
			continue
		}
		if err := r.Settings.Validate(); err != nil {
			for _, e := range strings.Split(err.Error(), "; ") {
				errs = append(errs, f+" ("+r.Name+")."+e)
			}
		}
	}
	errs.Add(len(c.Pairs) == 0, "pairs", "at least one pair is required")
	flows := map[[2]string]string{}
	for i, p := range c.Pairs {
		f := fmt.Sprintf("pairs[%d]", i)
		_, fromOK := names[p.From]
		_, toOK := names[p.To]
		errs.Add(!fromOK, f+".from", "no registry is named %q", p.From)
		errs.Add(!toOK, f+".to", "no registry is named %q", p.To)
		errs.Add(p.From == p.To && fromOK, f+".to", "must differ from from")
		errs.Add(p.Direction != "" && p.Direction != OneWay && p.Direction != Both, f+".direction", "must be one-way or both, got %q", p.Direction)
		ways := [][2]string{{p.From, p.To}}
		if p.Direction == Both {
			ways = append(ways, [2]string{p.To, p.From})
		}
		for _, w := range ways {
			if prev, dup := flows[w]; dup {
				errs.Add(true, f, "copies %s to %s, as %s does already", w[0], w[1], prev)
			}
			flows[w] = f
		}
		validatePair(&errs, f, p)
	}
	e := c.Engine
	errs.Add(e.WriteConcurrency < 1, "engine.writeConcurrency", "must be at least 1")
	errs.Add(e.AntiEntropyInterval < time.Second, "engine.antiEntropyInterval", "must be at least 1s")
	errs.Add(e.RelistInterval != 0 && e.RelistInterval < e.AntiEntropyInterval, "engine.relistInterval", "must be 0 (off) or at least engine.antiEntropyInterval")
	errs.Add(e.RetryInterval < 100*time.Millisecond, "engine.retryInterval", "must be at least 100ms")
	errs.Add(e.Breaker.MaxDeleteShare <= 0 || e.Breaker.MaxDeleteShare > 1, "engine.breaker.maxDeleteShare", "must be above 0 and at most 1 (off)")
	errs.Add(e.Breaker.MinDeletes < 0, "engine.breaker.minDeletes", "must not be negative")
	errs.Add(e.Breaker.Window <= 0, "engine.breaker.window", "must be positive")
	return errs.Err()
}

func validatePair(errs *config.Errors, f string, p PairConfig) {
	for _, g := range append(append([]string(nil), p.Services.Include...), p.Services.Exclude...) {
		_, err := path.Match(g, "")
		errs.Add(err != nil, f+".services", "bad glob %q: %v", g, err)
	}
	both := p.Direction == Both
	for _, m := range []struct {
		field string
		m     map[string]string
		valid func(string) bool
		rule  string
	}{
		{"namespaces", p.Namespaces, registry.ValidName, registry.NameRule},
		{"groups", p.Groups, registry.ValidName, registry.NameRule},
		{"zones", p.Zones, registry.ValidName, registry.NameRule},
		{"metadata", p.Metadata, validMetadataKey, "must be a metadata key (or \"\" to drop it), not one of the syncer's markers"},
	} {
		seen := map[string]string{}
		for from, to := range m.m {
			ok := m.valid(from) && (m.valid(to) || m.field == "metadata" && to == "")
			errs.Add(!ok, f+"."+m.field+"."+from, "%s", m.rule)
			if prev, dup := seen[to]; dup && both {
				errs.Add(true, f+"."+m.field+"."+from, "maps to %q as %q does: with direction both the map must be one-to-one", to, prev)
			}
			seen[to] = from
		}
	}
	for from, to := range p.Status {
		errs.Add(!from.Valid() || !to.Valid(), f+".status."+string(from), "statuses are UP, DOWN, STARTING, OUT_OF_SERVICE and UNKNOWN")
	}
	for i, name := range p.Transformers {
		errs.Add(name == "", fmt.Sprintf("%s.transformers[%d]", f, i), "must name a plugin")
	}
}

// validMetadataKey takes what the registry takes as a metadata key ('/'
// included), but for the syncer's own markers: a mapping must not forge
// or drop them.
func validMetadataKey(k string) bool {
	return registry.ValidName(strings.ReplaceAll(k, "/", "_")) && k != MetaOrigin && k != MetaOwner && k != MetaDigest
}
