package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
	"github.com/meshbridge/meshbridge/sidecar/proxy"
)

// discovery runs discovery mode: the per-service loopback listeners, the
// mesh view and the registry front-ends registered with meshview.
type discovery struct {
	alloc   *meshview.Allocator
	view    *meshview.View
	fronts  []meshview.FrontEnd
	serving bool
}

// startDiscovery builds the view over the control plane, follows the
// routing table and serves the front-ends until ctx ends.
func (s *Sidecar) startDiscovery(ctx context.Context, wg *sync.WaitGroup, ingress net.Addr) (*discovery, error) {
	c := s.cfg
	if s.opts.Control == nil {
		return nil, errors.New("sidecar: discovery mode needs a control-plane client")
	}
	so := s.serverOptions()
	d := &discovery{}
	d.alloc = meshview.NewAllocator(c.Discovery.LoopbackHost, c.Discovery.FirstPort, c.Discovery.LastPort, func(service string) meshview.Server {
		return proxy.NewServer(s.egress.ForService(service), so)
	}, s.opts.Logger)
	port := 0
	if ta, ok := ingress.(*net.TCPAddr); ok {
		port = ta.Port
	}
	d.view = meshview.New(meshview.Options{
		Upstream: s.opts.Control, Allocator: d.alloc, Namespace: c.Service.Namespace,
		IngressHost: c.Service.AdvertiseHost, IngressPort: port, Logger: s.opts.Logger,
		OnRegister:   func(k registry.InstanceKey) { s.locals.add(ctx, k) },
		OnDeregister: s.locals.remove,
		KVWait:       c.Control.WatchWait,
	})
	s.tables.OnSwap(d.view.Follow)
	for _, fe := range []struct{ name, addr string }{{"eureka", c.Discovery.Eureka}, {"consul", c.Discovery.Consul}, {"nacos", c.Discovery.Nacos}} {
		if fe.addr == "" {
			continue
		}
		build, ok := meshview.LookupFrontEnd(fe.name)
		if !ok {
			s.logger.Warn("discovery front-end not built into this sidecar; skipped", "front_end", fe.name)
			continue
		}
		front, err := build(d.view, c.Service.Namespace, s.opts.Logger)
		if err != nil {
			return d, fmt.Errorf("sidecar: discovery %s: %w", fe.name, err)
		}
		if err := front.Listen(fe.addr); err != nil {
			return d, fmt.Errorf("sidecar: discovery %s on %s: %w", fe.name, fe.addr, err)
		}
		d.fronts = append(d.fronts, front)
		s.logger.Info("discovery front-end listening", "front_end", fe.name, "addr", fe.addr)
	}
	// Serve only once every front-end could bind, so a failure leaves
	// nothing half-started.
	for _, front := range d.fronts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := front.Serve(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("discovery front-end failed", "error", err)
			}
		}()
	}
	// Only Consul KV and Nacos config read keys: without them the view
	// need not follow the key space.
	if c.Discovery.Consul != "" || c.Discovery.Nacos != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.view.RunKV(ctx)
		}()
	}
	d.serving = true
	return d, nil
}

// stop drains the service listeners and ends the view's watches.
func (d *discovery) stop(ctx context.Context) {
	if d == nil {
		return
	}
	if !d.serving {
		for _, f := range d.fronts {
			_ = f.Close() // never served: release the sockets
		}
	}
	d.alloc.Shutdown(ctx)
	_ = d.view.Close() // only ends watches; cannot fail
}
