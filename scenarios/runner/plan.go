package runner

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// registryPorts are the registry-adapter's listeners, by front-end.
var registryPorts = map[string][]Port{
	"control": {{Name: "control", Container: 8700}},
	"eureka":  {{Name: "eureka", Container: 8761}},
	"consul":  {{Name: "consul", Container: 8500}},
	"nacos":   {{Name: "nacos", Container: 8848}, {Name: "nacos-grpc", Container: 9848, Follows: "nacos", Offset: 1000}},
}

// heartbeat is the demo apps' registry heartbeat: short, so restarts and
// expiry show within a scenario's time.
const heartbeat = "1s"

// legacyFetch is how often a demo app without a sidecar fetches its
// registry to find its callees (Spring's registry-fetch-interval-seconds,
// 30 s there, over Eureka; LoadBalancer's cache, 35 s, over Consul and Nacos).
const legacyFetch = "1s"

// plan turns a topology into components in start order: registry, extra
// containers, mocks, edge sidecar, then each instance's sidecar and app. adapterFlags are the
// flags the registry-adapter binary knows (front-ends it was built with);
// images says the provider runs images (Factory.RunsImages).
func plan(s *spec.Scenario, adapterFlags map[string]bool, images bool) ([]*Component, error) {
	fronts := s.FrontEnds()
	for _, fe := range fronts {
		if !adapterFlags[fe+"-listen"] {
			return nil, fmt.Errorf("the scenario needs the %s API, but this registry-adapter has no --%s-listen (the %s front-end is not built in yet)", fe, fe, fe)
		}
	}
	reg := &Component{Name: spec.ComponentRegistry, Role: RoleRegistry, Binary: BinRegistry,
		Ports: append([]Port(nil), registryPorts["control"]...), Ready: Probe{Port: "control", Path: "/readyz"}}
	for _, fe := range fronts {
		reg.Ports = append(reg.Ports, registryPorts[fe]...)
	}
	reg.Args = func(n Net) []string {
		args := []string{"--data-dir", n.DataDir(reg.Name), "--control-listen", n.Listen(reg.Name, "control")}
		if s.Topology.Registry.Store == "etcd" {
			args = append(args, "--store", "etcd", "--etcd-endpoints", strings.Join(s.Topology.Registry.EtcdEndpoints, ","))
		}
		// Every front-end the binary knows is set: on where needed, off
		// (empty) otherwise, so nothing grabs the registries' default ports.
		for _, fe := range knownFrontEnds(adapterFlags) {
			addr := ""
			if slices.Contains(fronts, fe) {
				addr = n.Listen(reg.Name, fe)
			}
			args = append(args, "--"+fe+"-listen="+addr)
		}
		return args
	}
	comps := []*Component{reg}
	for i := range s.Topology.Containers {
		comps = append(comps, containerComponent(&s.Topology.Containers[i]))
	}
	for i := range s.Topology.Mocks {
		comps = append(comps, mockComponent(s, &s.Topology.Mocks[i]))
	}
	for _, l := range s.Topology.Legacy {
		if l.Protocol == spec.ProtocolZooKeeper {
			zk, err := zookeeperComponent(l, images)
			if err != nil {
				return nil, err
			}
			comps = append(comps, zk)
			continue
		}
		comps = append(comps, legacyComponent(l, adapterFlags))
	}
	for _, sy := range s.Topology.Syncers {
		comps = append(comps, syncerComponent(s, sy))
	}
	comps = append(comps, sidecar(spec.ComponentEdge, "edge", ""))
	for _, a := range s.Topology.Apps() {
		app := a
		c := &Component{Name: app.Name, Role: RoleApp, Binary: BinDemoApp,
			Ports: []Port{{Name: "http", Container: 8080}}, Ready: Probe{Port: "http", Path: "/actuator/health"},
			Service: app.Service.Name, Version: app.Version.Name, Labels: spec.Labels(app.Version), Moved: app.Moved()}
		// A migrating service's mesh instances register in the mesh,
		// whatever registry its legacy ones use.
		kind, where := app.Service.Registry, app.Service.RegistryContainer+app.Service.LegacyRegistry
		if app.Moved() {
			kind, where = "control", ""
		}
		sc := ""
		if app.Sidecar() {
			sc = app.Name + spec.SidecarSuffix
			c.Pod = sc
			comps = append(comps, sidecar(sc, app.Service.Name, app.Name))
		}
		c.Args = func(n Net) []string {
			advertise := n.Dial(c.Name, "http")
			args := []string{"--service", app.Service.Name, "--app-version", app.Version.Name, "--instance-id", app.Name,
				"--listen", n.Listen(c.Name, "http"), "--heartbeat", heartbeat,
				"--metadata", pairs(spec.RoutingLabels(app.Version)), "--registry", kind,
				"--registry-url", registryURL(n, kind, where),
				"--latency", app.Version.Latency.String(),
				"--error-rate", strconv.FormatFloat(float64(app.Version.ErrorRate), 'f', -1, 64),
				"--error-status", strconv.Itoa(app.Version.ErrorStatus)}
			if comp, port := nacosGRPC(s, app.Service); comp != "" && !app.Moved() {
				_, p, _ := net.SplitHostPort(n.Dial(comp, port))
				args = append(args, "--nacos-grpc-port", p)
			}
			switch {
			case sc != "":
				advertise = n.Dial(sc, "ingress")
				args = append(args, "--egress", "http://"+n.Local(sc, "egress"))
			case kind == "eureka" || kind == "consul" || kind == "nacos":
				// Without a sidecar it finds its callees in its registry,
				// as a Spring client does, fetching every second instead
				// of every 30-35 s so that drains wait seconds, not minutes
				// (Nacos pushes: a second is how long a list is reused).
				args = append(args, "--discovery-refresh", legacyFetch)
			case kind == spec.ProtocolZooKeeper:
				// Without a sidecar it follows its callees in ZooKeeper
				// with watches.
				args = append(args, "--discovery-refresh", zkResync)
			}
			return append(args, "--advertise", advertise)
		}
		comps = append(comps, c)
	}
	return comps, nil
}

