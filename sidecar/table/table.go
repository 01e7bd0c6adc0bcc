package table

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

// Table is one immutable routing table. Nothing in it changes after Build
// except the counters in pools and endpoints.
type Table struct {
	// Revision is the control-plane revision the table was built from.
	Revision int64
	Built    time.Time
	// Namespace is the namespace whose services the table holds.
	Namespace string
	// Warnings lists rules that were ignored and why (duplicates, the
	// canary cap, specs that no longer decode).
	Warnings []string

	services map[string]*Service
}

// Service returns the service with the given name (any spelling), or nil.
func (t *Table) Service(name string) *Service {
	if t == nil {
		return nil
	}
	if s, ok := t.services[name]; ok {
		return s
	}
	return t.services[registry.CanonicalServiceKey(name)]
}

// Services returns every service, in no particular order.
func (t *Table) Services() []*Service {
	out := make([]*Service, 0, len(t.services))
	for _, s := range t.services {
		out = append(out, s)
	}
	return out
}

// Service is one target service with its instances grouped for routing.
type Service struct {
	Key       string // canonical service key
	Name      string // as most recently registered
	Namespace string
	// Endpoints are all instances, healthy or not, sorted by key.
	Endpoints []*Endpoint
	// Stable holds the healthy instances no canary holds and that are not
	// shadows: the only instances unmatched traffic may reach.
	Stable *Pool
	// Shadow holds the healthy instances labelled shadow=true.
	Shadow *Pool
	// Canaries are the active canary rules, highest priority first.
	Canaries []*Canary
	// Split, when set, divides stable traffic over label subsets.
	Split *Split
	// Mirror, when set, copies a share of requests to a pool.
	Mirror *Mirror
	// Policy holds the resilience settings; nil means the sidecar defaults.
	Policy *Policy
}

// MatchCanary returns the highest-priority canary whose matchers all match h.
func (s *Service) MatchCanary(h http.Header) *Canary {
	for _, c := range s.Canaries {
		if c.Matches(h) {
			return c
		}
	}
	return nil
}

// Pool is a set of healthy endpoints traffic can be balanced over.
type Pool struct {
	// Name is the subset label used in metrics ("stable", "canary:<rule>",
	// "split:version=v2", "shadow", "mirror:<rule>").
	Name      string
	Endpoints []*Endpoint
	// cumulative weights for weighted random, built with the pool.
	cumWeights []float64
	next       atomic.Uint64
}

func newPool(name string, eps []*Endpoint) *Pool {
	p := &Pool{Name: name, Endpoints: eps, cumWeights: make([]float64, len(eps))}
	total := 0.0
	for i, e := range eps {
		total += e.Weight
		p.cumWeights[i] = total
	}
	return p
}

// Next returns a round-robin counter value.
func (p *Pool) Next() uint64 { return p.next.Add(1) - 1 }

// CumulativeWeights are the running sums of the endpoints' weights, in order.
func (p *Pool) CumulativeWeights() []float64 { return p.cumWeights }

// Canary is one active CanaryRule.
type Canary struct {
	Name     string
	Priority int
	Fallback control.Fallback
	Selector map[string]string
	Pool     *Pool
	match    []headerMatcher
}

// Matches reports whether every header matcher of the rule matches h.
func (c *Canary) Matches(h http.Header) bool { return matchAll(c.match, h) }

// Split is a TrafficSplit over the stable pool.
type Split struct {
	Name    string
	Subsets []*SplitSubset
}

// SplitSubset is one weighted label subset.
type SplitSubset struct {
	Labels map[string]string
	Weight int
	Pool   *Pool
}

// Mirror copies Percent of a service's requests to Pool.
type Mirror struct {
	Name    string
	Percent float64
	// Service is the service the copies go to (the same or another).
	Service string
	Pool    *Pool
}
