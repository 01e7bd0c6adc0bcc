package traffic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sample is one request's outcome.
type Sample struct {
	Class string `json:"class"`
	// Offset is when the request was due, from the start of the run.
	Offset  time.Duration `json:"offset"`
	Latency time.Duration `json:"latency"`
	Status  int           `json:"status"`
	Err     string        `json:"error,omitempty"`
	// Versions maps each demo service on the answer's path to the version
	// that served it; Instance is the target's instance.
	Versions map[string]string `json:"versions,omitempty"`
	Instance string            `json:"instance,omitempty"`
	// Origin is where the answering instance lives ("legacy", "mesh"), as
	// Plan.Origin tells; empty without one.
	Origin string `json:"origin,omitempty"`
	// Resent marks a request the client's transport sent again, or whose
	// answer says an app on its path did so with its call downstream: Go
	// re-sends an idempotent request on a new connection when a reused one
	// closes before an answer. That retry is not the mesh's, so a request
	// answered only after it counts as failed (Err says so).
	Resent bool `json:"resent,omitempty"`
}

// errResent is the failure of a request answered only after the client re-sent it.
const errResent = "answered only after an HTTP client re-sent it (the generator's or an app's, not a mesh retry)"

// OK reports whether the request got a 2xx answer.
func (s *Sample) OK() bool { return s.Err == "" && s.Status >= 200 && s.Status < 300 }

// answer is the part of the demo app's JSON answer the generator reads.
type answer struct {
	Service    string  `json:"service"`
	Version    string  `json:"version"`
	Instance   string  `json:"instance"`
	Downstream *answer `json:"downstream"`
	// Resent: the app's own client sent its downstream call again.
	Resent bool `json:"resent"`
}

// Run is a running or finished traffic run.
type Run struct {
	plan     Plan
	started  time.Time
	done     chan struct{}
	sent     atomic.Int64
	finished atomic.Int64
	failed   atomic.Int64
	mu       sync.Mutex
	samples  []Sample
	ended    time.Time
	timeline *timeline
}

// Start begins the run; it ends by itself after the planned requests, or
// when ctx ends (requests in flight are then cancelled and recorded).
func Start(ctx context.Context, p Plan) (*Run, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	r := &Run{plan: p, started: time.Now(), done: make(chan struct{}), timeline: newTimeline(targetService(p.URL), len(p.Classes) > 0)}
	go r.loop(ctx)
	return r, nil
}

func (r *Run) loop(ctx context.Context) {
	defer close(r.done)
	total := r.plan.total()
	interval := time.Duration(float64(time.Second) / r.plan.Rate)
	sem := make(chan struct{}, r.plan.MaxInFlight)
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := range total {
		due := time.Duration(i) * interval
		if wait := time.Until(r.started.Add(due)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				wg.Wait()
				r.finish()
				return
			}
		} else if ctx.Err() != nil {
			break
		}
		class := r.plan.classOf(i)
		r.sent.Add(1)
		select {
		case sem <- struct{}{}:
		default:
			// Open loop: a request due while the cap is reached is not
			// delayed (that would hide the overload); it fails.
			r.record(Sample{Class: className(class), Offset: due, Err: "overloaded: maxInFlight reached"})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.record(r.send(ctx, class, due))
		}()
	}
	wg.Wait()
	r.finish()
}

func className(c *Class) string {
	if c == nil {
		return DefaultClass
	}
	return c.Name
}

func (r *Run) finish() {
	r.mu.Lock()
	r.ended = time.Now()
	r.mu.Unlock()
}

