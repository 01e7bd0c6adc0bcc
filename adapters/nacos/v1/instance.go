package v1

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
)

// serviceParams resolves namespaceId, groupName and a possibly grouped serviceName.
func serviceParams(p *params) (ns, group, service string, err error) {
	name, err := p.required("serviceName")
	if err != nil {
		return "", "", "", err
	}
	group, service, err = naming.SplitServiceName(name, p.get("groupName"))
	if err != nil {
		return "", "", "", badRequest(err.Error())
	}
	return naming.Namespace(p.get("namespaceId")), group, service, nil
}

func clusterParam(p *params) string {
	if c := p.get("cluster"); c != "" {
		return c
	}
	return p.optional("clusterName", naming.DefaultCluster)
}

func portParam(p *params) (string, int, error) {
	ip, err := p.required("ip")
	if err != nil {
		return "", 0, err
	}
	raw, err := p.required("port")
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(raw)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, badRequest("Param 'port' is illegal: " + raw)
	}
	return ip, port, nil
}

// instanceParams builds the instance a register or update describes;
// absent fields keep Nacos's defaults.
func instanceParams(p *params) (naming.InstanceInput, error) {
	ip, port, err := portParam(p)
	if err != nil {
		return naming.InstanceInput{}, err
	}
	in := naming.InstanceInput{IP: ip, Port: port, ClusterName: clusterParam(p)}
	if v := p.get("weight"); v != "" {
		w, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return in, badRequest("Param 'weight' is illegal: " + v)
		}
		in.Weight = &w
	}
	// "enabled" wins; the Go SDK and old clients send "enable".
	if v := p.get("enabled"); v != "" {
		b := boolParam(v)
		in.Enabled = &b
	} else if v := p.get("enable"); v != "" {
		b := boolParam(v)
		in.Enabled = &b
	}
	if v := p.get("healthy"); v != "" {
		b := boolParam(v)
		in.Healthy = &b
	}
	if v := p.get("ephemeral"); v != "" {
		b := boolParam(v)
		in.Ephemeral = &b
	}
	if v := p.get("metadata"); v != "" {
		if err := json.Unmarshal([]byte(v), &in.Metadata); err != nil {
			return in, badRequest("Param 'metadata' is illegal: " + err.Error())
		}
	}
	return in, nil
}

// beatLease makes a v1 ephemeral instance live by heartbeats.
func (s *Server) beatLease(inst *registry.Instance) {
	if !inst.Ephemeral {
		return
	}
	interval, _, deleteAfter := naming.BeatTiming(inst.Metadata, s.opts.BeatInterval, s.opts.BeatTimeout, s.opts.DeleteTimeout)
	inst.Lease = registry.Lease{RenewalInterval: interval, Duration: deleteAfter}
	inst.Attributes[naming.AttrBeat] = "true"
}

func (s *Server) registerInstance(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	in, err := instanceParams(p)
	if err != nil {
		return err
	}
	inst, err := naming.ToRegistry(naming.Registration{Namespace: ns, Group: group, Service: service, Instance: in, App: p.get("app")})
	if err != nil {
		return badRequest(err.Error())
	}
	s.beatLease(inst)
	if _, err := s.opts.Store.Register(r.Context(), inst); err != nil {
		return storeError(err)
	}
	writeText(w, "ok")
	return nil
}

func (s *Server) deregisterInstance(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	ip, port, err := portParam(p)
	if err != nil {
		return err
	}
	insts, err := naming.Instances(r.Context(), s.opts.Store, ns, group, service)
	if err != nil {
		return err
	}
	if inst := naming.Match(insts, ip, port, clusterParam(p)); inst != nil {
		if _, err := s.opts.Store.Deregister(r.Context(), inst.Key()); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return err
		}
	}
	writeText(w, "ok")
	return nil
}

