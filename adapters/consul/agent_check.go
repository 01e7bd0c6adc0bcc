package consul

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

func (s *Server) agentCheckPass(w http.ResponseWriter, r *http.Request) error {
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/pass/"), statusPassing, r.URL.Query().Get("note"))
}

func (s *Server) agentCheckWarn(w http.ResponseWriter, r *http.Request) error {
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/warn/"), statusWarning, r.URL.Query().Get("note"))
}

func (s *Server) agentCheckFail(w http.ResponseWriter, r *http.Request) error {
	return s.ttlCheck(r, strings.TrimPrefix(r.URL.Path, "/v1/agent/check/fail/"), statusCritical, r.URL.Query().Get("note"))
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
// the timer in memory only; a status change is written through at once,
// an output-only change at most every CheckUpdateInterval (as Consul
// syncs them). Unknown checks get Consul's 404, non-TTL checks its 500.
func (s *Server) ttlCheck(r *http.Request, id, status, output string) error {
	info, ok := s.agent.check(id)
	if !ok {
		return errorf(http.StatusNotFound, "Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
	}
	if info.rec.Type != typeTTL {
		return errorf(http.StatusInternalServerError, "CheckID %q does not have associated TTL", id)
	}
	output = truncateOutput(output, maxOutput)
	now := time.Now()
	write, info := s.agent.ttlUpdate(id, status, output, now, s.opts.CheckUpdateInterval)
	if !write {
		return nil
	}
	stored, err := s.storeCheckState(r.Context(), checkWrite{id: id, defKey: info.defKey, key: info.key, status: status, output: output})
	switch {
	case errors.Is(err, errStaleCheck), errors.Is(err, registry.ErrNotFound):
		return errorf(http.StatusNotFound, "Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
	case err != nil:
		return fmt.Errorf("consul: update check %q: %w", id, err)
	}
	s.agent.written(id, info.defKey, status, output, now)
	s.settle(r.Context(), stored.Revision)
	return nil
}
