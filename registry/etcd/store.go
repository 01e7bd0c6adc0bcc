package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/index"
)

// Options configure the etcd store.
type Options struct {
	Endpoints []string
	// Prefix under which every key lives (default "/meshbridge/").
	Prefix      string
	DialTimeout time.Duration // default 5s
	Username    string
	Password    string
	// History is how many recent events are kept for watches (default 16384).
	History int
	Logger  *slog.Logger
	Metrics prometheus.Registerer
	// Client, when set, is used instead of dialling Endpoints (tests); it is not closed.
	Client *clientv3.Client
	// SessionTTL is how long a leader elected through Lead keeps leading
	// after its process stops renewing (crash, partition); whole seconds,
	// at least 1 (default 10s); etcd raises it to its own minimum lease
	// TTL (about 2s with default timing).
	SessionTTL time.Duration
}

// Store is the etcd registry.Store.
type Store struct {
	cli     *clientv3.Client
	ownCli  bool
	prefix  string
	log     *slog.Logger
	state   *index.State
	hub     *index.Hub
	history int
	// sessionTTL is Options.SessionTTL in whole seconds.
	sessionTTL int

	leaseMu sync.Mutex
	leases  map[registry.InstanceKey]clientv3.LeaseID

	cancel context.CancelFunc
	done   chan struct{}
	closed chan struct{}
	once   sync.Once
}

// opTimeout bounds one etcd round trip.
const opTimeout = 10 * time.Second

// Open connects, loads everything under the prefix and starts following changes.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Prefix == "" {
		o.Prefix = "/meshbridge/"
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.History <= 0 {
		o.History = index.DefaultHistory
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 10 * time.Second
	}
	s := &Store{
		sessionTTL: max(1, int((o.SessionTTL+time.Second-1)/time.Second)),
		prefix:     o.Prefix, log: o.Logger.With("component", "registry.etcd"), state: index.NewState(),
		history: o.History, leases: map[registry.InstanceKey]clientv3.LeaseID{},
		done: make(chan struct{}), closed: make(chan struct{}),
	}
	if o.Client != nil {
		s.cli = o.Client
	} else {
		if len(o.Endpoints) == 0 {
			return nil, errors.New("etcd: at least one endpoint is required")
		}
		cli, err := clientv3.New(clientv3.Config{
			Endpoints: o.Endpoints, DialTimeout: o.DialTimeout, Username: o.Username, Password: o.Password,
			Context: ctx,
		})
		if err != nil {
			return nil, fmt.Errorf("etcd: connect %v: %w", o.Endpoints, err)
		}
		s.cli, s.ownCli = cli, true
	}
	rev, err := s.load(ctx)
	if err != nil {
		s.closeClient()
		return nil, err
	}
	s.hub = index.NewHub(s.history, rev)
	if o.Metrics != nil {
		o.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshbridge_registry_instances", Help: "Instances held by the registry.",
		}, func() float64 { n, _, _ := s.state.Counts(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "meshbridge_registry_revision", Help: "The registry's current revision.",
			}, func() float64 { return float64(s.hub.Last()) }))
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(wctx, rev)
	return s, nil
}

func (s *Store) closeClient() {
	if s.ownCli {
		s.cli.Close()
	}
}

// load lists everything under the prefix into the state and returns the
// etcd revision of the listing.
func (s *Store) load(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("etcd: list %s: %w", s.prefix, err)
	}
	events := make([]registry.Event, 0, len(resp.Kvs))
	leases := map[registry.InstanceKey]clientv3.LeaseID{}
	for _, kv := range resp.Kvs {
		e, err := s.decode(kv)
		if err != nil {
			s.log.Warn("skipping undecodable key", "error", err)
			continue
		}
		e.Type = registry.EventPut
		if e.Kind == registry.KindInstance && kv.Lease != 0 {
			leases[e.Instance.Key()] = clientv3.LeaseID(kv.Lease)
		}
		events = append(events, e)
	}
	s.state.Replace(resp.Header.Revision, events)
	s.leaseMu.Lock()
	s.leases = leases
	s.leaseMu.Unlock()
	return resp.Header.Revision, nil
}

