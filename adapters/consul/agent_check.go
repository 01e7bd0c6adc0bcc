package consul

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

func (s *Server) agentCheckPass(w http.ResponseWriter, r *http.Request) error {
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/pass/"), statusPassing, query(r).Get("note"))
}

func (s *Server) agentCheckWarn(w http.ResponseWriter, r *http.Request) error {
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/warn/"), statusWarning, query(r).Get("note"))
}

func (s *Server) agentCheckFail(w http.ResponseWriter, r *http.Request) error {
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/fail/"), statusCritical, query(r).Get("note"))
}

// agentCheckUpdate serves PUT /v1/agent/check/update/{id} {"Status","Output"}.
func (s *Server) agentCheckUpdate(w http.ResponseWriter, r *http.Request) error {
	u, err := wire.DecodeCheckUpdate(r.Body)
	if err != nil {
		return decodeError(err)
	}
	if !wire.ValidStatus(u.Status) {
		return errorf(http.StatusBadRequest, "Invalid check status: '%s'", u.Status)
	}
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/update/"), u.Status, u.Output)
}

// ttlCheck updates a TTL check. A heartbeat that changes nothing resets
// the timer in memory only (over a shared store it is also recorded, at
// most every TTL/4); a status change is written through at once, an
// output-only change at most every CheckUpdateInterval (as Consul syncs
// them). Unknown checks get Consul's 404, non-TTL checks its 500.
func (s *Server) ttlCheck(r *http.Request, id, status, output string) error {
	info, ok := s.agent.check(id)
	if !ok {
		return errorf(http.StatusNotFound, "Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
	}
	if info.rec.Type != typeTTL {
		return errorf(http.StatusInternalServerError, "CheckID %q does not have associated TTL", id)
	}
	output = checkOutput(output)
	now := time.Now()
	write, beatOnly, info := s.agent.ttlUpdate(id, status, output, now, s.opts.CheckUpdateInterval, s.shared)
	if !write {
		return nil
	}
	stored, err := s.storeCheckState(r.Context(), checkWrite{id: id, defKey: info.defKey, key: info.key,
		status: status, output: output, heartbeat: info.rec.Heartbeat})
	switch {
	case errors.Is(err, errStaleCheck), errors.Is(err, registry.ErrNotFound):
		return errorf(http.StatusNotFound, "Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
	case err != nil:
		return fmt.Errorf("consul: update check %q: %w", id, err)
	}
	s.agent.written(id, info.defKey, status, output, now)
	if !beatOnly { // a recorded heartbeat changes nothing a client reads
		s.settle(r.Context(), stored.Revision)
	}
	return nil
}

// agentCheckRegister serves PUT /v1/agent/check/register: a check added to
// a service registered here. Node-level checks (no ServiceID) are refused:
// the adapter's node has only its own serfHealth check.
func (s *Server) agentCheckRegister(w http.ResponseWriter, r *http.Request) error {
	def, err := wire.DecodeCheckDefinition(r.Body)
	if err != nil {
		return decodeError(err)
	}
	c := &def.Check
	if c.Name == "" {
		return errorf(http.StatusBadRequest, "Missing check name")
	}
	if c.Status != "" && !wire.ValidStatus(c.Status) {
		return errorf(http.StatusBadRequest, "Bad check status")
	}
	if err := c.Validate(); err != nil {
		return errorf(http.StatusBadRequest, "Invalid check: %v", err)
	}
	switch c.Kind() {
	case typeTTL, typeHTTP, typeTCP:
	default:
		return errorf(http.StatusBadRequest, "Invalid check: meshbridge runs TTL, HTTP and TCP checks only; %s checks are not supported", c.Kind())
	}
	if def.ServiceID == "" {
		return errorf(http.StatusBadRequest, "meshbridge: node-level checks are not supported; give the ServiceID of a service registered here")
	}
	inst := s.agent.service(def.ServiceID)
	if inst == nil {
		return errorf(http.StatusNotFound, "ServiceID %q does not exist", def.ServiceID)
	}
	c.CheckID = def.ID
	if c.CheckID == "" {
		c.CheckID = c.Name
	}
	if len(c.CheckID) > maxCheckIDLength {
		return errorf(http.StatusBadRequest, "Invalid check: CheckID longer than %d characters", maxCheckIDLength)
	}
	rec := checkFromDefinition(c, inst.ID, inst.Service, 0, 1)
	stored, err := s.store.Update(r.Context(), inst.Key(), func(i *registry.Instance) error {
		_, recs := readRecords(i)
		recs = slices.DeleteFunc(recs, func(old *checkRecord) bool { return old.ID == rec.ID })
		return writeChecks(i, append(recs, rec))
	})
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return errorf(http.StatusNotFound, "ServiceID %q does not exist", def.ServiceID)
	case errors.Is(err, registry.ErrInvalid):
		return errorf(http.StatusBadRequest, "Invalid check: %v", err)
	case err != nil:
		return fmt.Errorf("consul: register check %q: %w", rec.ID, err)
	}
	s.settle(r.Context(), stored.Revision)
	return nil
}

// agentCheckDeregister serves PUT /v1/agent/check/deregister/{id}.
func (s *Server) agentCheckDeregister(w http.ResponseWriter, r *http.Request) error {
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/check/deregister/")
	info, ok := s.agent.check(id)
	if !ok {
		return errorf(http.StatusNotFound, "Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
	}
	stored, err := s.store.Update(r.Context(), info.key, func(i *registry.Instance) error {
		_, recs := readRecords(i)
		return writeChecks(i, slices.DeleteFunc(recs, func(c *checkRecord) bool { return c.ID == id }))
	})
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return errorf(http.StatusNotFound, "Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
	case err != nil:
		return fmt.Errorf("consul: deregister check %q: %w", id, err)
	}
	s.settle(r.Context(), stored.Revision)
	return nil
}
