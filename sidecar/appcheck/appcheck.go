package appcheck

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Options configure a checker.
type Options struct {
	// Kind is "http" or "tcp".
	Kind string
	// Address is the app's host:port.
	Address string
	// Path, ExpectStatus (0: any 2xx) and ExpectBody (substring) for http.
	Path         string
	ExpectStatus int
	ExpectBody   string
	Interval     time.Duration
	Timeout      time.Duration
	// UnhealthyThreshold and HealthyThreshold are results in a row needed to change state.
	UnhealthyThreshold int
	HealthyThreshold   int
	Logger             *slog.Logger
}

// Checker probes the app.
type Checker struct {
	opts   Options
	client *http.Client
	logger *slog.Logger
}

// New builds a checker; it probes nothing until Run.
func New(o Options) *Checker {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Checker{
		opts: o,
		client: &http.Client{
			Timeout:   o.Timeout,
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1, DisableCompression: true},
			// A redirect is an answer, not something to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger: o.Logger.With("component", "sidecar.appcheck"),
	}
}

// Probe runs one check and returns nil when the app passed it.
func (c *Checker) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if c.opts.Kind == "tcp" {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.opts.Address)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.opts.Address+c.opts.Path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	switch {
	case c.opts.ExpectStatus != 0 && resp.StatusCode != c.opts.ExpectStatus:
		return fmt.Errorf("status %d, want %d", resp.StatusCode, c.opts.ExpectStatus)
	case c.opts.ExpectStatus == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299):
		return fmt.Errorf("status %d, want 2xx", resp.StatusCode)
	case c.opts.ExpectBody != "" && !strings.Contains(string(body), c.opts.ExpectBody):
		return fmt.Errorf("body does not contain %q", c.opts.ExpectBody)
	}
	return nil
}

// Run probes every Interval until ctx ends and calls report(healthy) on the
// first result and whenever the state changes. It starts by probing at once.
func (c *Checker) Run(ctx context.Context, report func(healthy bool)) {
	var (
		known          bool
		healthy        bool
		okRun, failRun int
	)
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		err := c.Probe(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			okRun, failRun = okRun+1, 0
		} else {
			okRun, failRun = 0, failRun+1
		}
		switch {
		case (!known || !healthy) && okRun >= c.opts.HealthyThreshold:
			known, healthy = true, true
			c.logger.Info("app is healthy", "address", c.opts.Address)
			report(true)
		case (!known || healthy) && failRun >= c.opts.UnhealthyThreshold:
			known, healthy = true, false
			c.logger.Warn("app is unhealthy", "address", c.opts.Address, "error", err)
			report(false)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
