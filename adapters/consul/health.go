package consul

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
)

// boolParam parses a boolean query parameter as Consul does: absent is
// false, present without a value is true, else strconv.ParseBool. Spring
// Cloud Consul always sends passing=true or passing=false.
func boolParam(r *http.Request, key string) (bool, error) {
	q := query(r)
	if _, ok := q[key]; !ok {
		return false, nil
	}
	v := q.Get(key)
	if v == "" {
		return true, nil
	}
	return strconv.ParseBool(v)
}

// healthService serves GET /v1/health/service/{name}[?passing][&tag=].
func (s *Server) healthService(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r, "/v1/health/service/")
	if err != nil {
		return err
	}
	onlyPassing, err := boolParam(r, "passing")
	if err != nil {
		return errorf(http.StatusBadRequest, "Invalid value for ?passing")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		insts, display, idx, wake, err := s.readService(r, name)
		if err != nil {
			return readResult{}, nil, err
		}
		out := make([]*wire.ServiceEntry, 0, len(insts))
		for _, i := range insts {
			e := s.entryView(i, display)
			if onlyPassing && !passing(e) {
				continue
			}
			out = append(out, e)
		}
		out, err = applyFilter(r, out)
		if err != nil {
			return readResult{}, nil, err
		}
		return readResult{body: out, index: idx}, wake, nil
	})
}

// healthChecks serves GET /v1/health/checks/{name}: the service checks of
// every instance of the service.
func (s *Server) healthChecks(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r, "/v1/health/checks/")
	if err != nil {
		return err
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		insts, display, idx, wake, err := s.readService(r, name)
		if err != nil {
			return readResult{}, nil, err
		}
		out := []*wire.HealthCheck{}
		for _, i := range insts {
			out = append(out, s.serviceChecks(i, display)...)
		}
		out, err = applyFilter(r, out)
		if err != nil {
			return readResult{}, nil, err
		}
		return readResult{body: out, index: idx}, wake, nil
	})
}

// healthNode serves GET /v1/health/node/{node}: the node check and every
// service check on it.
func (s *Server) healthNode(w http.ResponseWriter, r *http.Request) error {
	node := strings.TrimPrefix(r.URL.Path, "/v1/health/node/")
	if node == "" {
		return errorf(http.StatusBadRequest, "Missing node name")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		return s.readChecks(r, func(c *wire.HealthCheck) bool { return c.Node == node })
	})
}

// healthState serves GET /v1/health/state/{state} (any, passing, warning, critical).
func (s *Server) healthState(w http.ResponseWriter, r *http.Request) error {
	state := strings.TrimPrefix(r.URL.Path, "/v1/health/state/")
	switch state {
	case "any", statusPassing, statusWarning, statusCritical:
	case "":
		return errorf(http.StatusBadRequest, "Missing check state")
	default:
		return errorf(http.StatusBadRequest, "Invalid check state")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		return s.readChecks(r, func(c *wire.HealthCheck) bool { return state == "any" || c.Status == state })
	})
}

// readChecks lists the node check and all service checks that keep matches.
func (s *Server) readChecks(r *http.Request, keep func(*wire.HealthCheck) bool) (readResult, <-chan struct{}, error) {
	topic, wake := s.notify.catalogTopic()
	insts, err := s.servedInstances(r)
	if err != nil {
		return readResult{}, nil, err
	}
	idx := indexOf(topic, insts)
	insts = s.onMatchingNodes(r, insts)
	names := s.displayNames(insts)
	out := []*wire.HealthCheck{}
	if c := s.serfCheck(); keep(c) && nodeMetaMatches(r, s.node.node) {
		out = append(out, c)
	}
	for _, i := range insts {
		for _, c := range s.serviceChecks(i, names[i.ServiceKey]) {
			if keep(c) {
				out = append(out, c)
			}
		}
	}
	out, err = applyFilter(r, out)
	if err != nil {
		return readResult{}, nil, err
	}
	return readResult{body: out, index: idx}, wake, nil
}

// statusLeader serves GET /v1/status/leader: a JSON string, this agent's
// server address (port 8300, Consul's server RPC port).
func (s *Server) statusLeader(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.serverAddr())
	return nil
}

// statusPeers serves GET /v1/status/peers.
func (s *Server) statusPeers(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, []string{s.serverAddr()})
	return nil
}

func (s *Server) serverAddr() string {
	host := s.opts.NodeAddress
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":8300"
}
