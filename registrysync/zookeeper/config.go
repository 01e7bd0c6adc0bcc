package zookeeper

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
)

// The ways a copy of an instance that is not selectable is written (see
// Config.DownAs); "absent" is the Consul connector's word too.
const (
	DownAbsent = "absent"
	DownMark   = "mark"
)

// Config is a ZooKeeper registry's entry in registrysync's configuration.
type Config struct {
	// Servers are the ensemble's client addresses, "host:port" (default
	// ["127.0.0.1:2181"]); the client moves to another when one fails.
	Servers []string `yaml:"servers"`
	// Root is the node Spring Cloud Zookeeper registers services under,
	// its spring.cloud.zookeeper.discovery.root (default /services).
	Root string `yaml:"root"`
	// SessionTimeout is the session the connector asks for (default 15s;
	// at least 1s). The server grants one between its minSessionTimeout
	// and maxSessionTimeout (2 and 20 ticks: 4s to 40s by default). Copies
	// outlive a syncer that dies (kill -9, lost network) by this long,
	// which is also the time a peer has to take them over.
	SessionTimeout time.Duration `yaml:"sessionTimeout"`
	// DownAs is how a copy of an instance that is not selectable
	// (status not UP, health critical, or disabled) is written: "absent"
	// (default) keeps no node for it, so no consumer at all can pick it;
	// "mark" writes its node with metadata instance_status set to the
	// status, which Spring Cloud LoadBalancer skips but
	// DiscoveryClient.getInstances and plain Curator clients return.
	DownAs string `yaml:"downAs"`
	// Resync is how often the source lists every node again although its
	// watches report each change (default 5m; 0 never, else at least
	// 1s): insurance against a watch the client failed to restore after
	// a reconnection.
	Resync time.Duration `yaml:"resync"`
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{
		Servers:        []string{"127.0.0.1:2181"},
		Root:           "/services",
		SessionTimeout: 15 * time.Second,
		DownAs:         DownAbsent,
		Resync:         5 * time.Minute,
	}
}

// Validate implements registrysync.Config.
func (c *Config) Validate() error {
	var errs config.Errors
	errs.Add(len(c.Servers) == 0, "servers", "must not be empty")
	for i, s := range c.Servers {
		field := "servers[" + strconv.Itoa(i) + "]"
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			errs.Add(true, field, "%q is not host:port", s)
			continue
		}
		n, err := strconv.Atoi(port)
		errs.Add(host == "", field, "%q has no host", s)
		errs.Add(err != nil || n < 1 || n > 65535, field, "%q has no port in 1-65535", s)
	}
	if err := validRoot(c.Root); err != "" {
		errs.Add(true, "root", "%q %s", c.Root, err)
	}
	errs.Add(c.SessionTimeout < time.Second, "sessionTimeout", "must be at least 1s")
	errs.Add(c.DownAs != DownAbsent && c.DownAs != DownMark, "downAs",
		"%q is neither %q nor %q", c.DownAs, DownAbsent, DownMark)
	errs.Add(c.Resync < 0 || (c.Resync > 0 && c.Resync < time.Second), "resync", "must be 0 or at least 1s")
	return errs.Err()
}

// validRoot says what is wrong with root as a ZooKeeper folder, or "".
func validRoot(root string) string {
	if !strings.HasPrefix(root, "/") || root == "/" {
		return "must be an absolute path below / (/services)"
	}
	if strings.HasSuffix(root, "/") {
		return "must not end with /"
	}
	for _, seg := range strings.Split(root[1:], "/") {
		if err := validName(seg); err != nil {
			return "has a bad segment: " + err.Error()
		}
	}
	return ""
}
