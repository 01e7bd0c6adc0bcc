package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/appcheck"
)

// locals tracks the registry instances of the local app (the sidecar's own
// registration and those the app made through discovery mode) and keeps
// their status in line with the app's health check.
type locals struct {
	s *Sidecar

	mu      sync.Mutex
	keys    map[registry.InstanceKey]bool
	healthy *bool // nil until the first check result
	self    *registry.Instance
}

func newLocals(s *Sidecar) *locals { return &locals{s: s, keys: map[registry.InstanceKey]bool{}} }

// add records an instance of the local app and applies the known health.
func (l *locals) add(ctx context.Context, key registry.InstanceKey) {
	l.mu.Lock()
	l.keys[key] = true
	h := l.healthy
	l.mu.Unlock()
	if h != nil && !*h {
		l.setStatus(ctx, key, false)
	}
}

func (l *locals) remove(key registry.InstanceKey) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// healthCheck builds the app's health check, or returns nil when none is
// configured.
func (l *locals) healthCheck() *appcheck.Checker {
	c := l.s.cfg
	if c.HealthCheck.Kind == "none" {
		return nil
	}
	port := c.Service.Ports[0]
	for _, p := range c.Service.Ports {
		if p.Name == c.HealthCheck.Port {
			port = p
		}
	}
	hc := c.HealthCheck
	return appcheck.New(appcheck.Options{
		Kind: hc.Kind, Address: net.JoinHostPort(c.Service.Host, strconv.Itoa(port.Port)), Path: hc.Path,
		ExpectStatus: hc.ExpectStatus, ExpectBody: hc.ExpectBody, Interval: hc.Interval, Timeout: hc.Timeout,
		UnhealthyThreshold: hc.UnhealthyThreshold, HealthyThreshold: hc.HealthyThreshold, Logger: l.s.opts.Logger,
	})
}

func (l *locals) selfInstance(ingress net.Addr) *registry.Instance {
	c := l.s.cfg.Service
	port := 0
	if ta, ok := ingress.(*net.TCPAddr); ok {
		port = ta.Port
	}
	id := c.ID
	if id == "" {
		id = fmt.Sprintf("%s-%s-%d", c.Name, c.AdvertiseHost, port)
	}
	md := map[string]string{"mesh.sidecar": "true", "mesh.appPort": strconv.Itoa(c.Ports[0].Port)}
	for k, v := range c.Metadata {
		md[k] = v
	}
	inst := &registry.Instance{
		ID: id, Service: c.Name, Namespace: c.Namespace, Group: c.Group,
		Host: c.AdvertiseHost, Port: port, Status: registry.StatusUp, Ephemeral: true, Metadata: md,
		Lease: registry.Lease{RenewalInterval: c.LeaseRenewal, Duration: c.LeaseDuration},
	}
	inst.Normalize() // so Key() is the key the store uses
	return inst
}

// keepRegistered registers the app, renews its lease and registers again
// whenever the control plane forgot it.
func (l *locals) keepRegistered(ctx context.Context) {
	ctl, lg := l.s.opts.Control, l.s.logger
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	registered := false
	for ctx.Err() == nil {
		if !registered {
			inst, err := ctl.Register(ctx, l.self)
			if err != nil {
				if ctx.Err() == nil {
					lg.Warn("registering the app failed; retrying", "error", err)
				}
				backoff.Wait(ctx)
				continue
			}
			registered = true
			backoff.Reset()
			lg.Info("app registered", "instance", inst.Key().String(), "address", inst.Address())
			l.add(ctx, inst.Key())
		}
		if !wait.Sleep(ctx, l.self.Lease.RenewalInterval) {
			return
		}
		if err := ctl.Renew(ctx, l.self.Key()); err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				registered = false // expired or deleted: register again
			} else if ctx.Err() == nil {
				lg.Warn("renewing the app's lease failed", "error", err)
			}
		}
	}
}

// deregister removes the sidecar's own registration (at drain).
func (l *locals) deregister() {
	if l.self == nil || l.s.opts.Control == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.s.opts.Control.Deregister(ctx, l.self.Key()); err != nil && !errors.Is(err, registry.ErrNotFound) {
		l.s.logger.Warn("deregistering the app failed", "error", err)
	}
	l.remove(l.self.Key())
}

// report applies a health result to every local instance.
func (l *locals) report(ctx context.Context, healthy bool) {
	l.mu.Lock()
	l.healthy = &healthy
	keys := make([]registry.InstanceKey, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	l.mu.Unlock()
	if healthy {
		l.s.metrics.HealthStatus.Set(1)
	} else {
		l.s.metrics.HealthStatus.Set(0)
	}
	for _, k := range keys {
		l.setStatus(ctx, k, healthy)
	}
}

// setStatus marks an instance DOWN (an override) or clears the override.
func (l *locals) setStatus(ctx context.Context, key registry.InstanceKey, healthy bool) {
	ctl := l.s.opts.Control
	if ctl == nil {
		return
	}
	var err error
	if healthy {
		_, err = ctl.ClearStatus(ctx, key)
	} else {
		_, err = ctl.SetStatus(ctx, key, registry.StatusDown)
	}
	if err != nil && ctx.Err() == nil {
		l.s.logger.Warn("updating the app's status failed", "instance", key.String(), "healthy", healthy, "error", err)
	}
}
