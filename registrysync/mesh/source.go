package mesh

import (
	"context"
	"slices"
	"sort"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Run lists the mesh's instances, then follows the control API's watch
// (control.Client.Sync), until ctx ends. Every listing, the first and
// each one after a gap in the watch (an error, a compaction), is sent
// complete; changes are sent as the whole groups of the services they
// touch. While the control API cannot be reached nothing is sent.
func (c *Connector) Run(ctx context.Context, updates chan<- registrysync.Update) error {
	h := &follower{ctx: ctx, updates: updates, namespaces: c.cfg.Namespaces, services: map[registry.ServiceID]*service{}}
	_ = c.client.Sync(ctx, control.SyncOptions{Instances: true, Wait: c.cfg.WatchWait, MaxBackoff: c.cfg.RetryMaxBackoff}, h) // ctx's error
	return nil
}

// follower turns what Sync hands over into updates.
type follower struct {
	ctx        context.Context
	updates    chan<- registrysync.Update
	namespaces []string
	services   map[registry.ServiceID]*service
}

// service is one service's instances, with its name as last registered.
type service struct {
	name      string
	instances map[string]*registry.Instance
}

func (f *follower) wanted(inst *registry.Instance) bool {
	return len(f.namespaces) == 0 || slices.Contains(f.namespaces, inst.Namespace)
}

func (f *follower) put(inst *registry.Instance) {
	id := inst.ServiceID()
	svc := f.services[id]
	if svc == nil {
		svc = &service{instances: map[string]*registry.Instance{}}
		f.services[id] = svc
	}
	svc.name = inst.Service
	svc.instances[inst.ID] = inst
}

// Snapshot sends the whole listing.
func (f *follower) Snapshot(_ int64, instances []*registry.Instance, _ []*registry.Resource) {
	f.services = map[registry.ServiceID]*service{}
	for _, inst := range instances {
		if f.wanted(inst) {
			f.put(inst)
		}
	}
	u := registrysync.Update{Complete: true}
	for id := range f.services {
		u.Groups = append(u.Groups, f.group(id))
	}
	f.send(u)
}

// Changes sends the groups of the services the events touched.
func (f *follower) Changes(_ int64, events []registry.Event) {
	touched := map[registry.ServiceID]string{}
	for _, e := range events {
		if e.Kind != registry.KindInstance || e.Instance == nil || !f.wanted(e.Instance) {
			continue
		}
		id := e.Instance.ServiceID()
		touched[id] = e.Instance.Service
		switch e.Type {
		case registry.EventPut:
			f.put(e.Instance)
		case registry.EventDelete:
			if svc := f.services[id]; svc != nil {
				delete(svc.instances, e.Instance.ID)
			}
		}
	}
	if len(touched) == 0 {
		return
	}
	var u registrysync.Update
	for id, name := range touched {
		g := f.group(id)
		if g.Key.Service == "" {
			g.Key.Service = name
		}
		u.Groups = append(u.Groups, g)
		if svc := f.services[id]; svc != nil && len(svc.instances) == 0 {
			delete(f.services, id)
		}
	}
	f.send(u)
}

// group is a service's instances as a group, sorted by id; empty when
// the service has none left.
func (f *follower) group(id registry.ServiceID) registrysync.Group {
	g := registrysync.Group{Key: registrysync.ServiceKey{Namespace: id.Namespace, Group: id.Group, Service: id.ServiceKey}}
	svc := f.services[id]
	if svc == nil {
		return g
	}
	g.Key.Service = svc.name
	for _, inst := range svc.instances {
		g.Instances = append(g.Instances, inst)
	}
	sort.Slice(g.Instances, func(i, j int) bool { return g.Instances[i].ID < g.Instances[j].ID })
	return g
}

func (f *follower) send(u registrysync.Update) {
	select {
	case f.updates <- u:
	case <-f.ctx.Done():
	}
}
