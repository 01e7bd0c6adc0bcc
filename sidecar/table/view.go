package table

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// View is the JSON form of a table served on the admin /config endpoint.
type View struct {
	Revision  int64         `json:"revision"`
	Built     time.Time     `json:"built"`
	Namespace string        `json:"namespace"`
	Warnings  []string      `json:"warnings,omitempty"`
	Services  []ServiceView `json:"services"`
}

// ServiceView shows one service's routing.
type ServiceView struct {
	Name      string         `json:"name"`
	Endpoints []EndpointView `json:"endpoints"`
	Stable    []string       `json:"stable"`
	Shadow    []string       `json:"shadow,omitempty"`
	Canaries  []CanaryView   `json:"canaries,omitempty"`
	Split     *SplitView     `json:"split,omitempty"`
	Mirror    *MirrorView    `json:"mirror,omitempty"`
	Policy    string         `json:"policy,omitempty"`
}

// EndpointView shows one endpoint.
type EndpointView struct {
	ID       string            `json:"id"`
	Address  string            `json:"address"`
	Weight   float64           `json:"weight"`
	Healthy  bool              `json:"healthy"`
	Labels   map[string]string `json:"labels,omitempty"`
	HeldBy   string            `json:"heldBy,omitempty"`
	Ejected  bool              `json:"ejected,omitempty"`
	InFlight int64             `json:"inFlight"`
}

// CanaryView shows one active canary.
type CanaryView struct {
	Name      string            `json:"name"`
	Priority  int               `json:"priority"`
	Fallback  string            `json:"fallback"`
	Selector  map[string]string `json:"selector"`
	Endpoints []string          `json:"endpoints"`
}

// SplitView shows a traffic split.
type SplitView struct {
	Name    string         `json:"name"`
	Subsets []SubsetWeight `json:"subsets"`
}

// SubsetWeight is one weighted subset.
type SubsetWeight struct {
	Labels    map[string]string `json:"labels"`
	Weight    int               `json:"weight"`
	Endpoints []string          `json:"endpoints"`
}

// MirrorView shows a mirror.
type MirrorView struct {
	Name      string   `json:"name"`
	Percent   float64  `json:"percent"`
	Service   string   `json:"service"`
	Endpoints []string `json:"endpoints"`
}

func ids(p *Pool) []string {
	out := make([]string, 0, len(p.Endpoints))
	for _, e := range p.Endpoints {
		out = append(out, e.ID)
	}
	return out
}

// View returns the table's JSON form, services sorted by name.
func (t *Table) View() View {
	now := time.Now()
	v := View{Revision: t.Revision, Built: t.Built, Namespace: t.Namespace, Warnings: t.Warnings, Services: []ServiceView{}}
	for _, s := range t.services {
		sv := ServiceView{Name: s.Key, Stable: ids(s.Stable), Shadow: ids(s.Shadow), Endpoints: []EndpointView{}}
		for _, e := range s.Endpoints {
			sv.Endpoints = append(sv.Endpoints, EndpointView{
				ID: e.ID, Address: e.Address, Weight: e.Weight, Healthy: e.Healthy, Labels: e.Labels,
				HeldBy: e.Canary, Ejected: e.Stats.Ejected(now), InFlight: e.Stats.Active.Load(),
			})
		}
		for _, c := range s.Canaries {
			sv.Canaries = append(sv.Canaries, CanaryView{Name: c.Name, Priority: c.Priority, Fallback: string(c.Fallback), Selector: c.Selector, Endpoints: ids(c.Pool)})
		}
		if s.Split != nil {
			sp := &SplitView{Name: s.Split.Name}
			for _, sub := range s.Split.Subsets {
				sp.Subsets = append(sp.Subsets, SubsetWeight{Labels: sub.Labels, Weight: sub.Weight, Endpoints: ids(sub.Pool)})
			}
			sv.Split = sp
		}
		if s.Mirror != nil {
			sv.Mirror = &MirrorView{Name: s.Mirror.Name, Percent: s.Mirror.Percent, Service: s.Mirror.Service, Endpoints: ids(s.Mirror.Pool)}
		}
		if s.Policy != nil {
			sv.Policy = s.Policy.Name
		}
		v.Services = append(v.Services, sv)
	}
	slices.SortFunc(v.Services, func(a, b ServiceView) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return v
}
