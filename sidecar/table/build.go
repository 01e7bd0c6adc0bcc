package table

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

// DefaultMaxCanaries is how many canary rules a service may have at once.
const DefaultMaxCanaries = 5

// Options control how a table is built.
type Options struct {
	// Namespace whose services are routed (default "public").
	Namespace string
	// MaxCanaries caps the canary rules per service (default 5). The control
	// API refuses a sixth; the cap here is a second line of defence: the
	// oldest rules are kept and the rest are listed in Warnings.
	MaxCanaries int
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = registry.DefaultNamespace
	}
	if o.MaxCanaries <= 0 {
		o.MaxCanaries = DefaultMaxCanaries
	}
	return o
}

// Build compiles instances and resources into a table. It never fails:
// resources that do not decode are skipped and reported in Warnings, so one
// bad rule cannot stop every other change from reaching the data plane.
func Build(rev int64, instances []*registry.Instance, resources []*registry.Resource, opts Options) *Table {
	return build(rev, instances, resources, opts, nil)
}

func build(rev int64, instances []*registry.Instance, resources []*registry.Resource, opts Options, stats *statsCache) *Table {
	opts = opts.withDefaults()
	t := &Table{Revision: rev, Built: time.Now(), Namespace: opts.Namespace, services: map[string]*Service{}}
	keep := map[statsKey]*Stats{}
	if stats == nil {
		stats = &statsCache{}
	}
	stats.mu.Lock()
	defer stats.mu.Unlock()

	for _, inst := range instances {
		if inst.Namespace != opts.Namespace {
			continue
		}
		s := t.serviceFor(inst.ServiceKey, inst.Service)
		addr := inst.Address()
		s.Endpoints = append(s.Endpoints, &Endpoint{
			Key:     inst.Key(),
			ID:      inst.ID,
			Address: addr,
			Weight:  cmp.Or(inst.Weight, registry.DefaultWeight),
			Labels:  inst.Labels,
			Healthy: inst.Healthy(),
			Shadow:  inst.Labels[registry.LabelShadow] == "true",
			Stats:   stats.take(inst.Key(), addr, keep),
		})
	}
	stats.m = keep

	rules := t.decodeRules(resources, opts)
	for _, s := range t.services {
		slices.SortFunc(s.Endpoints, func(a, b *Endpoint) int { return strings.Compare(a.Key.String(), b.Key.String()) })
		t.compileService(s, rules[s.Key], opts)
	}
	// Mirrors may point at other services, so they are resolved last.
	for _, s := range t.services {
		t.compileMirror(s, rules[s.Key])
	}
	sort.Strings(t.Warnings)
	return t
}

func (t *Table) serviceFor(key, name string) *Service {
	s := t.services[key]
	if s == nil {
		s = &Service{Key: key, Name: name, Namespace: t.Namespace}
		t.services[key] = s
	}
	return s
}

// serviceRules are the decoded rules of one service.
type serviceRules struct {
	canaries []namedCanary
	splits   []named[*control.TrafficSplit]
	mirrors  []named[*control.MirrorRule]
	policies []named[*control.ServicePolicy]
}

type named[T any] struct {
	name string
	spec T
}

type namedCanary struct {
	named[*control.CanaryRule]
	created  time.Time
	revision int64
}

func (t *Table) decodeRules(resources []*registry.Resource, opts Options) map[string]*serviceRules {
	out := map[string]*serviceRules{}
	get := func(service, namespace string) *serviceRules {
		if cmp.Or(namespace, registry.DefaultNamespace) != opts.Namespace {
			return nil
		}
		key := registry.CanonicalServiceKey(service)
		t.serviceFor(key, service) // a rule makes a service known even before its first instance
		if out[key] == nil {
			out[key] = &serviceRules{}
		}
		return out[key]
	}
	for _, r := range resources {
		switch r.Kind {
		case control.KindCanaryRule, control.KindTrafficSplit, control.KindMirrorRule, control.KindServicePolicy:
		default:
			continue // access rules and other kinds belong to other handlers
		}
		spec, err := control.DecodeSpec(r.Kind, r.Spec)
		if err != nil {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s/%s ignored: %v", r.Kind, r.Name, err))
			continue
		}
		switch s := spec.(type) {
		case *control.CanaryRule:
			if sr := get(s.Service, s.Namespace); sr != nil {
				sr.canaries = append(sr.canaries, namedCanary{named[*control.CanaryRule]{r.Name, s}, r.Created, r.Revision})
			}
		case *control.TrafficSplit:
			if sr := get(s.Service, s.Namespace); sr != nil {
				sr.splits = append(sr.splits, named[*control.TrafficSplit]{r.Name, s})
			}
		case *control.MirrorRule:
			if sr := get(s.Service, s.Namespace); sr != nil {
				sr.mirrors = append(sr.mirrors, named[*control.MirrorRule]{r.Name, s})
			}
		case *control.ServicePolicy:
			if sr := get(s.Service, s.Namespace); sr != nil {
				sr.policies = append(sr.policies, named[*control.ServicePolicy]{r.Name, s})
			}
		}
	}
	for _, sr := range out {
		byName := func(a, b named[*control.TrafficSplit]) int { return strings.Compare(a.name, b.name) }
		slices.SortFunc(sr.splits, byName)
		slices.SortFunc(sr.mirrors, func(a, b named[*control.MirrorRule]) int { return strings.Compare(a.name, b.name) })
		slices.SortFunc(sr.policies, func(a, b named[*control.ServicePolicy]) int { return strings.Compare(a.name, b.name) })
	}
	return out
}

