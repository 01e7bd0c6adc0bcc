package spec

import (
	"fmt"
	"path"
)

// Fixed component names.
const (
	ComponentRegistry = "registry"
	// ComponentEdge is the sidecar the traffic generator sends through.
	ComponentEdge = "edge"
)

// InstanceName is the component name of one app instance; its sidecar is
// InstanceName + SidecarSuffix.
func InstanceName(service, version string, i int) string {
	return fmt.Sprintf("%s-%s-%d", service, version, i)
}

// SidecarSuffix ends the name of an instance's sidecar.
const SidecarSuffix = "-sidecar"

// AppComponent is one app instance of the topology.
type AppComponent struct {
	Name    string
	Service *Service
	Version *Version
	Index   int
}

// Apps lists every app instance of the topology, in start order.
func (t *Topology) Apps() []AppComponent {
	var out []AppComponent
	for si := range t.Services {
		s := &t.Services[si]
		for vi := range s.Versions {
			v := &s.Versions[vi]
			for i := range v.Instances {
				out = append(out, AppComponent{Name: InstanceName(s.Name, v.Name, i), Service: s, Version: v, Index: i})
			}
		}
	}
	return out
}

// ContainerHTTPPort names the container port that services, views and
// traffic steps use when they refer to a container.
const ContainerHTTPPort = "http"

// Container returns the topology's container of that name, or nil.
func (t *Topology) Container(name string) *Container {
	for i := range t.Containers {
		if t.Containers[i].Name == name {
			return &t.Containers[i]
		}
	}
	return nil
}

// MeshRegistry names the mesh (the registry-adapter's control API) in a
// syncer's pairs.
const MeshRegistry = "mesh"

// OnAdapter reports whether the service's instances register with the
// registry-adapter itself.
func (s *Service) OnAdapter() bool { return s.RegistryContainer == "" && s.LegacyRegistry == "" }

// Meshed reports whether the sidecars see the service's instances: they
// register with the registry-adapter, or with a legacy registry that a
// syncer copies into the mesh.
func (t *Topology) Meshed(s *Service) bool {
	if s.OnAdapter() {
		return true
	}
	if s.LegacyRegistry == "" {
		return false
	}
	for _, v := range s.Versions {
		if v.Mesh {
			return true // its mesh instances, at least
		}
	}
	for _, sy := range t.Syncers {
		for _, p := range sy.Pairs {
			toMesh := p.From == s.LegacyRegistry && p.To == MeshRegistry
			back := p.Direction == "both" && p.From == MeshRegistry && p.To == s.LegacyRegistry
			if toMesh || back {
				return true
			}
		}
	}
	return false
}

// LegacyRegistry returns the topology's legacy registry of that name, or nil.
func (t *Topology) LegacyRegistry(name string) *Legacy {
	for i := range t.Legacy {
		if t.Legacy[i].Name == name {
			return &t.Legacy[i]
		}
	}
	return nil
}

// IsApp reports whether name is a demo app instance of the topology.
func (t *Topology) IsApp(name string) bool {
	for _, a := range t.Apps() {
		if a.Name == name {
			return true
		}
	}
	return false
}

// ComponentNames lists every component: registry, edge, containers,
// mocks, legacy registries, syncers, apps and sidecars.
func (t *Topology) ComponentNames() []string {
	out := []string{ComponentRegistry, ComponentEdge}
	for _, c := range t.Containers {
		out = append(out, c.Name)
	}
	for _, m := range t.Mocks {
		out = append(out, m.Name)
	}
	for _, l := range t.Legacy {
		out = append(out, l.Name)
	}
	for _, s := range t.Syncers {
		out = append(out, s.Name)
	}
	for _, a := range t.Apps() {
		out = append(out, a.Name)
		if a.Sidecar() {
			out = append(out, a.Name+SidecarSuffix)
		}
	}
	return out
}

// Match returns the components whose names match pattern (path.Match
// syntax: orders-v2-*, *-sidecar).
func Match(names []string, pattern string) []string {
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	return out
}

// RoutingLabels maps a version's labels to instance metadata: the keys the
// mesh routes on keep their names, any other becomes label.<key>.
func RoutingLabels(v *Version) map[string]string {
	out := map[string]string{"version": v.Name}
	for k, val := range v.Labels {
		switch k {
		case "version", "canary", "shadow", "subset", "zone":
			out[k] = val
		default:
			out["label."+k] = val
		}
	}
	return out
}

// Labels are the labels the mesh sees on the version's instances.
func Labels(v *Version) map[string]string {
	out := map[string]string{"version": v.Name}
	for k, val := range v.Labels {
		out[k] = val
	}
	return out
}
