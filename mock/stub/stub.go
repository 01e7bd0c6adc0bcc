package stub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
)

// DefaultPriority is a stub's priority when its mapping sets none (as
// WireMock); 1 comes first.
const DefaultPriority = 5

// ScenarioStarted is every scenario's first state (as WireMock).
const ScenarioStarted = "Started"

// Sequence modes for a stub with several responses.
const (
	SequenceRepeatLast = "repeat-last"
	SequenceCycle      = "cycle"
)

// Stub is a compiled Mapping. It is safe for concurrent use; its only
// state is the position in its sequence of responses.
type Stub struct {
	// Mapping is what the stub was compiled from, with its ID set.
	Mapping Mapping
	// Priority is the mapping's, or DefaultPriority.
	Priority int
	// Scenario is nil for a stub outside any scenario.
	Scenario *Scenario

	req       *requestMatcher
	responses []*response
	cycle     bool
	served    atomic.Uint64
}

// Scenario is a stub's part in a scenario.
type Scenario struct {
	Name string
	// Required is the state the scenario must be in ("" for any).
	Required string
	// Next is the state the stub moves the scenario to ("" for none).
	Next string
	// Key, when set, keeps the scenario's state per request value.
	Key *ValueSource
	key func(*Request) string
}

// Compile checks m and builds its stub; files is the __files folder its
// bodyFileName reads from (nil: none). Errors name the field.
func Compile(m Mapping, files fs.FS) (*Stub, error) {
	if m.ID == "" {
		m.ID = m.UUID
	}
	if m.UUID != "" && m.UUID != m.ID {
		return nil, fmt.Errorf("uuid: %q differs from id %q", m.UUID, m.ID)
	}
	s := &Stub{Mapping: m, Priority: DefaultPriority}
	if m.Priority != nil {
		if *m.Priority < 1 {
			return nil, errors.New("priority: must be >= 1")
		}
		s.Priority = *m.Priority
	}
	var err error
	if s.req, err = compileRequest(m.Request); err != nil {
		return nil, err
	}
	switch {
	case m.Response != nil && len(m.Responses) > 0:
		return nil, errors.New("response and responses: set one")
	case m.Response != nil:
		r, err := compileResponse(*m.Response, files, "response")
		if err != nil {
			return nil, err
		}
		s.responses = []*response{r}
	case len(m.Responses) > 0:
		for i, d := range m.Responses {
			r, err := compileResponse(d, files, fmt.Sprintf("responses[%d]", i))
			if err != nil {
				return nil, err
			}
			s.responses = append(s.responses, r)
		}
	default:
		// WireMock answers 200 with no body for a mapping without a response.
		r, _ := compileResponse(ResponseDefinition{}, nil, "response") // an empty definition always compiles
		s.responses = []*response{r}
	}
	switch m.Sequence {
	case "", SequenceRepeatLast:
	case SequenceCycle:
		s.cycle = true
	default:
		return nil, fmt.Errorf("sequence: %q is not %s or %s", m.Sequence, SequenceRepeatLast, SequenceCycle)
	}
	if s.Scenario, err = compileScenario(m); err != nil {
		return nil, err
	}
	return s, nil
}

func compileScenario(m Mapping) (*Scenario, error) {
	if m.ScenarioName == "" {
		if m.RequiredScenarioState != "" || m.NewScenarioState != "" || m.ScenarioKey != nil {
			return nil, errors.New("scenarioName: required with requiredScenarioState, newScenarioState or scenarioKey")
		}
		return nil, nil
	}
	sc := &Scenario{Name: m.ScenarioName, Required: m.RequiredScenarioState, Next: m.NewScenarioState, Key: m.ScenarioKey}
	if k := m.ScenarioKey; k != nil {
		key, err := valueOf(*k, "scenarioKey")
		if err != nil {
			return nil, err
		}
		sc.key = key
	}
	return sc, nil
}

// valueOf builds the reader of a ValueSource.
func valueOf(v ValueSource, at string) (func(*Request) string, error) {
	set := 0
	for _, s := range []string{v.Header, v.Query, v.Cookie, v.JSONPath} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("%s: set exactly one of header, query, cookie and jsonPath", at)
	}
	switch {
	case v.Header != "":
		return func(r *Request) string { return r.Header.Get(v.Header) }, nil
	case v.Query != "":
		return func(r *Request) string { return r.Query.Get(v.Query) }, nil
	case v.Cookie != "":
		return func(r *Request) string { return nth(r.Cookies[v.Cookie], 0) }, nil
	}
	jp, err := compileJSONPath(v.JSONPath)
	if err != nil {
		return nil, fmt.Errorf("%s.jsonPath: %w", at, err)
	}
	return func(r *Request) string {
		doc, err := r.JSONBody()
		if err != nil {
			return ""
		}
		got, _ := jp.selectFrom(doc)
		return nth(jp.texts(got), 0)
	}, nil
}

