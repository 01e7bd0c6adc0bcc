package eureka

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/adapters/eureka/fields"
	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// errHashMismatch is a delta after which the source's registry does not
// hash to the server's apps__hashcode: a change was missed, and the
// source fetches in full, as Eureka's client does.
var errHashMismatch = errors.New("apps hashcode does not match after the delta")

// Run lists the registry with a full fetch, sent as a complete update,
// then fetches the delta every PollInterval and sends the services it
// changed. A delta that does not reconcile (the apps hashcode differs), a
// delta the server refuses and every FullFetchInterval bring a full fetch,
// sent as a complete update again. A failed fetch sends nothing; the
// first success after one is a full fetch, sent as complete.
func (c *Connector) Run(ctx context.Context, updates chan<- registrysync.Update) error {
	var (
		known        *mirror   // nil until listed, and again after a failure
		lastComplete time.Time // when the last complete update was sent
		deltaOffTill time.Time // the server refused the delta: fetch in full until then
		failing      bool
	)
	for {
		var (
			u   *registrysync.Update
			err error
		)
		full := known == nil || c.cfg.DisableDelta || time.Now().Before(deltaOffTill) ||
			time.Since(lastComplete) >= c.cfg.FullFetchInterval
		if !full {
			var groups []registrysync.Group
			groups, err = c.applyDelta(ctx, known)
			switch {
			case errors.Is(err, errDeltaRefused):
				deltaOffTill = time.Now().Add(c.cfg.FullFetchInterval)
				full = true
			case errors.Is(err, errHashMismatch):
				full = true
			case err == nil && len(groups) > 0:
				u = &registrysync.Update{Groups: groups}
			}
		}
		if full {
			var next *mirror
			next, err = c.fullFetch(ctx)
			if err == nil {
				changed := known == nil || len(known.diff(next)) > 0
				if changed || time.Since(lastComplete) >= c.cfg.FullFetchInterval {
					u = &registrysync.Update{Groups: next.groups(), Complete: true}
				}
				known = next
			}
		}
		switch {
		case err != nil && ctx.Err() == nil:
			known = nil // the next listing is complete again
			if !failing {
				c.env.Logger.Warn("listing the registry fails; nothing is sent until a full fetch succeeds", "error", err)
			}
			failing = true
		case err == nil && failing:
			c.env.Logger.Info("listing the registry succeeds again")
			failing = false
		}
		if u != nil {
			select {
			case updates <- *u:
				if u.Complete {
					lastComplete = time.Now()
				}
			case <-ctx.Done():
				return nil
			}
		}
		if !wait.Sleep(ctx, c.cfg.PollInterval) {
			return nil
		}
	}
}

// fullFetch reads the whole registry.
func (c *Connector) fullFetch(ctx context.Context) (*mirror, error) {
	doc, _, err := c.fetch(ctx, fullPath, nil)
	if err != nil {
		c.metrics.fetched("full", "error")
		return nil, fmt.Errorf("eureka: full fetch: %w", err)
	}
	m := newMirror()
	for _, app := range doc.apps {
		for _, w := range app.Instances {
			if err := m.upsert(app.Name, w); err != nil {
				c.metrics.fetched("full", "error")
				return nil, fmt.Errorf("eureka: full fetch: %w", err)
			}
		}
	}
	c.metrics.fetched("full", "ok")
	return m, nil
}

// applyDelta fetches the delta, applies it to known and returns the
// groups of the services it changed. After an error known is left
// half-applied: the caller fetches in full.
func (c *Connector) applyDelta(ctx context.Context, known *mirror) ([]registrysync.Group, error) {
	doc, seen, err := c.fetch(ctx, deltaPath, c.deltaSeen)
	if errors.Is(err, errDeltaRefused) {
		c.metrics.fetched("delta", "refused")
		return nil, err
	}
	if err != nil {
		c.metrics.fetched("delta", "error")
		return nil, fmt.Errorf("eureka: delta: %w", err)
	}
	c.deltaSeen = seen
	changed := map[string]bool{}
	for _, app := range doc.apps {
		for _, w := range app.Instances {
			var moved bool
			if doc.actions[instanceKey{app.Name, w.Id()}] == "DELETED" {
				moved = known.remove(app.Name, w.Id())
			} else if moved, err = known.upsertChanged(app.Name, w); err != nil {
				c.metrics.fetched("delta", "error")
				return nil, fmt.Errorf("eureka: delta: %w", err)
			}
			if moved {
				changed[app.Name] = true
			}
		}
	}
	if known.hash() != doc.hash {
		c.metrics.fetched("delta", "mismatch")
		return nil, errHashMismatch
	}
	c.metrics.fetched("delta", "ok")
	var groups []registrysync.Group
	for app := range changed {
		groups = append(groups, known.group(app))
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Key.Service < groups[j].Key.Service })
	return groups, nil
}

