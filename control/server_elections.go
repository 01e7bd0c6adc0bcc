package control

import (
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// CampaignResponse answers PUT /api/v1/elections/{name}/candidates/{id}
// and DELETE of the same path.
type CampaignResponse struct {
	Election  string `json:"election"`
	Candidate string `json:"candidate"`
	// Leader is true while the candidate leads the election.
	Leader bool `json:"leader"`
	// TTL is how long the candidate stays one without another campaign
	// request (absent in a resign's answer).
	TTL Duration `json:"ttl,omitempty"`
}

// ElectionResponse answers GET /api/v1/elections/{name}: what the control
// plane that answers knows (with a shared store, the candidates that
// campaign through it).
type ElectionResponse struct {
	Election string `json:"election"`
	// Leader is the candidate that leads, "" for none known here.
	Leader     string `json:"leader"`
	Candidates int    `json:"candidates"`
}

// electionTarget reads and checks the election's name and, when the
// path has one, the candidate's.
func electionTarget(r *http.Request) (name, id string, err error) {
	name, id = r.PathValue("name"), r.PathValue("candidate")
	if err := checkElectionName("election", name); err != nil {
		return "", "", err
	}
	if r.Method != http.MethodGet {
		if err := checkElectionName("candidate", id); err != nil {
			return "", "", err
		}
	}
	return name, id, nil
}

func checkElectionName(field, v string) error {
	if !registry.ValidName(v) {
		return &registry.ValidationError{Field: field, Message: "must be a name of at most 256 bytes without control characters"}
	}
	return nil
}

// durationParam reads a duration query parameter, def when absent.
func durationParam(r *http.Request, key string, def, lo, hi time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, &registry.ValidationError{Field: key, Message: "must be a duration between " + lo.String() + " and " + hi.String()}
	}
	return d, nil
}

// campaign serves PUT .../elections/{name}/candidates/{candidate}?ttl=&wait=.
func (s *Server) campaign(w http.ResponseWriter, r *http.Request) {
	name, id, err := electionTarget(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	ttl, err := durationParam(r, "ttl", DefaultElectionTTL, MinElectionTTL, MaxElectionTTL)
	if err != nil {
		writeErr(w, err)
		return
	}
	// A candidate waits at most its ttl, so that it is never dropped
	// while its own request is waiting.
	wait, err := durationParam(r, "wait", 0, 0, min(ttl, s.opts.MaxWait))
	if err != nil {
		writeErr(w, err)
		return
	}
	leader, err := s.elections.campaign(r.Context(), name, id, ttl, wait, serve.DrainSignal(r.Context()))
	writeResult(w, CampaignResponse{Election: name, Candidate: id, Leader: leader, TTL: Duration(ttl)}, err)
}

// resign serves DELETE .../elections/{name}/candidates/{candidate}.
func (s *Server) resign(w http.ResponseWriter, r *http.Request) {
	name, id, err := electionTarget(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.elections.resign(name, id)
	writeJSON(w, http.StatusOK, CampaignResponse{Election: name, Candidate: id})
}

// election serves GET /api/v1/elections/{name}.
func (s *Server) election(w http.ResponseWriter, r *http.Request) {
	name, _, err := electionTarget(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	leader, n := s.elections.leader(name)
	writeJSON(w, http.StatusOK, ElectionResponse{Election: name, Leader: leader, Candidates: n})
}
