package consul

import (
	"net/http"
	"slices"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// serviceName takes the service name from the path, or answers Consul's 400.
func serviceName(r *http.Request, prefix string) (string, error) {
	name := strings.TrimPrefix(r.URL.Path, prefix)
	if name == "" {
		return "", errorf(http.StatusBadRequest, "Missing service name")
	}
	return name, nil
}

// indexOf is a result's X-Consul-Index: the topic's last change, raised to
// the newest revision among the rows (a row's change may be read before
// the notifier has seen it).
func indexOf(topic int64, insts []*registry.Instance) int64 {
	idx := topic
	for _, i := range insts {
		idx = max(idx, i.Revision)
	}
	return idx
}

// readService is the common part of the per-service reads: the rows of a
// service with its index, after the tag filter.
func (s *Server) readService(r *http.Request, name string) ([]*registry.Instance, string, int64, <-chan struct{}, error) {
	topic, wake := s.notify.service(registry.CanonicalServiceKey(name))
	insts, err := s.instancesOf(r, name)
	if err != nil {
		return nil, "", 0, nil, err
	}
	idx := indexOf(topic, insts)
	display := displayName(insts)
	if registry.CanonicalServiceKey(name) == selfServiceName {
		insts = s.withSelf(insts)
		display = selfServiceName
	}
	insts = s.onMatchingNodes(r, insts)
	if tags, ok := query(r)["tag"]; ok {
		insts = slices.DeleteFunc(insts, func(i *registry.Instance) bool { return !hasTags(i, tags) })
	}
	return insts, display, idx, wake, nil
}

// catalogServices serves GET /v1/catalog/services: every service with the
// union of its instances' tags.
func (s *Server) catalogServices(w http.ResponseWriter, r *http.Request) error {
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		// Consul's services index: it moves when a service changes as
		// the catalog shows it, not when a check does (Spring Cloud
		// Consul's catalog watch refreshes every app on each move).
		idx, wake := s.notify.serviceSetTopic()
		insts, err := s.servedInstances(r)
		if err != nil {
			return readResult{}, nil, err
		}
		insts = s.onMatchingNodes(r, s.withSelf(insts))
		names := s.displayNames(insts)
		rows := make([]*wire.CatalogService, len(insts))
		for n, i := range insts {
			rows[n] = s.catalogView(i, names[i.ServiceKey])
		}
		rows, err = applyFilter(r, rows)
		if err != nil {
			return readResult{}, nil, err
		}
		out := map[string][]string{}
		for _, row := range rows {
			tags := out[row.ServiceName]
			if tags == nil {
				tags = []string{}
			}
			for _, t := range row.ServiceTags {
				if !slices.Contains(tags, t) {
					tags = append(tags, t)
				}
			}
			out[row.ServiceName] = tags
		}
		for _, tags := range out {
			slices.Sort(tags)
		}
		return readResult{body: out, index: idx}, wake, nil
	})
}

// catalogService serves GET /v1/catalog/service/{name}[?tag=].
func (s *Server) catalogService(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r, "/v1/catalog/service/")
	if err != nil {
		return err
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		insts, display, idx, wake, err := s.readService(r, name)
		if err != nil {
			return readResult{}, nil, err
		}
		out := make([]*wire.CatalogService, 0, len(insts))
		for _, i := range insts {
			out = append(out, s.catalogView(i, display))
		}
		out, err = applyFilter(r, out)
		if err != nil {
			return readResult{}, nil, err
		}
		return readResult{body: out, index: idx}, wake, nil
	})
}

// catalogNodes serves GET /v1/catalog/nodes: the one node.
func (s *Server) catalogNodes(w http.ResponseWriter, r *http.Request) error {
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		topic, wake := s.notify.nodesTopic()
		insts, err := s.servedInstances(r)
		if err != nil {
			return readResult{}, nil, err
		}
		nodes := slices.DeleteFunc(s.allNodes(insts), func(n *wire.Node) bool { return !nodeMetaMatches(r, n) })
		nodes, err = applyFilter(r, nodes)
		if err != nil {
			return readResult{}, nil, err
		}
		return readResult{body: nodes, index: topic}, wake, nil
	})
}

