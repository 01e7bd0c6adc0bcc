package registrysync

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"time"
)

// Status is what GET /status answers: the syncer, its sources and each
// flow (one direction of a pair).
type Status struct {
	ID string `json:"id"`
	// Leader is set while this replica writes; a standby follows its
	// sources only.
	Leader bool `json:"leader"`
	// Started is when the syncer started.
	Started time.Time      `json:"started"`
	Sources []SourceStatus `json:"sources"`
	Pairs   []FlowStatus   `json:"pairs"`
}

// SourceStatus is one source registry.
type SourceStatus struct {
	Registry string `json:"registry"`
	// Complete is set once it was listed completely since the syncer
	// started: until every source is, nothing is deleted.
	Complete     bool       `json:"complete"`
	LastComplete *time.Time `json:"lastComplete,omitempty"`
	Services     int        `json:"services"`
	Instances    int        `json:"instances"`
	// Error is its last failure, until its next complete listing.
	Error string `json:"error,omitempty"`
}

// FlowStatus is one direction of a pair.
type FlowStatus struct {
	// Pair is the pair's index in the configuration.
	Pair int    `json:"pair"`
	From string `json:"from"`
	To   string `json:"to"`
	// Copies is how many copies of From's instances To holds, as last
	// listed and written.
	Copies int `json:"copies"`
	// States counts the flow's records: in_sync, failed (not copied, or
	// the write failed; see errors), held (a deletion not done: the
	// breaker is open, or some source was not listed completely since
	// the start).
	States map[string]int `json:"states"`
	// LastFullSync is when its last whole pass ended.
	LastFullSync *time.Time `json:"lastFullSync,omitempty"`
	// LagSeconds is how long the oldest change not yet applied has
	// waited (0 when caught up; a standby does not apply).
	LagSeconds float64       `json:"lagSeconds"`
	Breaker    BreakerStatus `json:"breaker"`
	// Errors are the latest records not copied and writes that failed.
	Errors []RecordError `json:"errors"`
}

// BreakerStatus is a flow's deletion breaker.
type BreakerStatus struct {
	Open bool `json:"open"`
	// Held is how many deletions it holds.
	Held   int        `json:"held,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	Trips  int        `json:"trips"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Status reports where the syncer stands.
func (s *Syncer) Status() Status {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{ID: s.cfg.ID, Leader: s.leading.Load(), Started: s.started}
	for _, src := range s.sources {
		st.Sources = append(st.Sources, SourceStatus{
			Registry: src.reg.Name, Complete: src.complete, LastComplete: timeOrNil(src.lastComplete),
			Services: len(src.groups), Instances: countKnown(src.groups), Error: src.lastErr,
		})
	}
	for _, f := range s.flows {
		fs := FlowStatus{
			Pair: f.pair, From: f.from, To: f.to, Copies: s.copiesOfLocked(s.targets[f.to], f.from),
			States:       map[string]int{string(stateInSync): 0, string(stateFailed): 0, string(stateHeld): 0},
			LastFullSync: timeOrNil(f.lastFull),
			Breaker: BreakerStatus{Open: f.breaker.open, Held: f.breaker.held, Reason: f.breaker.reason,
				Since: timeOrNil(f.breaker.since), Trips: f.breaker.trips},
			Errors: slices.Clone(f.errs),
		}
		if fs.Errors == nil {
			fs.Errors = []RecordError{}
		}
		for _, state := range f.states {
			fs.States[string(state)]++
		}
		if st.Leader {
			oldest := f.inFlight
			for _, t := range append([]time.Time{f.dirtyAll}, mapValues(f.dirty)...) {
				if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
					oldest = t
				}
			}
			if !oldest.IsZero() {
				fs.LagSeconds = now.Sub(oldest).Seconds()
			}
		}
		st.Pairs = append(st.Pairs, fs)
	}
	return st
}

func mapValues(m map[string]time.Time) []time.Time {
	out := make([]time.Time, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Release lets the flows from->to whose deletion breaker is open delete
// what they hold at their next pass ("" matches every registry), and
// reports how many it released.
func (s *Syncer) Release(from, to string) int {
	s.mu.Lock()
	n := 0
	now := time.Now()
	for _, f := range s.flows {
		if f.breaker.open && (from == "" || f.from == from) && (to == "" || f.to == to) {
			f.breaker.released = true
			f.markAll(now)
			n++
		}
	}
	s.mu.Unlock()
	if n > 0 {
		s.log.Warn("deletion breaker released by an operator", "flows", n, "from", from, "to", to)
		s.signal()
	}
	return n
}

// Handler serves GET /status (Status as JSON) and POST /breaker/release
// (?from=&to= narrow it), which answers only clients on loopback: an
// operator on the syncer's host, not whoever reaches its metrics.
func (s *Syncer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Status())
	})
	mux.HandleFunc("POST /breaker/release", func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "the breaker is released from the syncer's host only (loopback)"})
			return
		}
		n := s.Release(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
		writeJSON(w, http.StatusOK, map[string]int{"released": n})
	})
	return mux
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}
