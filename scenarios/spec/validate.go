package spec

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/config"
)

// Provider names.
const (
	ProviderProcess   = "process"
	ProviderContainer = "container"
)

// Registry kinds the demo apps and views speak.
var (
	registryKinds = []string{"control", "eureka", "consul", "nacos", ProtocolZooKeeper}
	frontEnds     = []string{"eureka", "consul", "nacos"}
	// legacyProtocols are what a legacy registry can be: a front-end of
	// the registry-adapter standing in, or a real ZooKeeper.
	legacyProtocols = append(slices.Clone(frontEnds), ProtocolZooKeeper)
	receivedKinds   = []string{"all", "plain", "shadow"}
)

// DefaultClass is the class of requests no class coloured.
const DefaultClass = "default"

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

func (s *Scenario) applyDefaults() {
	if s.Provider == "" {
		s.Provider = ProviderProcess
	}
	if s.Timeout == 0 {
		s.Timeout = 5 * time.Minute
	}
	if s.Topology.Registry.Store == "" {
		s.Topology.Registry.Store = "embedded"
	}
	for i := range s.Topology.Containers {
		r := &s.Topology.Containers[i].Ready
		if r.Status == 0 {
			r.Status = 200
		}
		if r.Timeout == 0 {
			r.Timeout = DefaultReadyTimeout
		}
	}
	for i := range s.Topology.Services {
		svc := &s.Topology.Services[i]
		if svc.Registry == "" {
			svc.Registry = "control"
		}
		for j := range svc.Versions {
			v := &svc.Versions[j]
			if v.Instances == 0 {
				v.Instances = 1
			}
			if v.ErrorStatus == 0 {
				v.ErrorStatus = 500
			}
		}
	}
	for _, st := range s.Steps {
		s.migrationDefaults(&st)
		if t := st.Traffic; t != nil {
			if t.Path == "" {
				t.Path = "/"
			}
			if t.Method == "" {
				t.Method = "GET"
			}
			if t.Timeout == 0 {
				t.Timeout = 5 * time.Second
			}
			if t.MaxInFlight == 0 {
				t.MaxInFlight = 512
			}
			if t.Via == "" && t.Container == "" {
				t.Via = ComponentEdge
			}
		}
		if a := st.Assert; a != nil {
			if a.Instances != nil && a.Instances.View == "" {
				a.Instances.View = "control"
			}
			if a.Instance != nil && a.Instance.View == "" {
				a.Instance.View = "control"
			}
			if a.Received != nil && a.Received.Kind == "" {
				a.Received.Kind = "all"
			}
			if a.Compare != nil && a.Compare.P99Ratio == 0 {
				a.Compare.P99Ratio = 1.5
			}
		}
	}
}

