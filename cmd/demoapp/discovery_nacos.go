package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/internal/selfregister"
)

// nacosFirstAnswer bounds the wait for a new subscription's first list
// (the client's own requests are bounded by 5 s).
const nacosFirstAnswer = 5 * time.Second

// nacosLookup finds callees as Spring Cloud Alibaba's NacosServiceDiscovery
// does under Spring Cloud LoadBalancer: the first call for a service
// subscribes to it, so the server pushes every change to the client, and
// only healthy, enabled instances of weight above 0 are picked (Nacos's
// selectInstances(healthy=true)). LoadBalancer caches the answer (35 s by
// default, spring.cloud.loadbalancer.cache.ttl); refresh plays that cache:
// a list is picked from for refresh before the pushed one is read again.
// A disabled instance therefore leaves a caller's picks within one push
// and one refresh: that lag is what a Nacos drain waits for.
type nacosLookup struct {
	server  constant.ServerConfig
	refresh time.Duration
	log     *slog.Logger
	next    atomic.Uint64

	mu       sync.Mutex
	client   naming_client.INamingClient // nil until Run connected
	services map[string]*nacosService
}

// nacosService is one subscribed service: what the server pushed last and
// the list callers pick from until its refresh is due.
type nacosService struct {
	answered chan struct{} // closed by the first list
	failed   error         // the subscription's error; the next Pick tries again
	pushed   []string
	picked   []string
	readAt   time.Time
}

// newNacosLookup finds callees through the Nacos server at rawURL (gRPC on
// grpcPort, 0 for the HTTP port + 1000).
func newNacosLookup(rawURL string, grpcPort int, refresh time.Duration, log *slog.Logger) (*nacosLookup, error) {
	server, err := selfregister.NacosServer(rawURL, grpcPort)
	if err != nil {
		return nil, err
	}
	return &nacosLookup{server: server, refresh: refresh, log: log.With("component", "demoapp.lookup"), services: map[string]*nacosService{}}, nil
}

// Run connects the client, retrying every refresh while the server is
// away, and closes it when ctx ends.
func (l *nacosLookup) Run(ctx context.Context) {
	dir, err := os.MkdirTemp("", "demoapp-nacos-")
	if err != nil {
		l.log.Error("no directory for the Nacos client's cache and logs", "error", err)
		<-ctx.Done()
		return
	}
	defer os.RemoveAll(dir)
	t := time.NewTicker(max(l.refresh, 100*time.Millisecond))
	defer t.Stop()
	for {
		// The client has no context: its own timeout (5 s) bounds this.
		client, err := selfregister.NewNacosClient(l.server, dir)
		if err == nil {
			l.mu.Lock()
			l.client = client
			l.mu.Unlock()
			break
		}
		l.log.Warn("Nacos client failed to connect; retrying", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	<-ctx.Done()
	l.mu.Lock()
	client := l.client
	l.client = nil
	l.mu.Unlock()
	client.CloseClient()
}

// Pick returns the host:port of the next selectable instance of service.
func (l *nacosLookup) Pick(service string) (string, error) {
	s, err := l.subscribed(service)
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	if now := time.Now(); now.Sub(s.readAt) >= l.refresh {
		s.picked, s.readAt = s.pushed, now
	}
	addrs := s.picked
	l.mu.Unlock()
	if len(addrs) == 0 {
		return "", fmt.Errorf("no selectable instance of %s", service)
	}
	return addrs[(l.next.Add(1)-1)%uint64(len(addrs))], nil
}

// subscribed returns service's subscription once it has a first list,
// subscribing on the first call.
func (l *nacosLookup) subscribed(service string) (*nacosService, error) {
	l.mu.Lock()
	client := l.client
	s, ok := l.services[service]
	if !ok && client != nil {
		s = &nacosService{answered: make(chan struct{})}
		l.services[service] = s
	}
	l.mu.Unlock()
	if client == nil {
		return nil, fmt.Errorf("not connected to Nacos yet")
	}
	if !ok {
		param := &vo.SubscribeParam{ServiceName: service, SubscribeCallback: func(hosts []model.Instance, _ error) { l.store(s, hosts) }}
		// The client calls back with the first list before or just after
		// Subscribe returns, then with each push.
		if err := client.Subscribe(param); err != nil {
			l.forget(service, s, fmt.Errorf("nacos: subscribe %s: %w", service, err))
			// Take back the callback it registered, so that the next
			// attempt does not add a second one; its error adds nothing.
			_ = client.Unsubscribe(param)
		}
	}
	select {
	case <-s.answered:
	default:
		t := time.NewTimer(nacosFirstAnswer)
		select {
		case <-s.answered:
		case <-t.C:
			l.forget(service, s, fmt.Errorf("nacos: no list of %s within %s", service, nacosFirstAnswer))
		}
		t.Stop()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return s, s.failed
}

// store keeps the selectable addresses of a list the server sent. It runs
// on the client's goroutine and reads hosts there: the client later sorts
// its cached lists in place.
func (l *nacosLookup) store(s *nacosService, hosts []model.Instance) {
	var addrs []string
	for _, h := range hosts {
		if h.Healthy && h.Enable && h.Weight > 0 {
			addrs = append(addrs, net.JoinHostPort(h.Ip, strconv.FormatUint(h.Port, 10)))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s.pushed = addrs
	select {
	case <-s.answered:
	default:
		close(s.answered)
	}
}

// forget drops a subscription that failed, so that the next Pick
// subscribes again, and tells those waiting for it why.
func (l *nacosLookup) forget(service string, s *nacosService, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-s.answered:
		return // answered meanwhile: nothing failed
	default:
	}
	if l.services[service] == s {
		delete(l.services, service)
	}
	s.failed = err
	close(s.answered)
}
