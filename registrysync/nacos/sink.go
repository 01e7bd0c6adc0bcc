package nacos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// errClosed is what a closed sink answers.
var errClosed = errors.New("nacos: connector closed")

// sink writes copies as ephemeral instances on connections of its own,
// one per namespace. A Nacos connection holds one instance per service
// unless it registers them together, and a batch registration replaces
// the connection's whole set for that service: so the sink keeps every
// copy it wrote, service by service, and sends a service's whole set on
// each change. The copies live as long as the connection; the client
// library registers the last set again after it (re)connects.
//
// That re-registration reads the sets once and sends them one by one, so
// a set it read before the sink sent a newer one can reach the server
// after the newer one and replace it (seen just after the first connect,
// when the library's connect event is handled late). The sink therefore
// follows every service it writes and, when the server shows other copies
// than it holds, sends its set again.
type sink struct {
	cfg     *Config
	owner   string
	metrics *metrics

	mu     sync.Mutex // guards the maps and closed, not the requests
	closed bool
	// ownedMu makes Owned calls one at a time: a second call must not
	// read a subscription the first has asked for but not yet received.
	ownedMu  sync.Mutex
	clients  map[string]*sinkClient
	services map[copyKey]*heldService
}

// sinkClient is one namespace's connection, with the subscriptions Owned
// checks the copies against.
type sinkClient struct {
	ready chan struct{} // closed once dialled
	err   error
	watch *watch
}

// heldService is the set of copies of one service the sink holds. Once
// made it stays in the sink's map, empty or not, so that a Put and a
// Delete of the same service always work on the same set.
type heldService struct {
	mu     sync.Mutex // held across the registration, so sets go out in order
	copies map[string]heldCopy
	// followed is set once the sink subscribed to the service (or is
	// subscribing), to see what the server shows of it.
	followed bool

	// queue holds the puts and deletes waiting for mu; whichever of them
	// gets it first sends them all as one set (see change).
	queueMu sync.Mutex
	queue   []*change
}

// change is a put (copy set) or a delete of one copy of a service. The
// engine writes a service's copies side by side, and each would send the
// whole set again, one after the other: 10 copies of a service took 10
// requests, queued behind each other. Queued, they go out together.
type change struct {
	id   string
	copy *heldCopy // nil for a delete
	done chan struct{}
	err  error
}

type heldCopy struct {
	inst  *registry.Instance
	param vo.RegisterInstanceParam
}

func newSink(cfg *Config, owner string, m *metrics) *sink {
	return &sink{cfg: cfg, owner: owner, metrics: m,
		clients: map[string]*sinkClient{}, services: map[copyKey]*heldService{}}
}

// client returns the namespace's connection, dialling it on first use.
func (s *sink) client(ctx context.Context, namespace string) (*watch, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	c, ok := s.clients[namespace]
	if !ok {
		c = &sinkClient{ready: make(chan struct{})}
		s.clients[namespace] = c
		go func() {
			// Dialled with a context of its own: one caller giving up must
			// not fail the connection for the others.
			nc, err := dial(context.Background(), s.cfg, namespace)
			if err == nil {
				var w *watch
				w = newWatch(nc, namespace, s.cfg.Timeout, func(ref serviceRef) { s.recheck(w, ref) })
				c.watch = w
			}
			c.err = err
			close(c.ready)
		}()
	}
	s.mu.Unlock()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		s.mu.Lock()
		if s.clients[namespace] == c {
			delete(s.clients, namespace) // the next call tries again
		}
		s.mu.Unlock()
		return nil, c.err
	}
	return c.watch, nil
}

func (s *sink) held(key copyKey, create bool) *heldService {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs, ok := s.services[key]
	if !ok && create {
		hs = &heldService{copies: map[string]heldCopy{}}
		s.services[key] = hs
	}
	return hs
}

// put implements registrysync.Sink.Put.
func (s *sink) put(ctx context.Context, inst *registry.Instance) error {
	key, param, err := toNacos(inst)
	if err != nil {
		return fmt.Errorf("nacos: put %s/%s: Nacos cannot hold it: %w", inst.Service, inst.ID, err)
	}
	w, err := s.client(ctx, key.Namespace)
	if err != nil {
		return fmt.Errorf("nacos: put %s/%s: %w", inst.Service, inst.ID, err)
	}
	if err := s.apply(ctx, w, key, s.held(key, true), &change{id: inst.ID, copy: &heldCopy{inst: inst.Clone(), param: param}}); err != nil {
		return fmt.Errorf("nacos: put %s/%s: %w", inst.Service, inst.ID, err)
	}
	return nil
}

