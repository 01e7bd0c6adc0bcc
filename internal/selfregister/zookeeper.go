package selfregister

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync/zookeeper"
)

// ZooKeeperRoot is where Spring Cloud Zookeeper registers services
// (spring.cloud.zookeeper.discovery.root).
const ZooKeeperRoot = "/services"

// zkSessionTimeout is the session the registrar asks for: its node lives
// this long after the app dies without closing it. Curator's default is
// 60 s; go-zookeeper pings every third of it, so Heartbeat plays no part.
const zkSessionTimeout = 10 * time.Second

// zookeeperRegistrar registers as Spring Cloud Zookeeper does through
// Curator's ServiceDiscovery: an ephemeral node <root>/<service>/<id> of
// its session holding the ServiceInstance record, under container
// folders. A session the server expired took the node with it; the
// registrar writes it again in the new one, as Curator does. Closing the
// session deregisters.
type zookeeperRegistrar struct {
	r       Registration
	servers []string
	log     *slog.Logger
}

// newZooKeeper reads r.URL as a connect string, host:port[,host:port]
// (spring.cloud.zookeeper.connect-string).
func newZooKeeper(r Registration, log *slog.Logger) (*zookeeperRegistrar, error) {
	servers, err := ZooKeeperServers(r.URL)
	if err != nil {
		return nil, err
	}
	return &zookeeperRegistrar{r: r, servers: servers, log: log}, nil
}

// ZooKeeperServers splits a connect string, host:port[,host:port].
func ZooKeeperServers(connect string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(connect, ",") {
		host, port, err := net.SplitHostPort(strings.TrimSpace(s))
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("zookeeper: connect string %q: want host:port[,host:port]", connect)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

func (z *zookeeperRegistrar) path() string {
	return ZooKeeperRoot + "/" + z.r.Service + "/" + z.r.ID
}

func (z *zookeeperRegistrar) Run(ctx context.Context) {
	data, err := zookeeper.EncodeInstance(&registry.Instance{Service: z.r.Service, ID: z.r.ID, Host: z.r.Host, Port: z.r.Port,
		Status: registry.StatusUp, Metadata: z.r.Metadata})
	if err != nil {
		z.log.Error("cannot register", "error", err)
		<-ctx.Done()
		return
	}
	sessions := make(chan struct{}, 1)
	conn, _, err := zk.Connect(z.servers, zkSessionTimeout, zk.WithLogger(zkLog{z.log}), zk.WithEventCallback(func(ev zk.Event) {
		if ev.Type == zk.EventSession && ev.State == zk.StateHasSession {
			select {
			case sessions <- struct{}{}:
			default: // one pending wake-up is enough
			}
		}
	}))
	if err != nil {
		z.log.Error("cannot register", "error", err)
		<-ctx.Done()
		return
	}
	// Closing the session deletes its ephemeral node at once, as
	// Curator's unregisterService and close do.
	defer func() { conn.Close(); z.log.Info("deregistered") }()
	t := time.NewTicker(z.r.Heartbeat)
	defer t.Stop()
	var registeredIn int64
	for {
		if id := conn.SessionID(); conn.State() == zk.StateHasSession && id != registeredIn {
			if err := z.create(conn, data); err != nil {
				z.log.Warn("ZooKeeper registration failed; retrying", "error", err)
			} else {
				registeredIn = id
				z.log.Info("registered", "session", fmt.Sprintf("0x%x", id))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sessions:
		case <-t.C:
		}
	}
}

// create writes the node in the current session: the folders above it
// as container nodes, and a node left by an earlier session (the app
// restarted before it expired) deleted first, as Curator does.
func (z *zookeeperRegistrar) create(conn *zk.Conn, data []byte) error {
	path := z.path()
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			if _, err := conn.CreateContainer(path[:i], nil, zk.FlagContainer, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				return fmt.Errorf("create %s: %w", path[:i], err)
			}
		}
	}
	_, err := conn.Create(path, data, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	if !errors.Is(err, zk.ErrNodeExists) {
		return err
	}
	_, stat, err := conn.Get(path)
	if err != nil {
		return err
	}
	if stat.EphemeralOwner == conn.SessionID() {
		return nil // written before a reconnection of the same session
	}
	if err := conn.Delete(path, stat.Version); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("delete the node of session 0x%x: %w", stat.EphemeralOwner, err)
	}
	_, err = conn.Create(path, data, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	return err
}

// zkLog sends go-zookeeper's connection chatter to debug.
type zkLog struct{ log *slog.Logger }

func (l zkLog) Printf(format string, args ...any) { l.log.Debug(fmt.Sprintf(format, args...)) }
