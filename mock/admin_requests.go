package mock

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// requestsBody is GET /__admin/requests's answer.
type requestsBody struct {
	Requests               []serveEvent `json:"requests"`
	Meta                   meta         `json:"meta"`
	RequestJournalDisabled bool         `json:"requestJournalDisabled"`
	// Dropped counts the entries the journal's bounds pushed out (own).
	Dropped uint64 `json:"dropped"`
}

// listRequests is GET /__admin/requests, with WireMock's limit and
// since (an RFC 3339 time: only entries logged after it).
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	entries := s.journal.snapshot()
	if v := r.URL.Query().Get("since"); v != "" {
		since, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, "since: not an RFC 3339 time such as 2016-10-05T12:33:01Z", "")
			return
		}
		entries = slices.DeleteFunc(entries, func(e entry) bool { return !e.at.After(since) })
	}
	out := requestsBody{Requests: []serveEvent{}, Meta: meta{Total: len(entries)}, RequestJournalDisabled: s.opts.JournalEntries == 0}
	for _, e := range limitOffset(r, entries) {
		out.Requests = append(out.Requests, e.event())
	}
	_, _, out.Dropped = s.journal.counts()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	e, ok := s.journal.find(r.PathValue("id"))
	if !ok {
		writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no journal entry with id %q", r.PathValue("id")), "")
		return
	}
	writeJSON(w, http.StatusOK, e.event())
}

func (s *Server) removeRequest(w http.ResponseWriter, r *http.Request) {
	if id, ok := parseUUID(r.PathValue("id")); ok {
		s.journal.remove(func(e *entry) bool { return e.id == id })
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) resetRequests(w http.ResponseWriter, _ *http.Request) {
	s.journal.reset()
	writeJSON(w, http.StatusOK, struct{}{})
}

// matching returns the journal's entries, oldest first, whose request
// meets the request pattern in r's body, answering the error itself.
func (s *Server) matching(w http.ResponseWriter, r *http.Request) ([]entry, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	p, err := stub.DecodeRequestPattern(body)
	var pattern *stub.Stub
	if err == nil {
		pattern, err = stub.Compile(stub.Mapping{ID: "pattern", Request: p}, nil)
	}
	if err != nil {
		writeAdminError(w, http.StatusUnprocessableEntity, "invalid request pattern: "+err.Error(), "/")
		return nil, false
	}
	var out []entry
	entries := s.journal.snapshot()
	for i := len(entries) - 1; i >= 0; i-- {
		if pattern.Matches(entries[i].request()) {
			out = append(out, entries[i])
		}
	}
	return out, true
}

func (s *Server) countRequests(w http.ResponseWriter, r *http.Request) {
	if found, ok := s.matching(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]int{"count": len(found)})
	}
}

// foundBody is the answer of find and unmatched: logged requests.
type foundBody struct {
	Requests []loggedRequest `json:"requests"`
}

func (s *Server) findRequests(w http.ResponseWriter, r *http.Request) {
	found, ok := s.matching(w, r)
	if !ok {
		return
	}
	out := foundBody{Requests: []loggedRequest{}}
	for _, e := range found {
		out.Requests = append(out.Requests, logRequest(&e))
	}
	writeJSON(w, http.StatusOK, out)
}

// unmatched lists the unmatched entries, oldest first.
func (s *Server) unmatched() []entry {
	var out []entry
	entries := s.journal.snapshot()
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].stub == nil {
			out = append(out, entries[i])
		}
	}
	return out
}

func (s *Server) unmatchedRequests(w http.ResponseWriter, _ *http.Request) {
	out := foundBody{Requests: []loggedRequest{}}
	for _, e := range s.unmatched() {
		out.Requests = append(out.Requests, logRequest(&e))
	}
	writeJSON(w, http.StatusOK, out)
}

// nearMissBody is WireMock's near miss: the request, a stub and how far
// it was; Mismatches say why (own).
type nearMissBody struct {
	Request     loggedRequest   `json:"request"`
	StubMapping stub.Mapping    `json:"stubMapping"`
	MatchResult matchResult     `json:"matchResult"`
	Mismatches  []stub.Mismatch `json:"mismatches"`
}

type matchResult struct {
	Distance float64 `json:"distance"`
}

func (s *Server) unmatchedNearMisses(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		NearMisses []nearMissBody `json:"nearMisses"`
	}{NearMisses: []nearMissBody{}}
	byID := s.current.Load().byID
	for _, e := range s.unmatched() {
		for _, nm := range s.nearMisses(e.request(), s.opts.NearMisses) {
			if p, ok := byID[nm.ID]; ok {
				out.NearMisses = append(out.NearMisses, nearMissBody{Request: logRequest(&e), StubMapping: p.stub.Mapping, MatchResult: matchResult{nm.Distance}, Mismatches: nm.Mismatches})
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listScenarios(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]Scenario{"scenarios": s.scenarios.list(s.Stubs())})
}

// setScenarioState is PUT /__admin/scenarios/{name}/state with
// {"state": "..."}: it sets the shared state (not the keyed ones).
func (s *Server) setScenarioState(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		State string `json:"state"`
	}
	if err := decodeStrict(body, &req); err != nil || req.State == "" {
		writeAdminError(w, http.StatusUnprocessableEntity, fmt.Sprintf("want {\"state\": \"...\"}: %v", err), "/state")
		return
	}
	name := r.PathValue("name")
	for _, sc := range s.scenarios.list(s.Stubs()) {
		if sc.Name == name {
			s.scenarios.set(scenarioKey{name: name}, req.State)
			writeJSON(w, http.StatusOK, struct{}{})
			return
		}
	}
	writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no scenario %q", name), "")
}
