package runner

import (
	"fmt"
	"net"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// legacyComponent is a legacy registry: the registry-adapter serving the
// one protocol on its port named http (as a container's), over a store of
// its own. Its control API is its own business (readiness); nothing of
// the mesh reads it.
func legacyComponent(l spec.Legacy, adapterFlags map[string]bool) *Component {
	c := &Component{Name: l.Name, Role: RoleLegacy, Binary: BinRegistry,
		Ports: []Port{{Name: "control", Container: 8700}, {Name: spec.ContainerHTTPPort, Container: registryPorts[l.Protocol][0].Container}},
		Ready: Probe{Port: "control", Path: "/readyz"}}
	if l.Protocol == "nacos" {
		c.Ports = append(c.Ports, Port{Name: nacosGRPCPort, Container: 9848, Follows: spec.ContainerHTTPPort, Offset: 1000})
	}
	c.Args = func(n Net) []string {
		args := []string{"--data-dir", n.DataDir(c.Name), "--control-listen", n.Listen(c.Name, "control")}
		for _, fe := range knownFrontEnds(adapterFlags) {
			addr := ""
			if fe == l.Protocol {
				addr = n.Listen(c.Name, spec.ContainerHTTPPort)
			}
			args = append(args, "--"+fe+"-listen="+addr)
		}
		return args
	}
	return c
}

// knownFrontEnds lists the registry front-ends the registry-adapter
// binary has flags for, sorted.
func knownFrontEnds(adapterFlags map[string]bool) []string {
	var known []string
	for f := range adapterFlags {
		if fe, ok := strings.CutSuffix(f, "-listen"); ok && fe != "control" && registryPorts[fe] != nil {
			known = append(known, fe)
		}
	}
	sort.Strings(known)
	return known
}

// syncerComponent is a registrysync process with a configuration the
// runner writes from the scenario: a registry entry per legacy registry
// its pairs name, the mesh as the registry-adapter's control API (the
// token from the environment the components inherit), and the pairs.
// Everything else is registrysync's defaults.
func syncerComponent(s *spec.Scenario, sy spec.Syncer) *Component {
	c := &Component{Name: sy.Name, Role: RoleSyncer, Binary: BinSyncer,
		Ports: []Port{{Name: "admin", Container: 8710}}, Ready: Probe{Port: "admin", Path: "/healthz"}}
	c.Args = func(n Net) []string { return []string{"--config", syncerConfigPath(n, c.Name)} }
	c.Files = func(n Net) map[string]string {
		return map[string]string{syncerConfigPath(n, c.Name): syncerConfig(n, s, sy)}
	}
	return c
}

// syncerConfigPath is where a syncer reads its configuration.
func syncerConfigPath(n Net, name string) string {
	return path.Join(n.DataDir(name), "registrysync.yaml")
}

// syncerConfig is the YAML of sy's configuration.
func syncerConfig(n Net, s *spec.Scenario, sy spec.Syncer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nregistries:\n", sy.Name)
	named := map[string]bool{}
	for _, p := range sy.Pairs {
		for _, name := range []string{p.From, p.To} {
			if named[name] {
				continue
			}
			named[name] = true
			if name == spec.MeshRegistry {
				fmt.Fprintf(&b, "  - {name: %s, type: mesh, url: %q}\n", name, "http://"+n.Dial(spec.ComponentRegistry, "control"))
				continue
			}
			l := s.Topology.LegacyRegistry(name)
			addr := n.Dial(name, spec.ContainerHTTPPort)
			switch l.Protocol {
			case spec.ProtocolZooKeeper:
				// Spring Cloud Zookeeper's root; copies of mesh instances
				// taken out are withheld (downAs: absent, the default).
				fmt.Fprintf(&b, "  - {name: %s, type: zookeeper, servers: [%q], root: %s}\n", name, n.Dial(name, zkClientPort), selfregister.ZooKeeperRoot)
			case "eureka":
				fmt.Fprintf(&b, "  - {name: %s, type: eureka, urls: [%q]}\n", name, "http://"+addr+"/eureka")
			case "consul":
				fmt.Fprintf(&b, "  - {name: %s, type: consul, address: %q}\n", name, addr)
			case "nacos":
				_, grpcPort, _ := net.SplitHostPort(n.Dial(name, nacosGRPCPort))
				fmt.Fprintf(&b, "  - {name: %s, type: nacos, servers: [%q], grpcPort: %s, logDir: %q, cacheDir: %q}\n",
					name, addr, grpcPort, filepath.Join(n.DataDir(sy.Name), "nacos-log"), filepath.Join(n.DataDir(sy.Name), "nacos-cache"))
			}
		}
	}
	b.WriteString("pairs:\n")
	for _, p := range sy.Pairs {
		dir := p.Direction
		if dir == "" {
			dir = "one-way"
		}
		fmt.Fprintf(&b, "  - {from: %s, to: %s, direction: %s}\n", p.From, p.To, dir)
	}
	fmt.Fprintf(&b, "admin:\n  listen: %q\nlog:\n  level: info\n", n.Listen(sy.Name, "admin"))
	return b.String()
}
