package nacos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// healthInterval is how often the source asks its clients whether they
// are connected: a source that was cut off sends a complete listing
// before anything else once it is back.
const healthInterval = time.Second

// source reports the instances of the configured namespaces and groups.
type source struct {
	cfg     *Config
	log     *slog.Logger
	metrics *metrics

	// changes is signalled (without blocking) when a push changed a
	// service; dirty names the services it changed.
	changes chan struct{}
	mu      sync.Mutex
	dirty   map[sourceRef]struct{}

	// catalog finds the instances the server holds but lists to no
	// client (disabled ones); known is, per service, what the source last
	// reported, by address. Both are used by run's goroutine only.
	catalog *catalog
	known   map[sourceRef]map[address]model.Instance
	// catalogOffLogged keeps "the server does not serve the catalog" to
	// one warning.
	catalogOffLogged bool
}

// sourceRef is a service of one of the source's namespaces.
type sourceRef struct {
	Namespace string
	serviceRef
}

func newSource(cfg *Config, log *slog.Logger, m *metrics) *source {
	return &source{
		cfg: cfg, log: log, metrics: m, changes: make(chan struct{}, 1), dirty: map[sourceRef]struct{}{},
		catalog: newCatalog(cfg), known: map[sourceRef]map[address]model.Instance{},
	}
}

// run implements registrysync.Source.Run.
func (s *source) run(ctx context.Context, updates chan<- registrysync.Update) error {
	watches, err := s.open(ctx)
	defer func() {
		for _, w := range watches {
			w.client.CloseClient()
		}
	}()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	listTick := time.NewTicker(s.cfg.ListInterval)
	defer listTick.Stop()
	healthTick := time.NewTicker(healthInterval)
	defer healthTick.Stop()
	// listed is set by a complete listing and cleared by a failed one or a
	// lost connection: until the next complete listing, pushes wait.
	// failing keeps an outage to one warning, however many seconds it
	// retries.
	listed, failing := false, false
	list := func() {
		if err := s.list(ctx, watches, updates); err != nil {
			if ctx.Err() == nil {
				s.metrics.listings.WithLabelValues("error").Inc()
				if !failing {
					s.log.Warn("nacos listing failed; nothing is sent until one succeeds", "error", err)
				}
				failing = true
			}
			listed = false
			return
		}
		s.metrics.listings.WithLabelValues("ok").Inc()
		if failing {
			s.log.Info("nacos listing succeeded again")
			failing = false
		}
		listed = true
	}
	list()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-listTick.C:
			list()
		case <-healthTick.C:
			for _, w := range watches {
				if !w.client.ServerHealthy() {
					listed = false
				}
			}
			if !listed {
				list()
			}
		case <-s.changes:
			if listed {
				s.sendChanges(ctx, watches, updates)
			}
		}
	}
}

// open dials one client per namespace; namespaces "" and "public" share one.
func (s *source) open(ctx context.Context) ([]*watch, error) {
	var watches []*watch
	for _, ns := range s.namespaces() {
		c, err := dial(ctx, s.cfg, ns)
		if err != nil {
			return watches, err
		}
		ns := ns
		watches = append(watches, newWatch(c, ns, s.cfg.Timeout, func(ref serviceRef) { s.changed(sourceRef{ns, ref}) }))
	}
	return watches, nil
}

func (s *source) namespaces() []string { return distinct(s.cfg.Namespaces, naming.Namespace) }

func (s *source) groups() []string { return distinct(s.cfg.Groups, naming.Group) }

