package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/spec"
	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

// trafficRun is a traffic step's run and the app counters around it.
type trafficRun struct {
	spec          *spec.Traffic
	run           *traffic.Run
	cancel        context.CancelFunc
	before, after statsSnapshot
	finished      bool
}

func (r *run) runSteps(ctx context.Context) {
	r.res.Status = report.Passed
	stopped := false
	for i := range r.s.Steps {
		st := &r.s.Steps[i]
		rep := report.Step{Index: i}
		if i < len(r.s.StepLines) {
			rep.Line = r.s.StepLines[i]
		}
		rep.Action, rep.Detail = describe(st)
		if stopped {
			rep.Status, rep.Message = report.Skipped, "an earlier step could not be carried out"
			r.res.Steps = append(r.res.Steps, rep)
			continue
		}
		r.progress.set(fmt.Sprintf("step %d/%d %s %s", i+1, len(r.s.Steps), rep.Action, rep.Detail))
		start := time.Now()
		msg, err := r.step(ctx, st)
		rep.Started, rep.Duration, rep.Message = start, time.Since(start), msg
		switch {
		case err == nil:
			rep.Status = report.Passed
		case st.Assert != nil && ctx.Err() == nil:
			// A failed check does not stop the run: later checks still tell.
			rep.Status, rep.Message = report.Failed, err.Error()
			r.res.Status = report.Failed
		default:
			rep.Status, rep.Message = report.Error, err.Error()
			r.res.Status = report.Failed
			if ctx.Err() != nil {
				rep.Message = stopReason(ctx, r.s.Timeout)
				if interrupted(ctx) {
					rep.Status = report.Interrupted // Run marks the result so too
				}
			}
			stopped = true
		}
		r.res.Steps = append(r.res.Steps, rep)
	}
	// Runs still in the background end here, so their figures are reported.
	for _, t := range r.trafficOrder() {
		if !t.finished {
			_ = r.awaitTraffic(ctx, t) // ctx ending cancels the run; the report shows what was sent
		}
	}
	for _, t := range r.trafficOrder() {
		r.res.Traffic = append(r.res.Traffic, trafficReport(t))
	}
	// The sidecars are read after a cancelled run too, within bounds.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	r.res.Requests = r.requests(rctx)
	if ctx.Err() != nil && r.res.Reason == "" {
		r.res.Reason = stopReason(ctx, r.s.Timeout)
	}
}

