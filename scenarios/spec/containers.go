package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
)

// Bounds of topology.containers.
const (
	// DefaultReadyTimeout bounds a container's readiness wait when the file
	// names none: real registry servers (a JVM for Nacos or Eureka) take
	// tens of seconds to answer on a busy CI machine.
	DefaultReadyTimeout = 2 * time.Minute
	maxReadyTimeout     = 10 * time.Minute
	maxContainers       = 10
)

// imageRE is a Docker image reference: an optional registry host (with a
// port), a lower-case repository path, a tag and/or a digest. It follows
// the grammar of distribution/reference without its rarer corners.
var imageRE = regexp.MustCompile(`^` +
	`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?` +
	`(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$`)

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pinned reports whether an image reference names a tag or a digest: a
// bare name means "latest", which changes under a CI run.
func pinned(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	return strings.Contains(ref, "@") || strings.Contains(last, ":")
}

func (t *Topology) validateContainers(errs *config.Errors, lines []int) {
	errs.Add(len(t.Containers) > maxContainers, "topology.containers", "at most %d containers, got %d", maxContainers, len(t.Containers))
	taken := map[string]string{ComponentRegistry: "reserved", ComponentEdge: "reserved"}
	for _, s := range t.Services {
		taken[s.Name] = "a service"
	}
	for _, a := range t.Apps() {
		taken[a.Name] = "a demo app"
		taken[a.Name+SidecarSuffix] = "a sidecar"
	}
	for i := range t.Containers {
		c := &t.Containers[i]
		f := fmt.Sprintf("topology.containers[%d]", i)
		if i < len(lines) {
			f += fmt.Sprintf(" (line %d)", lines[i])
		}
		errs.Add(!nameRE.MatchString(c.Name), f+".name", "required: lower-case letters, digits and '-', at most 32, got %q", c.Name)
		if what, ok := taken[c.Name]; ok && c.Name != "" {
			errs.Add(true, f+".name", "%q is already %s", c.Name, what)
		}
		taken[c.Name] = "a container"
		switch {
		case c.Image == "":
			errs.Add(true, f+".image", "required, e.g. hashicorp/consul:1.19")
		case !imageRE.MatchString(c.Image):
			errs.Add(true, f+".image", "%q is not an image reference such as hashicorp/consul:1.19", c.Image)
		case !pinned(c.Image):
			errs.Add(true, f+".image", "%q names no tag or digest; pin one (%s:<tag>), latest changes under a CI run", c.Image, c.Image)
		}
		errs.Add(len(c.Ports) == 0, f+".ports", "at least one port is required (the readiness check uses one)")
		var names []string
		var numbers []int
		for j, p := range c.Ports {
			pf := fmt.Sprintf("%s.ports[%d]", f, j)
			errs.Add(!nameRE.MatchString(p.Name), pf+".name", "required: lower-case letters, digits and '-', got %q", p.Name)
			errs.Add(slices.Contains(names, p.Name), pf+".name", "duplicate port name %q", p.Name)
			errs.Add(p.Port < 1 || p.Port > 65535, pf+".port", "must be 1-65535, got %d", p.Port)
			errs.Add(slices.Contains(numbers, p.Port), pf+".port", "duplicate port %d", p.Port)
			names, numbers = append(names, p.Name), append(numbers, p.Port)
		}
		for k := range c.Env {
			errs.Add(!envKeyRE.MatchString(k), f+".env", "bad variable name %q", k)
		}
		r := c.Ready
		errs.Add(!slices.Contains(names, r.Port), f+".ready.port", "must name one of the ports (%s), got %q", strings.Join(names, ", "), r.Port)
		errs.Add(!strings.HasPrefix(r.Path, "/"), f+".ready.path", "required, starting with /, got %q", r.Path)
		errs.Add(r.Status < 100 || r.Status > 599, f+".ready.status", "must be 100-599, got %d", r.Status)
		errs.Add(r.Timeout <= 0 || r.Timeout > maxReadyTimeout, f+".ready.timeout", "must be more than 0 and at most %v", maxReadyTimeout)
	}
}

// containerRef checks that name is a container with a port named http.
func (t *Topology) containerRef(errs *config.Errors, field, name string) {
	c := t.Container(name)
	if c == nil {
		var have []string
		for _, c := range t.Containers {
			have = append(have, c.Name)
		}
		errs.Add(true, field, "%q is not a container of the topology (containers: %s)", name, strings.Join(have, ", "))
		return
	}
	errs.Add(!slices.ContainsFunc(c.Ports, func(p ContainerPort) bool { return p.Name == ContainerHTTPPort }), field,
		"container %q has no port named %s, which is the one referred to", name, ContainerHTTPPort)
}

// trafficTarget checks a traffic step's target: a meshed service, or a container.
func (v *stepValidator) trafficTarget(f string, t *Traffic) {
	top := &v.s.Topology
	switch {
	case (t.Service == "") == (t.Container == ""):
		v.errs.Add(true, f, "set exactly one of service and container")
	case t.Container != "":
		top.containerRef(v.errs, f+".container", t.Container)
		v.errs.Add(t.Via != "", f+".via", "a container is reached from the runner directly, not through a sidecar")
	default:
		i := slices.IndexFunc(top.Services, func(s Service) bool { return s.Name == t.Service })
		if i < 0 {
			v.errs.Add(true, f+".service", "%q is not a service of the topology", t.Service)
			return
		}
		svc := &top.Services[i]
		v.errs.Add(!top.Meshed(svc), f+".service", "%q registers with %q, which no syncer copies into the mesh: the sidecars cannot route to it",
			svc.Name, svc.RegistryContainer+svc.LegacyRegistry)
	}
}

// from checks a registry view read from a container.
func (v *stepValidator) from(f, view, from string) {
	if from == "" {
		v.errs.Add(view == ProtocolZooKeeper, f+".from", "required with view zookeeper: a legacy ZooKeeper")
		return
	}
	if l := v.s.Topology.LegacyRegistry(from); l != nil {
		v.errs.Add(view != l.Protocol, f+".view", "must be %s, the protocol of legacy registry %q, got %q", l.Protocol, from, view)
		return
	}
	v.s.Topology.containerRef(v.errs, f+".from", from)
	v.errs.Add(!slices.Contains(frontEnds, view), f+".view", "must be one of %s with from (a registry server's own API), got %q", strings.Join(frontEnds, ", "), view)
}
