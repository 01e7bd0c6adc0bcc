package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
)

// lookup finds downstream services the way a Spring Cloud app does
// without a sidecar: it fetches the registry's selectable instances every
// refresh interval (Eureka's registry-fetch-interval-seconds, 30 s by
// default; Spring Cloud LoadBalancer's cache, 35 s, over Consul) and picks
// among them round robin. A caller therefore keeps using what it fetched
// last until the next fetch: that lag is what a drain waits for.
type lookup struct {
	fetchAll func() (map[string][]string, error) // lower-case service -> host:port
	refresh  time.Duration
	// follow, when set, replaces fetching on a timer: it keeps the view
	// current through set (a registry with watches) until ctx ends.
	follow  func(ctx context.Context, set func(map[string][]string))
	log     *slog.Logger
	mu      sync.RWMutex
	apps    map[string][]string
	fetched bool
	next    atomic.Uint64
}

// newEurekaLookup fetches the whole registry, keeping UP instances only
// (Spring's filter-only-up-instances).
func newEurekaLookup(url string, refresh time.Duration, log *slog.Logger) *lookup {
	conn := fargo.NewConn(strings.TrimRight(url, "/"))
	conn.UseJson = true
	return &lookup{fetchAll: func() (map[string][]string, error) { return eurekaView(conn) }, refresh: refresh, log: log.With("component", "demoapp.lookup")}
}

// newConsulLookup lists the catalog's services and asks each one's
// passing instances, as Spring Cloud Consul does with query-passing=true
// (an instance in maintenance is critical, so not listed).
func newConsulLookup(raw string, refresh time.Duration, log *slog.Logger) (*lookup, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("consul: url: %w", err)
	}
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Scheme = u.Host, u.Scheme
	cfg.HttpClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	return &lookup{fetchAll: func() (map[string][]string, error) { return consulView(c) }, refresh: refresh, log: log.With("component", "demoapp.lookup")}, nil
}

// Run fetches the registry now and every refresh interval until ctx ends.
// A failed fetch keeps the last view, as Eureka clients do.
func (l *lookup) Run(ctx context.Context) {
	if l.follow != nil {
		l.follow(ctx, l.set)
		return
	}
	t := time.NewTicker(l.refresh)
	defer t.Stop()
	for {
		if err := l.fetch(); err != nil {
			l.log.Warn("registry fetch failed; keeping the last view", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (l *lookup) fetch() error {
	view, err := l.fetchAll()
	if err != nil {
		return err
	}
	l.set(view)
	return nil
}

func (l *lookup) set(view map[string][]string) {
	l.mu.Lock()
	l.apps, l.fetched = view, true
	l.mu.Unlock()
}

func eurekaView(conn fargo.EurekaConnection) (map[string][]string, error) {
	// fargo has no context: each call is bounded by its own HTTP timeouts.
	apps, err := conn.GetApps()
	if err != nil {
		return nil, fmt.Errorf("eureka: fetch: %w", err)
	}
	view := map[string][]string{}
	for name, app := range apps {
		for _, in := range app.Instances {
			if in.Status != fargo.UP {
				continue
			}
			host := in.IPAddr
			if host == "" {
				host = in.HostName
			}
			view[strings.ToLower(name)] = append(view[strings.ToLower(name)], net.JoinHostPort(host, strconv.Itoa(in.Port)))
		}
	}
	return view, nil
}

func consulView(c *api.Client) (map[string][]string, error) {
	services, _, err := c.Catalog().Services(nil)
	if err != nil {
		return nil, fmt.Errorf("consul: services: %w", err)
	}
	view := map[string][]string{}
	for name := range services {
		entries, _, err := c.Health().Service(name, "", true, nil)
		if err != nil {
			return nil, fmt.Errorf("consul: health of %s: %w", name, err)
		}
		for _, e := range entries {
			host := e.Service.Address
			if host == "" {
				host = e.Node.Address
			}
			view[strings.ToLower(name)] = append(view[strings.ToLower(name)], net.JoinHostPort(host, strconv.Itoa(e.Service.Port)))
		}
	}
	return view, nil
}

// Pick returns the host:port of the next UP instance of service.
func (l *lookup) Pick(service string) (string, error) {
	l.mu.RLock()
	addrs, fetched := l.apps[strings.ToLower(service)], l.fetched
	l.mu.RUnlock()
	switch {
	case !fetched:
		return "", fmt.Errorf("no registry fetched yet")
	case len(addrs) == 0:
		return "", fmt.Errorf("no selectable instance of %s", service)
	}
	return addrs[(l.next.Add(1)-1)%uint64(len(addrs))], nil
}
