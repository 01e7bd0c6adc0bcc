package proxy

import (
	"net"
	"strings"
)

// Resolver maps the host a caller used to a mesh service name.
type Resolver interface {
	// Resolve returns the service for host ("orders", "orders:80",
	// "orders.mesh"), or false when the host is not a mesh name.
	Resolve(host string) (string, bool)
}

// NameResolver is the default resolver: it drops the port, lower-cases,
// applies aliases, then strips the first matching suffix.
type NameResolver struct {
	// StripSuffixes are removed from the host (".mesh", ".svc.cluster.local").
	StripSuffixes []string
	// Aliases map a host (after the port is dropped) to a service.
	Aliases map[string]string
}

// Resolve implements Resolver.
func (n *NameResolver) Resolve(host string) (string, bool) {
	// Most hosts carry no port; SplitHostPort would build an error for them.
	if strings.IndexByte(host, ':') >= 0 {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return "", false
	}
	if s, ok := n.Aliases[host]; ok {
		return s, true
	}
	for _, suf := range n.StripSuffixes {
		if s, ok := strings.CutSuffix(host, suf); ok && s != "" {
			return s, true
		}
	}
	return host, true
}

// HostPatterns match hosts allowed to leave the mesh (CONNECT, plain
// passthrough): "api.example.com", "*.example.com", optionally with ":port".
type HostPatterns []string

// Allow reports whether hostport matches a pattern. A pattern without a
// port matches every port.
func (p HostPatterns) Allow(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	host = strings.ToLower(host)
	for _, pat := range p {
		ph, pp, err := net.SplitHostPort(pat)
		if err != nil {
			ph, pp = pat, ""
		}
		if pp != "" && pp != port {
			continue
		}
		ph = strings.ToLower(ph)
		if ph == host || strings.HasPrefix(ph, "*.") && strings.HasSuffix(host, ph[1:]) {
			return true
		}
	}
	return false
}
