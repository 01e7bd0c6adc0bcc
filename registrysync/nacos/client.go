package nacos

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// findLocalIP: nacos-sdk-go v2.3.2 finds the host's IP on first use into
// a package variable, unsynchronised, and every new client reads it; a
// source and a sink connecting at once race on it. Finding it once before
// any client leaves only reads.
var findLocalIP sync.Once

// dial opens a naming client bound to namespace: one gRPC connection to
// the servers. The client library tries to connect before it returns and
// does not know contexts, so it runs aside; when ctx ends first, the
// client is closed as soon as it exists.
func dial(ctx context.Context, cfg *Config, namespace string) (naming_client.INamingClient, error) {
	findLocalIP.Do(func() { util.LocalIP() })
	servers := make([]constant.ServerConfig, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		sc, err := serverAddr(s)
		if err != nil {
			return nil, err // Validate refused it already
		}
		sc.ContextPath = cfg.ContextPath
		sc.GrpcPort = uint64(cfg.GRPCPort)
		servers = append(servers, sc)
	}
	cc := constant.NewClientConfig(
		constant.WithNamespaceId(namespace),
		constant.WithTimeoutMs(uint64(cfg.Timeout.Milliseconds())),
		constant.WithUsername(cfg.Username),
		constant.WithPassword(cfg.Password),
		constant.WithLogDir(cfg.LogDir),
		constant.WithLogLevel(cfg.LogLevel),
		constant.WithCacheDir(cfg.CacheDir),
		// A listing comes from the server, never from a file a previous
		// run left: stale beats partial, but not by a whole restart.
		constant.WithNotLoadCacheAtStart(true),
		// Without it the client ignores a push that empties a service,
		// and the last instance of a service would never leave.
		constant.WithUpdateCacheWhenEmpty(true),
	)
	type result struct {
		c   naming_client.INamingClient
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := clients.NewNamingClient(vo.NacosClientParam{ClientConfig: cc, ServerConfigs: servers})
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if r.c != nil {
				r.c.CloseClient()
			}
			return nil, fmt.Errorf("nacos: connect to namespace %q: %w", namespace, r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.c != nil {
				r.c.CloseClient()
			}
		}()
		return nil, ctx.Err()
	}
}

// serviceRef names a service within a client's namespace.
type serviceRef struct {
	Group, Service string
}

// watch keeps one naming client's subscriptions and the instances the
// server last sent for each. It copies the instances in the callback
// because the client library later sorts its cached lists in place:
// reading them outside the callback would race with that.
type watch struct {
	client    naming_client.INamingClient
	namespace string
	// firstAnswer bounds the wait for a subscription's first answer.
	firstAnswer time.Duration
	// changed, if set, is called (without watch's lock) after the server
	// sent a service's instances.
	changed func(serviceRef)

	mu     sync.Mutex
	subs   map[serviceRef]*subscription
	latest map[serviceRef][]model.Instance
}

// subscription is one service subscribed to; answered is closed when the
// server's first answer is stored.
type subscription struct {
	param    *vo.SubscribeParam
	answered chan struct{}
}

func newWatch(client naming_client.INamingClient, namespace string, firstAnswer time.Duration, changed func(serviceRef)) *watch {
	return &watch{
		client: client, namespace: namespace, firstAnswer: firstAnswer, changed: changed,
		subs: map[serviceRef]*subscription{}, latest: map[serviceRef][]model.Instance{},
	}
}

// subscribe makes sure the server pushes ref's changes and waits for its
// first answer. The library hands that answer to the callback, but not
// always before Subscribe returns: when a push races the subscription's
// answer and wins, the answer is dropped as older and the push's callback
// runs on the connection's goroutine a moment later.
func (w *watch) subscribe(ctx context.Context, ref serviceRef) error {
	sub := &subscription{param: &vo.SubscribeParam{ServiceName: ref.Service, GroupName: ref.Group}, answered: make(chan struct{})}
	sub.param.SubscribeCallback = func(hosts []model.Instance, err error) {
		if err != nil {
			return // the client library never passes one; a push carries no error
		}
		w.store(ref, hosts)
	}
	w.mu.Lock()
	if old, ok := w.subs[ref]; ok {
		w.mu.Unlock()
		return w.await(ctx, ref, old)
	}
	w.subs[ref] = sub
	w.mu.Unlock()
	err := w.client.Subscribe(sub.param)
	if err == nil {
		err = w.await(ctx, ref, sub)
	}
	if err != nil {
		w.mu.Lock()
		if w.subs[ref] == sub {
			delete(w.subs, ref)
			delete(w.latest, ref)
		}
		w.mu.Unlock()
		// The library registered the callback before it failed; take it
		// back so that the next attempt does not add a second one. Its
		// own error adds nothing to err.
		_ = w.client.Unsubscribe(sub.param)
		return fmt.Errorf("nacos: subscribe %s/%s/%s: %w", w.namespace, ref.Group, ref.Service, err)
	}
	return nil
}

func (w *watch) await(ctx context.Context, ref serviceRef, sub *subscription) error {
	t := time.NewTimer(w.firstAnswer)
	defer t.Stop()
	select {
	case <-sub.answered:
		return nil
	case <-t.C:
		return fmt.Errorf("no answer within %v", w.firstAnswer)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// store keeps a copy of the instances the server sent for a subscribed
// service; an answer that arrives after unsubscribe is dropped.
func (w *watch) store(ref serviceRef, hosts []model.Instance) {
	cp := make([]model.Instance, len(hosts))
	for i, h := range hosts {
		h.Metadata = maps.Clone(h.Metadata)
		cp[i] = h
	}
	w.mu.Lock()
	sub, ok := w.subs[ref]
	if !ok {
		w.mu.Unlock()
		return
	}
	w.latest[ref] = cp
	select {
	case <-sub.answered:
	default:
		close(sub.answered)
	}
	w.mu.Unlock()
	if w.changed != nil {
		w.changed(ref)
	}
}

// unsubscribe stops ref's pushes and forgets its instances.
func (w *watch) unsubscribe(ref serviceRef) error {
	w.mu.Lock()
	sub, ok := w.subs[ref]
	delete(w.subs, ref)
	delete(w.latest, ref)
	w.mu.Unlock()
	if !ok {
		return nil
	}
	if err := w.client.Unsubscribe(sub.param); err != nil {
		return fmt.Errorf("nacos: unsubscribe %s/%s/%s: %w", w.namespace, ref.Group, ref.Service, err)
	}
	return nil
}

// instances returns the instances last sent for a subscribed service.
func (w *watch) instances(ref serviceRef) ([]model.Instance, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hosts, ok := w.latest[ref]
	return hosts, ok
}

// subscribed lists the services subscribed to.
func (w *watch) subscribed() []serviceRef {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]serviceRef, 0, len(w.subs))
	for ref := range w.subs {
		out = append(out, ref)
	}
	return out
}