// apply queues ch and waits until it is sent: by this call, with every
// change queued meanwhile, or by a call that got there first.
func (s *sink) apply(ctx context.Context, w *watch, key copyKey, hs *heldService, ch *change) error {
	ch.done = make(chan struct{})
	hs.queueMu.Lock()
	hs.queue = append(hs.queue, ch)
	hs.queueMu.Unlock()
	hs.mu.Lock()
	defer hs.mu.Unlock()
	select {
	case <-ch.done:
		return ch.err
	default:
	}
	hs.queueMu.Lock()
	batch := hs.queue
	hs.queue = nil
	hs.queueMu.Unlock()

	next := make(map[string]heldCopy, len(hs.copies)+len(batch))
	for id, c := range hs.copies {
		next[id] = c
	}
	var (
		changed bool
		gone    *vo.RegisterInstanceParam // a copy removed, to deregister the last
	)
	for _, c := range batch {
		if c.copy == nil {
			if old, ok := next[c.id]; ok {
				delete(next, c.id)
				gone, changed = &old.param, true
			}
			continue
		}
		c.err = collision(next, c.id, c.copy.param)
		if c.err == nil {
			next[c.id], changed = *c.copy, true
		}
	}
	var err error
	switch {
	case !changed:
	case len(next) > 0:
		err = s.register(ctx, w, key, next)
	case len(hs.copies) > 0:
		if gone == nil {
			for _, c := range hs.copies {
				gone = &c.param
				break
			}
		}
		err = s.deregister(ctx, w, key, *gone)
	}
	if changed && err == nil {
		hs.copies = next
		if len(next) > 0 && !hs.followed {
			hs.followed = true
			go s.follow(w, key, hs)
		}
	}
	for _, c := range batch {
		if c.err == nil {
			c.err = err
		}
		close(c.done)
	}
	return ch.err
}

// collision refuses a copy at the address of another copy of the
// service: Nacos tells a service's instances apart by it.
func collision(copies map[string]heldCopy, id string, param vo.RegisterInstanceParam) error {
	for other, c := range copies {
		if other != id && paramAddress(c.param) == paramAddress(param) {
			return fmt.Errorf("copy %s is at the same address %s:%d (cluster %s), and Nacos tells a service's instances apart by it",
				other, param.Ip, param.Port, param.ClusterName)
		}
	}
	return nil
}

// follow subscribes to a service the sink wrote, so that recheck sees
// what the server shows of it; on failure the next put tries again (and
// Owned subscribes as well).
func (s *sink) follow(w *watch, key copyKey, hs *heldService) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	if err := w.subscribe(ctx, serviceRef{Group: key.Group, Service: key.Service}); err != nil {
		hs.mu.Lock()
		hs.followed = false
		hs.mu.Unlock()
	}
}

// recheck runs when the server sent a followed service's instances: if
// it shows other copies of this syncer than the sink holds, the sink
// sends its set again (see sink). It works aside: the library calls it
// on the connection's goroutine.
func (s *sink) recheck(w *watch, ref serviceRef) {
	hs := s.held(copyKey{Namespace: w.namespace, Group: ref.Group, Service: ref.Service}, false)
	if hs == nil {
		return
	}
	go func() {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		// A sink closed meanwhile removed (or left) its copies: writing
		// them again would outlive the close.
		if s.isClosed() {
			return
		}
		hosts, ok := w.instances(ref)
		if !ok || len(hs.copies) == 0 || !s.differs(hosts, hs.copies) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		// A failure leaves it to the next push or the engine's next
		// listing of the copies (Owned).
		_ = s.register(ctx, w, copyKey{Namespace: w.namespace, Group: ref.Group, Service: ref.Service}, hs.copies)
	}()
}

// differs reports whether hosts (what the server shows of a service)
// hold other copies of this syncer than copies, or other versions of
// them. A disabled copy counts either way: Nacos lists no disabled
// instance to its subscribers (a server that did must not make the sink
// write on every push).
func (s *sink) differs(hosts []model.Instance, copies map[string]heldCopy) bool {
	shown := map[string]bool{}
	for _, h := range hosts {
		id := h.Metadata[MetaCopyID]
		if h.Metadata[registrysync.MetaOwner] != s.owner || id == "" {
			continue
		}
		shown[id] = true
		c, held := copies[id]
		switch {
		case !held:
			return true // a copy the sink no longer holds
		case c.param.Enable && h.Metadata[registrysync.MetaDigest] != c.param.Metadata[registrysync.MetaDigest]:
			return true // an older version
		}
	}
	for id, c := range copies {
		if c.param.Enable && !shown[id] {
			return true
		}
	}
	return false
}

// delete implements registrysync.Sink.Delete.
func (s *sink) delete(ctx context.Context, inst *registry.Instance) error {
	key := keyOf(inst)
	hs := s.held(key, false)
	if hs == nil {
		return nil // never written here, or gone already
	}
	hs.mu.Lock()
	_, ok := hs.copies[inst.ID]
	hs.mu.Unlock()
	if !ok {
		return nil
	}
	w, err := s.client(ctx, key.Namespace)
	if err == nil {
		err = s.apply(ctx, w, key, hs, &change{id: inst.ID})
	}
	if err != nil {
		return fmt.Errorf("nacos: delete %s/%s: %w", inst.Service, inst.ID, err)
	}
	return nil
}

