package selfregister

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// nacosRegistrar registers through nacos-sdk-go (gRPC, as Nacos 2.x
// clients do). The SDK keeps the instance alive over its connection and
// registers it again after a reconnect, so Run only registers once.
type nacosRegistrar struct {
	r      Registration
	server constant.ServerConfig
	log    *slog.Logger
}

func newNacos(r Registration, log *slog.Logger) (*nacosRegistrar, error) {
	server, err := NacosServer(r.URL, r.NacosGRPCPort)
	if err != nil {
		return nil, err
	}
	return &nacosRegistrar{r: r, server: server, log: log}, nil
}

// NacosServer is the server a Nacos client of rawURL (http://host:8848)
// talks to: its HTTP port and context path /nacos, gRPC on grpcPort (0:
// the HTTP port + 1000, the clients' default).
func NacosServer(rawURL string, grpcPort int) (constant.ServerConfig, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return constant.ServerConfig{}, fmt.Errorf("nacos: url: %w", err)
	}
	port, err := strconv.ParseUint(u.Port(), 10, 16)
	if err != nil {
		return constant.ServerConfig{}, fmt.Errorf("nacos: url: a Nacos URL needs a port, got %q", rawURL)
	}
	opts := []constant.ServerOption{constant.WithScheme(u.Scheme), constant.WithContextPath("/nacos")}
	if grpcPort > 0 {
		opts = append(opts, constant.WithGrpcPort(uint64(grpcPort)))
	}
	return *constant.NewServerConfig(u.Hostname(), port, opts...), nil
}

// findLocalIP: nacos-sdk-go v2.3.2 finds the host's IP on a client's
// first use into a package variable, unsynchronised; two clients of one
// process made at once (a registrar and a discovery) race on it. Finding
// it once before any client leaves only reads.
var findLocalIP sync.Once

// NewNacosClient opens a naming client of server, as an app's: requests
// bounded by 5 s, nothing read from a cache file at start, its log and
// cache files in dir, and a push that empties a service taken as it is
// (the Java client's default; the Go client's ignores it).
func NewNacosClient(server constant.ServerConfig, dir string) (naming_client.INamingClient, error) {
	findLocalIP.Do(func() { util.LocalIP() })
	return clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(
			constant.WithTimeoutMs(5000), constant.WithNotLoadCacheAtStart(true), constant.WithUpdateCacheWhenEmpty(true),
			constant.WithLogDir(dir), constant.WithCacheDir(dir), constant.WithLogLevel("warn"),
		),
		ServerConfigs: []constant.ServerConfig{server},
	})
}

func (n *nacosRegistrar) Run(ctx context.Context) {
	dir, err := os.MkdirTemp("", "selfregister-nacos-")
	if err != nil {
		n.log.Error("no directory for the Nacos client's cache and logs", "error", err)
		<-ctx.Done()
		return
	}
	defer os.RemoveAll(dir)
	var client naming_client.INamingClient
	param := vo.RegisterInstanceParam{
		Ip: n.r.Host, Port: uint64(n.r.Port), ServiceName: n.r.Service, Weight: 1, Enable: true,
		Healthy: true, Ephemeral: true, Metadata: n.r.Metadata,
	}
	t := time.NewTicker(n.r.Heartbeat)
	defer t.Stop()
	for {
		if client == nil {
			client, err = NewNacosClient(n.server, dir)
		}
		if err == nil {
			var ok bool
			if ok, err = client.RegisterInstance(param); err == nil && ok {
				n.log.Info("registered")
				break
			} else if err == nil {
				err = fmt.Errorf("the server refused the registration")
			}
		}
		n.log.Warn("Nacos registration failed; retrying", "error", err)
		select {
		case <-ctx.Done():
			if client != nil {
				client.CloseClient()
			}
			return
		case <-t.C:
		}
	}
	<-ctx.Done()
	// The SDK has no context; its own timeout (5 s) bounds this call.
	ok, err := client.DeregisterInstance(vo.DeregisterInstanceParam{
		Ip: n.r.Host, Port: uint64(n.r.Port), ServiceName: n.r.Service, Ephemeral: true,
	})
	if err != nil || !ok {
		n.log.Warn("deregister failed", "error", err)
	} else {
		n.log.Info("deregistered")
	}
	client.CloseClient()
}