// sidecar is a sidecar component for service, forwarding ingress to app
// (none for the edge, which only sends).
func sidecar(name, service, app string) *Component {
	c := &Component{Name: name, Role: RoleSidecar, Binary: BinSidecar,
		Ports: []Port{{Name: "egress", Container: 15001}, {Name: "ingress", Container: 15006}, {Name: "admin", Container: 15000}},
		Ready: Probe{Port: "admin", Path: "/readyz"}}
	c.Args = func(n Net) []string {
		args := []string{"--service", service, "--control", "http://" + n.Dial(spec.ComponentRegistry, "control"),
			"--egress", n.Listen(name, "egress"), "--ingress", n.Listen(name, "ingress"), "--admin", n.Listen(name, "admin")}
		if app != "" {
			_, port, _ := net.SplitHostPort(n.Local(app, "http"))
			args = append(args, "--service-ports", "rest:"+port)
		}
		return args
	}
	return c
}

// registryURL is where an app of this registry kind registers: the
// registry-adapter's front-end, or the port named http of a container or
// a legacy registry, or a legacy ZooKeeper's client port.
func registryURL(n Net, kind, container string) string {
	if kind == spec.ProtocolZooKeeper {
		return n.Dial(container, zkClientPort) // a connect string
	}
	addr := ""
	switch {
	case container != "":
		addr = n.Dial(container, spec.ContainerHTTPPort)
	case kind == "eureka" || kind == "consul" || kind == "nacos":
		addr = n.Dial(spec.ComponentRegistry, kind)
	default:
		addr = n.Dial(spec.ComponentRegistry, "control")
	}
	if kind == "eureka" {
		return "http://" + addr + "/eureka"
	}
	return "http://" + addr
}

// nacosGRPCPort names the port of a Nacos server container that carries
// gRPC, when it is not the HTTP port + 1000 (the clients' default).
const nacosGRPCPort = "grpc"

// nacosGRPC names the component and port whose gRPC address a Nacos app
// must be told: the registry's, or a container's declared grpc port; ""
// leaves the client's default.
func nacosGRPC(s *spec.Scenario, svc *spec.Service) (comp, port string) {
	if svc.Registry != "nacos" {
		return "", ""
	}
	if svc.LegacyRegistry != "" {
		return svc.LegacyRegistry, nacosGRPCPort
	}
	if svc.RegistryContainer == "" {
		return spec.ComponentRegistry, "nacos-grpc"
	}
	for _, p := range s.Topology.Container(svc.RegistryContainer).Ports {
		if p.Name == nacosGRPCPort {
			return svc.RegistryContainer, nacosGRPCPort
		}
	}
	return "", ""
}

// containerComponent is an extra container: an image with its ports, env,
// arguments and readiness check.
func containerComponent(ct *spec.Container) *Component {
	c := &Component{Name: ct.Name, Role: RoleContainer, Image: ct.Image, Env: ct.Env,
		Ready: Probe{Port: ct.Ready.Port, Path: ct.Ready.Path, Status: ct.Ready.Status, Body: ct.Ready.Body, Timeout: ct.Ready.Timeout}}
	for _, p := range ct.Ports {
		c.Ports = append(c.Ports, Port{Name: p.Name, Container: p.Port})
	}
	args := slices.Clone(ct.Args) // nil keeps the image's CMD
	c.Args = func(Net) []string { return args }
	return c
}

func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}