// interrupted reports whether ctx ended from outside (a signal) rather
// than by the scenario's own timeout.
func interrupted(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

func stopReason(ctx context.Context, timeout time.Duration) string {
	if interrupted(ctx) {
		return "interrupted: " + context.Cause(ctx).Error()
	}
	return fmt.Sprintf("the scenario's timeout (%s) ran out", timeout)
}

func (r *run) trafficOrder() []*trafficRun {
	var out []*trafficRun
	for i := range r.s.Steps {
		if t := r.s.Steps[i].Traffic; t != nil && r.traffic[t.Name] != nil {
			out = append(out, r.traffic[t.Name])
		}
	}
	return out
}

func trafficReport(t *trafficRun) report.TrafficReport {
	samples := t.run.Samples()
	started, _ := t.run.Window()
	rep := report.TrafficReport{Name: t.spec.Name, Service: t.spec.Service, Container: t.spec.Container,
		Summary: traffic.Summarise(samples, ""), Classes: map[string]report.ClassReport{}, Started: started, Timeline: t.run.Timeline()}
	classes := []string{spec.DefaultClass}
	for _, c := range t.spec.Classes {
		classes = append(classes, c.Name)
	}
	for _, c := range classes {
		cr := report.ClassReport{Summary: traffic.Summarise(samples, c)}
		if t.spec.Container == "" { // a container's answers name no versions
			cr.Shares, _ = traffic.Shares(samples, c, strings.ToLower(t.spec.Service))
		}
		rep.Classes[c] = cr
	}
	return rep
}

// describe names a step for reports.
func describe(st *spec.Step) (action, detail string) {
	switch {
	case st.Apply != nil:
		return "apply", st.Apply.Kind + "/" + st.Apply.Name
	case st.Delete != nil:
		return "delete", st.Delete.Kind + "/" + st.Delete.Name
	case st.Traffic != nil:
		t := st.Traffic
		bound := strconv.Itoa(t.Requests) + " requests"
		if t.Duration > 0 {
			bound = t.Duration.String()
		}
		bg := ""
		if t.Background {
			bg = " in the background"
		}
		target := t.Service
		if t.Container != "" {
			target = "container " + t.Container + " "
		}
		return "traffic", fmt.Sprintf("%s: %s%s at %g/s for %s%s", t.Name, target, t.Path, t.Rate, bound, bg)
	case st.Await != "":
		return "await", st.Await
	case st.Wait != nil:
		return "wait", st.Wait.Duration.String()
	case st.Kill != "":
		return "kill", st.Kill
	case st.Stop != "":
		return "stop", st.Stop
	case st.Start != "":
		return "start", st.Start
	case st.Restart != "":
		return "restart", st.Restart
	case st.Pause != "":
		return "pause", st.Pause
	case st.Resume != "":
		return "resume", st.Resume
	case st.Latency != nil:
		return "latency", fmt.Sprintf("%s +%s±%s", st.Latency.Component, st.Latency.Delay, st.Latency.Jitter)
	case st.Cut != "":
		return "cut", st.Cut
	case st.Heal != "":
		return "heal", st.Heal
	case st.AppFault != nil:
		return "appFault", st.AppFault.Component
	case st.Assert != nil:
		return "assert", describeAssert(st.Assert)
	case st.Shift != nil:
		return "shift", fmt.Sprintf("%s to %s: %s", st.Shift.Service, st.Shift.To, shares(st.Shift.Steps))
	case st.Rollback != nil:
		return "rollback", st.Rollback.Service + " to legacy"
	case st.Drain != nil:
		return "drain", fmt.Sprintf("%s (wait %s)", st.Drain.Component, st.Drain.Wait)
	case st.ReleaseBreaker != "":
		return "releaseBreaker", st.ReleaseBreaker
	}
	return "?", ""
}

func (r *run) step(ctx context.Context, st *spec.Step) (string, error) {
	switch {
	case st.Apply != nil:
		return r.apply(ctx, st.Apply)
	case st.Delete != nil:
		return r.delete(ctx, st.Delete)
	case st.Traffic != nil:
		return r.startTraffic(ctx, st.Traffic)
	case st.Await != "":
		t := r.traffic[st.Await]
		if err := r.awaitTraffic(ctx, t); err != nil {
			return "", err
		}
		return summaryLine(t), nil
	case st.Wait != nil:
		return "", sleep(ctx, st.Wait.Duration)
	case st.Kill != "":
		return r.eachComponent(ctx, st.Kill, func(c *Component) error { return r.stop(ctx, c, true) })
	case st.Stop != "":
		return r.eachComponent(ctx, st.Stop, func(c *Component) error { return r.stop(ctx, c, false) })
	case st.Start != "":
		return r.eachComponent(ctx, st.Start, func(c *Component) error { return r.start(ctx, c) })
	case st.Restart != "":
		return r.eachComponent(ctx, st.Restart, func(c *Component) error {
			if err := r.stop(ctx, c, false); err != nil {
				return err
			}
			return r.start(ctx, c)
		})
	case st.Pause != "":
		return r.eachComponent(ctx, st.Pause, func(c *Component) error { return r.prov.Pause(ctx, c.Name) })
	case st.Resume != "":
		return r.eachComponent(ctx, st.Resume, func(c *Component) error { return r.prov.Resume(ctx, c.Name) })
	case st.Latency != nil:
		l := st.Latency
		return r.eachComponent(ctx, l.Component, func(c *Component) error { return r.prov.Latency(ctx, c.Name, l.Delay, l.Jitter) })
	case st.Cut != "":
		return r.eachComponent(ctx, st.Cut, func(c *Component) error { return r.prov.Cut(ctx, c.Name) })
	case st.Heal != "":
		return r.eachComponent(ctx, st.Heal, func(c *Component) error { return r.prov.Heal(ctx, c.Name) })
	case st.AppFault != nil:
		return r.eachComponent(ctx, st.AppFault.Component, func(c *Component) error { return r.appFault(ctx, c, st.AppFault) })
	case st.Assert != nil:
		return r.assert(ctx, st.Assert)
	case st.Shift != nil:
		return r.shift(ctx, st.Shift, st.Shift.Steps, st.Shift.To)
	case st.Rollback != nil:
		return r.shift(ctx, st.Rollback, []spec.Share{1}, spec.SideLegacy)
	case st.Drain != nil:
		return r.drain(ctx, st.Drain)
	case st.ReleaseBreaker != "":
		return r.releaseBreaker(ctx, st.ReleaseBreaker)
	}
	return "", fmt.Errorf("empty step")
}

func shares(steps []spec.Share) string {
	parts := make([]string, len(steps))
	for i, p := range steps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

func (r *run) eachComponent(ctx context.Context, pattern string, f func(*Component) error) (string, error) {
	names := spec.Match(r.names, pattern)
	for _, n := range names {
		if err := f(r.byName[n]); err != nil {
			return "", fmt.Errorf("%s: %w", n, err)
		}
	}
	return strings.Join(names, ", "), nil
}

func (r *run) stop(ctx context.Context, c *Component, kill bool) error {
	r.bankRetries(ctx, c)
	if err := r.prov.Stop(ctx, c.Name, kill); err != nil {
		return err
	}
	r.mu.Lock()
	r.down[c.Name] = true
	r.mu.Unlock()
	return nil
}

func (r *run) start(ctx context.Context, c *Component) error {
	if err := r.prov.Start(ctx, c); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.down, c.Name)
	r.mu.Unlock()
	return nil
}

// ctl is a control API client for the registry's current address (a
// restarted container has a new host port).
func (r *run) ctl(ctx context.Context) (*control.Client, error) {
	addr, err := r.prov.HostAddr(ctx, spec.ComponentRegistry, "control")
	if err != nil {
		return nil, err
	}
	return control.NewClient("http://"+addr, control.WithRetries(3, 200*time.Millisecond), control.WithLogger(r.log), control.WithToken(r.opts.ControlToken))
}

func (r *run) apply(ctx context.Context, a *spec.Apply) (string, error) {
	c, err := r.ctl(ctx)
	if err != nil {
		return "", err
	}
	res, err := c.Apply(ctx, &registry.Resource{Kind: a.Kind, Name: a.Name, Labels: a.Labels, Spec: a.SpecJSON()})
	if err != nil {
		return "", err
	}
	if a.NoWait {
		return fmt.Sprintf("revision %d", res.Revision), nil
	}
	start := time.Now()
	if err := r.waitRevision(ctx, res.Revision); err != nil {
		return "", fmt.Errorf("applied at revision %d but not loaded by every sidecar: %w", res.Revision, err)
	}
	return fmt.Sprintf("revision %d, loaded by every sidecar in %s", res.Revision, time.Since(start).Round(time.Millisecond)), nil
}

func (r *run) delete(ctx context.Context, d *spec.Delete) (string, error) {
	c, err := r.ctl(ctx)
	if err != nil {
		return "", err
	}
	if err := c.Delete(ctx, d.Kind, d.Name); err != nil {
		return "", err
	}
	if d.NoWait {
		return "", nil
	}
	_, rev, err := c.Resources(ctx, d.Kind)
	if err != nil {
		return "", err
	}
	if err := r.waitRevision(ctx, rev); err != nil {
		return "", fmt.Errorf("deleted but not unloaded by every sidecar: %w", err)
	}
	return fmt.Sprintf("revision %d loaded by every sidecar", rev), nil
}

func (r *run) startTraffic(ctx context.Context, t *spec.Traffic) (string, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: t.MaxInFlight, MaxConnsPerHost: 0,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	host := t.Service
	if t.Container != "" {
		host = t.Container
		transport.DialContext = r.dialContainer(t.Container)
	} else {
		egress, err := r.prov.HostAddr(ctx, t.Via, "egress")
		if err != nil {
			return "", err
		}
		transport.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: egress})
	}
	client := &http.Client{Transport: transport}
	p := traffic.Plan{Name: t.Name, URL: "http://" + host + t.Path, Method: t.Method, Rate: t.Rate,
		Requests: t.Requests, Duration: t.Duration, Headers: t.Headers, Timeout: t.Timeout, MaxInFlight: t.MaxInFlight, Client: client}
	for _, c := range t.Classes {
		p.Classes = append(p.Classes, traffic.Class{Name: c.Name, Share: float64(c.Share), Headers: c.Headers})
	}
	if len(r.s.Topology.Legacy) > 0 {
		p.Origin = r.origin
	}
	before := r.snapshotStats(ctx)
	tctx, cancel := context.WithCancel(ctx)
	run, err := traffic.Start(tctx, p)
	if err != nil {
		cancel()
		return "", err
	}
	tr := &trafficRun{spec: t, run: run, cancel: cancel, before: before}
	r.traffic[t.Name] = tr
	r.progress.setLive(r.liveTraffic)
	if t.Background {
		return "started", nil
	}
	if err := r.awaitTraffic(ctx, tr); err != nil {
		return "", err
	}
	return summaryLine(tr), nil
}