func (t *Table) compileService(s *Service, rules *serviceRules, opts Options) {
	if rules == nil {
		rules = &serviceRules{}
	}
	// The canary cap keeps the oldest rules: a rule that was admitted is
	// never pushed out by a newer one.
	canaries := rules.canaries
	slices.SortFunc(canaries, func(a, b namedCanary) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.revision, b.revision), strings.Compare(a.name, b.name))
	})
	if len(canaries) > opts.MaxCanaries {
		for _, c := range canaries[opts.MaxCanaries:] {
			t.Warnings = append(t.Warnings, fmt.Sprintf("CanaryRule/%s ignored: service %s already has %d canaries (the maximum)", c.name, s.Key, opts.MaxCanaries))
		}
		canaries = canaries[:opts.MaxCanaries]
	}
	slices.SortFunc(canaries, func(a, b namedCanary) int {
		return cmp.Or(cmp.Compare(b.spec.EffectivePriority(), a.spec.EffectivePriority()), strings.Compare(a.name, b.name))
	})
	for _, nc := range canaries {
		m, err := compileMatchers(nc.spec.Match.Headers)
		if err != nil {
			t.Warnings = append(t.Warnings, fmt.Sprintf("CanaryRule/%s ignored: %v", nc.name, err))
			continue
		}
		c := &Canary{
			Name: nc.name, Priority: nc.spec.EffectivePriority(),
			Fallback: cmp.Or(nc.spec.Fallback, control.FallbackStable),
			Selector: nc.spec.Selector, match: m,
		}
		var eps []*Endpoint
		for _, e := range s.Endpoints {
			if !selectorMatches(c.Selector, e.Labels) {
				continue
			}
			if e.Canary == "" {
				e.Canary = c.Name
			}
			if e.Healthy && !e.Shadow {
				eps = append(eps, e)
			}
		}
		c.Pool = newPool("canary:"+c.Name, eps)
		s.Canaries = append(s.Canaries, c)
	}

	var stable, shadow []*Endpoint
	for _, e := range s.Endpoints {
		switch {
		case !e.Healthy:
		case e.Shadow:
			shadow = append(shadow, e)
		case e.Canary == "":
			stable = append(stable, e)
		}
	}
	s.Stable = newPool("stable", stable)
	s.Shadow = newPool("shadow", shadow)

	if len(rules.splits) > 0 {
		sp := rules.splits[0]
		for _, other := range rules.splits[1:] {
			t.Warnings = append(t.Warnings, fmt.Sprintf("TrafficSplit/%s ignored: service %s already split by %s", other.name, s.Key, sp.name))
		}
		split := &Split{Name: sp.name}
		for _, sub := range sp.spec.Subsets {
			var eps []*Endpoint
			for _, e := range stable {
				if selectorMatches(sub.Labels, e.Labels) {
					eps = append(eps, e)
				}
			}
			split.Subsets = append(split.Subsets, &SplitSubset{Labels: sub.Labels, Weight: sub.Weight, Pool: newPool("split:"+labelString(sub.Labels), eps)})
		}
		s.Split = split
	}

	if len(rules.policies) > 0 {
		np := rules.policies[0]
		for _, other := range rules.policies[1:] {
			t.Warnings = append(t.Warnings, fmt.Sprintf("ServicePolicy/%s ignored: service %s already has policy %s", other.name, s.Key, np.name))
		}
		p, err := compilePolicy(np.name, np.spec)
		if err != nil {
			t.Warnings = append(t.Warnings, fmt.Sprintf("ServicePolicy/%s ignored: %v", np.name, err))
		} else {
			s.Policy = p
		}
	}
}

func (t *Table) compileMirror(s *Service, rules *serviceRules) {
	if rules == nil || len(rules.mirrors) == 0 {
		return
	}
	m := rules.mirrors[0]
	for _, other := range rules.mirrors[1:] {
		t.Warnings = append(t.Warnings, fmt.Sprintf("MirrorRule/%s ignored: service %s already mirrored by %s", other.name, s.Key, m.name))
	}
	target := s
	if m.spec.MirrorService != "" {
		target = t.Service(m.spec.MirrorService)
	}
	var eps []*Endpoint
	if target != nil {
		for _, e := range target.Endpoints {
			if e.Healthy && selectorMatches(m.spec.Subset, e.Labels) {
				eps = append(eps, e)
			}
		}
	}
	name := cmp.Or(m.spec.MirrorService, s.Name)
	s.Mirror = &Mirror{Name: m.name, Percent: m.spec.Percent, Service: name, Pool: newPool("mirror:"+m.name, eps)}
}

func labelString(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}
