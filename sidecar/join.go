package sidecar

import (
	"context"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// Join binds the sidecar's listeners (egress, ingress, admin; a port in
// use is reported before anything serves) and adds what the sidecar runs
// to g: the three servers, the routing-table sync, self-registration and
// the app's health check, and discovery mode when it is on. When g stops,
// the sidecar first stops renewing its own registration, reports not
// ready and deregisters, so callers stop choosing it; then its listeners
// drain for up to drainTimeout while background work stops; handlers
// release their goroutines and pooled connections last.
func (s *Sidecar) Join(g *app.Group) error {
	g.Cleanup(func() {
		s.cleanup()
		if s.draining.Load() {
			s.logger.Info("drained")
		}
	})
	servers, err := s.bind()
	if err != nil {
		return err
	}
	for _, sv := range servers {
		serve.JoinServer(g, sv.name, sv.srv, sv.ln, s.cfg.DrainTimeout, s.logger)
	}
	// bg is for work the view's callbacks start; it ends once all stopped.
	bg, stopBg := context.WithCancel(context.Background())
	g.Cleanup(stopBg)
	ingress := servers[1].ln.Addr()
	register := s.cfg.Service.Register && s.opts.Control != nil
	if register {
		s.locals.self = s.locals.selfInstance(ingress)
	}
	g.GoFirst(func(ctx context.Context) error {
		if register {
			s.locals.keepRegistered(ctx) // until ctx ends
		} else {
			<-ctx.Done()
		}
		s.draining.Store(true)
		s.logger.Info("draining", "timeout", s.cfg.DrainTimeout)
		s.locals.deregister()
		return nil
	})
	if s.opts.Control != nil {
		g.Go(func(ctx context.Context) error {
			// Sync only returns when ctx ends; it retries by itself.
			_ = s.opts.Control.Sync(ctx, control.SyncOptions{Filter: registry.Filter{Namespace: s.cfg.Service.Namespace}, Wait: s.cfg.Control.WatchWait}, s.tables)
			return nil
		})
	}
	if chk := s.locals.healthCheck(); chk != nil {
		g.Go(func(ctx context.Context) error {
			chk.Run(ctx, func(h bool) { s.locals.report(ctx, h) })
			return nil
		})
	}
	if s.cfg.Discovery.Enabled {
		return s.joinDiscovery(g, bg, ingress)
	}
	return nil
}
