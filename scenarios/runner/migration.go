package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// setUp takes an app instance into its callers' views (up) or out of
// them, through the registry it is in, as docs/migration.md does: a
// legacy Eureka instance by Eureka's status override, a legacy Consul one
// by maintenance mode, a legacy Nacos one by enabled=false, a legacy
// ZooKeeper one by Spring's instance_status, a mesh instance by the
// control API's override. The syncer carries either to the other side.
func (r *run) setUp(ctx context.Context, c *Component, up bool) error {
	if c.Moved {
		cl, err := r.ctl(ctx)
		if err != nil {
			return err
		}
		key := registry.NewInstanceKey("", "", c.Service, c.Name)
		if up {
			_, err = cl.ClearStatus(ctx, key)
		} else {
			_, err = cl.SetStatus(ctx, key, registry.StatusOutOfService)
		}
		return err
	}
	svc := r.service(c.Service)
	if svc.Registry == spec.ProtocolZooKeeper {
		return r.setZooKeeperStatus(ctx, c, svc, up)
	}
	addr, err := r.prov.HostAddr(ctx, svc.LegacyRegistry, spec.ContainerHTTPPort)
	if err != nil {
		return err
	}
	var method, u string
	switch svc.Registry {
	case "nacos":
		method, u = http.MethodPut, nacosEnableURL(addr, c.Service, r.advertised(c), up)
	case "consul":
		// Consul: maintenance mode, a critical check, so callers that ask
		// ?passing (Spring's query-passing=true) drop it.
		method, u = http.MethodPut, fmt.Sprintf("http://%s/v1/agent/service/maintenance/%s?enable=%t&reason=%s",
			addr, url.PathEscape(c.Name), !up, url.QueryEscape("scenario: drained"))
	default:
		// Eureka: PUT .../status?value=OUT_OF_SERVICE sets the override;
		// DELETE .../status?value=UP removes it and leaves the instance UP.
		method, u = http.MethodPut, fmt.Sprintf("http://%s/eureka/apps/%s/%s/status?value=%s",
			addr, url.PathEscape(strings.ToUpper(c.Service)), url.PathEscape(c.Name), registry.StatusOutOfService)
		if up {
			method, u = http.MethodDelete, strings.TrimSuffix(u, string(registry.StatusOutOfService))+string(registry.StatusUp)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s status of %s: %w", svc.Registry, c.Name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s status of %s: %s %s answered %s", svc.Registry, c.Name, method, u, resp.Status)
	}
	return nil
}

func (r *run) service(name string) *spec.Service {
	for i := range r.s.Topology.Services {
		if r.s.Topology.Services[i].Name == name {
			return &r.s.Topology.Services[i]
		}
	}
	return nil
}

// shift runs a shift (or a rollback: one step of 100% to legacy). Each
// step leaves UP the counts of mesh and legacy instances that make its
// share, waits the callers' cache time, then measures over the hold what
// the service's instances received: the mesh's share must be within the
// tolerance and the traffic run, when named, must not have failed since
// the step began.
func (r *run) shift(ctx context.Context, sh *spec.Shift, steps []spec.Share, to string) (string, error) {
	legacy, mesh := r.s.Topology.MigrationSides(sh.Service)
	var msgs []string
	for i, p := range steps {
		start := time.Now()
		want := float64(p)
		if to == spec.SideLegacy {
			want = 1 - want
		}
		m, l, got := spec.ShiftCounts(want, len(legacy), len(mesh))
		if sh.Expect != nil {
			got = float64(*sh.Expect)
		}
		label := fmt.Sprintf("%s to %s (%d mesh + %d legacy UP)", p, to, m, l)
		r.progress.set(fmt.Sprintf("shift %s %d/%d: %s", sh.Service, i+1, len(steps), label), r.liveTraffic)
		failedBefore := r.failedSoFar(sh.Traffic)
		// Bring up what is to be up before taking the rest out, so callers
		// always have an instance to pick.
		for _, up := range []bool{true, false} {
			for j, n := range mesh {
				if (j < m) == up {
					if err := r.setUp(ctx, r.byName[n], up); err != nil {
						return "", err
					}
				}
			}
			for j, n := range legacy {
				if (j < l) == up {
					if err := r.setUp(ctx, r.byName[n], up); err != nil {
						return "", err
					}
				}
			}
		}
		if err := sleep(ctx, *sh.Wait); err != nil {
			return "", err
		}
		if sh.Traffic == "" {
			// Nothing to measure by: the counts are set, the callers had their time.
			msgs = append(msgs, label)
			continue
		}
		before := r.snapshotStats(ctx)
		if err := sleep(ctx, sh.Hold); err != nil {
			return "", err
		}
		after := r.snapshotStats(ctx)
		toMesh, total := received(before, after, mesh), received(before, after, append(append([]string(nil), legacy...), mesh...))
		measured := float64(toMesh) / float64(max(total, 1))
		failed := r.failedSoFar(sh.Traffic) - failedBefore
		msg := fmt.Sprintf("%s: mesh got %.1f%% of %d requests (want %.1f%% ± %s), %d failed, %s", label, measured*100, total, got*100, sh.Tolerance, failed, time.Since(start).Round(100*time.Millisecond))
		msgs = append(msgs, msg)
		r.progress.note("shift " + sh.Service + " " + msg)
		switch {
		case total == 0:
			return strings.Join(msgs, "; "), fmt.Errorf("%s: no request reached %s during the hold", label, sh.Service)
		case math.Abs(measured-got) > float64(sh.Tolerance)+1e-9:
			return strings.Join(msgs, "; "), fmt.Errorf("%s", strings.Join(msgs, "; "))
		case failed > 0:
			return strings.Join(msgs, "; "), fmt.Errorf("%s", strings.Join(msgs, "; "))
		}
	}
	return strings.Join(msgs, "; "), nil
}

