package v2

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
)

// Instance request types (NamingRemoteConstants).
const (
	registerInstance        = "registerInstance"
	deregisterInstance      = "deregisterInstance"
	batchRegisterInstance   = "batchRegisterInstance"
	batchDeregisterInstance = "batchDeregisterInstance"
)

// resolve applies Nacos's name defaults to a naming request.
func resolve(r namingRequest) (ns, group, service string, err error) {
	group, service, err = naming.SplitServiceName(r.ServiceName, r.GroupName)
	return naming.Namespace(r.Namespace), group, service, err
}

// bind turns a client's instance into a registry instance bound to c: it
// carries the connection id and a lease that the server renews while c
// lives, so it also expires if this process dies.
func (s *Server) bind(c *conn, ns, group, service string, in naming.InstanceInput) (*registry.Instance, error) {
	inst, err := naming.ToRegistry(naming.Registration{Namespace: ns, Group: group, Service: service, Instance: in})
	if err != nil {
		return nil, err
	}
	// gRPC instances are ephemeral whatever the flag says: they live with
	// the connection (persistent ones go over HTTP).
	inst.Ephemeral = true
	inst.Attributes[attrConnection] = c.id
	inst.Lease = registry.Lease{RenewalInterval: s.opts.ConnectionLease / 3, Duration: s.opts.ConnectionLease}
	return inst, nil
}

func (s *Server) handleInstance(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req instanceRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	ns, group, service, err := resolve(req.namingRequest)
	if err != nil {
		return errorResponse(codeInvalidParam, err.Error())
	}
	sid := registry.ServiceID{Namespace: ns, Group: group, ServiceKey: registry.CanonicalServiceKey(service)}
	switch req.Type {
	case registerInstance:
		inst, err := s.bind(c, ns, group, service, req.Instance)
		if err != nil {
			return errorResponse(codeInvalidParam, err.Error())
		}
		if err := s.publish(ctx, c, sid, []*registry.Instance{inst}); err != nil {
			return storeError(err)
		}
	case deregisterInstance:
		// Nacos removes whatever the connection published for the
		// service, without matching ip and port.
		if err := s.unpublish(ctx, c, sid, nil); err != nil {
			return storeError(err)
		}
	default:
		return errorResponse(codeInvalidParam, "Unsupported request type "+req.Type)
	}
	return "InstanceResponse", &instanceResponse{response: ok(), Type: req.Type}
}

func (s *Server) handleBatchInstance(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req batchInstanceRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	ns, group, service, err := resolve(req.namingRequest)
	if err != nil {
		return errorResponse(codeInvalidParam, err.Error())
	}
	sid := registry.ServiceID{Namespace: ns, Group: group, ServiceKey: registry.CanonicalServiceKey(service)}
	insts := make([]*registry.Instance, 0, len(req.Instances))
	for _, in := range req.Instances {
		inst, err := s.bind(c, ns, group, service, in)
		if err != nil {
			return errorResponse(codeInvalidParam, err.Error())
		}
		insts = append(insts, inst)
	}
	switch req.Type {
	case batchRegisterInstance:
		err = s.publish(ctx, c, sid, insts)
	case batchDeregisterInstance:
		err = s.unpublish(ctx, c, sid, insts)
	default:
		return errorResponse(codeInvalidParam, "Unsupported request type "+req.Type)
	}
	if err != nil {
		return storeError(err)
	}
	return "BatchInstanceResponse", &instanceResponse{response: ok(), Type: req.Type}
}

