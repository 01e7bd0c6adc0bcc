package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/meshbridge/meshbridge/internal/config"
)

// Mock is a mockserver (docs/mockserver.md) standing in for a service: it
// answers from a stub folder and registers in the mesh as that service,
// under its own version label, so that a canary rule can send a part of
// the traffic (coloured requests) to it and the rest to the real service.
// It registers its own address: no sidecar.
type Mock struct {
	// Name is its component name (required, as a service name).
	Name string `yaml:"name"`
	// Service is the service it registers as (required; a service of the
	// topology, or another name).
	Service string `yaml:"service"`
	// Stubs is the stub folder (WireMock's mappings/ and __files/, or YAML
	// files), relative to the scenario file's folder (required).
	Stubs string `yaml:"stubs"`
	// Version is its version label (metadata version; default mock).
	Version string `yaml:"version"`
}

// StubsDir is the mock's stub folder as a path: relative to the scenario
// file's folder.
func (s *Scenario) StubsDir(m *Mock) string {
	if filepath.IsAbs(m.Stubs) || s.Path == "" {
		return m.Stubs
	}
	return filepath.Join(filepath.Dir(s.Path), m.Stubs)
}

// Mock returns the topology's mock of this name, or nil.
func (t *Topology) Mock(name string) *Mock {
	for i := range t.Mocks {
		if t.Mocks[i].Name == name {
			return &t.Mocks[i]
		}
	}
	return nil
}

func (s *Scenario) validateMocks(errs *config.Errors) {
	taken := []string{ComponentRegistry, ComponentEdge}
	for _, a := range s.Topology.Apps() {
		taken = append(taken, a.Name, a.Name+SidecarSuffix)
	}
	for _, c := range s.Topology.Containers {
		taken = append(taken, c.Name)
	}
	for i := range s.Topology.Mocks {
		m := &s.Topology.Mocks[i]
		f := fmt.Sprintf("topology.mocks[%d]", i)
		if m.Version == "" {
			m.Version = "mock"
		}
		errs.Add(!nameRE.MatchString(m.Name), f+".name", "required: lower-case letters, digits and '-', got %q", m.Name)
		errs.Add(slices.Contains(taken, m.Name), f+".name", "%q is already a component's name", m.Name)
		taken = append(taken, m.Name)
		errs.Add(!nameRE.MatchString(m.Service), f+".service", "required: the service it registers as, got %q", m.Service)
		errs.Add(!nameRE.MatchString(m.Version), f+".version", "lower-case letters, digits and '-', got %q", m.Version)
		errs.Add(m.Stubs == "", f+".stubs", "required: a stub folder, relative to the scenario file")
	}
}

// checkMockStubs checks, once the file's path is known, that every mock's
// stub folder is there.
func (s *Scenario) checkMockStubs() error {
	var errs config.Errors
	for i := range s.Topology.Mocks {
		dir := s.StubsDir(&s.Topology.Mocks[i])
		info, err := os.Stat(dir)
		errs.Add(err != nil || !info.IsDir(), fmt.Sprintf("topology.mocks[%d].stubs", i), "%s is not a folder", dir)
	}
	return errs.Err()
}

// JournalCheck counts the requests a mock's journal holds
// (GET /__admin/requests), all of them or those that match: the stub that
// answered, and request headers.
type JournalCheck struct {
	// Mock names the mock (required).
	Mock string `yaml:"mock"`
	// Stub is the name of the stub that answered (or its id); "unmatched"
	// counts the requests no stub answered; "" counts all.
	Stub string `yaml:"stub"`
	// Headers the requests must carry, with these values exactly (names
	// are not case-sensitive); "" requires the header to be absent.
	Headers map[string]string `yaml:"headers"`
	// Min and Max bound the count (at least one).
	Min *int `yaml:"min"`
	Max *int `yaml:"max"`
}

func (v *stepValidator) journal(f string, c *JournalCheck) {
	v.errs.Add(v.s.Topology.Mock(c.Mock) == nil, f+".mock", "%q is not a mock of the topology", c.Mock)
	v.errs.Add(c.Min == nil && c.Max == nil, f, "set min, max or both")
	v.errs.Add(c.Min != nil && *c.Min < 0, f+".min", "must not be negative")
	v.errs.Add(c.Min != nil && c.Max != nil && *c.Max < *c.Min, f+".max", "must be at least min")
}
