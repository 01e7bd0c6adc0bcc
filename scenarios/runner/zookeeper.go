package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/internal/zkserver"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync/zookeeper"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// zkClientPort names a legacy ZooKeeper's client port.
const zkClientPort = "client"

// zkResync is how often a demo app without a sidecar lists a legacy
// ZooKeeper whole besides following it with watches: the watches carry
// every change, so this is only insurance.
const zkResync = "1m"

// zkReadyTimeout bounds a legacy ZooKeeper's start: a JVM on a busy
// two-core machine may take several seconds.
const zkReadyTimeout = 60 * time.Second

// ZooKeeperImage is Debian's ZooKeeper as a container image, built on this
// machine by ZooKeeperImageBuild (scripts/zookeeper-image.sh) and never
// pulled: its CMD serves standalone on 2181 with its data inside the
// container and the same tick (2 s) as the process provider's.
const (
	ZooKeeperImage      = "meshbridge/zookeeper:3.8"
	ZooKeeperImageBuild = "make zookeeper-image"
)

// zookeeperComponent is a legacy ZooKeeper. Under a provider that runs
// images it is ZooKeeperImage with its own CMD. Otherwise it is Debian's
// server started as internal/zookeepertest starts it (internal/zkserver),
// standalone, on a loopback port with its data under the run's work
// directory, ZooKeeper's default tick (2 s: sessions of 4 s to 40 s);
// without java or ZooKeeper installed the error says so, and the run is
// skipped with it. Either way it is ready once it hands out a session.
func zookeeperComponent(l spec.Legacy, images bool) (*Component, error) {
	if images {
		return &Component{Name: l.Name, Role: RoleLegacy, Image: ZooKeeperImage, BuiltBy: ZooKeeperImageBuild,
			Ports: []Port{{Name: zkClientPort, Container: 2181}},
			Ready: Probe{Port: zkClientPort, Protocol: ProbeZooKeeper, Timeout: zkReadyTimeout},
			Args:  func(Net) []string { return nil }}, nil // the image's CMD
	}
	in, err := zkserver.Find()
	if err != nil {
		return nil, fmt.Errorf("legacy registry %s: %w; install it with `make zookeeper`", l.Name, err)
	}
	c := &Component{Name: l.Name, Role: RoleLegacy, Program: in.Java,
		Ports: []Port{{Name: zkClientPort, Container: 2181}},
		Ready: Probe{Port: zkClientPort, Protocol: ProbeZooKeeper, Timeout: zkReadyTimeout}}
	c.Args = func(n Net) []string {
		host, port, _ := net.SplitHostPort(n.Listen(c.Name, zkClientPort))
		p, _ := strconv.Atoi(port)
		cfg := filepath.Join(n.DataDir(c.Name), "zoo.cfg")
		// An error here shows as the server failing to start, naming the
		// file, in its log.
		_ = zkserver.Config{DataDir: filepath.Join(n.DataDir(c.Name), "zookeeper"), Host: host, Port: p,
			TickTime: 2 * time.Second, MinSessionTimeout: 4 * time.Second, MaxSessionTimeout: 40 * time.Second}.Write(cfg)
		return in.Args(cfg)
	}
	return c, nil
}

// zkConnect opens a session with the legacy ZooKeeper comp; the caller
// closes it.
func (r *run) zkConnect(ctx context.Context, comp string) (*zk.Conn, error) {
	addr, err := r.prov.HostAddr(ctx, comp, zkClientPort)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return zkserver.Connect(ctx, addr, 10*time.Second)
}

// setZooKeeperStatus takes a legacy instance out of its callers' views
// or back as Spring Cloud Zookeeper's service-registry endpoint does:
// instance_status OUT_OF_SERVICE or UP in its record, which Spring Cloud
// LoadBalancer (and the demo apps' watching lookup) filter on; the syncer
// carries the status to the mesh.
func (r *run) setZooKeeperStatus(ctx context.Context, c *Component, svc *spec.Service, up bool) error {
	conn, err := r.zkConnect(ctx, svc.LegacyRegistry)
	if err != nil {
		return err
	}
	defer conn.Close()
	st := registry.StatusOutOfService
	if up {
		st = registry.StatusUp
	}
	return zookeeper.SetStatus(conn, selfregister.ZooKeeperRoot, c.Service, c.Name, st)
}

// zookeeperView lists a service's instances in a legacy ZooKeeper as a
// Spring Cloud Zookeeper client reads them: every node under
// /services/<service>, healthy when instance_status is absent or UP.
func (r *run) zookeeperView(ctx context.Context, from, service string) ([]viewInstance, error) {
	conn, err := r.zkConnect(ctx, from)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	dir := selfregister.ZooKeeperRoot + "/" + service
	ids, _, err := conn.Children(dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("zookeeper view: %s: %w", dir, err)
	}
	var out []viewInstance
	for _, id := range ids {
		data, _, err := conn.Get(dir + "/" + id)
		if errors.Is(err, zk.ErrNoNode) {
			continue // gone since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("zookeeper view: %w", err)
		}
		in, err := zookeeper.DecodeInstance(service, id, data)
		if err != nil {
			return nil, err
		}
		out = append(out, viewInstance{Addr: in.Address(), Healthy: in.Healthy()})
	}
	return out, nil
}
