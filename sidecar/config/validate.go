package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
)

// outboundOnly handlers need a routed service pool and make no sense inbound.
var outboundOnly = map[string]bool{"router": true, "loadbalance": true, "outlier": true, "mirror": true, "breaker": true, "retry": true}

// Validate checks the whole config and returns every problem, each with
// its field path.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := host.ValidateAll(c.Plugins); err != nil {
		errs = append(errs, err)
	}
	s := &c.Service
	if !registry.ValidName(s.Name) {
		add("service.name", "required: the app's service name")
	}
	if !registry.ValidName(s.Namespace) {
		add("service.namespace", "must be a name")
	}
	if !registry.ValidName(s.Group) {
		add("service.group", "must be a name")
	}
	if s.ID != "" && !registry.ValidName(s.ID) {
		add("service.id", "%s", registry.NameRule)
	}
	if s.Host == "" {
		add("service.host", "required")
	}
	if !registry.ValidHost(s.AdvertiseHost) {
		add("service.advertiseHost", "required: the address the mesh reaches this sidecar at; %s, got %q", registry.HostRule, s.AdvertiseHost)
	}
	if len(s.Ports) == 0 {
		add("service.ports", "at least one port is required")
	}
	seen := map[string]bool{}
	for i, p := range s.Ports {
		f := fmt.Sprintf("service.ports[%d]", i)
		if p.Name == "" || seen[p.Name] {
			add(f+".name", "required and unique")
		}
		seen[p.Name] = true
		if p.Port < 1 || p.Port > 65535 {
			add(f+".port", "must be 1-65535, got %d", p.Port)
		}
		switch p.Protocol {
		case "http", "http1", "h2c", "grpc":
		default:
			add(f+".protocol", "must be http, http1, h2c or grpc, got %q", p.Protocol)
		}
	}
	if s.Register && (s.LeaseRenewal <= 0 || s.LeaseDuration < s.LeaseRenewal) {
		add("service.leaseRenewal", "must be > 0 and at most leaseDuration")
	}
	if c.Control.Address != "" {
		if u, err := url.Parse(c.Control.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("control.address", "must be an http(s) URL, got %q", c.Control.Address)
		}
	}
	if c.Control.WatchWait <= 0 {
		add("control.watchWait", "must be > 0")
	}
	checkAddr := func(field, addr string, optional bool) {
		if addr == "" && optional {
			return
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			add(field, "must be host:port, got %q", addr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			add(field, "bad port in %q", addr)
		}
	}
	checkAddr("egress.listen", c.Egress.Listen, false)
	checkAddr("ingress.listen", c.Ingress.Listen, false)
	checkAddr("admin.listen", c.Admin.Listen, false)
	errs = append(errs, c.validateChain("egress.chain", c.Egress.Chain, chain.Outbound)...)
	errs = append(errs, c.validateChain("ingress.chain", c.Ingress.Chain, chain.Inbound)...)
	for i, h := range c.Egress.AllowHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			add(fmt.Sprintf("egress.allowHosts[%d]", i), "must be a host or host:port pattern, got %q", h)
		}
	}
	for i, suf := range c.Egress.Resolver.StripSuffixes {
		if !strings.HasPrefix(suf, ".") {
			add(fmt.Sprintf("egress.resolver.stripSuffixes[%d]", i), "must start with '.', got %q", suf)
		}
	}
	if d := &c.Discovery; d.Enabled {
		for _, name := range frontend.Names() {
			checkAddr("discovery."+name, d.FrontEnds[name], true)
		}
		if net.ParseIP(d.LoopbackHost) == nil || !net.ParseIP(d.LoopbackHost).IsLoopback() {
			add("discovery.loopbackHost", "must be a loopback IP, got %q", d.LoopbackHost)
		}
		if d.FirstPort < 1 || d.LastPort > 65535 || d.FirstPort > d.LastPort {
			add("discovery.firstPort", "firstPort-lastPort must be a range within 1-65535")
		}
	}
	hc := &c.HealthCheck
	switch hc.Kind {
	case "none":
	case "http", "tcp":
		if hc.Kind == "http" && !strings.HasPrefix(hc.Path, "/") {
			add("healthCheck.path", "must start with /")
		}
		if hc.Interval <= 0 || hc.Timeout <= 0 || hc.Timeout > hc.Interval {
			add("healthCheck.timeout", "interval and timeout must be > 0 and timeout at most interval")
		}
		if hc.UnhealthyThreshold < 1 || hc.HealthyThreshold < 1 {
			add("healthCheck.unhealthyThreshold", "thresholds must be > 0")
		}
		if hc.ExpectStatus != 0 && (hc.ExpectStatus < 100 || hc.ExpectStatus > 599) {
			add("healthCheck.expectStatus", "must be 0 or 100-599")
		}
		if hc.Port != "" && !seen[hc.Port] {
			add("healthCheck.port", "no service port is named %q", hc.Port)
		}
	default:
		add("healthCheck.kind", "must be none, http or tcp, got %q", hc.Kind)
	}
	if c.Routing.MaxCanaries < 1 || c.Routing.MaxCanaries > 100 {
		add("routing.maxCanaries", "must be 1-100")
	}
	if c.Limits.MaxRequestBody < 0 {
		add("limits.maxRequestBody", "must not be negative")
	}
	if c.Limits.MaxHeaderBytes < 1024 {
		add("limits.maxHeaderBytes", "must be at least 1024")
	}
	if c.Limits.ReadHeaderTimeout <= 0 || c.Limits.IdleTimeout <= 0 {
		add("limits.readHeaderTimeout", "readHeaderTimeout and idleTimeout must be > 0")
	}
	if c.Limits.ReadBodyTimeout <= 0 {
		add("limits.readBodyTimeout", "must be > 0")
	}
	if c.Limits.TunnelIdleTimeout < 0 {
		add("limits.tunnelIdleTimeout", "must not be negative (0: no idle limit)")
	}
	switch r := c.Runtime; {
	case r.GCPercent < -1:
		add("runtime.gcPercent", "must be -1 (off) or >= 0, got %d", r.GCPercent)
	case r.GCPercent == -1 && r.MemoryLimit == 0:
		add("runtime.gcPercent", "-1 turns the collector off and needs runtime.memoryLimit")
	}
	if c.Runtime.MemoryLimit < 0 {
		add("runtime.memoryLimit", "must not be negative")
	}
	if c.Runtime.MaxProcs < 0 {
		add("runtime.maxProcs", "must not be negative")
	}
	if h := c.Runtime.HTTP; h != HTTPOwn && h != HTTPNetHTTP {
		add("runtime.http", "must be %s or %s, got %q", HTTPOwn, HTTPNetHTTP, h)
	}
	if c.DrainTimeout <= 0 {
		add("drainTimeout", "must be > 0")
	}
	if _, err := logging.New(c.Log, io.Discard); err != nil {
		errs = append(errs, err)
	}
	for _, n := range chain.Names() {
		if h := c.Handlers[n]; h != nil {
			if err := h.Validate(); err != nil {
				for _, e := range splitJoined(err) {
					errs = append(errs, fmt.Errorf("handlers.%s.%w", n, e))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateChain(field string, names []string, dir chain.Direction) []error {
	var errs []error
	if len(names) == 0 || names[len(names)-1] != "transport" {
		errs = append(errs, fmt.Errorf("%s: must end with transport", field))
	}
	seen := map[string]bool{}
	for i, n := range names {
		f := fmt.Sprintf("%s[%d]", field, i)
		if _, ok := chain.Lookup(n); !ok {
			errs = append(errs, fmt.Errorf("%s: unknown handler %q (known: %s)", f, n, strings.Join(chain.Names(), ", ")))
			continue
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("%s: %q listed twice", f, n))
		}
		seen[n] = true
		if dir == chain.Inbound && outboundOnly[n] {
			errs = append(errs, fmt.Errorf("%s: %q works on outbound traffic only", f, n))
		}
	}
	if dir == chain.Outbound && seen["loadbalance"] && !seen["router"] {
		errs = append(errs, fmt.Errorf("%s: loadbalance needs router before it", field))
	}
	return errs
}

// splitJoined undoes errors.Join so each problem gets its own prefix.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ParsePorts parses --service-ports: "rest:8080,grpc:9090:grpc".
func ParsePorts(s string) ([]Port, error) {
	var out []Port
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fs := strings.Split(part, ":")
		if len(fs) < 2 || len(fs) > 3 {
			return nil, fmt.Errorf("--service-ports: %q is not name:port[:protocol]", part)
		}
		n, err := strconv.Atoi(fs[1])
		if err != nil {
			return nil, fmt.Errorf("--service-ports: %q: bad port", part)
		}
		p := Port{Name: fs[0], Port: n, Protocol: DefaultProtocol(fs[0])}
		if len(fs) == 3 {
			p.Protocol = fs[2]
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("--service-ports: no ports")
	}
	return out, nil
}

// DefaultProtocol is grpc for port names starting with "grpc", else http.
func DefaultProtocol(name string) string {
	if strings.HasPrefix(name, "grpc") {
		return "grpc"
	}
	return "http"
}

// Redacted returns a copy safe to show (/config, logs): secrets masked.
func (c *Config) Redacted() *Config {
	cp := *c
	if cp.Control.Token != "" {
		cp.Control.Token = "<redacted>"
	}
	return &cp
}
