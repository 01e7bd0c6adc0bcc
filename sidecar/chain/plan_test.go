package chain_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// step records its name on the exchange's request header and goes on;
// with only set, it is Selective and active for those services alone.
type step struct {
	name string
	only map[string]bool
}

func (s *step) Name() string { return s.name }

func (s *step) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	ex.Request.Header.Add("X-Steps", s.name)
	return next(ex)
}

type selective struct{ step }

func (s *selective) Active(svc *table.Service) bool { return svc != nil && s.only[svc.Key] }

func tableWith(t *testing.T, rev int64, services ...string) *table.Table {
	t.Helper()
	var insts []*registry.Instance
	for i, name := range services {
		in := &registry.Instance{ID: name, Service: name, Host: "10.0.0.1", Port: 80 + i}
		in.Normalize()
		insts = append(insts, in)
	}
	return table.Build(rev, insts, nil, table.Options{})
}

func run(t *testing.T, p *chain.Plan, tbl *table.Table, service string) []string {
	t.Helper()
	r, _ := http.NewRequest("GET", "http://"+service+"/", nil)
	ex := chain.NewExchange(r, chain.Outbound, tbl)
	ex.Service = tbl.Service(service)
	if _, err := p.Serve(ex); err != nil {
		t.Fatal(err)
	}
	return r.Header.Values("X-Steps")
}

func TestPlanLeavesOutInactiveHandlers(t *testing.T) {
	end := func(*chain.Exchange) (*http.Response, error) { return &http.Response{StatusCode: 200}, nil }
	p := chain.NewPlan([]chain.Handler{
		&step{name: "always"},
		&selective{step{name: "orders-only", only: map[string]bool{"orders": true}}},
		&step{name: "last"},
	}, end)
	tbl := tableWith(t, 1, "orders", "payments")
	tests := []struct {
		service string
		want    []string
	}{
		{"orders", []string{"always", "orders-only", "last"}},
		{"payments", []string{"always", "last"}},
		{"unknown", []string{"always", "last"}},
		{"orders", []string{"always", "orders-only", "last"}}, // from the cache
	}
	for _, tt := range tests {
		if got := run(t, p, tbl, tt.service); !slices.Equal(got, tt.want) {
			t.Errorf("%s: steps %v, want %v", tt.service, got, tt.want)
		}
	}
	// A new table brings new service objects: their chains are built anew,
	// and a request still on the old table is served correctly too.
	next := tableWith(t, 2, "orders")
	if got := run(t, p, next, "orders"); !slices.Equal(got, []string{"always", "orders-only", "last"}) {
		t.Errorf("new table: %v", got)
	}
	if got := run(t, p, tbl, "payments"); !slices.Equal(got, []string{"always", "last"}) {
		t.Errorf("old table after the swap: %v", got)
	}
}
