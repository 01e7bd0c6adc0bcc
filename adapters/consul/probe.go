package consul

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Probe defaults, Consul's.
const (
	defaultProbeTimeout = 10 * time.Second
	minCheckInterval    = time.Second
	checkUserAgent      = "Consul Health Check"
)

// prober runs HTTP and TCP checks. Clients are cached per TLS setting;
// keep-alives are off so that a check always opens a fresh connection, as
// Consul's checks do.
type prober struct {
	mu      sync.Mutex
	clients map[string]*http.Client
}

func newProber() *prober { return &prober{clients: map[string]*http.Client{}} }

// probe runs the check once and returns the status and output to record.
func (p *prober) probe(ctx context.Context, c *checkRecord) (string, string) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if c.Type == typeTCP {
		return probeTCP(ctx, c)
	}
	return p.probeHTTP(ctx, c)
}

func (p *prober) client(c *checkRecord) *http.Client {
	key := fmt.Sprintf("%t|%s|%t", c.TLSSkipVerify, c.TLSServerName, c.DisableRedirects)
	p.mu.Lock()
	defer p.mu.Unlock()
	if cl := p.clients[key]; cl != nil {
		return cl
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	tr.Proxy = nil
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: c.TLSSkipVerify, ServerName: c.TLSServerName} //nolint:gosec // the registrant asked for it
	cl := &http.Client{Transport: tr}
	if c.DisableRedirects {
		cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	p.clients[key] = cl
	return cl
}

// probeHTTP: 2xx is passing, 429 warning, anything else or an error critical.
func (p *prober) probeHTTP(ctx context.Context, c *checkRecord) (string, string) {
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, c.HTTP, strings.NewReader(c.Body))
	if err != nil {
		return statusCritical, err.Error()
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", checkUserAgent)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/plain, text/*, */*")
	}
	resp, err := p.client(c).Do(req)
	if err != nil {
		return statusCritical, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput)) // a short read still tells the status
	output := fmt.Sprintf("HTTP %s %s: %s Output: %s", method, c.HTTP, resp.Status, body)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return statusPassing, output
	case resp.StatusCode == http.StatusTooManyRequests:
		return statusWarning, output
	}
	return statusCritical, output
}

// probeTCP: a connection that opens is passing.
func probeTCP(ctx context.Context, c *checkRecord) (string, string) {
	var d net.Dialer
	kind := "TCP"
	conn, err := d.DialContext(ctx, "tcp", c.TCP)
	if err == nil && c.TCPUseTLS {
		kind = "TCP+TLS"
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: c.TLSSkipVerify, ServerName: tlsServerName(c)}) //nolint:gosec // the registrant asked for it
		err = tc.HandshakeContext(ctx)
		conn = tc
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return statusCritical, err.Error()
	}
	conn.Close()
	return statusPassing, fmt.Sprintf("%s connect %s: Success", kind, c.TCP)
}

func tlsServerName(c *checkRecord) string {
	if c.TLSServerName != "" {
		return c.TLSServerName
	}
	host, _, err := net.SplitHostPort(c.TCP)
	if err != nil {
		return c.TCP
	}
	return host
}
