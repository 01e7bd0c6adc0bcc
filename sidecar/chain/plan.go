package chain

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Selective is implemented by handlers that have nothing to do for some
// services (a rate limiter without a rate, a mirror without a rule): a
// Plan leaves them out of those services' chains, so an unconfigured
// handler costs a request nothing. Active must depend only on the service
// (which never changes within one table) and the handler's own config.
type Selective interface {
	// Active reports whether the handler may act on requests for s; s is
	// nil for a service the table does not know.
	Active(s *table.Service) bool
}

// Plan is one direction's handler list, compiled per service of the
// current routing table: each service gets a chain of only the handlers
// active for it. Chains are built on first use and kept until a request
// arrives with a newer table.
type Plan struct {
	handlers []Handler
	end      Next
	unknown  Next // for exchanges without a service; the same in every table
	byTable  atomic.Pointer[tableChains]
}

type tableChains struct {
	table    *table.Table
	services sync.Map // *table.Service -> Next
}

// NewPlan builds a plan over handlers, ending in end (see Compile).
func NewPlan(handlers []Handler, end Next) *Plan {
	p := &Plan{handlers: handlers, end: end}
	p.unknown = p.compile(nil)
	return p
}

// Serve runs the exchange through its service's chain.
func (p *Plan) Serve(ex *Exchange) (*http.Response, error) {
	return p.For(ex.Table, ex.Service)(ex)
}

// For returns the chain for service s of table t.
func (p *Plan) For(t *table.Table, s *table.Service) Next {
	if s == nil {
		return p.unknown
	}
	tc := p.byTable.Load()
	if tc == nil || tc.table != t {
		if tc != nil && t != nil && tc.table != nil && t.Revision < tc.table.Revision {
			// A request still on an older table: serve it without
			// evicting the chains of the current one.
			return p.compile(s)
		}
		fresh := &tableChains{table: t}
		if !p.byTable.CompareAndSwap(tc, fresh) {
			return p.compile(s) // another request swapped first; rare
		}
		tc = fresh
	}
	if n, ok := tc.services.Load(s); ok {
		return n.(Next)
	}
	n := p.compile(s)
	tc.services.Store(s, n)
	return n
}

// Handlers returns the handlers active for s, in order.
func (p *Plan) Handlers(s *table.Service) []Handler {
	var out []Handler
	for _, h := range p.handlers {
		if sel, ok := h.(Selective); ok && !sel.Active(s) {
			continue
		}
		out = append(out, h)
	}
	return out
}

func (p *Plan) compile(s *table.Service) Next { return Compile(p.Handlers(s), p.end) }
