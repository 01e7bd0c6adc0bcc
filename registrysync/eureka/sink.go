package eureka

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/adapters/eureka/fields"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// errClosed is what a sink answers after Close.
var errClosed = errors.New("connector closed")

// Owned lists the copies in the registry this syncer wrote, from a full
// fetch, and renews them from then on: a syncer that restarts or takes
// over keeps its copies alive without writing them again.
func (c *Connector) Owned(ctx context.Context) ([]*registry.Instance, error) {
	doc, _, err := c.fetch(ctx, fullPath, nil)
	if err != nil {
		return nil, fmt.Errorf("eureka: owned: %w", err)
	}
	var out []*registry.Instance
	for _, app := range doc.apps {
		for _, w := range app.Instances {
			meta, err := metadataOf(w)
			if err != nil {
				return nil, fmt.Errorf("eureka: owned: instance %q of %s: %w", w.Id(), app.Name, err)
			}
			if meta[registrysync.MetaOwner] != c.env.Owner {
				continue
			}
			inst, err := fromEureka(w, fields.ServiceName(app.Name, w.VipAddress))
			if err != nil {
				return nil, fmt.Errorf("eureka: owned: %w", err)
			}
			if want := c.adopt(app.Name, w); want != nil {
				inst = want
			}
			out = append(out, inst)
		}
	}
	return out, nil
}

// adopt renews a listed copy, and returns the instance it was last put
// as when the registry still holds what was written for it.
func (c *Connector) adopt(app string, w *fargo.Instance) *registry.Instance {
	listed := *w
	listed.App = app
	found := registration{instance: &listed, outOfService: w.Status == fargo.OUTOFSERVICE}
	return c.copies.Adopt(instanceKey{app, w.Id()}.String(), found, func(held registration) bool {
		return sameRegistration(held, w)
	})
}

// Put registers a copy, or updates it, and renews it from then on. An
// instance with the copy's app and id that this syncer did not write is
// left alone and the put fails: a copy never replaces an app's own
// registration.
func (c *Connector) Put(ctx context.Context, inst *registry.Instance) error {
	reg, err := toEureka(inst, c.cfg.RenewalInterval, c.cfg.LeaseDuration)
	if err != nil {
		return fmt.Errorf("eureka: put %s/%s: %w", inst.Service, inst.ID, err)
	}
	w := reg.instance
	key := instanceKey{w.App, w.InstanceId}
	if c.copies.Closed() {
		return fmt.Errorf("eureka: put %s/%s: %w", w.App, w.InstanceId, errClosed)
	}
	got, err := c.conn.GetInstance(w.App, w.InstanceId)
	switch {
	case statusIs(err, http.StatusNotFound):
	case err != nil:
		return fmt.Errorf("eureka: put %s/%s: read: %w", w.App, w.InstanceId, err)
	case !c.ownedBy(got):
		return fmt.Errorf("eureka: put %s/%s: an instance this syncer did not write holds the id", w.App, w.InstanceId)
	case sameRegistration(reg, got):
		return c.hold(key, reg, inst)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("eureka: put %s/%s: %w", w.App, w.InstanceId, err)
	}
	if err := c.register(reg); err != nil {
		return fmt.Errorf("eureka: put %s/%s: %w", w.App, w.InstanceId, err)
	}
	return c.hold(key, reg, inst)
}

// hold renews a copy put; after Close the put fails.
func (c *Connector) hold(key instanceKey, reg registration, inst *registry.Instance) error {
	if !c.copies.Hold(key.String(), reg, inst) {
		return fmt.Errorf("eureka: put %s/%s: %w", key.app, key.id, errClosed)
	}
	return nil
}