// register sends a service's whole set of copies as one batch, which
// replaces what the connection had for the service.
func (s *sink) register(ctx context.Context, w *watch, key copyKey, copies map[string]heldCopy) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ids := make([]string, 0, len(copies))
	for id := range copies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	params := make([]vo.RegisterInstanceParam, len(ids))
	for i, id := range ids {
		params[i] = copies[id].param
	}
	ok, err := w.client.BatchRegisterInstance(vo.BatchRegisterInstanceParam{ServiceName: key.Service, GroupName: key.Group, Instances: params})
	return s.answer("batch", ok, err)
}

// deregister removes the connection's last copy of a service: a batch
// cannot be empty, and Nacos removes whatever the connection had for the
// service.
func (s *sink) deregister(ctx context.Context, w *watch, key copyKey, last vo.RegisterInstanceParam) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ok, err := w.client.DeregisterInstance(vo.DeregisterInstanceParam{
		Ip: last.Ip, Port: last.Port, Cluster: last.ClusterName, ServiceName: key.Service, GroupName: key.Group, Ephemeral: true,
	})
	return s.answer("deregister", ok, err)
}

// answer counts a request; the client library reports a refusal as false
// without an error (the server's message went to its own log).
func (s *sink) answer(op string, ok bool, err error) error {
	if err == nil && !ok {
		err = errors.New("the server refused it (its reason is in the Nacos client's log)")
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	s.metrics.requests.WithLabelValues(op, result).Inc()
	return err
}

// owned implements registrysync.Sink.Owned: the copies the sink holds
// that the server shows with this syncer's owner marker. A held copy the
// server does not show is left out, so the engine puts it again. Nacos
// lists no disabled instance, so disabled copies are taken as held.
func (s *sink) owned(ctx context.Context) ([]*registry.Instance, error) {
	s.ownedMu.Lock()
	defer s.ownedMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	keys := make([]copyKey, 0, len(s.services))
	for k := range s.services {
		keys = append(keys, k)
	}
	s.mu.Unlock()
	var out []*registry.Instance
	for _, key := range keys {
		hs := s.held(key, false)
		if hs == nil {
			return nil, errClosed // closed meanwhile
		}
		hs.mu.Lock()
		copies := make([]heldCopy, 0, len(hs.copies))
		for _, c := range hs.copies {
			copies = append(copies, c)
		}
		hs.mu.Unlock()
		if len(copies) == 0 {
			continue
		}
		shown, err := s.shown(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("nacos: owned: %w", err)
		}
		for _, c := range copies {
			if !c.param.Enable || shown[c.inst.ID] {
				out = append(out, c.inst.Clone())
			}
		}
	}
	return out, nil
}

// shown returns the ids of the copies of the service the server shows
// with this syncer's owner marker.
func (s *sink) shown(ctx context.Context, key copyKey) (map[string]bool, error) {
	w, err := s.client(ctx, key.Namespace)
	if err != nil {
		return nil, err
	}
	if !w.client.ServerHealthy() {
		return nil, fmt.Errorf("not connected to %v", s.cfg.Servers)
	}
	ref := serviceRef{Group: key.Group, Service: key.Service}
	hosts, ok := w.instances(ref)
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := w.subscribe(ctx, ref); err != nil {
			return nil, err
		}
		hosts, _ = w.instances(ref)
	}
	out := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		if h.Metadata[registrysync.MetaOwner] == s.owner && h.Metadata[MetaCopyID] != "" {
			out[h.Metadata[MetaCopyID]] = true
		}
	}
	return out, nil
}

// close implements registrysync.Connector.Close for the sink: with
// remove, each service's copies are deregistered first; then the
// connections close, which makes Nacos drop whatever is left on them.
func (s *sink) close(ctx context.Context, remove bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	clients, services := s.clients, s.services
	s.clients, s.services = map[string]*sinkClient{}, map[copyKey]*heldService{}
	s.mu.Unlock()

	var errs []error
	if remove {
		for key, hs := range services {
			if err := s.removeAll(ctx, readyWatch(clients[key.Namespace]), key, hs); err != nil {
				errs = append(errs, fmt.Errorf("nacos: close: remove the copies of %s/%s/%s: %w", key.Namespace, key.Group, key.Service, err))
			}
		}
	}
	for _, c := range clients {
		if w := readyWatch(c); w != nil {
			w.client.CloseClient()
			continue
		}
		go func() {
			<-c.ready // a dial under way ends within the client's timeout
			if c.watch != nil {
				c.watch.client.CloseClient()
			}
		}()
	}
	return errors.Join(errs...)
}

// removeAll deregisters a service's copies: one deregistration removes
// the connection's whole set.
func (s *sink) removeAll(ctx context.Context, w *watch, key copyKey, hs *heldService) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for _, c := range hs.copies {
		if w == nil {
			return errors.New("no connection") // cannot happen: a copy was written through it
		}
		if err := s.deregister(ctx, w, key, c.param); err != nil {
			return err
		}
		clear(hs.copies) // nothing of this service is held any more
		return nil
	}
	return nil
}

// isClosed reports whether close has begun.
func (s *sink) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// readyWatch returns a dialled client's watch, nil if it is not dialled.
func readyWatch(c *sinkClient) *watch {
	if c == nil {
		return nil
	}
	select {
	case <-c.ready:
		return c.watch
	default:
		return nil
	}
}