// FrontEnds returns the registry APIs the registry-adapter must serve.
func (s *Scenario) FrontEnds() []string {
	var out []string
	add := func(k string) {
		if slices.Contains(frontEnds, k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, k := range s.Topology.Registry.APIs {
		add(k)
	}
	for _, svc := range s.Topology.Services {
		if svc.OnAdapter() {
			add(svc.Registry)
		}
	}
	for _, st := range s.Steps {
		if a := st.Assert; a != nil && a.Instances != nil && a.Instances.From == "" {
			add(a.Instances.View)
		}
		if a := st.Assert; a != nil && a.Instance != nil && a.Instance.From == "" {
			add(a.Instance.View)
		}
	}
	slices.Sort(out)
	return out
}

// Validate names every wrong field.
func (s *Scenario) Validate() error {
	var errs config.Errors
	errs.Add(!nameRE.MatchString(s.Name), "name", "required: lower-case letters, digits and '-', at most 32, got %q", s.Name)
	errs.Add(s.Provider != ProviderProcess && s.Provider != ProviderContainer, "provider", "must be process or container, got %q", s.Provider)
	errs.Add(s.Timeout < 0, "timeout", "must be positive")
	errs.Add(len(s.Topology.Containers) > 0 && s.Provider != ProviderContainer, "topology.containers",
		"need provider: container (the %s provider runs meshbridge's own binaries, not images)", s.Provider)
	s.Topology.validate(&errs)
	s.Topology.validateContainers(&errs, s.ContainerLines)
	s.validateMocks(&errs)
	s.Topology.validateLegacy(&errs)
	names := s.Topology.ComponentNames()
	v := stepValidator{s: s, errs: &errs, names: names, traffic: map[string]*Traffic{}, classes: map[string][]string{}}
	errs.Add(len(s.Steps) == 0, "steps", "at least one step is required")
	for i := range s.Steps {
		v.step(i, &s.Steps[i])
	}
	return errs.Err()
}

func (t *Topology) validate(errs *config.Errors) {
	r := t.Registry
	errs.Add(r.Store != "embedded" && r.Store != "etcd", "topology.registry.store", "must be embedded or etcd, got %q", r.Store)
	errs.Add(r.Store == "etcd" && len(r.EtcdEndpoints) == 0, "topology.registry.etcdEndpoints", "required with store etcd")
	for i, api := range r.APIs {
		errs.Add(!slices.Contains(frontEnds, api), fmt.Sprintf("topology.registry.apis[%d]", i), "must be one of %s, got %q", strings.Join(frontEnds, ", "), api)
	}
	errs.Add(len(t.Services) == 0, "topology.services", "at least one service is required")
	seen := map[string]bool{}
	total := 0
	for i, svc := range t.Services {
		f := fmt.Sprintf("topology.services[%d]", i)
		errs.Add(!nameRE.MatchString(svc.Name), f+".name", "required: lower-case letters, digits and '-', got %q", svc.Name)
		errs.Add(svc.Name == ComponentRegistry || svc.Name == ComponentEdge, f+".name", "%q is reserved", svc.Name)
		errs.Add(seen[svc.Name], f+".name", "duplicate service %q", svc.Name)
		seen[svc.Name] = true
		errs.Add(!slices.Contains(registryKinds, svc.Registry), f+".registry", "must be one of %s, got %q", strings.Join(registryKinds, ", "), svc.Registry)
		if svc.RegistryContainer != "" {
			t.containerRef(errs, f+".registryContainer", svc.RegistryContainer)
			errs.Add(svc.Registry == "control", f+".registryContainer", "needs registry eureka, consul or nacos (the control API is the registry-adapter's own)")
		}
		errs.Add(len(svc.Versions) == 0, f+".versions", "at least one version is required")
		vseen := map[string]bool{}
		for j, v := range svc.Versions {
			vf := fmt.Sprintf("%s.versions[%d]", f, j)
			errs.Add(!nameRE.MatchString(v.Name), vf+".name", "required: lower-case letters, digits and '-', got %q", v.Name)
			errs.Add(vseen[v.Name], vf+".name", "duplicate version %q", v.Name)
			vseen[v.Name] = true
			errs.Add(v.Instances < 1 || v.Instances > 20, vf+".instances", "must be 1-20, got %d", v.Instances)
			total += v.Instances
			errs.Add(v.Latency < 0, vf+".latency", "must not be negative")
			errs.Add(v.ErrorStatus < 200 || v.ErrorStatus > 599, vf+".errorStatus", "must be 200-599")
			errs.Add(v.Mesh && svc.LegacyRegistry == "", vf+".mesh", "only for a service with legacyRegistry (its other versions are the legacy instances)")
			for k := range v.Labels {
				errs.Add(k == "version", vf+".labels", "version comes from the version name")
				errs.Add(k == "" || strings.ContainsAny(k, " ,="), vf+".labels", "bad label key %q", k)
			}
		}
	}
	errs.Add(total > 40, "topology.services", "at most 40 instances in all, got %d", total)
	for i, p := range t.Proxied {
		errs.Add(len(Match(t.ComponentNames(), p)) == 0, fmt.Sprintf("topology.proxied[%d]", i), "%q matches no component", p)
	}
}

type stepValidator struct {
	s       *Scenario
	errs    *config.Errors
	names   []string
	traffic map[string]*Traffic // runs defined so far
	classes map[string][]string
	running []string // background runs not yet awaited
}

func (v *stepValidator) field(i int) string {
	if i < len(v.s.StepLines) {
		return fmt.Sprintf("steps[%d] (line %d)", i, v.s.StepLines[i])
	}
	return fmt.Sprintf("steps[%d]", i)
}

func (v *stepValidator) step(i int, st *Step) {
	f := v.field(i)
	set := 0
	for _, ok := range []bool{st.Apply != nil, st.Delete != nil, st.Traffic != nil, st.Await != "", st.Wait != nil,
		st.Kill != "", st.Stop != "", st.Start != "", st.Restart != "", st.Pause != "", st.Resume != "",
		st.Latency != nil, st.Cut != "", st.Heal != "", st.AppFault != nil, st.Assert != nil,
		st.Shift != nil, st.Drain != nil, st.Rollback != nil, st.ReleaseBreaker != ""} {
		if ok {
			set++
		}
	}
	if set != 1 {
		v.errs.Add(true, f, "set exactly one action (apply, delete, traffic, await, wait, kill, stop, start, restart, pause, resume, latency, cut, heal, appFault, assert, shift, drain, rollback, releaseBreaker), got %d", set)
		return
	}
	switch {
	case st.Apply != nil:
		v.apply(f+".apply", st.Apply)
	case st.Delete != nil:
		v.errs.Add(!slices.Contains(control.Kinds(), st.Delete.Kind), f+".delete.kind", "must be one of %s, got %q", strings.Join(control.Kinds(), ", "), st.Delete.Kind)
		v.errs.Add(st.Delete.Name == "", f+".delete.name", "required")
	case st.Traffic != nil:
		v.trafficStep(f+".traffic", st.Traffic)
	case st.Await != "":
		idx := slices.Index(v.running, st.Await)
		v.errs.Add(idx < 0, f+".await", "%q is not a background traffic run started before", st.Await)
		if idx >= 0 {
			v.running = slices.Delete(v.running, idx, idx+1)
		}
	case st.Wait != nil:
		v.errs.Add(st.Wait.Duration <= 0 || st.Wait.Duration > 10*time.Minute, f+".wait", "must be between 0 and 10m")
	case st.Latency != nil:
		v.components(f+".latency.component", st.Latency.Component)
		v.errs.Add(st.Latency.Delay < 0 || st.Latency.Jitter < 0, f+".latency", "delay and jitter must not be negative")
	case st.AppFault != nil:
		a := st.AppFault
		for _, n := range v.components(f+".appFault.component", a.Component) {
			v.errs.Add(!v.s.Topology.IsApp(n), f+".appFault.component", "%q is not a demo app", n)
		}
		v.errs.Add(a.Latency == nil && a.ErrorRate == nil && a.Status == 0, f+".appFault", "set latency, errorRate or status")
		v.errs.Add(a.Latency != nil && (*a.Latency < 0 || *a.Latency > time.Minute), f+".appFault.latency", "must be 0-1m")
		v.errs.Add(a.Status != 0 && (a.Status < 200 || a.Status > 599), f+".appFault.status", "must be 200-599")
	case st.Assert != nil:
		v.assert(f+".assert", st.Assert)
	case st.Shift != nil:
		v.shift(f+".shift", st.Shift, false)
	case st.Rollback != nil:
		v.shift(f+".rollback", st.Rollback, true)
	case st.Drain != nil:
		v.drain(f+".drain", st.Drain)
	case st.ReleaseBreaker != "":
		for _, n := range v.components(f+".releaseBreaker", st.ReleaseBreaker) {
			v.errs.Add(!v.s.Topology.isSyncer(n), f+".releaseBreaker", "%q is not a syncer", n)
		}
	default:
		for name, pat := range map[string]string{"kill": st.Kill, "stop": st.Stop, "start": st.Start, "restart": st.Restart,
			"pause": st.Pause, "resume": st.Resume, "cut": st.Cut, "heal": st.Heal} {
			if pat != "" {
				v.components(f+"."+name, pat)
			}
		}
	}
}

func (v *stepValidator) components(field, pattern string) []string {
	m := Match(v.names, pattern)
	v.errs.Add(len(m) == 0, field, "%q matches no component (components: %s)", pattern, strings.Join(v.names, ", "))
	return m
}

func (v *stepValidator) apply(f string, a *Apply) {
	v.errs.Add(a.Name == "", f+".name", "required")
	if a.Spec.Kind == 0 {
		v.errs.Add(true, f+".spec", "required")
		return
	}
	var generic any
	if err := a.Spec.Decode(&generic); err != nil {
		v.errs.Add(true, f+".spec", "%v", err)
		return
	}
	raw, err := json.Marshal(generic)
	if err != nil {
		v.errs.Add(true, f+".spec", "not representable as JSON: %v", err)
		return
	}
	if _, err := control.DecodeSpec(a.Kind, raw); err != nil {
		// DecodeSpec names the field as spec.<path>, or the unknown kind.
		v.errs.Add(true, f, "%s: %v", a.Kind, err)
	}
}

// SpecJSON returns the apply step's spec as JSON (valid after Load).
func (a *Apply) SpecJSON() json.RawMessage {
	var generic any
	if err := a.Spec.Decode(&generic); err != nil {
		return nil
	}
	raw, _ := json.Marshal(generic) // validated at load
	return raw
}

func (v *stepValidator) trafficStep(f string, t *Traffic) {
	v.errs.Add(!nameRE.MatchString(t.Name), f+".name", "required: lower-case letters, digits and '-', got %q", t.Name)
	v.errs.Add(v.traffic[t.Name] != nil, f+".name", "duplicate traffic run %q", t.Name)
	v.trafficTarget(f, t)
	v.errs.Add(!strings.HasPrefix(t.Path, "/"), f+".path", "must start with /")
	v.errs.Add(t.Rate <= 0 || t.Rate > 5000, f+".rate", "must be more than 0 and at most 5000 requests per second")
	v.errs.Add((t.Requests > 0) == (t.Duration > 0), f, "set exactly one of requests and duration")
	v.errs.Add(t.Requests < 0 || t.Requests > 1_000_000, f+".requests", "must be 1-1000000")
	v.errs.Add(t.Duration < 0 || t.Duration > 2*time.Hour, f+".duration", "must be at most 2h (every answer is kept in memory)")
	v.errs.Add(t.Timeout <= 0, f+".timeout", "must be positive")
	v.errs.Add(t.MaxInFlight < 1, f+".maxInFlight", "must be at least 1")
	if t.Container == "" {
		via := Match(v.names, t.Via)
		v.errs.Add(len(via) != 1 || (via[0] != ComponentEdge && !strings.HasSuffix(via[0], SidecarSuffix)), f+".via", "must name one sidecar, got %q", t.Via)
	}
	total := 0.0
	classes := []string{DefaultClass}
	for i, c := range t.Classes {
		cf := fmt.Sprintf("%s.classes[%d]", f, i)
		v.errs.Add(!nameRE.MatchString(c.Name) || c.Name == DefaultClass, cf+".name", "required, not %q, lower-case letters, digits and '-', got %q", DefaultClass, c.Name)
		v.errs.Add(slices.Contains(classes, c.Name), cf+".name", "duplicate class %q", c.Name)
		v.errs.Add(c.Share <= 0, cf+".share", "must be more than 0%%")
		v.errs.Add(len(c.Headers) == 0, cf+".headers", "a class needs at least one header")
		total += float64(c.Share)
		classes = append(classes, c.Name)
	}
	v.errs.Add(total > 1.0000001, f+".classes", "shares add up to more than 100%%")
	if t.Name != "" && v.traffic[t.Name] == nil {
		v.traffic[t.Name] = t
		v.classes[t.Name] = classes
		if t.Background {
			v.running = append(v.running, t.Name)
		}
	}
}

// run checks a traffic reference: defined before and finished by now.
func (v *stepValidator) run(field, name, class string) *Traffic {
	t := v.traffic[name]
	if t == nil {
		v.errs.Add(true, field, "%q is not a traffic run defined before this step", name)
		return nil
	}
	v.errs.Add(slices.Contains(v.running, name), field, "%q runs in the background: await it first", name)
	v.errs.Add(class != "" && !slices.Contains(v.classes[name], class), field, "traffic %q has no class %q (classes: %s)", name, class, strings.Join(v.classes[name], ", "))
	return t
}

func (v *stepValidator) assert(f string, a *Assert) {
	set := 0
	for _, ok := range []bool{a.Share != nil, a.ErrorRate != nil, a.Latency != nil, a.Compare != nil, a.Instances != nil, a.Instance != nil, a.Received != nil, a.Journal != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		v.errs.Add(true, f, "set exactly one check (share, errorRate, latency, compare, instances, instance, received, journal), got %d", set)
		return
	}
	v.errs.Add(a.Within < 0 || a.Within > 10*time.Minute, f+".within", "must be 0-10m")
	services := map[string]*Service{}
	for i := range v.s.Topology.Services {
		services[v.s.Topology.Services[i].Name] = &v.s.Topology.Services[i]
	}
	switch {
	case a.Share != nil:
		c := a.Share
		if t := v.run(f+".share.traffic", c.Traffic, c.Class); t != nil && t.Container != "" {
			v.errs.Add(true, f+".share.traffic", "%q goes to container %q, whose answers name no versions", c.Traffic, t.Container)
		}
		v.errs.Add(c.Service != "" && services[c.Service] == nil, f+".share.service", "%q is not a service of the topology", c.Service)
		v.errs.Add(len(c.Expect) == 0, f+".share.expect", "name at least one version")
	case a.ErrorRate != nil:
		v.run(f+".errorRate.traffic", a.ErrorRate.Traffic, a.ErrorRate.Class)
	case a.Latency != nil:
		c := a.Latency
		v.run(f+".latency.traffic", c.Traffic, c.Class)
		v.errs.Add(c.P50 <= 0 && c.P90 <= 0 && c.P99 <= 0 && c.Max <= 0 && c.MinP99 <= 0, f+".latency", "set p50, p90, p99, max or minP99")
	case a.Compare != nil:
		c := a.Compare
		v.run(f+".compare.traffic", c.Traffic, c.Class)
		v.run(f+".compare.baseline", c.Baseline, c.Class)
		v.errs.Add(c.P99Ratio < 1, f+".compare.p99Ratio", "must be at least 1")
		v.errs.Add(c.P99Slack < 0, f+".compare.p99Slack", "must not be negative")
	case a.Instances != nil:
		c := a.Instances
		v.errs.Add(!slices.Contains(registryKinds, c.View), f+".instances.view", "must be one of %s, got %q", strings.Join(registryKinds, ", "), c.View)
		v.errs.Add(c.Service == "", f+".instances.service", "required")
		v.errs.Add(c.Count < 0, f+".instances.count", "must not be negative")
		v.errs.Add(len(c.Labels) > 0 && c.View != "control", f+".instances.labels", "label filters need the control view")
		v.from(f+".instances", c.View, c.From)
	case a.Instance != nil:
		c := a.Instance
		v.errs.Add(!slices.Contains(registryKinds, c.View), f+".instance.view", "must be one of %s, got %q", strings.Join(registryKinds, ", "), c.View)
		for _, n := range v.components(f+".instance.component", c.Component) {
			v.errs.Add(!v.s.Topology.IsApp(n), f+".instance.component", "%q is not a demo app", n)
		}
		v.from(f+".instance", c.View, c.From)
	case a.Journal != nil:
		v.journal(f+".journal", a.Journal)
	case a.Received != nil:
		c := a.Received
		if c.Traffic != "" {
			v.run(f+".received.traffic", c.Traffic, "")
		}
		v.errs.Add(services[c.Service] == nil, f+".received.service", "%q is not a service of the topology", c.Service)
		v.errs.Add(!slices.Contains(receivedKinds, c.Kind), f+".received.kind", "must be all, plain or shadow, got %q", c.Kind)
		v.errs.Add(c.Min == nil && c.Max == nil && c.MinShare == nil && c.MaxShare == nil, f+".received", "set min, max, minShare or maxShare")
		v.errs.Add((c.MinShare != nil || c.MaxShare != nil) && c.Traffic == "", f+".received.traffic", "required with minShare or maxShare")
		if svc := services[c.Service]; svc != nil && len(c.Labels) > 0 {
			matched := false
			for i := range svc.Versions {
				matched = matched || LabelsMatch(Labels(&svc.Versions[i]), c.Labels)
			}
			v.errs.Add(!matched, f+".received.labels", "no version of %q has labels %v", c.Service, c.Labels)
		}
	}
}

// LabelsMatch reports whether have holds every key of want with its value.
func LabelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
