package selfregister

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
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
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("nacos: url: %w", err)
	}
	port, err := strconv.ParseUint(u.Port(), 10, 16)
	if err != nil {
		return nil, fmt.Errorf("nacos: url: a Nacos URL needs a port, got %q", r.URL)
	}
	opts := []constant.ServerOption{constant.WithScheme(u.Scheme), constant.WithContextPath("/nacos")}
	if r.NacosGRPCPort > 0 {
		opts = append(opts, constant.WithGrpcPort(uint64(r.NacosGRPCPort)))
	}
	return &nacosRegistrar{r: r, server: *constant.NewServerConfig(u.Hostname(), port, opts...), log: log}, nil
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
			client, err = clients.NewNamingClient(vo.NacosClientParam{
				ClientConfig: constant.NewClientConfig(
					constant.WithTimeoutMs(5000), constant.WithNotLoadCacheAtStart(true),
					constant.WithLogDir(dir), constant.WithCacheDir(dir), constant.WithLogLevel("warn"),
				),
				ServerConfigs: []constant.ServerConfig{n.server},
			})
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
