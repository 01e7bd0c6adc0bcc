package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
)

// joinDiscovery adds discovery mode to g: the mesh view over the control
// plane, following the routing table; its per-service loopback listeners;
// and every registry front-end with an address under discovery:, mounted
// over the view as registry-adapter mounts them over its store. bg lives
// until the group is done.
func (s *Sidecar) joinDiscovery(g *app.Group, bg context.Context, ingress net.Addr) error {
	c := s.cfg
	if s.opts.Control == nil {
		return errors.New("sidecar: discovery mode needs a control-plane client")
	}
	so := s.serverOptions()
	alloc := meshview.NewAllocator(c.Discovery.LoopbackHost, c.Discovery.FirstPort, c.Discovery.LastPort, func(service string) meshview.Server {
		return httpx.NewServer(s.egress.ForService(service), so)
	}, s.opts.Logger)
	port := 0
	if ta, ok := ingress.(*net.TCPAddr); ok {
		port = ta.Port
	}
	view := meshview.New(meshview.Options{
		Upstream: s.opts.Control, Allocator: alloc, Namespace: c.Service.Namespace,
		IngressHost: c.Service.AdvertiseHost, IngressPort: port, Logger: s.opts.Logger,
		OnRegister:   func(k registry.InstanceKey) { s.locals.add(bg, k) },
		OnDeregister: s.locals.remove,
		KVWait:       c.Control.WatchWait,
	})
	s.view.Store(view)
	s.tables.OnSwap(view.Follow)
	// The per-service listeners drain with the sidecar's own; then the
	// view's watches end.
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		dctx, cancel := context.WithTimeout(context.Background(), c.DrainTimeout)
		defer cancel()
		alloc.Shutdown(dctx)
		_ = view.Close() // only ends watches; cannot fail
		return nil
	})
	readsKeys := false
	for _, k := range frontend.Kinds() {
		addr := c.Discovery.FrontEnds[k.Name]
		if addr == "" {
			continue
		}
		env := frontend.Env{
			Registry: view, Group: g, Logger: s.opts.Logger.With("component", "sidecar.discovery."+k.Name),
			Timeouts: serve.Timeouts{Shutdown: c.DrainTimeout},
			Sidecar:  &frontend.Sidecar{Listen: addr, Namespace: c.Service.Namespace},
		}
		if err := k.Mount(k.NewConfig(), env); err != nil {
			return fmt.Errorf("sidecar: discovery %s on %s: %w", k.Name, addr, err)
		}
		readsKeys = readsKeys || k.KeyValues
	}
	// Only front-ends that read keys (Consul KV, Nacos config) need the
	// view to follow the key space.
	if readsKeys {
		g.Go(func(ctx context.Context) error {
			view.RunKV(ctx)
			return nil
		})
	}
	return nil
}
