package consul

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// agentServiceHealth is one entry of /v1/agent/health/service/...
// (api.AgentServiceChecksInfo).
type agentServiceHealth struct {
	AggregatedStatus string
	Service          *wire.AgentService
	Checks           []*wire.HealthCheck
}

// agentHealthByID serves GET /v1/agent/health/service/id/{id}: the local
// service's checks and their aggregate, with the aggregate as the status
// code (200 passing, 429 warning, 503 critical), as load balancers read it.
func (s *Server) agentHealthByID(w http.ResponseWriter, r *http.Request) error {
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/health/service/id/")
	if id == "" {
		return errorf(http.StatusBadRequest, "Missing serviceID")
	}
	inst := s.agent.service(id)
	if inst == nil {
		return errorf(http.StatusNotFound, "ServiceId %s not found", id)
	}
	e := s.agentHealthOf(inst)
	writeAgentHealth(w, r, e.AggregatedStatus, e)
	return nil
}

// agentHealthByName serves GET /v1/agent/health/service/name/{name}: every
// local service of that name, the worst aggregate as the status code.
func (s *Server) agentHealthByName(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimPrefix(r.URL.Path, "/v1/agent/health/service/name/")
	if name == "" {
		return errorf(http.StatusBadRequest, "Missing service Name")
	}
	out := []*agentServiceHealth{}
	status := statusPassing
	for _, inst := range s.agent.all() {
		if inst.Service != name {
			continue
		}
		e := s.agentHealthOf(inst)
		status = string(worse(registry.Health(status), registry.Health(e.AggregatedStatus)))
		out = append(out, e)
	}
	if len(out) == 0 {
		return errorf(http.StatusNotFound, "ServiceName %s Not Found", name)
	}
	writeAgentHealth(w, r, status, out)
	return nil
}

func (s *Server) agentHealthOf(inst *registry.Instance) *agentServiceHealth {
	checks := s.serviceChecks(inst, inst.Service)
	status := statusPassing
	for _, c := range checks {
		status = string(worse(registry.Health(status), registry.Health(c.Status)))
	}
	return &agentServiceHealth{AggregatedStatus: status, Service: s.agentServiceView(inst), Checks: checks}
}

// writeAgentHealth answers with the aggregate's status code, the body as
// JSON or, with ?format=text or Accept: text/plain, the aggregate alone.
func writeAgentHealth(w http.ResponseWriter, r *http.Request, status string, body any) {
	code := http.StatusOK
	switch status {
	case statusWarning:
		code = http.StatusTooManyRequests
	case statusCritical:
		code = http.StatusServiceUnavailable
	}
	if wantsText(r) {
		w.Header().Set("Content-Type", plainContentType)
		w.WriteHeader(code)
		fmt.Fprint(w, status)
		return
	}
	writeJSON(w, code, body)
}

// wantsText is Consul's choice of a plain-text answer: Accept: text/plain,
// else ?format=text.
func wantsText(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Accept"), "text/plain") {
		return true
	}
	return query(r).Get("format") == "text"
}