// origin says whether the instance that answered is one of the legacy
// registry's (an app of a service with legacyRegistry, not moved) or the
// mesh's, for the report's timeline.
func (r *run) origin(_ *http.Response, instance string) string {
	c := r.byName[instance]
	if c == nil || c.Role != RoleApp {
		return ""
	}
	if svc := r.service(c.Service); svc != nil && svc.LegacyRegistry != "" && !c.Moved {
		return spec.SideLegacy
	}
	return spec.SideMesh
}

// dialContainer dials a container's published http port, looked up on
// every new connection: a container restarted or healed mid-run has a new
// host port, and one that is cut or stopped has none, which fails that
// request as an unreachable server would.
func (r *run) dialContainer(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		addr, err := r.prov.HostAddr(ctx, name, spec.ContainerHTTPPort)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, addr)
	}
}

func (r *run) awaitTraffic(ctx context.Context, t *trafficRun) error {
	if err := t.run.Wait(ctx); err != nil {
		t.cancel()
		return err
	}
	t.after = r.settledStats(ctx)
	t.finished = true
	t.cancel()
	return nil
}

func summaryLine(t *trafficRun) string {
	samples := t.run.Samples()
	s := traffic.Summarise(samples, "")
	if t.spec.Container != "" {
		return fmt.Sprintf("%d requests, %.2f%% failed, p99 %s", s.Requests, s.ErrorRate*100, s.P99.Round(10*time.Microsecond))
	}
	shares, _ := traffic.Shares(samples, "", strings.ToLower(t.spec.Service))
	return fmt.Sprintf("%d requests, %.2f%% failed, p99 %s; %s", s.Requests, s.ErrorRate*100, s.P99.Round(10*time.Microsecond), report.FormatShares(shares))
}