// updateInstance changes weight, enabled and metadata of a registered
// instance (what Spring Cloud Alibaba's status endpoint and
// NamingMaintainService.updateInstance send).
func (s *Server) updateInstance(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	in, err := instanceParams(p)
	if err != nil {
		return err
	}
	insts, err := naming.Instances(r.Context(), s.opts.Store, ns, group, service)
	if err != nil {
		return err
	}
	if len(insts) == 0 {
		return badRequest("service not found, namespace: " + ns + ", service: " + naming.GroupedName(group, service))
	}
	target := naming.Match(insts, in.IP, in.Port, in.ClusterName)
	if target == nil {
		return badRequest("instance not found: " + in.IP + ":" + strconv.Itoa(in.Port))
	}
	// Re-derive the changed fields through the same mapping as a register.
	merged := naming.InstanceInput{IP: in.IP, Port: in.Port, ClusterName: in.ClusterName, Metadata: target.Metadata}
	weight, enabled, healthy, ephemeral := naming.Weight(target), naming.Enabled(target), target.Health != registry.HealthCritical, target.Ephemeral
	merged.Weight, merged.Enabled, merged.Healthy, merged.Ephemeral = &weight, &enabled, &healthy, &ephemeral
	if in.Weight != nil {
		merged.Weight = in.Weight
	}
	if in.Enabled != nil {
		merged.Enabled = in.Enabled
	}
	if p.get("metadata") != "" {
		merged.Metadata = in.Metadata
	}
	next, err := naming.ToRegistry(naming.Registration{Namespace: ns, Group: group, Service: service, Instance: merged})
	if err != nil {
		return badRequest(err.Error())
	}
	_, err = s.opts.Store.Update(r.Context(), target.Key(), func(inst *registry.Instance) error {
		inst.Weight, inst.Disabled, inst.Metadata, inst.Scheme = next.Weight, next.Disabled, next.Metadata, next.Scheme
		inst.Labels = nil // re-derived from the new metadata
		if inst.Attributes == nil {
			inst.Attributes = map[string]string{}
		}
		delete(inst.Attributes, naming.AttrWeight)
		delete(inst.Attributes, naming.AttrEnabled)
		for _, k := range []string{naming.AttrWeight, naming.AttrEnabled} {
			if v, ok := next.Attributes[k]; ok {
				inst.Attributes[k] = v
			}
		}
		return nil
	})
	if err != nil {
		return storeError(err)
	}
	writeText(w, "ok")
	return nil
}

type instanceDetail struct {
	Service     string            `json:"service"`
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	ClusterName string            `json:"clusterName"`
	Weight      float64           `json:"weight"`
	Healthy     bool              `json:"healthy"`
	InstanceID  string            `json:"instanceId"`
	Metadata    map[string]string `json:"metadata"`
}

func (s *Server) instanceDetail(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	ip, port, err := portParam(p)
	if err != nil {
		return err
	}
	insts, err := naming.Instances(r.Context(), s.opts.Store, ns, group, service)
	if err != nil {
		return err
	}
	if len(insts) == 0 {
		return notFound("no service " + naming.GroupedName(group, service) + " found!")
	}
	inst := naming.Match(insts, ip, port, clusterParam(p))
	if inst == nil {
		return notFound("no matched ip found!")
	}
	n := naming.FromRegistry(inst, group, service)
	writeJSON(w, instanceDetail{
		Service: n.ServiceName, IP: n.IP, Port: n.Port, ClusterName: n.ClusterName,
		Weight: n.Weight, Healthy: n.Healthy, InstanceID: n.InstanceID, Metadata: n.Metadata,
	})
	return nil
}

// listInstances answers instance/list with the grouped service name, as
// Nacos does "to adapt v1.x SDKs".
func (s *Server) listInstances(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	insts, err := naming.Instances(r.Context(), s.opts.Store, ns, group, service)
	if err != nil {
		return err
	}
	q := naming.Query{Namespace: ns, Group: group, Service: service, Clusters: p.get("clusters"),
		HealthyOnly: boolParam(p.get("healthyOnly")), Grouped: true}
	writeJSON(w, naming.Info(insts, q, s.opts.Clock))
	return nil
}

func storeError(err error) error {
	if errors.Is(err, registry.ErrInvalid) {
		return badRequest(err.Error())
	}
	return err
}
