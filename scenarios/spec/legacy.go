package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshbridge/meshbridge/internal/config"
)

// ProtocolZooKeeper is a legacy registry that is a real ZooKeeper server
// (Debian's), with Spring Cloud Zookeeper's layout: the one legacy
// registry that is not the registry-adapter standing in.
const ProtocolZooKeeper = "zookeeper"

// syncDirections are a sync pair's directions.
var syncDirections = []string{"", "one-way", "both"}

// validateLegacy checks topology.legacy, topology.syncers and the
// services that register with a legacy registry.
func (t *Topology) validateLegacy(errs *config.Errors) {
	taken := map[string]string{ComponentRegistry: "reserved", ComponentEdge: "reserved", MeshRegistry: "the mesh's name in sync pairs"}
	for _, s := range t.Services {
		taken[s.Name] = "a service"
	}
	for _, a := range t.Apps() {
		taken[a.Name] = "a demo app"
		taken[a.Name+SidecarSuffix] = "a sidecar"
	}
	for _, c := range t.Containers {
		taken[c.Name] = "a container"
	}
	for _, m := range t.Mocks {
		taken[m.Name] = "a mock"
	}
	name := func(f, n, what string) {
		errs.Add(!nameRE.MatchString(n), f+".name", "required: lower-case letters, digits and '-', at most 32, got %q", n)
		if was, ok := taken[n]; ok && n != "" {
			errs.Add(true, f+".name", "%q is already %s", n, was)
		}
		taken[n] = what
	}
	for i, l := range t.Legacy {
		f := fmt.Sprintf("topology.legacy[%d]", i)
		name(f, l.Name, "a legacy registry")
		errs.Add(!slices.Contains(legacyProtocols, l.Protocol), f+".protocol", "must be one of %s, got %q", strings.Join(legacyProtocols, ", "), l.Protocol)
	}
	for i, s := range t.Syncers {
		f := fmt.Sprintf("topology.syncers[%d]", i)
		name(f, s.Name, "a syncer")
		errs.Add(len(s.Pairs) == 0, f+".pairs", "at least one pair is required")
		for j, p := range s.Pairs {
			pf := fmt.Sprintf("%s.pairs[%d]", f, j)
			for _, end := range []struct{ field, name string }{{".from", p.From}, {".to", p.To}} {
				errs.Add(end.name != MeshRegistry && t.LegacyRegistry(end.name) == nil, pf+end.field,
					"must be %s or a legacy registry of the topology, got %q", MeshRegistry, end.name)
			}
			errs.Add(p.From == p.To, pf+".to", "must differ from from")
			errs.Add(!slices.Contains(syncDirections, p.Direction), pf+".direction", "must be one-way or both, got %q", p.Direction)
		}
	}
	for i, svc := range t.Services {
		errs.Add(svc.Registry == ProtocolZooKeeper && svc.LegacyRegistry == "", fmt.Sprintf("topology.services[%d].registry", i),
			"zookeeper needs legacyRegistry, a legacy ZooKeeper (the registry-adapter serves no ZooKeeper)")
		if svc.LegacyRegistry == "" {
			continue
		}
		f := fmt.Sprintf("topology.services[%d].legacyRegistry", i)
		l := t.LegacyRegistry(svc.LegacyRegistry)
		if l == nil {
			errs.Add(true, f, "%q is not a legacy registry of the topology", svc.LegacyRegistry)
			continue
		}
		errs.Add(svc.RegistryContainer != "", f, "set legacyRegistry or registryContainer, not both")
		errs.Add(svc.Registry != l.Protocol, f, "%q speaks %s; the service's registry is %q", l.Name, l.Protocol, svc.Registry)
	}
}
