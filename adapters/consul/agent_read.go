package consul

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// agentServices serves GET /v1/agent/services: the services registered
// through this agent, keyed by ID.
func (s *Server) agentServices(w http.ResponseWriter, r *http.Request) error {
	out := map[string]*wire.AgentService{}
	for _, inst := range s.agent.all() {
		out[inst.ID] = s.agentServiceView(inst)
	}
	out, err := applyFilter(r, out)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// agentServiceView is a local service as the agent endpoints show it:
// without the catalog's CreateIndex and ModifyIndex, as Consul's agent.
func (s *Server) agentServiceView(inst *registry.Instance) *wire.AgentService {
	svc := s.serviceView(inst, inst.Service)
	svc.CreateIndex, svc.ModifyIndex = 0, 0
	return svc
}

// agentChecks serves GET /v1/agent/checks: the checks of this agent's
// services, keyed by check ID.
func (s *Server) agentChecks(w http.ResponseWriter, r *http.Request) error {
	out := map[string]*wire.HealthCheck{}
	for _, inst := range s.agent.all() {
		for _, c := range s.serviceChecks(inst, inst.Service) {
			out[c.CheckID] = c
		}
	}
	out, err := applyFilter(r, out)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// agentService serves GET /v1/agent/service/{id} with hash-based blocking
// (?hash= and X-Consul-ContentHash), as Consul does for this endpoint.
func (s *Server) agentService(w http.ResponseWriter, r *http.Request) error {
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/service/")
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	hash := query(r).Get("hash")
	var timer <-chan time.Time
	if hash != "" && s.running.Load() {
		t := time.NewTimer(q.timeout())
		defer t.Stop()
		timer = t.C
	}
	for {
		inst := s.agent.service(id)
		if inst == nil {
			return errorf(http.StatusNotFound, "unknown service ID: %s", id)
		}
		_, wake := s.notify.service(inst.ServiceKey)
		inst = s.agent.service(id)
		if inst == nil {
			return errorf(http.StatusNotFound, "unknown service ID: %s", id)
		}
		svc := s.agentServiceView(inst)
		body, _ := json.Marshal(svc) // plain data: cannot fail
		sum := sha256.Sum256(body)
		svc.ContentHash = hex.EncodeToString(sum[:8])
		if hash == "" || hash != svc.ContentHash || timer == nil {
			w.Header().Set("X-Consul-ContentHash", svc.ContentHash)
			writeJSON(w, http.StatusOK, svc)
			return nil
		}
		select {
		case <-wake:
		case <-timer:
			hash = ""
		case <-r.Context().Done():
			return r.Context().Err()
		case <-s.stopped:
			hash = ""
		}
	}
}

// agentSelf serves GET /v1/agent/self with the fields clients read:
// Config.Datacenter and Config.NodeName (consul/api's NodeName() panics
// without them), Member, Meta.
func (s *Server) agentSelf(w http.ResponseWriter, r *http.Request) error {
	n := s.node.node
	writeJSON(w, http.StatusOK, map[string]any{
		"Config": map[string]any{
			"Datacenter":        s.opts.Datacenter,
			"PrimaryDatacenter": s.opts.Datacenter,
			"NodeName":          s.opts.NodeName,
			"NodeID":            n.ID,
			"Revision":          "meshbridge",
			"Server":            true,
			"Version":           consulVersion,
			"BuildDate":         "1970-01-01T00:00:00Z",
		},
		"DebugConfig": map[string]any{"Datacenter": s.opts.Datacenter, "NodeName": s.opts.NodeName},
		"Coord":       nil,
		"Member": map[string]any{
			"Name": s.opts.NodeName, "Addr": s.opts.NodeAddress, "Port": 8301,
			"Tags": map[string]string{
				"dc": s.opts.Datacenter, "role": "consul", "id": n.ID, "vsn": "2",
				"build": consulVersion + ":meshbridge", "port": "8300",
			},
			"Status": 1, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
			"DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
		},
		"Stats": map[string]any{},
		"Meta":  n.Meta,
	})
	return nil
}

// consulVersion is the Consul version the adapter reports.
const consulVersion = "1.22.0"

// instancesOf lists the served instances of one service.
func (s *Server) instancesOf(r *http.Request, name string) ([]*registry.Instance, error) {
	insts, _, err := s.store.List(r.Context(), registry.Filter{Namespace: s.opts.Namespace, Group: registry.DefaultGroup, Service: name})
	return insts, err
}