// catalogNode serves GET /v1/catalog/node/{node}: the node and its services.
func (s *Server) catalogNode(w http.ResponseWriter, r *http.Request) error {
	node := strings.TrimPrefix(r.URL.Path, "/v1/catalog/node/")
	if node == "" {
		return errorf(http.StatusBadRequest, "Missing node name")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		n, svcs, topic, wake, err := s.servicesOnNode(r, node)
		if err != nil {
			return readResult{}, nil, err
		}
		if n == nil {
			// Consul answers an unknown node with 200 and null.
			return readResult{encoded: []byte("null"), index: topic}, wake, nil
		}
		out := &wire.CatalogNodeServices{Node: n, Services: map[string]*wire.AgentService{}}
		for _, svc := range svcs {
			out.Services[svc.ID] = svc
		}
		return readResult{body: out, index: topic}, wake, nil
	})
}

// catalogNodeServiceList serves GET /v1/catalog/node-services/{node}: the
// node and its services as a list ({"Node": null, "Services": []} for an
// unknown node, as Consul).
func (s *Server) catalogNodeServiceList(w http.ResponseWriter, r *http.Request) error {
	node := strings.TrimPrefix(r.URL.Path, "/v1/catalog/node-services/")
	if node == "" {
		return errorf(http.StatusBadRequest, "Missing node name")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		n, svcs, topic, wake, err := s.servicesOnNode(r, node)
		if err != nil {
			return readResult{}, nil, err
		}
		svcs, err = applyFilter(r, svcs)
		if err != nil {
			return readResult{}, nil, err
		}
		return readResult{body: &wire.CatalogNodeServiceList{Node: n, Services: svcs}, index: topic}, wake, nil
	})
}

// servicesOnNode is a node (nil when unknown) and its services by ID, with
// the catalog's service index.
func (s *Server) servicesOnNode(r *http.Request, node string) (*wire.Node, []*wire.AgentService, int64, <-chan struct{}, error) {
	topic, wake := s.notify.serviceSetTopic()
	insts, err := s.servedInstances(r)
	if err != nil {
		return nil, nil, 0, nil, err
	}
	insts = slices.DeleteFunc(s.withSelf(insts), func(i *registry.Instance) bool { return !s.onNode(i, node) })
	svcs := []*wire.AgentService{}
	if len(insts) == 0 {
		return nil, svcs, topic, wake, nil
	}
	names := s.displayNames(insts)
	for _, i := range insts {
		svcs = append(svcs, s.serviceView(i, names[i.ServiceKey]))
	}
	slices.SortFunc(svcs, func(a, b *wire.AgentService) int { return strings.Compare(a.ID, b.ID) })
	return s.nodeOf(insts[0]), svcs, topic, wake, nil
}

// catalogDatacenters serves GET /v1/catalog/datacenters.
func (s *Server) catalogDatacenters(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, []string{s.opts.Datacenter})
	return nil
}

// servedInstances lists every instance this view serves.
func (s *Server) servedInstances(r *http.Request) ([]*registry.Instance, error) {
	insts, _, err := s.store.List(r.Context(), registry.Filter{Namespace: s.opts.Namespace, Group: registry.DefaultGroup})
	return insts, err
}

// displayNames maps each service key to the name the service is shown under.
func (s *Server) displayNames(insts []*registry.Instance) map[string]string {
	groups := map[string][]*registry.Instance{}
	for _, i := range insts {
		groups[i.ServiceKey] = append(groups[i.ServiceKey], i)
	}
	out := make(map[string]string, len(groups))
	for k, g := range groups {
		out[k] = displayName(g)
	}
	return out
}
