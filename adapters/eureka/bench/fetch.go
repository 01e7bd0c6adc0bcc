package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/meshbridge/meshbridge/adapters/eureka"
)

// runFetch fills a registry, serves it over loopback and times GET /apps
// and /apps/delta: unchanged (served from the cached document), and right
// after a change (the document is rebuilt from cached instance encodings
// and, when asked, compressed again).
func runFetch(ctx context.Context, c config) error {
	store, cleanup, err := openStore(c)
	if err != nil {
		return err
	}
	defer cleanup()
	start := time.Now()
	if err := fill(ctx, store, c.instances, c.apps); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	fmt.Printf("registered %d instances in %d apps through the store in %v\n", c.instances, c.apps, time.Since(start).Round(time.Millisecond))

	srv, err := eureka.New(store, eureka.Options{DeltaRetention: c.deltaRetention, Logger: slog.Default()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	base := "http://" + ln.Addr().String() + "/eureka"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}}
	get := func(path, accept string, gz bool) (time.Duration, int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Accept", accept)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return d, int(n), err
	}
	if err := waitReady(ctx, client, base); err != nil {
		return err
	}
	// change makes one instance dirty through the API, which returns once
	// bulk reads include the change.
	changes := 0
	change := func() error {
		changes++
		i := changes % c.instances
		in := instance(i, c.apps)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut,
			fmt.Sprintf("%s/apps/%s/%s/metadata?build=%d", base, in.Service, in.ID, changes), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("metadata update: status %d", resp.StatusCode)
		}
		return nil
	}

	fmt.Printf("\nGOMAXPROCS=%d, %d requests per case, client and server in one process over loopback\n\n", runtime.GOMAXPROCS(0), c.requests)
	fmt.Println("| request | format | gzip | state | p50 ms | p90 ms | p99 ms | max ms | body bytes |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	row := func(path, format string, gz bool, state string, s summary, bytes int) {
		fmt.Printf("| GET %s | %s | %v | %s | %s | %s | %s | %s | %d |\n", path, format, gz, state, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), bytes)
	}
	formats := []struct{ name, accept string }{{"JSON", "application/json"}, {"XML", "application/xml"}}

	// The first fetch of each format encodes every instance once.
	for _, f := range formats {
		d, n, err := get("/apps", f.accept, false)
		if err != nil {
			return err
		}
		row("/apps", f.name, false, "first fetch (encodes all)", summary{p50: d, p90: d, p99: d, max: d}, n)
	}
	for _, path := range []string{"/apps", "/apps/delta"} {
		for _, f := range formats {
			for _, gz := range []bool{false, true} {
				for _, state := range []string{"after a change", "unchanged"} {
					var ds []time.Duration
					bytes := 0
					for range c.requests {
						if state == "after a change" {
							if err := change(); err != nil {
								return err
							}
						}
						d, n, err := get(path, f.accept, gz)
						if err != nil {
							return err
						}
						ds, bytes = append(ds, d), n
					}
					row(path, f.name, gz, state, summarize(ds), bytes)
				}
			}
		}
	}
	fmt.Printf("\n(the delta holds the %d instances changed during the run, within the %v retention window)\n", min(changes, c.instances), c.deltaRetention)
	return nil
}

// waitReady polls until the server answers a lookup with 404 (it answers
// 403 while its view is loading).
func waitReady(ctx context.Context, client *http.Client, base string) error {
	for deadline := time.Now().Add(time.Minute); ; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/apps/NOT-AN-APP", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("server not ready after a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
