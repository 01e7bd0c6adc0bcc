package consul

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// Consul lists itself as the service "consul", passing, in the catalog and
// the health view; not among the agent's own services.
func TestConsulServiceIsListed(t *testing.T) {
	env := newEnv(t)
	nodes, _, err := env.client.Catalog().Service("consul", "", nil)
	if err != nil || len(nodes) != 1 || nodes[0].ServiceID != "consul" || nodes[0].Node != "node-1" || nodes[0].Datacenter != "dc1" {
		t.Fatalf("catalog service consul = %+v, %v", nodes, err)
	}
	entries, _, err := env.client.Health().Service("consul", "", true, nil)
	if err != nil || len(entries) != 1 || entries[0].Checks.AggregatedStatus() != api.HealthPassing {
		t.Fatalf("health service consul passing = %+v, %v", entries, err)
	}
	node, _, err := env.client.Catalog().Node("node-1", nil)
	if err != nil || node.Services["consul"] == nil {
		t.Fatalf("catalog node = %+v, %v", node, err)
	}
	local, err := env.client.Agent().Services()
	if err != nil || local["consul"] != nil {
		t.Fatalf("agent services = %v, %v: the consul service is not a local one", local, err)
	}
}

// The node carries Consul's own metadata and the configured keys, and
// ?node-meta= filters on them: a pair the node lacks leaves nothing.
func TestNodeMetaAndNodeMetaFilter(t *testing.T) {
	env := newEnv(t, func(o *Options) { o.NodeMeta = map[string]string{"rack": "r1"} })
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80}); err != nil {
		t.Fatal(err)
	}
	nodes, _, err := env.client.Catalog().Nodes(nil)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes = %+v, %v", nodes, err)
	}
	meta := nodes[0].Meta
	if meta["rack"] != "r1" || meta["consul-version"] != consulVersion || meta["consul-network-segment"] != "" {
		t.Fatalf("node meta = %v", meta)
	}
	self, err := env.client.Agent().Self()
	if err != nil || self["Meta"]["rack"] != "r1" {
		t.Fatalf("agent self meta = %v, %v", self["Meta"], err)
	}

	match := &api.QueryOptions{NodeMeta: map[string]string{"rack": "r1"}}
	miss := &api.QueryOptions{NodeMeta: map[string]string{"rack": "r2"}}
	for _, c := range []struct {
		name string
		read func(*api.QueryOptions) (int, error)
	}{
		{"catalog services", func(q *api.QueryOptions) (int, error) {
			m, _, err := env.client.Catalog().Services(q)
			return len(m), err
		}},
		{"catalog service", func(q *api.QueryOptions) (int, error) {
			s, _, err := env.client.Catalog().Service("web", "", q)
			return len(s), err
		}},
		{"catalog nodes", func(q *api.QueryOptions) (int, error) { n, _, err := env.client.Catalog().Nodes(q); return len(n), err }},
		{"health service", func(q *api.QueryOptions) (int, error) {
			e, _, err := env.client.Health().Service("web", "", false, q)
			return len(e), err
		}},
		{"health state", func(q *api.QueryOptions) (int, error) {
			c, _, err := env.client.Health().State("any", q)
			return len(c), err
		}},
	} {
		if n, err := c.read(match); err != nil || n == 0 {
			t.Errorf("%s with matching node-meta: %d rows, %v", c.name, n, err)
		}
		if n, err := c.read(miss); err != nil || n != 0 {
			t.Errorf("%s with node-meta the node lacks: %d rows, %v; want none", c.name, n, err)
		}
	}
}

// A bad nodeMeta key is refused by name when the options are validated.
func TestNodeMetaValidated(t *testing.T) {
	err := Options{NodeMeta: map[string]string{"consul-x": "1"}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "consul.nodeMeta") {
		t.Fatalf("validate reserved node meta key = %v", err)
	}
	c := DefaultConfig()
	c.NodeMeta = map[string]string{"bad key": "1"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "consul.nodeMeta") {
		t.Fatalf("config validate = %v", err)
	}
}

// ?cached answers carry X-Cache (MISS, then HIT while nothing changed,
// with Age 0: the cache is invalidated by every change).
func TestCachedReadHeaders(t *testing.T) {
	env := newEnv(t)
	q := &api.QueryOptions{UseCache: true}
	if _, meta, err := env.client.Catalog().Service("consul", "", q); err != nil || meta.CacheHit {
		t.Fatalf("first cached read: hit=%v, %v", meta != nil && meta.CacheHit, err)
	}
	_, meta, err := env.client.Catalog().Service("consul", "", q)
	if err != nil || !meta.CacheHit || meta.CacheAge != 0 {
		t.Fatalf("second cached read = %+v, %v; want a hit of age 0", meta, err)
	}
	status, hdr, _ := env.do(http.MethodGet, "/v1/catalog/services", nil, nil)
	if status != http.StatusOK || hdr.Get("X-Cache") != "" {
		t.Fatalf("read without ?cached: %d, X-Cache %q", status, hdr.Get("X-Cache"))
	}
}

// A configured node ID is the node's, as consul's node_id.
func TestNodeIDConfigured(t *testing.T) {
	const id = "fa6fec4d-2e62-1d5e-a504-b4774943accb"
	env := newEnv(t, func(o *Options) { o.NodeID = id })
	nodes, _, err := env.client.Catalog().Nodes(nil)
	if err != nil || len(nodes) != 1 || nodes[0].ID != id {
		t.Fatalf("nodes = %+v, %v", nodes, err)
	}
	if err := (Options{NodeID: "not-a-uuid"}).Validate(); err == nil || !strings.Contains(err.Error(), "consul.nodeID") {
		t.Fatalf("validate bad node ID = %v", err)
	}
}
