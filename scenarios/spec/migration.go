package spec

import (
	"fmt"
	"math"
	"time"
)

// Shift moves a service's traffic between its legacy instances (versions
// without mesh) and its mesh instances (versions with mesh: true), in
// steps. The share is a share of instances: at each step the runner
// leaves so many of each side UP and marks the others OUT_OF_SERVICE
// (Nacos: disabled) through their registry, as docs/migration.md's 2.2 does, so each step
// must be a share the instance counts can make.
type Shift struct {
	Service string `yaml:"service"`
	// To is mesh (default) or legacy: the side the steps' shares go to.
	To string `yaml:"to"`
	// Steps are the shares, in order ("10%", "0.5"); required for shift,
	// not set for rollback (which is one step of 100% to legacy).
	Steps []Share `yaml:"steps"`
	// Wait follows each change: the callers' cache time (default 3s; 0s
	// is no wait, as before any traffic).
	Wait *time.Duration `yaml:"wait"`
	// Hold is the window each step's share is measured over (default 3s).
	Hold time.Duration `yaml:"hold"`
	// Tolerance in share points for the measured share (default 10%).
	Tolerance Share `yaml:"tolerance"`
	// Traffic, a background run, must have no failed request from the
	// step's start to the end of its hold (optional).
	Traffic string `yaml:"traffic"`
	// Expect, with one step, is the mesh's share to measure instead of the
	// step's: for a change that cannot reach the callers (the syncer down).
	Expect *Share `yaml:"expect"`
}

// Drain takes app instances out of their callers' views and stops them:
// OUT_OF_SERVICE (Nacos: disabled) through their registry, Wait for the callers' caches,
// then no request may reach them during Window, then SIGTERM.
type Drain struct {
	// Component names demo apps (patterns with *).
	Component string `yaml:"component"`
	// Wait is the callers' cache time (default 35s, Spring Cloud
	// LoadBalancer's cache; scenarios shorten their clients' caches).
	Wait time.Duration `yaml:"wait"`
	// Window must pass without a request reaching them (default 2s).
	Window time.Duration `yaml:"window"`
}

// Sides of a shift.
const (
	SideMesh   = "mesh"
	SideLegacy = "legacy"
)

// Moved reports whether an app's instances are the service's mesh ones.
func (a AppComponent) Moved() bool { return a.Version.Mesh }

// Sidecar reports whether the app runs beside a sidecar.
func (a AppComponent) Sidecar() bool { return a.Service.HasSidecar() || a.Version.Mesh }

// MigrationSides lists a service's legacy and mesh app instances.
func (t *Topology) MigrationSides(service string) (legacy, mesh []string) {
	for _, a := range t.Apps() {
		switch {
		case a.Service.Name != service:
		case a.Moved():
			mesh = append(mesh, a.Name)
		default:
			legacy = append(legacy, a.Name)
		}
	}
	return legacy, mesh
}

// ShiftCounts says how many mesh and legacy instances to leave UP for the
// mesh to get share of the traffic, out of nMesh and nLegacy, and the
// share that makes: the nearest one, with as many instances UP as give it.
func ShiftCounts(share float64, nLegacy, nMesh int) (mesh, legacy int, got float64) {
	best := math.Inf(1)
	for m := 0; m <= nMesh; m++ {
		for l := 0; l <= nLegacy; l++ {
			if m+l == 0 {
				continue
			}
			s := float64(m) / float64(m+l)
			if d := math.Abs(s - share); d < best-1e-9 || (d < best+1e-9 && m+l > mesh+legacy) {
				best, mesh, legacy, got = d, m, l, s
			}
		}
	}
	return mesh, legacy, got
}

func (s *Scenario) migrationDefaults(st *Step) {
	for _, sh := range []*Shift{st.Shift, st.Rollback} {
		if sh == nil {
			continue
		}
		if sh.To == "" {
			sh.To = SideMesh
		}
		if sh.Wait == nil {
			w := 3 * time.Second
			sh.Wait = &w
		}
		if sh.Hold == 0 {
			sh.Hold = 3 * time.Second
		}
		if sh.Tolerance == 0 {
			sh.Tolerance = 0.1
		}
	}
	if d := st.Drain; d != nil {
		if d.Wait == 0 {
			d.Wait = 35 * time.Second
		}
		if d.Window == 0 {
			d.Window = 2 * time.Second
		}
	}
}

