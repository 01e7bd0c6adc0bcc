package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// errClosed is what a sink answers after Close.
var errClosed = errors.New("connector closed")

// ttlOutput is the output of every TTL update: constant, so an update
// that changes nothing is not a write at the agent.
const ttlOutput = "passed by registrysync"

// Owned lists the copies this syncer wrote: the agent's services whose
// meshbridge-sync-owner is its id, and the copies withheld while their
// instance cannot be selected. It passes the listed copies' checks from
// then on: a syncer that restarts or takes over keeps its copies alive
// without registering them again.
func (c *Connector) Owned(ctx context.Context) ([]*registry.Instance, error) {
	q, cancel := c.query(ctx)
	defer cancel()
	services, err := c.client.Agent().ServicesWithFilterOpts("", q)
	if err != nil {
		return nil, fmt.Errorf("consul: owned: services: %w", err)
	}
	checks, err := c.client.Agent().ChecksWithFilterOpts("", q)
	if err != nil {
		return nil, fmt.Errorf("consul: owned: checks: %w", err)
	}
	byService := map[string][]*api.AgentCheck{}
	for _, ch := range checks {
		byService[ch.ServiceID] = append(byService[ch.ServiceID], ch)
	}
	var out []*registry.Instance
	listed := map[string]bool{}
	for id, s := range services {
		if s.Meta[registrysync.MetaOwner] != c.env.Owner {
			continue
		}
		listed[id] = true
		inst := fromAgent(s, byService[id])
		if want := c.adopt(s, byService[id]); want != nil {
			inst = want
		}
		out = append(out, inst)
	}
	c.mu.Lock()
	for id, want := range c.withheld {
		if !listed[id] {
			out = append(out, want.Clone())
		}
	}
	c.mu.Unlock()
	return out, nil
}

// adopt passes a listed copy's check from now on, and returns the
// instance it was last put as when the agent still holds what was
// written for it.
func (c *Connector) adopt(s *api.AgentService, checks []*api.AgentCheck) *registry.Instance {
	status := api.HealthPassing
	for _, ch := range checks {
		if ch.CheckID == checkID(s.ID) && ch.Status == api.HealthWarning {
			status = api.HealthWarning
		}
	}
	found := registration{service: &api.AgentServiceRegistration{ID: s.ID}, status: status}
	return c.copies.Adopt(s.ID, found, func(held registration) bool { return sameRegistration(held, s, checks) })
}

// Put registers a copy, or updates it, and passes its check from then on.
// A copy whose instance cannot be selected is withheld or put in
// maintenance (Config.DownAs). A service with the copy's ID at the agent
// that this syncer did not write is left alone and the put fails: a copy
// never replaces an app's own registration.
func (c *Connector) Put(ctx context.Context, inst *registry.Instance) error {
	reg, err := toConsul(inst, c.cfg.TTL, c.cfg.DeregisterAfter)
	if err != nil {
		return fmt.Errorf("consul: put %s/%s: %w", inst.Service, inst.ID, err)
	}
	id := reg.service.ID
	fail := func(err error) error { return fmt.Errorf("consul: put %s/%s: %w", inst.Service, id, err) }
	if c.copies.Closed() {
		return fail(errClosed)
	}
	if err := c.checkDatacenter(ctx); err != nil {
		return fail(err)
	}
	s, checks, err := c.local(ctx, id)
	switch {
	case err != nil:
		return fail(err)
	case s != nil && s.Meta[registrysync.MetaOwner] != c.env.Owner:
		return fail(errors.New("a service this syncer did not write holds the id at the agent"))
	case !reg.selectable && c.cfg.DownAs == DownAbsent:
		if s != nil {
			if err := c.deregister(ctx, id); err != nil {
				return err
			}
		}
		c.withhold(id, inst)
		return nil
	case s != nil && sameRegistration(reg, s, checks):
		return c.hold(id, reg, inst)
	}
	if err := c.register(ctx, reg, s != nil && inMaintenance(id, checks)); err != nil {
		return fail(err)
	}
	return c.hold(id, reg, inst)
}

// local reads a service of the agent and its checks; nil when the agent
// does not have it. One read of that service alone: a filter over
// /v1/agent/checks would go through every check of the agent on each
// write (288 ms a write at 10,000 copies).
func (c *Connector) local(ctx context.Context, id string) (*api.AgentService, []*api.AgentCheck, error) {
	q, cancel := c.query(ctx)
	defer cancel()
	_, info, err := c.client.Agent().AgentHealthServiceByIDOpts(id, q)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("read the agent's service and its checks: %w", err)
	case info == nil || info.Service == nil:
		return nil, nil, nil // 404: the agent does not have it
	}
	out := make([]*api.AgentCheck, 0, len(info.Checks))
	for _, ch := range info.Checks {
		out = append(out, &api.AgentCheck{Node: ch.Node, CheckID: ch.CheckID, Name: ch.Name, Status: ch.Status,
			Notes: ch.Notes, Output: ch.Output, ServiceID: ch.ServiceID, ServiceName: ch.ServiceName, Type: ch.Type})
	}
	return info.Service, out, nil
}

func inMaintenance(id string, checks []*api.AgentCheck) bool {
	for _, ch := range checks {
		if ch.CheckID == api.ServiceMaintPrefix+id {
			return true
		}
	}
	return false
}

