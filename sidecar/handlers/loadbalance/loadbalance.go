package loadbalance

import (
	"math/rand/v2"
	"net/http"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "loadbalance"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, _ chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config)), nil
		},
	})
}

// Handler picks one endpoint per attempt.
type Handler struct {
	def control.LoadBalancerPolicy
}

// New builds a load balancer.
func New(cfg *Config) *Handler {
	return &Handler{def: control.LoadBalancerPolicy{Policy: cfg.Policy, HashHeader: cfg.HashHeader, HashCookie: cfg.HashCookie}}
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	cands := untried(ex.Candidates, ex.Tried)
	if len(cands) == 0 {
		return nil, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonNoHealthy}
	}
	lb := &h.def
	if ex.Service != nil && ex.Service.Policy != nil && ex.Service.Policy.LoadBalancer != nil {
		lb = ex.Service.Policy.LoadBalancer
	}
	full := len(cands) == len(ex.Candidates) && ex.Pool != nil && len(cands) == len(ex.Pool.Endpoints)
	ex.Endpoint = Pick(lb, ex.Pool, cands, full, ex.Request)
	return next(ex)
}

// Pick chooses an endpoint from cands (non-empty) by policy. full says
// cands is the whole pool, so precomputed weights apply.
func Pick(lb *control.LoadBalancerPolicy, pool *table.Pool, cands []*table.Endpoint, full bool, r *http.Request) *table.Endpoint {
	if len(cands) == 1 {
		return cands[0]
	}
	switch lb.Policy {
	case control.LBWeightedRandom:
		return weightedRandom(pool, cands, full)
	case control.LBLeastRequest:
		return leastRequest(cands)
	case control.LBConsistentHash:
		if key, ok := hashKey(lb, r); ok {
			return rendezvous(key, cands)
		}
	}
	var n uint64
	if pool != nil {
		n = pool.Next()
	} else {
		n = rand.Uint64()
	}
	return cands[n%uint64(len(cands))]
}

func weightedRandom(pool *table.Pool, cands []*table.Endpoint, full bool) *table.Endpoint {
	if full && pool != nil {
		cum := pool.CumulativeWeights()
		x := rand.Float64() * cum[len(cum)-1]
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if x < cum[mid] {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return cands[lo]
	}
	total := 0.0
	for _, e := range cands {
		total += e.Weight
	}
	x := rand.Float64() * total
	for _, e := range cands {
		if x < e.Weight {
			return e
		}
		x -= e.Weight
	}
	return cands[len(cands)-1]
}

// leastRequest is the power of two choices: two distinct random endpoints,
// the one with fewer requests in flight wins.
func leastRequest(cands []*table.Endpoint) *table.Endpoint {
	i := rand.IntN(len(cands))
	j := rand.IntN(len(cands) - 1)
	if j >= i {
		j++
	}
	a, b := cands[i], cands[j]
	if b.Stats.Active.Load() < a.Stats.Active.Load() {
		return b
	}
	return a
}

func hashKey(lb *control.LoadBalancerPolicy, r *http.Request) (string, bool) {
	if lb.HashHeader != "" {
		v := r.Header.Get(lb.HashHeader)
		return v, v != ""
	}
	if c, err := r.Cookie(lb.HashCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// rendezvous returns the endpoint with the highest hash of (key, endpoint).
func rendezvous(key string, cands []*table.Endpoint) *table.Endpoint {
	hk := fnv64(key)
	var best *table.Endpoint
	var bestScore uint64
	for _, e := range cands {
		s := mix(hk ^ fnv64(e.Key.String()))
		if best == nil || s > bestScore {
			best, bestScore = e, s
		}
	}
	return best
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix is splitmix64's finaliser: it spreads fnv's low-entropy bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// untried returns cands without the endpoints already tried, or cands
// itself when every candidate was tried (a retry then reuses one).
func untried(cands, tried []*table.Endpoint) []*table.Endpoint {
	if len(tried) == 0 {
		return cands
	}
	out := make([]*table.Endpoint, 0, len(cands))
	for _, c := range cands {
		seen := false
		for _, t := range tried {
			seen = seen || t == c
		}
		if !seen {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return cands
	}
	return out
}

var _ chain.Handler = (*Handler)(nil)
