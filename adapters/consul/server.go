package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Server is the Consul API over one registry (a registry.Discovery). Create it with New,
// mount Handler, and keep Run running: Run feeds blocking queries and the
// agent's local state, and runs the checks.
type Server struct {
	store  registry.Discovery
	opts   Options
	log    *slog.Logger
	node   *nodeView
	notify *notifier
	agent  *agentState
	prober *prober
	cache  *readCache
	met    *metrics

	// elector elects the replica that runs the checks (nil: this one).
	elector registry.Elector
	// shared: other replicas use the store too (registry.Elector.Shared),
	// so TTL heartbeats are recorded in it for the leader to see.
	shared  bool
	leading atomic.Bool // this replica runs the checks

	handler http.Handler
	port    atomic.Int32 // the API's port once Serve runs (the "consul" service's)
	running atomic.Bool
	blocked atomic.Int64  // requests parked in a blocking query
	stopped chan struct{} // closed when Run returns: blocking queries answer at once
	runOnce sync.Once

	probes     sync.WaitGroup
	probeSlots chan struct{}
}

// New builds a Server. It does no I/O; defaults fill zero options.
func New(store registry.Discovery, opts Options) *Server {
	o := opts.withDefaults()
	s := &Server{
		store:      store,
		opts:       o,
		log:        o.Logger.With("component", "adapters.consul"),
		node:       newNodeView(o),
		notify:     newNotifier(),
		agent:      newAgentState(),
		prober:     newProber(),
		cache:      newReadCache(),
		stopped:    make(chan struct{}),
		probeSlots: make(chan struct{}, o.MaxConcurrentProbes),
	}
	// The store (or the one it decorates) elects the one replica that runs
	// the checks when replicas share it; without one this replica always
	// runs them and heartbeats are not recorded.
	s.elector, _ = registry.As[registry.Elector](store)
	s.shared = s.elector != nil && s.elector.Shared()
	s.met = newMetrics(o.Metrics, s)
	s.handler = s.routes()
	return s
}

// Handler serves the Consul HTTP API.
func (s *Server) Handler() http.Handler { return s.handler }

// Run follows the store and runs the checks until ctx ends; it returns nil
// then, or an error if the store fails. It may be called once.
func (s *Server) Run(ctx context.Context) error {
	err := errors.New("consul: Run called twice")
	s.runOnce.Do(func() { err = s.run(ctx) })
	return err
}

func (s *Server) run(ctx context.Context) error {
	defer close(s.stopped)
	defer s.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.resync(ctx)
	if err != nil {
		return err
	}
	s.running.Store(true)
	var loops sync.WaitGroup
	loops.Go(func() { s.leadChecks(ctx) })
	loops.Go(func() { s.runOutputs(ctx) })
	defer func() { cancel(); loops.Wait() }()
	for {
		if err := s.follow(ctx, w); err != nil {
			w.Stop()
			if ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, registry.ErrCompacted) {
				return fmt.Errorf("consul: watch store: %w", err)
			}
			s.log.Warn("fell behind the store's change stream; resynchronising", "error", err)
			if w, err = s.resync(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			continue
		}
		w.Stop()
		return nil
	}
}

// resync rebuilds the agent's local state from the store and starts
// watching from the revision it was read at.
func (s *Server) resync(ctx context.Context) (registry.Watcher, error) {
	insts, rev, err := s.store.List(ctx, registry.Filter{Namespace: s.opts.Namespace, Origin: registry.OriginConsul})
	if err != nil {
		return nil, fmt.Errorf("consul: list local services: %w", err)
	}
	// Every kind, resources included, so that the applied revision follows
	// the store's and a handler waiting for its write never waits for a
	// revision this stream would not bring.
	w, err := s.store.Watch(ctx, rev, registry.WatchFilter{})
	if err != nil {
		return nil, fmt.Errorf("consul: watch store: %w", err)
	}
	s.agent.reset()
	now := time.Now()
	for _, inst := range insts {
		if local(inst) {
			s.agent.put(inst, now)
		}
	}
	s.notify.reset(max(rev, 1))
	s.agent.setApplied(rev)
	return w, nil
}

// follow applies watch events until the watch ends.
func (s *Server) follow(ctx context.Context, w registry.Watcher) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return err
				}
				return ctx.Err()
			}
			s.apply(&e)
		}
	}
}

// apply reflects one store change in the notifier and the agent state.
func (s *Server) apply(e *registry.Event) {
	switch e.Kind {
	case registry.KindInstance:
		inst := e.Instance
		if inst.Namespace != s.opts.Namespace {
			break
		}
		// The agent state first: a woken watcher must find it current.
		switch {
		case e.Type == registry.EventDelete:
			s.agent.remove(inst.Key())
		case local(inst):
			s.agent.put(inst, time.Now())
		default:
			// Registered again through another protocol or on another
			// node through the catalog: no longer ours.
			s.agent.remove(inst.Key())
		}
		if e.Type == registry.EventDelete || !onlyHeartbeatChanged(e.PrevInstance, inst) {
			catalogChanged := e.Type == registry.EventDelete || !s.sameInCatalog(e.PrevInstance, inst)
			nodesChanged := catalogChanged && (externalNode(inst) != nil || e.PrevInstance != nil && externalNode(e.PrevInstance) != nil)
			s.notify.instanceChanged(inst.ServiceKey, e.Revision, catalogChanged, nodesChanged)
		}
	case registry.KindKV:
		s.notify.kvChanged(e)
	}
	s.agent.setApplied(e.Revision)
}

// settle waits briefly until the agent state reflects a write at rev, so
// that a client reading right after its write sees it.
func (s *Server) settle(ctx context.Context, rev int64) {
	if s.running.Load() {
		s.agent.waitApplied(ctx, rev, 5*time.Second)
	}
}
