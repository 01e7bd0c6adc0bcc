package eureka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// Server is the Eureka front-end over one registry (a registry.Discovery).
type Server struct {
	store   registry.Discovery
	opts    Options
	log     *slog.Logger
	view    *view
	handler http.Handler
	started time.Time
	renews  renewCounter
	running atomic.Bool
}

// New builds a Server; it starts nothing. Call Run (or Serve) to follow
// the store.
func New(store registry.Discovery, opts Options) (*Server, error) {
	if store == nil {
		return nil, errors.New("eureka: store is required")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("eureka: %w", err)
	}
	o := opts.withDefaults()
	s := &Server{
		store:   store,
		opts:    o,
		log:     o.Logger.With("component", "adapters.eureka"),
		view:    newView(o.Namespace),
		started: o.Now(),
	}
	s.handler = s.routes()
	return s, nil
}

// Handler serves the Eureka API under /eureka/, /eureka/v1/ and
// /eureka/v2/, and the status page at /.
func (s *Server) Handler() http.Handler { return s.handler }

// Run follows the store until ctx ends: it loads the namespace, then
// applies every change to the view bulk reads are served from, and prunes
// the delta window. After a lost watch it lists again and carries on.
// It returns nil when ctx ends; running it twice at once is an error.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("eureka: already running")
	}
	defer s.running.Store(false)
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		rev, err := s.resync(ctx)
		if err == nil {
			backoff.Reset()
			err = s.follow(ctx, rev)
		}
		if ctx.Err() != nil {
			return nil
		}
		pause := backoff.Next()
		s.log.Warn("registry watch interrupted, listing again", "error", err, "retry_in", pause)
		if !wait.Sleep(ctx, pause) {
			return nil
		}
	}
}

// resync loads the namespace and returns the revision it was read at.
func (s *Server) resync(ctx context.Context) (int64, error) {
	insts, rev, err := s.store.List(ctx, registry.Filter{Namespace: s.opts.Namespace})
	if err != nil {
		return 0, fmt.Errorf("eureka: list instances: %w", err)
	}
	s.view.reset(insts, rev, s.opts.Now())
	return rev, nil
}

// follow applies watch events from rev until the watch or ctx ends.
func (s *Server) follow(ctx context.Context, rev int64) error {
	// Every kind is watched, not only instances, so the view's revision
	// keeps up with the store's and a write can wait for it (awaitView).
	w, err := s.store.Watch(ctx, rev, registry.WatchFilter{})
	if err != nil {
		return fmt.Errorf("eureka: watch instances: %w", err)
	}
	defer w.Stop()
	prune := time.NewTicker(30 * time.Second) // Eureka's deltaRetentionTimerIntervalInMs
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-prune.C:
			s.view.prune(s.opts.Now(), s.opts.DeltaRetention)
		case e, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return fmt.Errorf("eureka: watch instances: %w", err)
				}
				return errors.New("eureka: watch instances: ended")
			}
			s.view.apply(&e, s.opts.Now())
		}
	}
}

// Serve serves the API on ln until ctx ends, then drains in-flight
// requests for up to Options.DrainTimeout. It also runs Run unless that is
// already running.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := serve.NewServer(s.handler, serve.Timeouts{}, serve.Limits{}) // the listener defaults every binary has
	srv.WriteTimeout = 2 * time.Minute
	srv.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan struct{})
	if s.running.Load() {
		close(runDone)
	} else {
		go func() {
			defer close(runDone)
			if err := s.Run(runCtx); err != nil {
				s.log.Error("eureka view", "error", err)
			}
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		stopRun()
		<-runDone
		return fmt.Errorf("eureka: serve: %w", err)
	case <-ctx.Done():
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	err := srv.Shutdown(drainCtx)
	stopRun()
	<-runDone
	if err != nil {
		return fmt.Errorf("eureka: drain: %w", err)
	}
	return nil
}
