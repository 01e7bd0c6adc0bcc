package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// sidecarTable is the part of a sidecar's admin /config the runner reads.
type sidecarTable struct {
	Table struct {
		Revision int64 `json:"revision"`
		Services []struct {
			Name      string `json:"name"`
			Endpoints []struct {
				ID      string `json:"id"`
				Healthy bool   `json:"healthy"`
			} `json:"endpoints"`
		} `json:"services"`
	} `json:"table"`
}

// call sends a request without a body and returns an answer of status
// 200, whose body the caller closes.
func (r *run) call(ctx context.Context, method, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	return resp, nil
}

func (r *run) getJSON(ctx context.Context, url string, out any) error {
	resp, err := r.call(ctx, http.MethodGet, url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 16<<20)).Decode(out)
}

func (r *run) sidecarTable(ctx context.Context, name string) (*sidecarTable, error) {
	addr, err := r.prov.HostAddr(ctx, name, "admin")
	if err != nil {
		return nil, err
	}
	var t sidecarTable
	return &t, r.getJSON(ctx, "http://"+addr+"/config", &t)
}

// runningSidecars are the sidecars that are up (not stopped by a step).
func (r *run) runningSidecars() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.comps {
		if c.Role == RoleSidecar && !r.down[c.Name] {
			out = append(out, c.Name)
		}
	}
	return out
}

// poll calls check until it returns nil or within passes.
func poll(ctx context.Context, within, every time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	t := time.NewTicker(every)
	defer t.Stop()
	var last error
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if last == nil || ctx.Err() == nil {
			// A check cut short by the deadline says less than the one before.
			last = err
		}
		select {
		case <-ctx.Done():
			return last
		case <-t.C:
		}
	}
}

// forEachSidecar runs check on every running sidecar in parallel.
func (r *run) forEachSidecar(ctx context.Context, check func(context.Context, string) error) error {
	names := r.runningSidecars()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = check(ctx, n) }()
	}
	wg.Wait()
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// waitMesh waits until every sidecar's table holds every app instance and
// mock as a healthy endpoint of its service (apps registered with a container's
// registry are not in the mesh: nothing syncs them into the adapter; a
// legacy registry's are, when a syncer copies it into the mesh).
func (r *run) waitMesh(ctx context.Context) error {
	want := map[string]int{}
	for _, c := range r.comps {
		if (c.Role == RoleApp && (c.Moved || r.meshed(c.Service))) || c.Role == RoleMock {
			want[strings.ToLower(c.Service)]++
		}
	}
	r.progress.set("waiting for every sidecar to see every instance")
	err := poll(ctx, meshReadyTimeout, 100*time.Millisecond, func(ctx context.Context) error {
		return r.forEachSidecar(ctx, func(ctx context.Context, name string) error {
			t, err := r.sidecarTable(ctx, name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			have := map[string]int{}
			for _, s := range t.Table.Services {
				for _, e := range s.Endpoints {
					if e.Healthy {
						have[strings.ToLower(s.Name)]++
					}
				}
			}
			for svc, n := range want {
				if have[svc] != n {
					return fmt.Errorf("%s sees %d healthy instances of %s, want %d", name, have[svc], svc, n)
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("mesh not ready within %v: %w", meshReadyTimeout, err)
	}
	return nil
}

// waitRevision waits until every running sidecar's table is built from
// revision rev or later, i.e. has loaded a change the runner made.
func (r *run) waitRevision(ctx context.Context, rev int64) error {
	return poll(ctx, 30*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
		return r.forEachSidecar(ctx, func(ctx context.Context, name string) error {
			t, err := r.sidecarTable(ctx, name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if t.Table.Revision < rev {
				return fmt.Errorf("%s is at revision %d, waiting for %d", name, t.Table.Revision, rev)
			}
			return nil
		})
	})
}

// appStats is a demo app's /_demo/stats.
type appStats struct {
	Requests int64 `json:"requests"`
	Shadow   int64 `json:"shadow"`
	Plain    int64 `json:"plain"`
}

// statsSnapshot holds every reachable app's counters.
type statsSnapshot map[string]appStats

func (r *run) snapshotStats(ctx context.Context) statsSnapshot {
	out := statsSnapshot{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range r.comps {
		if c.Role != RoleApp {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr, err := r.prov.HostAddr(ctx, c.Name, "http")
			if err != nil {
				return
			}
			var s appStats
			if r.getJSON(ctx, "http://"+addr+"/_demo/stats", &s) == nil {
				mu.Lock()
				out[c.Name] = s
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// settledStats waits for mirrored copies still in flight to land: it
// snapshots until two snapshots 200 ms apart agree (at most 5 s).
func (r *run) settledStats(ctx context.Context) statsSnapshot {
	prev := r.snapshotStats(ctx)
	deadline := time.Now().Add(5 * time.Second)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return prev
		case <-t.C:
		}
		cur := r.snapshotStats(ctx)
		if equalStats(prev, cur) {
			return cur
		}
		prev = cur
	}
	return prev
}

func equalStats(a, b statsSnapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// meshed reports whether the sidecars see service's instances (through
// the registry-adapter, or a syncer's copies).
func (r *run) meshed(service string) bool {
	for i := range r.s.Topology.Services {
		if svc := &r.s.Topology.Services[i]; svc.Name == service {
			return r.s.Topology.Meshed(svc)
		}
	}
	return false
}