// register writes a registration with its check, replacing the checks
// the service had, then the maintenance mode that carries a copy that
// must not be selected (DownAs maintenance), or lifts one it had.
func (c *Connector) register(ctx context.Context, reg registration, wasInMaintenance bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := c.client.Agent().ServiceRegisterOpts(reg.service, opts); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	q := (&api.QueryOptions{}).WithContext(ctx)
	switch {
	case !reg.selectable:
		if err := c.client.Agent().EnableServiceMaintenanceOpts(reg.service.ID, reg.reason, q); err != nil {
			return fmt.Errorf("maintenance on: %w", err)
		}
	case wasInMaintenance:
		if err := c.client.Agent().DisableServiceMaintenanceOpts(reg.service.ID, q); err != nil {
			return fmt.Errorf("maintenance off: %w", err)
		}
	}
	return nil
}

// hold passes a copy's check from now on; after Close the put fails.
func (c *Connector) hold(id string, reg registration, inst *registry.Instance) error {
	c.mu.Lock()
	delete(c.withheld, id)
	c.mu.Unlock()
	if !c.copies.Hold(id, reg, inst) {
		return fmt.Errorf("consul: put %s/%s: %w", inst.Service, id, errClosed)
	}
	return nil
}

// withhold records a copy as withheld: not registered, not renewed.
func (c *Connector) withhold(id string, inst *registry.Instance) {
	c.copies.Forget(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.withheld[id] = inst.Clone()
}

// Delete deregisters a copy; one already gone is not an error. A service
// under the copy's ID that this syncer did not write is left alone and
// the delete fails.
func (c *Connector) Delete(ctx context.Context, inst *registry.Instance) error {
	id := inst.ID
	c.copies.Forget(id)
	c.mu.Lock()
	delete(c.withheld, id)
	c.mu.Unlock()
	s, _, err := c.local(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("consul: delete %s/%s: %w", inst.Service, id, err)
	case s == nil:
		return nil
	case s.Meta[registrysync.MetaOwner] != c.env.Owner:
		return fmt.Errorf("consul: delete %s/%s: a service this syncer did not write holds the id at the agent", inst.Service, id)
	}
	return c.deregister(ctx, id)
}

// deregister removes a copy from the agent; one already gone is not an
// error.
func (c *Connector) deregister(ctx context.Context, id string) error {
	q, cancel := c.query(ctx)
	defer cancel()
	err := c.client.Agent().ServiceDeregisterOpts(id, q)
	if err != nil && !statusIs(err, http.StatusNotFound) {
		return fmt.Errorf("consul: deregister %s: %w", id, err)
	}
	return nil
}

// renew passes a copy's TTL check. A check the agent does not know (the
// agent lost its state, or reaped the copy after its TTL lapsed) brings
// the copy back when this process put it, and drops it when it was only
// adopted.
func (c *Connector) renew(ctx context.Context, id string) error {
	k, ok := c.copies.Get(id)
	if !ok || ctx.Err() != nil {
		return nil
	}
	q, cancel := c.query(ctx)
	defer cancel()
	err := c.client.Agent().UpdateTTLOpts(checkID(id), ttlOutput, k.Reg.status, q)
	switch {
	case err == nil:
		c.metrics.renewed("ok")
	case checkUnknown(err) && k.Put:
		if err := c.register(ctx, k.Reg, false); err != nil {
			c.metrics.renewed("error")
			return fmt.Errorf("consul: register %s again after its check was unknown: %w", id, err)
		}
		c.metrics.renewed("reregistered")
		c.env.Logger.Info("copy registered again: the agent did not know its check", "service_id", id)
	case checkUnknown(err):
		c.copies.ForgetGone(id, k)
		c.metrics.renewed("gone")
		c.env.Logger.Info("adopted copy gone from the agent: no longer renewed", "service_id", id)
	default:
		c.metrics.renewed("error")
		return fmt.Errorf("consul: pass the check of %s: %w", id, err)
	}
	return nil
}

// checkUnknown reports whether Consul answered a TTL update for a check
// it does not have: 404 from Consul 1.x agents that know the error, 500
// with "Unknown check ID" from older ones.
func checkUnknown(err error) bool {
	var se api.StatusError
	if !errors.As(err, &se) {
		return false
	}
	return se.Code == http.StatusNotFound ||
		se.Code == http.StatusInternalServerError && strings.Contains(strings.ToLower(se.Body), "unknown check")
}

// checkDatacenter makes sure copies land where the configuration says:
// agent services live in the agent's datacenter, so a configured
// datacenter that is not the agent's is refused.
func (c *Connector) checkDatacenter(ctx context.Context) error {
	if c.cfg.Datacenter == "" {
		return nil
	}
	c.dcMu.Lock()
	defer c.dcMu.Unlock()
	if c.dcChecked {
		return nil
	}
	q, cancel := c.query(ctx)
	defer cancel()
	var self struct{ Config struct{ Datacenter string } }
	if _, err := c.client.Raw().Query("/v1/agent/self", &self, q); err != nil {
		return fmt.Errorf("read the agent's datacenter: %w", err)
	}
	if dc := self.Config.Datacenter; dc != c.cfg.Datacenter {
		return fmt.Errorf("the agent at %s is in datacenter %q, not %q: copies are services of the agent and land in its datacenter", c.cfg.Address, dc, c.cfg.Datacenter)
	}
	c.dcChecked = true
	return nil
}