// distinct applies Nacos's defaults to names and drops the repeats that
// makes ("" and "public" are one namespace).
func distinct(names []string, withDefault func(string) string) []string {
	var out []string
	for _, n := range names {
		if n = withDefault(n); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// changed is the push callback's part: it never blocks the client.
func (s *source) changed(ref sourceRef) {
	s.metrics.pushes.Inc()
	s.mu.Lock()
	s.dirty[ref] = struct{}{}
	s.mu.Unlock()
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

func (s *source) takeDirty() map[sourceRef]struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirty
	s.dirty = map[sourceRef]struct{}{}
	return d
}

// list sends one complete listing: every service of every namespace and
// group, each with the instances the server last pushed. Nothing is sent
// when any part fails.
func (s *source) list(ctx context.Context, watches []*watch, updates chan<- registrysync.Update) error {
	// Pushes noted before the listing is read are in it; those after are
	// newer and are sent after it.
	s.takeDirty()
	var groups []registrysync.Group
	for _, w := range watches {
		listed := map[serviceRef]bool{}
		for _, g := range s.groups() {
			names, err := s.serviceNames(ctx, w, g)
			if err != nil {
				return err
			}
			for _, name := range names {
				ref := serviceRef{Group: g, Service: name}
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := w.subscribe(ctx, ref); err != nil {
					return err
				}
				listed[ref] = true
				hosts, _ := w.instances(ref)
				g, err := s.group(ctx, sourceRef{w.namespace, ref}, hosts)
				if err != nil {
					return err
				}
				groups = append(groups, g)
			}
		}
		for _, ref := range w.subscribed() {
			if !listed[ref] {
				// Gone from the server's list; the complete listing says so.
				delete(s.known, sourceRef{w.namespace, ref})
				if err := w.unsubscribe(ref); err != nil {
					s.log.Warn("nacos unsubscribe failed", "error", err)
				}
			}
		}
	}
	return send(ctx, updates, registrysync.Update{Groups: groups, Complete: true})
}

// serviceNames pages through one namespace's group.
func (s *source) serviceNames(ctx context.Context, w *watch, group string) ([]string, error) {
	var names []string
	for page := uint32(1); ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		list, err := w.client.GetAllServicesInfo(vo.GetAllServiceInfoParam{
			NameSpace: w.namespace, GroupName: group, PageNo: page, PageSize: uint32(s.cfg.PageSize),
		})
		if err != nil {
			return nil, fmt.Errorf("nacos: list services of %s/%s, page %d: %w", w.namespace, group, page, err)
		}
		names = append(names, list.Doms...)
		// The count is the group's total; a page shorter than asked is the
		// last one, whatever the count says, so a list that shrinks while
		// it is read cannot loop.
		if len(list.Doms) < s.cfg.PageSize || int64(len(names)) >= list.Count {
			break
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// sendChanges sends the services pushes changed since the last update.
func (s *source) sendChanges(ctx context.Context, watches []*watch, updates chan<- registrysync.Update) {
	dirty := s.takeDirty()
	var groups []registrysync.Group
	for _, w := range watches {
		for ref := range dirty {
			if ref.Namespace != w.namespace {
				continue
			}
			// Unsubscribed since: the listing that dropped it said so.
			hosts, ok := w.instances(ref.serviceRef)
			if !ok {
				continue
			}
			g, err := s.group(ctx, ref, hosts)
			if err != nil {
				// Stale beats wrong: the next complete listing, within
				// listInterval, sends the service again.
				s.log.Warn("nacos push not sent: the catalog lookup failed; the next listing sends it", "error", err)
				continue
			}
			groups = append(groups, g)
		}
	}
	if len(groups) > 0 {
		_ = send(ctx, updates, registrysync.Update{Groups: groups}) // fails only when ctx ended
	}
}

// group maps one service's instances, with those the server holds but no
// longer lists (withHeld); a record the registry model cannot hold is
// reported and left out, the rest go on.
func (s *source) group(ctx context.Context, ref sourceRef, hosts []model.Instance) (registrysync.Group, error) {
	hosts, err := s.withHeld(ctx, ref, hosts)
	if err != nil {
		return registrysync.Group{}, err
	}
	key := registrysync.ServiceKey{Namespace: ref.Namespace, Group: ref.Group, Service: ref.Service}
	g := registrysync.Group{Key: key, Instances: make([]*registry.Instance, 0, len(hosts))}
	for _, h := range hosts {
		inst, err := fromNacos(key, h)
		if err != nil {
			s.metrics.refused.Inc()
			s.log.Error("nacos instance left out: the registry model cannot hold it",
				"namespace", key.Namespace, "group", key.Group, "service", key.Service,
				"instance", fmt.Sprintf("%s:%d", h.Ip, h.Port), "error", err)
			continue
		}
		g.Instances = append(g.Instances, inst)
	}
	return g, nil
}

// withHeld adds to the instances the server lists for a service those it
// left out since the source last reported them but still holds. A Nacos
// 2.x server lists and pushes enabled instances only, so an instance an
// operator (or Spring Cloud Alibaba's serviceregistry endpoint, status
// DOWN) disables vanishes from the list as if it had left; its copies
// would be deleted, and a copy the deletion breaker holds would stay UP.
// The catalog, which lists disabled instances too, tells the two apart:
// a vanished instance it still holds is reported as it holds it
// (enabled=false: Disabled, which every target shows as out of service),
// one it does not hold has left. Only instances the source saw listed
// are looked for, one request per cluster of a service that lost some:
// an instance already disabled when the source started is not seen.
func (s *source) withHeld(ctx context.Context, ref sourceRef, hosts []model.Instance) ([]model.Instance, error) {
	listed := make(map[address]bool, len(hosts))
	for _, h := range hosts {
		listed[hostAddress(h)] = true
	}
	vanished := map[address]model.Instance{}
	var clusters []string
	for a, h := range s.known[ref] {
		if !listed[a] {
			vanished[a] = h
			if !slices.Contains(clusters, a.Cluster) {
				clusters = append(clusters, a.Cluster)
			}
		}
	}
	out := slices.Clip(hosts) // appending never writes into the watch's list
	slices.Sort(clusters)
	for _, cluster := range clusters {
		held, err := s.catalog.instances(ctx, ref.Namespace, ref.serviceRef, cluster)
		switch {
		case errors.Is(err, errCatalogOff):
			// A server that does not serve the catalog (Nacos 3.x by
			// default) can never tell; failing every listing would stop
			// the source. Vanished instances are taken as gone, as before.
			s.metrics.catalog.WithLabelValues("off").Inc()
			if !s.catalogOffLogged {
				s.catalogOffLogged = true
				s.log.Warn("nacos catalog not served: a disabled instance is taken as removed", "error", err)
			}
			continue
		case err != nil:
			s.metrics.catalog.WithLabelValues("error").Inc()
			return nil, err
		}
		s.metrics.catalog.WithLabelValues("ok").Inc()
		for _, h := range held {
			old, ok := vanished[hostAddress(h)]
			if !ok {
				continue // listed, or never reported: not this lookup's business
			}
			if h.InstanceId == "" {
				h.InstanceId = old.InstanceId
			}
			out = append(out, h)
		}
	}
	known := make(map[address]model.Instance, len(out))
	for _, h := range out {
		known[hostAddress(h)] = h
	}
	s.known[ref] = known
	return out, nil
}

// hostAddress is a listed instance's address, with Nacos's default cluster.
func hostAddress(h model.Instance) address {
	a := address{IP: h.Ip, Port: h.Port, Cluster: h.ClusterName}
	if a.Cluster == "" {
		a.Cluster = naming.DefaultCluster
	}
	return a
}

func send(ctx context.Context, updates chan<- registrysync.Update, u registrysync.Update) error {
	select {
	case updates <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
