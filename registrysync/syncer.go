package registrysync

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// TransformFunc runs a pair's instance transformers over a copy before it
// is written (plugins/host.Transform with the pair's plugins).
type TransformFunc func(ctx context.Context, inst *registry.Instance) (*registry.Instance, error)

// Options configure a Syncer besides its SyncConfig.
type Options struct {
	// Transformers holds, by pair index, the transformers of pairs that
	// name some.
	Transformers map[int]TransformFunc
	// Elector elects the replica that writes; nil: this one always does.
	Elector Elector
	Logger  *slog.Logger
	// Metrics receives the engine's and the connectors' metrics; nil for
	// none.
	Metrics prometheus.Registerer
	// RemoveCopiesOnStop makes a leading syncer that stops delete its
	// copies (Close with remove) instead of leaving them for its peer or
	// their expiry (default off).
	RemoveCopiesOnStop bool
	// DrainTimeout bounds what a stop does after the context ended:
	// closing the connectors, removing copies (default 30s).
	DrainTimeout time.Duration
}

// Syncer keeps copies of its sources' instances in its targets, under
// the safety rules of docs/registrysync.md.
type Syncer struct {
	cfg     SyncConfig
	opts    Options
	log     *slog.Logger
	metrics *metrics

	sources []*source
	targets map[string]*target
	flows   []*flow

	// mu guards what the sources report, what the targets hold and each
	// flow's state: the writer and the status read them.
	mu sync.Mutex
	// wake tells the writer that some flow has work.
	wake    chan struct{}
	leading atomic.Bool
	started time.Time
}

// source is a registry that some flow copies from.
type source struct {
	reg   RegistryConfig
	flows []*flow
	// guarded by Syncer.mu
	groups       map[groupKey]Group
	complete     bool
	lastComplete time.Time
	lastErr      string
	// emptyPending is set while an empty complete listing waits for
	// every target to be listed (rule 7).
	emptyPending bool
}

// groupKey is a service in a source: namespace and group with their
// defaults spelled out, the name canonical.
type groupKey struct{ namespace, group, service string }

func groupKeyOf(k ServiceKey) groupKey {
	ik := registry.NewInstanceKey(k.Namespace, k.Group, k.Service, "")
	return groupKey{ik.Namespace, ik.Group, ik.ServiceKey}
}

// target is a registry that some flow copies into.
type target struct {
	reg RegistryConfig
	// sink is this term's connector; nil while not leading. The writer
	// alone sets it.
	sink Sink
	// guarded by Syncer.mu
	copies map[copyKey][]*registry.Instance
	// alive are the copies this term's sink keeps alive, with their digest.
	alive  map[copyKey]string
	listed bool
}

// flow is one direction of a pair: from's instances copied into to.
type flow struct {
	pair      int
	from, to  string
	mapping   *mapping
	transform TransformFunc
	// guarded by Syncer.mu
	dirty    map[string]time.Time // canonical service -> when it first changed
	dirtyAll time.Time            // every service changed since
	inFlight time.Time            // the oldest change the running pass applies
	breaker  breaker
	states   map[copyKey]copyState
	errs     []RecordError
	lastFull time.Time
	// cache holds the transformers' output by record and input digest,
	// so that an unchanged record does not call the plugins again.
	cache map[copyKey]cachedCopy
}

type cachedCopy struct {
	input string
	out   *registry.Instance
	err   error
}

// copyState is where a flow's record stands.
type copyState string

const (
	stateInSync copyState = "in_sync"
	stateFailed copyState = "failed"
	stateHeld   copyState = "held"
)

func (f *flow) name() string { return f.from + " -> " + f.to }

// markAll notes that every service of the flow changed at now.
func (f *flow) markAll(now time.Time) {
	if f.dirtyAll.IsZero() {
		f.dirtyAll = now
	}
}

// mark notes that service changed at now.
func (f *flow) mark(service string, now time.Time) {
	if _, ok := f.dirty[service]; !ok {
		f.dirty[service] = now
	}
}

