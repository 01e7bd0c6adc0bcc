package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hudl/fargo"
)

// eurekaLookup finds downstream services the way a Spring Cloud Eureka
// client does without a sidecar: it fetches the whole registry every
// refresh interval (Spring's eureka.client.registry-fetch-interval-seconds,
// 30 s by default), keeps UP instances only (filter-only-up-instances) and
// picks among them round robin. A caller therefore keeps using what it
// fetched last until the next fetch: that lag is what a drain waits for.
type eurekaLookup struct {
	conn    fargo.EurekaConnection
	refresh time.Duration
	log     *slog.Logger
	mu      sync.RWMutex
	apps    map[string][]string // lower-case app name -> UP host:port
	fetched bool
	next    atomic.Uint64
}

func newEurekaLookup(url string, refresh time.Duration, log *slog.Logger) *eurekaLookup {
	conn := fargo.NewConn(strings.TrimRight(url, "/"))
	conn.UseJson = true
	return &eurekaLookup{conn: conn, refresh: refresh, log: log.With("component", "demoapp.lookup")}
}

// Run fetches the registry now and every refresh interval until ctx ends.
// A failed fetch keeps the last view, as Eureka clients do.
func (l *eurekaLookup) Run(ctx context.Context) {
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

func (l *eurekaLookup) fetch() error {
	// fargo has no context: each call is bounded by its own HTTP timeouts.
	apps, err := l.conn.GetApps()
	if err != nil {
		return fmt.Errorf("eureka: fetch: %w", err)
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
	l.mu.Lock()
	l.apps, l.fetched = view, true
	l.mu.Unlock()
	return nil
}

// Pick returns the host:port of the next UP instance of service.
func (l *eurekaLookup) Pick(service string) (string, error) {
	l.mu.RLock()
	addrs, fetched := l.apps[strings.ToLower(service)], l.fetched
	l.mu.RUnlock()
	switch {
	case !fetched:
		return "", fmt.Errorf("eureka: no registry fetched yet")
	case len(addrs) == 0:
		return "", fmt.Errorf("eureka: no UP instance of %s", service)
	}
	return addrs[(l.next.Add(1)-1)%uint64(len(addrs))], nil
}