// liveTraffic renders the running traffic for the progress line: sent,
// failed and the split per version so far, per class when there are classes.
func (r *run) liveTraffic() string {
	var parts []string
	for _, t := range r.trafficOrder() {
		if t.finished {
			continue
		}
		p := t.run.Progress()
		line := fmt.Sprintf("%s %d/%d sent, %d failed", p.Name, p.Sent, p.Planned, p.Failed)
		switch {
		case t.spec.Container != "":
			// A container's answers name no versions.
		case len(t.spec.Classes) == 0:
			line += ", " + report.FormatShares(shareOf(p.Versions))
		default:
			for _, c := range append([]string{spec.DefaultClass}, classNames(t.spec)...) {
				line += fmt.Sprintf(" | %s: %s", c, report.FormatShares(shareOf(p.Classes[c])))
			}
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, " || ")
}

func classNames(t *spec.Traffic) []string {
	var out []string
	for _, c := range t.Classes {
		out = append(out, c.Name)
	}
	return out
}

func shareOf(counts map[string]int) map[string]float64 {
	total := 0
	for _, n := range counts {
		total += n
	}
	out := map[string]float64{}
	for v, n := range counts {
		out[v] = float64(n) / float64(max(total, 1))
	}
	return out
}

func (r *run) appFault(ctx context.Context, c *Component, f *spec.AppFault) error {
	q := url.Values{}
	if f.Latency != nil {
		q.Set("latency", f.Latency.String())
	}
	if f.ErrorRate != nil {
		q.Set("errorRate", strconv.FormatFloat(float64(*f.ErrorRate), 'f', -1, 64))
	}
	if f.Status != 0 {
		q.Set("status", strconv.Itoa(f.Status))
	}
	addr, err := r.prov.HostAddr(ctx, c.Name, "http")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+addr+"/_demo/fault?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_demo/fault answered %s", resp.Status)
	}
	return nil
}