// publish replaces what c published for a service with insts: Nacos keeps
// one registration per connection and service (a batch is one). Requests
// for one service are taken in turn; those for different services run
// side by side (each store write waits for an fsync, and one connection,
// a syncer's, may carry a thousand services). Real Nacos keeps ephemeral
// instances in memory.
func (s *Server) publish(ctx context.Context, c *conn, sid registry.ServiceID, insts []*registry.Instance) error {
	defer c.lockService(sid)()
	// A batch's instances are written together, so that they share the
	// store's group commits instead of waiting for an fsync each.
	// An instance named twice is written as its last mention, as one
	// write after the other would leave it.
	last := map[registry.InstanceKey]int{}
	for i, inst := range insts {
		last[inst.Key()] = i
	}
	held := c.publishedOf(sid)
	keys := make([]registry.InstanceKey, len(insts))
	errs := make([]error, len(insts))
	var wg sync.WaitGroup
	for i, inst := range insts {
		if last[inst.Key()] != i {
			continue
		}
		wg.Go(func() {
			// A batch names every instance of the service again; real
			// Nacos changes (and pushes) only what differs. Writing the
			// unchanged ones made each change of one instance a durable
			// write of all of them (the connection's lease renewal keeps
			// them alive; renewed here as a registration would be).
			probe := inst.Clone()
			probe.Normalize() // keyed as the store keys it
			if slices.Contains(held, probe.Key()) {
				if prev, err := s.opts.Store.Get(ctx, probe.Key()); err == nil && sameRegistration(prev, inst) &&
					s.opts.Store.Renew(ctx, prev.Key()) == nil {
					keys[i] = prev.Key()
					return
				}
			}
			stored, err := s.opts.Store.Register(ctx, inst)
			if err == nil {
				keys[i] = stored.Key()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// Nothing of a failed batch stays behind: what it registered
			// and the connection did not hold would outlive it.
			for i, k := range keys {
				if errs[i] == nil && last[insts[i].Key()] == i && !slices.Contains(held, k) {
					s.deregisterOwned(context.WithoutCancel(ctx), c, k)
				}
			}
			return err
		}
	}
	for i, inst := range insts {
		keys[i] = keys[last[inst.Key()]]
	}
	for _, old := range held {
		if !slices.Contains(keys, old) {
			s.deregisterOwned(ctx, c, old)
		}
	}
	c.mu.Lock()
	// closeConn sets closed before it reads what c published: either it
	// reads keys, or this sees closed.
	if c.closed.Load() {
		c.mu.Unlock()
		// The connection ended while we registered: do not leave orphans
		// (the request's context may have ended with it).
		for _, k := range keys {
			s.deregisterOwned(context.WithoutCancel(ctx), c, k)
		}
		return nil
	}
	c.published[sid] = keys
	c.mu.Unlock()
	return nil
}

// unpublish removes the given instances (matched by address and cluster)
// from what c published for the service, or all of them when insts is nil.
func (s *Server) unpublish(ctx context.Context, c *conn, sid registry.ServiceID, insts []*registry.Instance) error {
	defer c.lockService(sid)()
	var keep, gone []registry.InstanceKey
	for _, k := range c.publishedOf(sid) {
		if insts != nil && !slices.ContainsFunc(insts, func(i *registry.Instance) bool { return i.Key() == k }) {
			keep = append(keep, k)
		} else {
			gone = append(gone, k)
		}
	}
	for _, k := range gone {
		s.deregisterOwned(ctx, c, k)
	}
	c.mu.Lock()
	if len(keep) == 0 {
		delete(c.published, sid)
	} else {
		c.published[sid] = keep
	}
	c.mu.Unlock()
	return nil
}

func (s *Server) handleServiceQuery(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req serviceQueryRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	ns, group, service, err := resolve(req.namingRequest)
	if err != nil {
		return errorResponse(codeInvalidParam, err.Error())
	}
	insts, err := naming.Instances(ctx, s.opts.Store, ns, group, service)
	if err != nil {
		return storeError(err)
	}
	q := naming.Query{Namespace: ns, Group: group, Service: service, Clusters: req.Cluster, HealthyOnly: req.HealthyOnly}
	return "QueryServiceResponse", &serviceInfoResponse{response: ok(), ServiceInfo: naming.Info(insts, q, s.opts.Clock)}
}

func (s *Server) handleSubscribe(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req subscribeServiceRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	ns, group, service, err := resolve(req.namingRequest)
	if err != nil {
		return errorResponse(codeInvalidParam, err.Error())
	}
	sub := subscription{
		sid:       registry.ServiceID{Namespace: ns, Group: group, ServiceKey: registry.CanonicalServiceKey(service)},
		namespace: req.Namespace, group: group, service: service, clusters: req.Clusters,
	}
	// Index the subscription before reading, so no change falls between
	// the snapshot and the first push.
	s.mu.Lock()
	c.mu.Lock()
	if req.Subscribe {
		c.subs[sub.key()] = sub
		set := s.byService[sub.sid]
		if set == nil {
			set = map[*conn]struct{}{}
			s.byService[sub.sid] = set
		}
		set[c] = struct{}{}
	} else {
		delete(c.subs, sub.key())
		s.unindexSubLocked(c, sub.sid)
	}
	c.mu.Unlock()
	s.mu.Unlock()
	insts, err := naming.Instances(ctx, s.opts.Store, ns, group, service)
	if err != nil {
		return storeError(err)
	}
	q := naming.Query{Namespace: ns, Group: group, Service: service, Clusters: req.Clusters}
	return "SubscribeServiceResponse", &serviceInfoResponse{response: ok(), ServiceInfo: naming.Info(insts, q, s.opts.Clock)}
}

func (s *Server) handleServiceList(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req serviceListRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	names, count, err := naming.ServiceNames(ctx, s.opts.Store, req.Namespace, req.GroupName, req.PageNo, req.PageSize)
	if err != nil {
		return storeError(err)
	}
	return "ServiceListResponse", &serviceListResponse{response: ok(), Count: count, ServiceNames: names}
}

// sameRegistration reports whether registering inst over prev would change
// nothing but its times and revision.
func sameRegistration(prev, inst *registry.Instance) bool {
	next, err := registry.PrepareRegister(prev, inst, prev.Updated)
	if err != nil {
		return false
	}
	next.Lease.LastRenewal, next.Revision = prev.Lease.LastRenewal, prev.Revision
	return reflect.DeepEqual(prev, next)
}
