package mock

import (
	"maps"
	"slices"
	"sync"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// scenarioKey names one state: a scenario, and the request value that
// keys it ("" for the shared state).
type scenarioKey struct {
	name, key string
}

// scenarios holds every scenario's state. A request reads each state it
// needs once and moves it with compareAndSwap, so two requests that read
// the same state cannot both move it: the second finds it changed and
// matches again.
type scenarios struct {
	mu     sync.Mutex
	states map[scenarioKey]string // absent: stub.ScenarioStarted
}

func newScenarios() *scenarios { return &scenarios{states: map[scenarioKey]string{}} }

func (s *scenarios) get(k scenarioKey) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.states[k]; ok {
		return st
	}
	return stub.ScenarioStarted
}

// compareAndSwap sets k to next if it is still old.
func (s *scenarios) compareAndSwap(k scenarioKey, old, next string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.states[k]
	if !ok {
		cur = stub.ScenarioStarted
	}
	if cur != old {
		return false
	}
	s.states[k] = next
	return true
}

func (s *scenarios) set(k scenarioKey, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[k] = state
}

// reset puts every scenario back to its first state.
func (s *scenarios) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.states)
}

// Scenario is a scenario as the admin API lists it: WireMock's fields,
// and States for the states kept per request value (own).
type Scenario struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	State          string            `json:"state"`
	PossibleStates []string          `json:"possibleStates"`
	States         map[string]string `json:"states,omitempty"`
}

// list describes every scenario the stubs name, by name.
func (s *scenarios) list(stubs []*stub.Stub) []Scenario {
	possible := map[string]map[string]bool{}
	for _, st := range stubs {
		sc := st.Scenario
		if sc == nil {
			continue
		}
		if possible[sc.Name] == nil {
			possible[sc.Name] = map[string]bool{stub.ScenarioStarted: true}
		}
		for _, state := range []string{sc.Required, sc.Next} {
			if state != "" {
				possible[sc.Name][state] = true
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Scenario, 0, len(possible))
	for _, name := range slices.Sorted(maps.Keys(possible)) {
		sc := Scenario{ID: name, Name: name, State: stub.ScenarioStarted, PossibleStates: slices.Sorted(maps.Keys(possible[name]))}
		for k, state := range s.states {
			switch {
			case k.name != name:
			case k.key == "":
				sc.State = state
			default:
				if sc.States == nil {
					sc.States = map[string]string{}
				}
				sc.States[k.key] = state
			}
		}
		out = append(out, sc)
	}
	return out
}
