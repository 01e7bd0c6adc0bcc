package v1

import (
	"net/http"
	"strconv"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
)

type serviceList struct {
	Count int      `json:"count"`
	Doms  []string `json:"doms"`
}

// listServices answers service/list with names without the group prefix.
func (s *Server) listServices(w http.ResponseWriter, r *http.Request, p *params) error {
	pageNo, pageSize, err := pageParams(p)
	if err != nil {
		return err
	}
	names, count, err := naming.ServiceNames(r.Context(), s.opts.Store, p.get("namespaceId"), p.get("groupName"), pageNo, pageSize)
	if err != nil {
		return err
	}
	writeJSON(w, serviceList{Count: count, Doms: names})
	return nil
}

// pageParams are the required pageNo and pageSize of a paged list.
func pageParams(p *params) (pageNo, pageSize int, err error) {
	if pageNo, err = intParam(p, "pageNo"); err != nil {
		return 0, 0, err
	}
	if pageSize, err = intParam(p, "pageSize"); err != nil {
		return 0, 0, err
	}
	return pageNo, pageSize, nil
}

func intParam(p *params, key string) (int, error) {
	raw, err := p.required(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, badRequest("Param '" + key + "' is illegal: " + raw)
	}
	return n, nil
}

type serviceCluster struct {
	Name          string            `json:"name"`
	HealthChecker map[string]string `json:"healthChecker"`
	Metadata      map[string]string `json:"metadata"`
}

type serviceDetail struct {
	NamespaceID      string            `json:"namespaceId"`
	GroupName        string            `json:"groupName"`
	Name             string            `json:"name"`
	ProtectThreshold float64           `json:"protectThreshold"`
	Metadata         map[string]string `json:"metadata"`
	Selector         map[string]string `json:"selector"`
	Clusters         []serviceCluster  `json:"clusters"`
}

// serviceDetail answers GET service. Services exist here while they have
// instances (the registry has no empty services).
func (s *Server) serviceDetail(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	insts, err := s.serviceInstances(r, ns, group, service)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	clusters := []serviceCluster{}
	for _, inst := range insts {
		c := naming.FromRegistry(inst, group, service).ClusterName
		if !seen[c] {
			seen[c] = true
			clusters = append(clusters, serviceCluster{Name: c, HealthChecker: map[string]string{"type": "NONE"}, Metadata: map[string]string{}})
		}
	}
	writeJSON(w, serviceDetail{
		NamespaceID: ns, GroupName: group, Name: service,
		Metadata: map[string]string{}, Selector: map[string]string{"type": "none"}, Clusters: clusters,
	})
	return nil
}

// serviceInstances are a service's instances, disabled ones included;
// none is Nacos's 404 for a service it does not know (services exist
// here while they have instances).
func (s *Server) serviceInstances(r *http.Request, ns, group, service string) ([]*registry.Instance, error) {
	insts, err := naming.Instances(r.Context(), s.opts.Store, ns, group, service)
	if err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		return nil, notFound("service " + naming.GroupedName(group, service) + " is not found!")
	}
	return insts, nil
}

// metrics is the health probe clients call (serverHealthy).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, p *params) error {
	sums, _, err := s.opts.Store.Services(r.Context(), "")
	if err != nil {
		return err
	}
	instances := 0
	for _, sum := range sums {
		instances += sum.Instances
	}
	writeJSON(w, map[string]any{"status": "UP", "serviceCount": len(sums), "instanceCount": instances})
	return nil
}