// failedSoFar is the named traffic run's failed requests so far (0 for none).
func (r *run) failedSoFar(name string) int {
	if t := r.traffic[name]; t != nil {
		return t.run.Progress().Failed
	}
	return 0
}

// received adds up the plain requests the named apps got between two snapshots.
func received(before, after statsSnapshot, names []string) int64 {
	var n int64
	for _, name := range names {
		n += after[name].Plain - before[name].Plain
	}
	return n
}

// drain marks the apps OUT_OF_SERVICE through their registry, waits the
// callers' cache time, checks no request reaches them over the window,
// then stops them. If requests still arrive they are left running (and
// marked): stopping them would fail those requests.
func (r *run) drain(ctx context.Context, d *spec.Drain) (string, error) {
	names := spec.Match(r.names, d.Component)
	for _, n := range names {
		if err := r.setUp(ctx, r.byName[n], false); err != nil {
			return "", fmt.Errorf("%s: %w", n, err)
		}
	}
	r.progress.set(fmt.Sprintf("drain %s: marked OUT_OF_SERVICE, waiting %s for the callers' caches", strings.Join(names, ", "), d.Wait), r.liveTraffic)
	if err := sleep(ctx, d.Wait); err != nil {
		return "", err
	}
	before := r.snapshotStats(ctx)
	if err := sleep(ctx, d.Window); err != nil {
		return "", err
	}
	after := r.snapshotStats(ctx)
	if n := received(before, after, names); n > 0 {
		return "", fmt.Errorf("%d requests reached %s within %s after %s of OUT_OF_SERVICE; not stopped", n, strings.Join(names, ", "), d.Window, d.Wait)
	}
	// All at once: one by one, nine containers take a second each, which
	// the traffic and the next steps would wait for.
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.stop(ctx, r.byName[n], false); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%s: no request in %s after %s, stopped", strings.Join(names, ", "), d.Window, d.Wait)
	r.progress.note("drain " + msg)
	return msg, nil
}

// breakerWait bounds how long releaseBreaker waits for a breaker to open:
// a syncer notices deletions at its next look at the source.
const breakerWait = 10 * time.Second

// breakerQuiet is how long a released breaker must stay shut before
// releaseBreaker is done: a watch (Consul's blocking queries) delivers a
// drain's deletions in pieces, and the pieces after a release open it again.
const breakerQuiet = 2 * time.Second

// releaseBreaker posts /breaker/release to each matching syncer's admin
// listener (from the runner's host: loopback, as the syncer requires)
// until it releases a flow, then again whenever one opens until none has
// for breakerQuiet, and says how many each released.
func (r *run) releaseBreaker(ctx context.Context, pattern string) (string, error) {
	var msgs []string
	_, err := r.eachComponent(ctx, pattern, func(c *Component) error {
		start := time.Now()
		released, times := 0, 0
		err := poll(ctx, breakerWait, 200*time.Millisecond, func(ctx context.Context) error {
			n, err := r.releaseOnce(ctx, c)
			if err == nil && n == 0 {
				err = fmt.Errorf("no deletion breaker of %s opened within %s", c.Name, breakerWait)
			}
			released += n
			return err
		})
		if err != nil {
			return err
		}
		times++
		quiet := time.Now()
		for time.Since(quiet) < breakerQuiet {
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
			n, err := r.releaseOnce(ctx, c)
			if err != nil {
				return err
			}
			if n > 0 {
				released, times, quiet = released+n, times+1, time.Now()
			}
		}
		msgs = append(msgs, fmt.Sprintf("%s released %d flows (%d times) within %s, then stayed shut for %s",
			c.Name, released, times, time.Since(start).Round(100*time.Millisecond), breakerQuiet))
		return nil
	})
	return strings.Join(msgs, ", "), err
}

func (r *run) releaseOnce(ctx context.Context, c *Component) (int, error) {
	var out struct {
		Released int `json:"released"`
	}
	if ex, ok := r.prov.(Execer); ok {
		// The runner is not on the syncer's host: its operator command
		// there asks the admin listener over loopback.
		stdout, err := ex.Exec(ctx, c.Name, append(append([]string{"/" + c.Binary}, c.Args(r.net)...), "--release-breaker"))
		if err != nil {
			return 0, err
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			return 0, fmt.Errorf("registrysync --release-breaker printed %q: %w", stdout, err)
		}
		return out.Released, nil
	}
	addr, err := r.prov.HostAddr(ctx, c.Name, "admin")
	if err != nil {
		return 0, err
	}
	resp, err := r.call(ctx, http.MethodPost, "http://"+addr+"/breaker/release")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return 0, fmt.Errorf("/breaker/release: %w", err)
	}
	return out.Released, nil
}

// sleep waits d, or returns ctx's error when it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if !wait.Sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}
