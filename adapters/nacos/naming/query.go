package naming

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Clock stamps service infos with a strictly increasing lastRefTime: the Go
// SDK drops any update whose lastRefTime is not newer than the one it holds.
type Clock struct{ last atomic.Int64 }

// Next returns max(now in ms, previous + 1).
func (c *Clock) Next() int64 {
	for {
		prev := c.last.Load()
		next := max(time.Now().UnixMilli(), prev+1)
		if c.last.CompareAndSwap(prev, next) {
			return next
		}
	}
}

// Query selects the instances of one service.
type Query struct {
	Namespace string
	Group     string
	Service   string
	// Clusters is the comma-separated list the client gave ("" for all);
	// it is echoed in the answer because clients key their cache on it.
	Clusters    string
	HealthyOnly bool
	// Grouped names the service "group@@service" as v1 answers do; gRPC
	// answers carry the plain name.
	Grouped bool
}

// Instances lists every instance of a service, of any origin.
func Instances(ctx context.Context, store registry.Instances, namespace, group, service string) ([]*registry.Instance, error) {
	insts, _, err := store.List(ctx, registry.Filter{Namespace: Namespace(namespace), Group: Group(group), Service: service})
	return insts, err
}

// Select renders the instances Nacos would return for q: disabled ones are
// always left out (Nacos selects with enableOnly), unhealthy ones when
// HealthyOnly is set, and only the listed clusters when some are given.
func Select(insts []*registry.Instance, q Query) []Instance {
	clusters := Clusters(q.Clusters)
	hosts := make([]Instance, 0, len(insts))
	for _, inst := range insts {
		if !Enabled(inst) {
			continue
		}
		if q.HealthyOnly && !Healthy(inst) {
			continue
		}
		if len(clusters) > 0 && !slices.Contains(clusters, clusterOf(inst)) {
			continue
		}
		hosts = append(hosts, FromRegistry(inst, Group(q.Group), q.Service))
	}
	return hosts
}

// Info builds the service info of q from the given instances.
func Info(insts []*registry.Instance, q Query, clock *Clock) ServiceInfo {
	name := q.Service
	if q.Grouped {
		name = GroupedName(q.Group, q.Service)
	}
	return ServiceInfo{
		Name:        name,
		GroupName:   Group(q.Group),
		Clusters:    q.Clusters,
		CacheMillis: DefaultCacheMillis,
		Hosts:       Select(insts, q),
		LastRefTime: clock.Next(),
		Valid:       true,
	}
}

// ServiceNames lists the service names of a namespace and group, sorted,
// one page of them (pageNo from 1) and the total count.
func ServiceNames(ctx context.Context, store registry.Instances, namespace, group string, pageNo, pageSize int) ([]string, int, error) {
	sums, _, err := store.Services(ctx, Namespace(namespace))
	if err != nil {
		return nil, 0, err
	}
	group = Group(group)
	var names []string
	for _, s := range sums {
		if s.Group == group && s.Instances > 0 {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	total := len(names)
	if pageNo < 1 {
		pageNo = 1
	}
	if pageSize < 1 {
		return []string{}, total, nil
	}
	if pageNo-1 > total/pageSize {
		return []string{}, total, nil
	}
	start := (pageNo - 1) * pageSize
	if start >= total {
		return []string{}, total, nil
	}
	return names[start:min(total, start+pageSize)], total, nil
}

func clusterOf(inst *registry.Instance) string {
	if inst.Cluster == "" {
		return DefaultCluster
	}
	return inst.Cluster
}

// Match finds the instance at ip:port in cluster ("" for the default cluster).
func Match(insts []*registry.Instance, ip string, port int, cluster string) *registry.Instance {
	if cluster == "" {
		cluster = DefaultCluster
	}
	for _, inst := range insts {
		if inst.Host == ip && inst.Port == port && clusterOf(inst) == cluster {
			return inst
		}
	}
	return nil
}