func (r *Run) record(s Sample) {
	r.finished.Add(1)
	if !s.OK() {
		r.failed.Add(1)
	}
	r.timeline.add(&s)
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

func (r *Run) send(ctx context.Context, class *Class, due time.Duration) Sample {
	s := Sample{Class: className(class), Offset: due}
	ctx, cancel := context.WithTimeout(ctx, r.plan.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.plan.Method, r.plan.URL, nil)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	for k, v := range r.plan.Headers {
		req.Header.Set(k, v)
	}
	if class != nil {
		for k, v := range class.Headers {
			req.Header.Set(k, v)
		}
	}
	// Each attempt takes a connection; each answer (a redirect's too) has a
	// first byte. More connections than answers is a re-sent request.
	var conns, answers atomic.Int32
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { conns.Add(1) },
		GotFirstResponseByte: func() { answers.Add(1) },
	}))
	start := time.Now()
	resp, err := r.plan.Client.Do(req)
	s.Resent = conns.Load() > answers.Load() && err == nil
	if err != nil {
		s.Latency = time.Since(start)
		s.Err = shortErr(err)
		return s
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	s.Latency = time.Since(start)
	s.Status = resp.StatusCode
	if err != nil {
		s.Err = "reading the answer: " + shortErr(err)
		return s
	}
	var a answer
	if json.Unmarshal(body, &a) == nil && a.Service != "" {
		s.Instance = a.Instance
		s.Versions = map[string]string{}
		for hop := &a; hop != nil; hop = hop.Downstream {
			s.Versions[strings.ToLower(hop.Service)] = hop.Version
			s.Resent = s.Resent || hop.Resent
		}
	}
	if r.plan.Origin != nil {
		s.Origin = r.plan.Origin(resp, s.Instance)
	}
	if s.Resent && s.OK() {
		s.Err = errResent
	}
	return s
}

// shortErr drops the URL noise from transport errors.
func shortErr(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "timeout"
		}
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// Wait blocks until the run ends or ctx does.
func (r *Run) Wait(ctx context.Context) error {
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the run has ended.
func (r *Run) Done() <-chan struct{} { return r.done }

// Name is the run's name.
func (r *Run) Name() string { return r.plan.Name }

// Progress is a live view of a run.
type Progress struct {
	Name                string
	Planned, Sent, Done int
	Failed              int
	Elapsed             time.Duration
	// Versions counts answers per version of the target service; Classes
	// the same per class.
	Versions map[string]int
	Classes  map[string]map[string]int
	Finished bool
}

// Progress returns counts so far.
func (r *Run) Progress() Progress {
	p := Progress{Name: r.plan.Name, Planned: r.plan.total(), Sent: int(r.sent.Load()), Done: int(r.finished.Load()),
		Failed: int(r.failed.Load()), Elapsed: time.Since(r.started), Versions: map[string]int{}, Classes: map[string]map[string]int{}}
	select {
	case <-r.done:
		p.Finished = true
	default:
	}
	target := targetService(r.plan.URL)
	r.mu.Lock()
	for i := range r.samples {
		x := &r.samples[i]
		if v, ok := x.Versions[target]; ok && x.OK() {
			p.Versions[v]++
			if p.Classes[x.Class] == nil {
				p.Classes[x.Class] = map[string]int{}
			}
			p.Classes[x.Class][v]++
		}
	}
	r.mu.Unlock()
	return p
}

// Samples returns a copy of the samples recorded so far.
func (r *Run) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.samples...)
}

// Timeline returns the run's figures per second so far, by when the
// requests were due: one entry per second from the start of the run.
func (r *Run) Timeline() []Second { return r.timeline.snapshot() }

// Window is when the run started and ended (zero end while running).
func (r *Run) Window() (start, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started, r.ended
}

// Target is the service the run calls.
func (r *Run) Target() string { return targetService(r.plan.URL) }

func targetService(rawURL string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://")
	if i := strings.IndexAny(host, "/:?"); i >= 0 {
		host = host[:i]
	}
	return strings.ToLower(host)
}

// String summarises a run in one line.
func (p Progress) String() string {
	return fmt.Sprintf("%s %d/%d sent, %d failed", p.Name, p.Sent, p.Planned, p.Failed)
}
