package v1

import (
	"net/http"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
)

// catalogInstances is the console's instance list of one cluster of a
// service, as Nacos 2.x serves it (CatalogController.instanceList over
// CatalogServiceV2Impl.listInstances): every instance of the cluster,
// disabled ones included (ServiceUtil.selectInstances with enableOnly
// false), paged, as {"list":[...],"count":n}. clusterName, pageNo and
// pageSize are required; a service or cluster with no instance is 404.
type catalogInstances struct {
	List  []naming.Instance `json:"list"`
	Count int               `json:"count"`
}

func (s *Server) catalogInstanceList(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	cluster, err := p.required("clusterName")
	if err != nil {
		return err
	}
	pageNo, pageSize, err := pageParams(p)
	if err != nil {
		return err
	}
	insts, err := s.serviceInstances(r, ns, group, service)
	if err != nil {
		return err
	}
	var list []naming.Instance
	for _, inst := range insts {
		if n := naming.FromRegistry(inst, group, service); n.ClusterName == cluster {
			list = append(list, n)
		}
	}
	if len(list) == 0 {
		return notFound("cluster " + cluster + " is not found!")
	}
	// Nacos's clamping: a page before the first is the first, one past the
	// end is empty.
	start := min(max((pageNo-1)*pageSize, 0), len(list))
	end := min(max(pageNo*pageSize, start), len(list))
	writeJSON(w, catalogInstances{List: append([]naming.Instance{}, list[start:end]...), Count: len(list)})
	return nil
}
