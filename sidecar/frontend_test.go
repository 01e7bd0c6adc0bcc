package sidecar_test

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// A front-end that exists only in this file, registered here with no
// other change: discovery mode takes its address from its own key under
// discovery: and mounts it over the mesh view, as it does Eureka's.
func init() {
	frontend.Register(frontend.Kind{
		Name: "testproto", NewConfig: func() frontend.Config { return testProtoConfig{} },
		Mount: func(_ frontend.Config, env frontend.Env) error {
			if env.Sidecar == nil {
				return fmt.Errorf("testproto: mounted outside discovery mode")
			}
			ns := env.Sidecar.Namespace
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				list, _, err := env.Registry.List(r.Context(), registry.Filter{Namespace: ns, Service: r.URL.Query().Get("service")})
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				var addrs []string
				for _, in := range list {
					addrs = append(addrs, in.Address())
				}
				fmt.Fprintf(w, "%s: %s", ns, strings.Join(addrs, ","))
			})
			return serve.Join(env.Group, serve.Listener{Name: "testproto", Addr: env.Sidecar.Listen, Handler: h}, env.Logger, env.Timeouts, env.Limits)
		},
		// No DiscoveryListen: off unless a configuration names an address.
	})
}

type testProtoConfig struct{}

func (testProtoConfig) Validate() error        { return nil }
func (testProtoConfig) Flags(fs *flag.FlagSet) {}

func TestDiscoveryMountsAFrontEndRegisteredElsewhere(t *testing.T) {
	if got := config.Default().Discovery.FrontEnds["testproto"]; got != "" {
		t.Fatalf("testproto is on by default at %q", got)
	}
	cp := startControl(t)
	orders := startEcho(t, "orders-1")
	appSidecar(t, cp, "orders", orders, nil, nil)

	addr, first := loopback.Addr(t), loopback.Port(t, 20)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`service: {name: shop}
control: {address: %q, watchWait: 1s}
drainTimeout: 5s
discovery:
  enabled: true
  eureka: ""
  consul: ""
  nacos: ""
  testproto: %q
  loopbackHost: 127.0.0.1
  firstPort: %d
  lastPort: %d
`, cp.url, addr, first, first+20)))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	startSidecar(t, cfg, cp.client)
	// The front-end answers from the mesh view: orders at a loopback port
	// of this sidecar, in the app's namespace.
	var got string
	poll.Until(t, "orders served by the front-end from the mesh view", func() bool {
		resp, err := http.Get("http://" + addr + "/?service=orders")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = string(b)
		return strings.HasPrefix(got, "public: 127.0.0.1:")
	})
	if port, err := strconv.Atoi(strings.TrimPrefix(got, "public: 127.0.0.1:")); err != nil || port < first || port > first+20 {
		t.Fatalf("the front-end answered %q; want orders at one loopback port of the sidecar", got)
	}
}
