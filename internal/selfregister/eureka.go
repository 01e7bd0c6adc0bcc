package selfregister

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hudl/fargo"
	"github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/registry"
)

func init() {
	// fargo logs every heartbeat at debug level to stderr.
	for _, m := range []string{"fargo", "fargo.metadata", "fargo.marshal"} {
		logging.SetLevel(logging.WARNING, m)
	}
}

// eurekaRegistrar registers through hudl/fargo, the way a Go Eureka client does:
// register, heartbeat every interval, register again on a 404.
type eurekaRegistrar struct {
	r    Registration
	conn fargo.EurekaConnection
	ins  *fargo.Instance
	log  *slog.Logger
}

func newEureka(r Registration, log *slog.Logger) *eurekaRegistrar {
	conn := fargo.NewConn(strings.TrimRight(r.URL, "/"))
	conn.UseJson = true
	secs := max(int32(r.Heartbeat.Seconds()), 1)
	base := fmt.Sprintf("http://%s:%d", r.Host, r.Port)
	ins := &fargo.Instance{
		InstanceId: r.ID, HostName: r.Host, IPAddr: r.Host, App: strings.ToUpper(r.Service),
		VipAddress: strings.ToLower(r.Service), SecureVipAddress: strings.ToLower(r.Service),
		Status: fargo.UP, Port: r.Port, PortEnabled: true,
		HomePageUrl:    base + "/",
		StatusPageUrl:  base + r.HealthPath,
		HealthCheckUrl: base + r.HealthPath,
		DataCenterInfo: fargo.DataCenterInfo{Name: fargo.MyOwn},
		LeaseInfo:      fargo.LeaseInfo{RenewalIntervalInSecs: secs, DurationInSecs: 3 * secs},
	}
	for k, v := range r.Metadata {
		ins.SetMetadataString(k, v)
	}
	return &eurekaRegistrar{r: r, conn: conn, ins: ins, log: log}
}

func (e *eurekaRegistrar) Run(ctx context.Context) {
	// fargo has no context: each call is bounded by its own HTTP timeouts.
	heartbeatLoop(ctx, e.r.Heartbeat, e.log,
		func(context.Context) error { return e.conn.ReregisterInstance(e.ins) },
		func(context.Context) error {
			err := e.conn.HeartBeatInstance(e.ins)
			if code, ok := fargo.HTTPResponseStatusCode(err); ok && code == http.StatusNotFound {
				return fmt.Errorf("eureka: heartbeat: %w", registry.ErrNotFound)
			}
			return err
		})
	if err := e.conn.DeregisterInstance(e.ins); err != nil {
		e.log.Warn("deregister failed", "error", err)
		return
	}
	e.log.Info("deregistered")
}