// New builds a syncer from a validated configuration. It has no side
// effects: nothing is dialled until Run or Plan.
func New(cfg SyncConfig, opts Options) (*Syncer, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Elector == nil {
		opts.Elector = alone{}
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	s := &Syncer{
		cfg: cfg, opts: opts, log: opts.Logger.With("component", "registrysync"),
		metrics: newMetrics(opts.Metrics), targets: map[string]*target{}, wake: make(chan struct{}, 1),
	}
	regs := map[string]RegistryConfig{}
	for _, r := range cfg.Registries {
		if _, ok := Lookup(r.Type); !ok {
			return nil, fmt.Errorf("registrysync: registry %q: unknown type %q", r.Name, r.Type)
		}
		regs[r.Name] = r
	}
	sources := map[string]*source{}
	addFlow := func(pair int, from, to string, m *mapping) {
		f := &flow{
			pair: pair, from: from, to: to, mapping: m, transform: opts.Transformers[pair],
			dirty: map[string]time.Time{}, states: map[copyKey]copyState{}, cache: map[copyKey]cachedCopy{},
			breaker: breaker{cfg: cfg.Engine.Breaker},
		}
		s.flows = append(s.flows, f)
		src := sources[from]
		if src == nil {
			src = &source{reg: regs[from], groups: map[groupKey]Group{}}
			sources[from] = src
			s.sources = append(s.sources, src)
		}
		src.flows = append(src.flows, f)
		if s.targets[to] == nil {
			s.targets[to] = &target{reg: regs[to], copies: map[copyKey][]*registry.Instance{}, alive: map[copyKey]string{}}
		}
	}
	for i, p := range cfg.Pairs {
		if _, ok := regs[p.From]; !ok {
			return nil, fmt.Errorf("registrysync: pairs[%d]: no registry is named %q", i, p.From)
		}
		if _, ok := regs[p.To]; !ok {
			return nil, fmt.Errorf("registrysync: pairs[%d]: no registry is named %q", i, p.To)
		}
		forward, back := mappings(p)
		addFlow(i, p.From, p.To, forward)
		if back != nil {
			addFlow(i, p.To, p.From, back)
		}
	}
	return s, nil
}

// open builds a connector instance of reg for role ("source" or "sink"),
// its metrics labelled with the role (each connector labels them with
// its registry's name); release closes it and takes its metrics out.
func (s *Syncer) open(reg RegistryConfig, role string) (Connector, func(ctx context.Context, remove bool), error) {
	kind, _ := Lookup(reg.Type)
	var metrics prometheus.Registerer
	var scoped *scopedRegisterer
	if s.opts.Metrics != nil {
		scoped = &scopedRegisterer{Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"role": role}, s.opts.Metrics)}
		metrics = scoped
	}
	log := s.opts.Logger.With("component", "registrysync."+reg.Type, "registry", reg.Name, "role", role)
	conn, err := kind.New(reg.Settings, Env{Name: reg.Name, Owner: s.cfg.ID, Logger: log, Metrics: metrics})
	if err != nil {
		if scoped != nil {
			scoped.release()
		}
		return nil, nil, fmt.Errorf("registrysync: registry %q: %w", reg.Name, err)
	}
	release := func(ctx context.Context, remove bool) {
		if err := conn.Close(ctx, remove); err != nil {
			log.Warn("closing the connector", "error", err)
		}
		if scoped != nil {
			scoped.release()
		}
	}
	return conn, release, nil
}

// signal wakes the writer.
func (s *Syncer) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run follows every source and, while this replica leads, writes; it
// returns nil once ctx ended and the stop is done: the writer stopped,
// leadership resigned, the connectors closed (the copies removed with
// Options.RemoveCopiesOnStop).
func (s *Syncer) Run(ctx context.Context) error {
	s.mu.Lock()
	s.started = time.Now()
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, src := range s.sources {
		wg.Go(func() { s.follow(ctx, src) })
	}
	for ctx.Err() == nil {
		lead, resign, err := s.opts.Elector.Lead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("campaign failed; retrying", "error", err)
				wait.Sleep(ctx, s.cfg.Engine.RetryInterval)
			}
			continue
		}
		s.term(ctx, lead)
		resign()
	}
	wg.Wait()
	return nil
}
