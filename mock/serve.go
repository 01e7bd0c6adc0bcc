package mock

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// maxMatchAttempts bounds how often one request matches again after
// another request moved a scenario it read; each retry means another
// request made progress, so this is reached only under a pile-up no
// test produces.
const maxMatchAttempts = 1000

// serveStub answers r with the stub that wins (see match), or 404 with
// the closest stubs; either way the journal records it.
func (s *Server) serveStub(w http.ResponseWriter, r *http.Request) {
	body, err := readStubBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
			return
		}
		return // the client went away mid-body
	}
	req := stub.NewRequest(r, body)
	at := time.Now()
	for range maxMatchAttempts {
		won, also, moved := s.match(req)
		if !moved {
			continue
		}
		var served stub.Served
		switch {
		case won != nil:
			served = won.Respond(r.Context(), w, req)
		case s.opts.Unmatched != nil:
			served = serveUnmatched(s.opts.Unmatched, w, r, body)
		default:
			served = s.writeUnmatched(w, req)
		}
		if s.journal.on() {
			s.journal.add(newEntry(at, clientIP(r), req, won, also, served))
		}
		if won == nil {
			s.opts.Served("")
		} else {
			s.opts.Served(won.ID())
		}
		return
	}
	writeProblem(w, http.StatusServiceUnavailable, "contention", "scenario states changed under this request too often to match it")
}

// match finds the stub that answers req: the first in the set's order
// (of the candidates for its path) whose request pattern req meets and
// whose scenario, if any, is in the state it requires. Each scenario's
// state is read once; the winner's move to its next state is a
// compare-and-swap on the state read, and moved is false when another
// request moved it first (match again). also lists the other stubs that
// matched, in order.
func (s *Server) match(req *stub.Request) (won *stub.Stub, also []string, moved bool) {
	cands := s.current.Load().candidates(req.Path)
	var states map[scenarioKey]string
	var wonKey scenarioKey
	for p := cands.next(); p != nil; p = cands.next() {
		st := p.stub
		if !st.Matches(req) {
			continue
		}
		var key scenarioKey
		if sc := st.Scenario; sc != nil {
			key = scenarioKey{sc.Name, sc.KeyOf(req)}
			state, ok := states[key]
			if !ok {
				if states == nil {
					states = map[scenarioKey]string{}
				}
				state = s.scenarios.get(key)
				states[key] = state
			}
			if sc.Required != "" && sc.Required != state {
				continue
			}
		}
		if won == nil {
			won, wonKey = st, key
		} else {
			also = append(also, st.ID())
		}
	}
	if won != nil && won.Scenario != nil && won.Scenario.Next != "" {
		if !s.scenarios.compareAndSwap(wonKey, states[wonKey], won.Scenario.Next) {
			return nil, nil, false
		}
	}
	return won, also, true
}

// NearMiss is a stub that did not answer a request, and why.
type NearMiss struct {
	ID         string          `json:"id"`
	Name       string          `json:"name,omitempty"`
	Distance   float64         `json:"distance"`
	Mismatches []stub.Mismatch `json:"mismatches"`
}

// nearMisses are the closest stubs to req, closest first: the share of
// each stub's conditions req fails, by weight (stub.Distance), its
// scenario state counted as a header.
func (s *Server) nearMisses(req *stub.Request, most int) []NearMiss {
	var out []NearMiss
	for _, p := range s.current.Load().ordered {
		st := p.stub
		ms := st.Explain(req)
		extra := 0.0
		if sc := st.Scenario; sc != nil && sc.Required != "" {
			extra = 1
			if state := s.scenarios.get(scenarioKey{sc.Name, sc.KeyOf(req)}); state != sc.Required {
				ms = append(ms, stub.NewMismatch("scenario "+sc.Name, "state "+sc.Required, "state "+state))
			}
		}
		if len(ms) == 0 {
			continue // it matches now: no near miss
		}
		out = append(out, NearMiss{ID: st.ID(), Name: st.Mapping.Name, Distance: stub.Distance(ms, st, extra), Mismatches: ms})
	}
	sortNearMisses(out)
	return out[:min(len(out), most)]
}

// unmatchedBody is the 404 an unmatched request gets: the project's error
// shape, the request, and the closest stubs.
type unmatchedBody struct {
	Error      problem    `json:"error"`
	Request    requestRef `json:"request"`
	NearMisses []NearMiss `json:"nearMisses"`
}

type requestRef struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

func (s *Server) writeUnmatched(w http.ResponseWriter, req *stub.Request) stub.Served {
	out := unmatchedBody{
		Error:      problem{Code: "not_matched", Message: "Request was not matched"},
		Request:    requestRef{Method: req.Method, URL: req.URL()},
		NearMisses: s.nearMisses(req, s.opts.NearMisses),
	}
	if out.NearMisses == nil {
		out.NearMisses = []NearMiss{}
	}
	body, _ := json.Marshal(out) // plain data always encodes
	header := http.Header{"Content-Type": {"application/json"}}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(body) // the client went away; the journal still records the answer
	return stub.Served{Status: http.StatusNotFound, Header: header, Body: body}
}

// problem is the project's error shape's inner object.
type problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeProblem answers {"error":{"code":...,"message":...}}.
func writeProblem(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]problem{"error": {Code: code, Message: message}}) // plain data always encodes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// readStubBody reads r's body up to limit; a request without one (GET)
// allocates nothing, one with a Content-Length within the limit one
// buffer of that size (net/http ends its body there; io.ReadAll would
// start at 512 bytes and grow).
func readStubBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if n := r.ContentLength; 0 < n && n <= limit {
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func sortNearMisses(ns []NearMiss) {
	slices.SortStableFunc(ns, func(a, b NearMiss) int { return cmp.Compare(a.Distance, b.Distance) })
}