func (v *stepValidator) shift(f string, sh *Shift, rollback bool) {
	t := &v.s.Topology
	var svc *Service
	for i := range t.Services {
		if t.Services[i].Name == sh.Service {
			svc = &t.Services[i]
		}
	}
	legacy, mesh := t.MigrationSides(sh.Service)
	switch {
	case svc == nil:
		v.errs.Add(true, f+".service", "%q is not a service of the topology", sh.Service)
	case svc.LegacyRegistry == "":
		v.errs.Add(true, f+".service", "%q has no legacyRegistry: there is nothing to shift from", sh.Service)
	case svc.Registry != "eureka" && svc.Registry != "consul" && svc.Registry != "nacos" && svc.Registry != ProtocolZooKeeper:
		v.errs.Add(true, f+".service", "%q is in a %s legacy registry; shift marks only Eureka, Consul, Nacos and ZooKeeper instances so far", sh.Service, svc.Registry)
	case len(legacy) == 0 || len(mesh) == 0:
		v.errs.Add(true, f+".service", "%q needs legacy instances and mesh instances (a version with mesh: true), has %d and %d", sh.Service, len(legacy), len(mesh))
	}
	if rollback {
		v.errs.Add(sh.To != SideMesh, f+".to", "not for rollback: it always moves all traffic to legacy")
		v.errs.Add(len(sh.Steps) > 0, f+".steps", "not for rollback: it is one step of 100%% to legacy")
	} else {
		v.errs.Add(sh.To != SideMesh && sh.To != SideLegacy, f+".to", "must be mesh or legacy, got %q", sh.To)
		v.errs.Add(len(sh.Steps) == 0, f+".steps", "at least one share is required")
	}
	for i, p := range sh.Steps {
		sf := fmt.Sprintf("%s.steps[%d]", f, i)
		if p < 0 || p > 1 {
			v.errs.Add(true, sf, "must be 0%%-100%%, got %s", p)
			continue
		}
		meshShare := float64(p)
		if sh.To == SideLegacy {
			meshShare = 1 - meshShare
		}
		if len(legacy) > 0 && len(mesh) > 0 {
			m, l, got := ShiftCounts(meshShare, len(legacy), len(mesh))
			if sh.To == SideLegacy {
				got = 1 - got
			}
			v.errs.Add(math.Abs(got-float64(p)) > 0.01, sf,
				"%s is not a share of UP instances that %d legacy and %d mesh instances of %s can make (nearest: %.0f%%, %d mesh and %d legacy UP)",
				p, len(legacy), len(mesh), sh.Service, got*100, m, l)
		}
	}
	v.errs.Add(sh.Expect != nil && (len(sh.Steps) != 1 || sh.Traffic == ""), f+".expect", "needs exactly one step and a traffic run to measure")
	v.errs.Add(sh.Expect != nil && (*sh.Expect < 0 || *sh.Expect > 1), f+".expect", "must be 0%%-100%%")
	v.errs.Add(*sh.Wait < 0 || *sh.Wait > 10*time.Minute, f+".wait", "must be 0-10m")
	v.errs.Add(sh.Hold <= 0 || sh.Hold > 10*time.Minute, f+".hold", "must be more than 0 and at most 10m")
	v.errs.Add(sh.Tolerance < 0 || sh.Tolerance > 1, f+".tolerance", "must be 0%%-100%%")
	if sh.Traffic != "" {
		tr := v.traffic[sh.Traffic]
		running := false
		for _, n := range v.running {
			running = running || n == sh.Traffic
		}
		v.errs.Add(tr == nil || !running, f+".traffic", "%q is not a background traffic run still going at this step", sh.Traffic)
	}
}

func (v *stepValidator) drain(f string, d *Drain) {
	for _, n := range v.components(f+".component", d.Component) {
		a := v.s.Topology.app(n)
		switch {
		case a == nil:
			v.errs.Add(true, f+".component", "%q is not a demo app", n)
		case !a.Moved() && a.Service.LegacyRegistry == "":
			v.errs.Add(true, f+".component", "%q is neither in a legacy registry nor a mesh instance (version with mesh: true)", n)
		case !a.Moved() && a.Service.Registry != "eureka" && a.Service.Registry != "consul" && a.Service.Registry != "nacos" && a.Service.Registry != ProtocolZooKeeper:
			v.errs.Add(true, f+".component", "%q is in a %s legacy registry; drain marks only Eureka, Consul, Nacos, ZooKeeper and mesh instances so far", n, a.Service.Registry)
		}
	}
	v.errs.Add(d.Wait < 0 || d.Wait > 10*time.Minute, f+".wait", "must be 0-10m")
	v.errs.Add(d.Window <= 0 || d.Window > time.Minute, f+".window", "must be more than 0 and at most 1m")
}

func (t *Topology) isSyncer(name string) bool {
	for _, s := range t.Syncers {
		if s.Name == name {
			return true
		}
	}
	return false
}

func (t *Topology) app(name string) *AppComponent {
	for _, a := range t.Apps() {
		if a.Name == name {
			return &a
		}
	}
	return nil
}