// register writes a registration: the instance, then the status override
// that carries OUT_OF_SERVICE, or lifts one left from before (Eureka keeps
// an OUT_OF_SERVICE status through re-registrations, so only the status
// endpoint sets and lifts it).
func (c *Connector) register(reg registration) error {
	w := *reg.instance // fargo overwrites what it registers with the server's read-back
	if err := c.conn.ReregisterInstance(&w); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	// The read-back is best effort in fargo: when it failed, w is what
	// was sent, whose status is never OUT_OF_SERVICE, and the override
	// is set (or lifted) to be sure.
	shown := w.Status
	switch {
	case reg.outOfService && shown != fargo.OUTOFSERVICE:
		if err := c.conn.UpdateInstanceStatus(&w, fargo.OUTOFSERVICE); err != nil {
			return fmt.Errorf("set OUT_OF_SERVICE: %w", err)
		}
	case !reg.outOfService && (shown == fargo.OUTOFSERVICE || w.Overriddenstatus == fargo.OUTOFSERVICE):
		if err := c.conn.UpdateInstanceStatus(&w, fargo.UP); err != nil {
			return fmt.Errorf("lift OUT_OF_SERVICE: %w", err)
		}
	}
	return nil
}

// Delete cancels a copy. One already gone is not an error; an instance
// under the copy's id that this syncer did not write is left alone.
func (c *Connector) Delete(ctx context.Context, inst *registry.Instance) error {
	app := appName(inst.Service)
	c.copies.Forget(instanceKey{app, inst.ID}.String())
	got, err := c.conn.GetInstance(app, inst.ID)
	switch {
	case statusIs(err, http.StatusNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("eureka: delete %s/%s: read: %w", app, inst.ID, err)
	case !c.ownedBy(got):
		return fmt.Errorf("eureka: delete %s/%s: an instance this syncer did not write holds the id", app, inst.ID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("eureka: delete %s/%s: %w", app, inst.ID, err)
	}
	return c.cancel(&fargo.Instance{App: app, InstanceId: inst.ID})
}

// cancel deregisters a copy; one already gone is not an error.
func (c *Connector) cancel(w *fargo.Instance) error {
	err := c.conn.DeregisterInstance(w)
	if err != nil && !statusIs(err, http.StatusNotFound) {
		return fmt.Errorf("eureka: delete %s/%s: %w", w.App, w.Id(), err)
	}
	return nil
}

// renew renews one copy's lease. A copy the server does not know (404:
// it restarted empty, evicted the copy, or someone cancelled it) is
// registered again when this process put it, and forgotten when it was
// only adopted.
func (c *Connector) renew(ctx context.Context, id string) error {
	key := parseKey(id)
	k, ok := c.copies.Get(id)
	if !ok || ctx.Err() != nil {
		return nil
	}
	err := c.conn.HeartBeatInstance(k.Reg.instance)
	switch {
	case err == nil:
		c.metrics.renewed("ok")
	case statusIs(err, http.StatusNotFound) && k.Put:
		if err := c.register(k.Reg); err != nil {
			c.metrics.renewed("error")
			return fmt.Errorf("eureka: register %s/%s again after its renewal was answered 404: %w", key.app, key.id, err)
		}
		c.metrics.renewed("reregistered")
		c.env.Logger.Info("copy registered again: its renewal was answered 404", "app", key.app, "instance", key.id)
	case statusIs(err, http.StatusNotFound):
		c.copies.ForgetGone(id, k)
		c.metrics.renewed("gone")
		c.env.Logger.Info("adopted copy gone from the registry: no longer renewed", "app", key.app, "instance", key.id)
	default:
		c.metrics.renewed("error")
		return fmt.Errorf("eureka: renew %s/%s: %w", key.app, key.id, err)
	}
	return nil
}

// ownedBy reports whether w is a copy this syncer wrote.
func (c *Connector) ownedBy(w *fargo.Instance) bool {
	meta, err := metadataOf(w)
	return err == nil && meta[registrysync.MetaOwner] == c.env.Owner
}

// statusIs reports whether err is fargo's answer for an HTTP status.
func statusIs(err error, code int) bool {
	got, ok := fargo.HTTPResponseStatusCode(err)
	return ok && got == code
}

// String is the key the keeper holds a copy under.
func (k instanceKey) String() string { return k.app + "\n" + k.id }

func parseKey(s string) instanceKey {
	app, id, _ := strings.Cut(s, "\n")
	return instanceKey{app, id}
}
