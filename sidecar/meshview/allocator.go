package meshview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// ErrExhausted is returned when every port of the range is taken.
var ErrExhausted = errors.New("meshview: no free loopback port left in the range")

// Server serves one service's listener; *http.Server and the sidecar's
// httpx.Server are ones.
type Server interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// ServerFactory builds the server for one service's listener.
type ServerFactory func(service string) Server

// Allocator gives every target service its own loopback listener, served
// by a handler bound to that service. A service keeps its port for the
// life of the allocator, so answers already cached by clients stay right.
type Allocator struct {
	host        string
	first, last int
	newServer   ServerFactory
	logger      *slog.Logger

	mu     sync.Mutex
	next   int
	ports  map[string]int
	srvs   []Server
	closed bool
}

// NewAllocator returns an allocator for ports first..last on host (a
// loopback IP). It listens on nothing until Endpoint is called.
func NewAllocator(host string, first, last int, newServer ServerFactory, logger *slog.Logger) *Allocator {
	if logger == nil {
		logger = slog.Default()
	}
	return &Allocator{host: host, first: first, last: last, next: first, newServer: newServer,
		logger: logger.With("component", "sidecar.meshview"), ports: map[string]int{}}
}

// Endpoint returns the loopback host and port for service, opening its
// listener on first use. Ports taken by other processes are skipped.
func (a *Allocator) Endpoint(service string) (string, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.ports[service]; ok {
		return a.host, p, nil
	}
	if a.closed {
		return "", 0, errors.New("meshview: allocator closed")
	}
	for a.next <= a.last {
		port := a.next
		a.next++
		ln, err := net.Listen("tcp", net.JoinHostPort(a.host, strconv.Itoa(port)))
		if err != nil {
			continue // taken by someone else: try the next one
		}
		srv := a.newServer(service)
		a.srvs = append(a.srvs, srv)
		a.ports[service] = port
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.logger.Error("service listener failed", "service", service, "port", port, "error", err)
			}
		}()
		a.logger.Info("service listener opened", "service", service, "addr", ln.Addr().String())
		return a.host, port, nil
	}
	return "", 0, fmt.Errorf("%w (%d-%d): service %q", ErrExhausted, a.first, a.last, service)
}

// Ports returns a copy of the service → port map.
func (a *Allocator) Ports() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.ports))
	for k, v := range a.ports {
		out[k] = v
	}
	return out
}

// Shutdown drains every service listener (requests in flight finish until
// ctx ends) and refuses new allocations.
func (a *Allocator) Shutdown(ctx context.Context) {
	a.mu.Lock()
	a.closed = true
	srvs := a.srvs
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil {
				_ = s.Close() // drain time is up
			}
		}()
	}
	wg.Wait()
}