// mirror is the registry as the source last read it, by app and id.
type mirror struct {
	apps map[string]map[string]*listed
	// services remembers each app's service name, so that an app whose
	// last instance left is reported empty under the name it had.
	services map[string]string
}

// listed is one instance as read and as mapped (under the service name
// "", which group sets).
type listed struct {
	status fargo.StatusType
	vip    string
	inst   *registry.Instance
	// from is what it was read from, which a later delta may hand back
	// (the same bytes: decodeDocument).
	from *fargo.Instance
}

func newMirror() *mirror {
	return &mirror{apps: map[string]map[string]*listed{}, services: map[string]string{}}
}

func (m *mirror) upsert(app string, w *fargo.Instance) error {
	_, err := m.upsertChanged(app, w)
	return err
}

// upsertChanged records w and reports whether that changed anything.
func (m *mirror) upsertChanged(app string, w *fargo.Instance) (bool, error) {
	if old, ok := m.apps[app][w.Id()]; ok && old.from == w {
		// The very decoding recorded last time: the same bytes
		// (decodeDocument), nothing to map or compare.
		return false, nil
	}
	inst, err := fromEureka(w, "")
	if err != nil {
		return false, err
	}
	l := &listed{status: w.Status, vip: w.VipAddress, inst: inst, from: w}
	if m.apps[app] == nil {
		m.apps[app] = map[string]*listed{}
	}
	old, had := m.apps[app][inst.ID]
	m.apps[app][inst.ID] = l
	return !had || old.vip != l.vip || !reflect.DeepEqual(old.inst, l.inst), nil
}

// remove drops an instance and reports whether it was there.
func (m *mirror) remove(app, id string) bool {
	if _, ok := m.apps[app][id]; !ok {
		return false
	}
	delete(m.apps[app], id)
	return true
}

// hash is the reconcile hash of the mirror, as Eureka computes it.
func (m *mirror) hash() string {
	counts := map[fargo.StatusType]int{}
	for _, insts := range m.apps {
		for _, l := range insts {
			counts[l.status]++
		}
	}
	return reconcileHash(counts)
}

// group is an app's instances under its service name: the name of the
// instance with the lowest id (serviceName), so that one app is one
// service even when its instances spell their VIP differently.
func (m *mirror) group(app string) registrysync.Group {
	insts := m.apps[app]
	ids := make([]string, 0, len(insts))
	for id := range insts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > 0 {
		m.services[app] = fields.ServiceName(app, insts[ids[0]].vip)
	}
	service := m.services[app]
	if service == "" {
		service = fields.ServiceName(app, "")
	}
	g := registrysync.Group{Key: registrysync.ServiceKey{Service: service}}
	for _, id := range ids {
		inst := insts[id].inst.Clone()
		inst.Service = service
		g.Instances = append(g.Instances, inst)
	}
	return g
}

// groups is every app's group, apps without instances left out.
func (m *mirror) groups() []registrysync.Group {
	apps := make([]string, 0, len(m.apps))
	for app, insts := range m.apps {
		if len(insts) > 0 {
			apps = append(apps, app)
		}
	}
	sort.Strings(apps)
	out := make([]registrysync.Group, 0, len(apps))
	for _, app := range apps {
		out = append(out, m.group(app))
	}
	return out
}

// diff names the apps whose instances differ between m and next.
func (m *mirror) diff(next *mirror) []string {
	var out []string
	for app, insts := range next.apps {
		if !sameInstances(m.apps[app], insts) {
			out = append(out, app)
		}
	}
	for app, insts := range m.apps {
		if _, ok := next.apps[app]; !ok && len(insts) > 0 {
			out = append(out, app)
		}
	}
	return out
}

func sameInstances(a, b map[string]*listed) bool {
	if len(a) != len(b) {
		return false
	}
	for id, l := range a {
		o, ok := b[id]
		if !ok || o.vip != l.vip || !reflect.DeepEqual(o.inst, l.inst) {
			return false
		}
	}
	return true
}