// follow applies etcd's changes to the local index until ctx ends. If etcd
// compacted past our position, it lists again and resets the hub, so local
// watchers re-list too instead of silently missing changes.
func (s *Store) follow(ctx context.Context, rev int64) {
	defer close(s.done)
	for ctx.Err() == nil {
		wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), s.prefix,
			clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV(), clientv3.WithProgressNotify())
		for resp := range wch {
			if resp.CompactRevision > 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
				s.log.Warn("etcd compacted past our watch; reloading", "revision", rev, "compacted", resp.CompactRevision)
				newRev, err := s.load(ctx)
				if err != nil {
					s.log.Error("reload after compaction failed", "error", err)
					break
				}
				s.hub.Reset(newRev)
				rev = newRev
				break
			}
			if err := resp.Err(); err != nil {
				s.log.Warn("etcd watch error; resuming", "error", err, "revision", rev)
				break
			}
			if resp.IsProgressNotify() {
				rev = max(rev, resp.Header.Revision)
				s.hub.Advance(rev)
				continue
			}
			events := make([]registry.Event, 0, len(resp.Events))
			for _, ev := range resp.Events {
				e, ok := s.convert(ev)
				if ok {
					events = append(events, e)
				}
				rev = max(rev, ev.Kv.ModRevision)
			}
			s.state.Apply(events...)
			s.hub.Publish(events...)
			s.hub.Advance(rev)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond): // the watch ended: resume after a pause
		}
	}
}

// convert turns an etcd watch event into a registry event and tracks leases.
func (s *Store) convert(ev *clientv3.Event) (registry.Event, bool) {
	if ev.Type == mvccpb.PUT {
		e, err := s.decode(ev.Kv)
		if err != nil {
			s.log.Warn("skipping undecodable change", "error", err)
			return e, false
		}
		e.Type = registry.EventPut
		if ev.PrevKv != nil {
			if prev, err := s.decode(ev.PrevKv); err == nil {
				e.PrevInstance, e.PrevResource, e.PrevKV = prev.Instance, prev.Resource, prev.KV
			}
		}
		if e.Kind == registry.KindInstance {
			s.leaseMu.Lock()
			if ev.Kv.Lease != 0 {
				s.leases[e.Instance.Key()] = clientv3.LeaseID(ev.Kv.Lease)
			} else {
				delete(s.leases, e.Instance.Key())
			}
			s.leaseMu.Unlock()
		}
		return e, true
	}
	if ev.PrevKv == nil {
		s.log.Warn("delete without its previous value; skipped", "key", string(ev.Kv.Key))
		return registry.Event{}, false
	}
	e, err := s.decode(ev.PrevKv)
	if err != nil {
		s.log.Warn("skipping undecodable delete", "error", err)
		return e, false
	}
	e.Type, e.Revision = registry.EventDelete, ev.Kv.ModRevision
	if e.Kind == registry.KindInstance {
		s.leaseMu.Lock()
		delete(s.leases, e.Instance.Key())
		s.leaseMu.Unlock()
	}
	return e, true
}

// Close stops following etcd and closes the client if the store dialled it.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.cancel()
		<-s.done
		s.hub.Close()
		s.closeClient()
	})
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// Revision is the newest etcd revision this replica has applied.
func (s *Store) Revision() int64 { return s.hub.Last() }

// Watch delivers changes after revision from.
func (s *Store) Watch(ctx context.Context, from int64, f registry.WatchFilter) (registry.Watcher, error) {
	if s.isClosed() {
		return nil, registry.ErrClosed
	}
	return s.hub.Watch(ctx, from, f)
}

var _ registry.Store = (*Store)(nil)