// KeyOf is the value that keys the scenario's state for r; "" for the
// shared state (no key, or the request lacks the value).
func (sc *Scenario) KeyOf(r *Request) string {
	if sc.key == nil {
		return ""
	}
	return sc.key(r)
}

// ID is the stub's id.
func (s *Stub) ID() string { return s.Mapping.ID }

// Matches reports whether r meets the stub's request pattern (the
// scenario's state is the caller's to check).
func (s *Stub) Matches(r *Request) bool { return s.req.matches(r) }

// ExactPath is the path of every request the stub matches: its exact
// urlPath, or its exact url's part before the query. ok is false for a
// stub that matches more than one path (a pattern, or no URL condition).
// Sets index stubs by it, so that a request is not tried against stubs
// for other paths.
func (s *Stub) ExactPath() (path string, ok bool) {
	switch u := s.req.url; u.field {
	case "urlPath":
		return u.exact, true
	case "url":
		path, _, _ := strings.Cut(u.exact, "?")
		return path, true
	}
	return "", false
}

// FirstSegment is the start of the path, up to and with its second
// slash ("/orders/"), of every request the stub matches by a URL
// pattern whose literal prefix holds it; ok is false for a stub without
// such a pattern. Sets index patterns by it (see PathSegment).
func (s *Stub) FirstSegment() (segment string, ok bool) {
	if s.req.url.re == nil {
		return "", false
	}
	seg := PathSegment(s.req.url.re.prefix)
	// A url pattern sees the query too: a segment with a '?' could end
	// in the query, past the path's own first segment.
	if seg == "" || strings.Contains(seg, "?") {
		return "", false
	}
	return seg, true
}

// PathSegment is path up to and with its second slash ("/orders/7" →
// "/orders/"); "" when it has none.
func PathSegment(path string) string {
	if len(path) == 0 || path[0] != '/' {
		return ""
	}
	i := strings.IndexByte(path[1:], '/')
	if i < 0 {
		return ""
	}
	return path[:i+2]
}

// Explain lists the conditions r fails.
func (s *Stub) Explain(r *Request) []Mismatch { return s.req.explain(r) }

// Conditions is how many conditions the request pattern checks.
func (s *Stub) Conditions() int { return s.req.conditions }

// Specificity ranks stubs of equal priority: the stub that checks more
// wins. An exact url counts 3, an exact urlPath 2, a URL pattern 1, and
// the method and each query parameter, header, cookie and body pattern 1.
func (s *Stub) Specificity() int { return s.req.specificity }

// ResetSequence starts the stub's responses from the first again.
func (s *Stub) ResetSequence() { s.served.Store(0) }

// Served is what a stub answered, for the journal.
type Served struct {
	Status int
	Header http.Header
	Body   []byte
	// Fault is the fault's type when one happened.
	Fault string
	Delay time.Duration
}

// Respond writes the stub's next response for r to w: after its delay,
// a fault if one happens, else its status, headers and body. It ends
// early, writing nothing, when ctx ends during the delay.
func (s *Stub) Respond(ctx context.Context, w http.ResponseWriter, r *Request) Served {
	resp := s.next()
	out := Served{Delay: resp.delay.sample()}
	if !wait.Sleep(ctx, out.Delay) {
		return out
	}
	header, body, err := resp.render(r)
	status := resp.status
	if err != nil {
		// A templated body file that is not there: the stub's fault, said
		// as such rather than as a 200 with no body.
		status, body, header = http.StatusInternalServerError, []byte("mock: "+err.Error()+"\n"), http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	}
	if f := resp.fault; f != nil && f.happens() {
		out.Fault = f.kind
		if f.kind != FaultStatus {
			writeConnectionFault(w, f.kind)
			return out
		}
		status = f.status
	}
	h := w.Header()
	for k, vs := range header {
		h[k] = vs
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // as WireMock: no type unless the stub names one (no sniffing)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; the journal still records the answer
	out.Status, out.Header, out.Body = status, header, body
	return out
}

// next is the response in turn.
func (s *Stub) next() *response {
	if len(s.responses) == 1 {
		return s.responses[0]
	}
	n := s.served.Add(1) - 1
	if s.cycle {
		return s.responses[n%uint64(len(s.responses))]
	}
	return s.responses[min(n, uint64(len(s.responses)-1))]
}
