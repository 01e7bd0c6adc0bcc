package nacos_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/registry"
)

// TestConformance runs what every front-end does, over v1 HTTP as the
// Nacos 1.x Java client sends it.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Protocol{
		Start: func(t *testing.T) *adaptertest.Server { return startEnv(t, testOptions()).server },
		Register: func(t *testing.T, s *adaptertest.Server, in *registry.Instance) int {
			meta, err := json.Marshal(in.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{"serviceName": {in.Service}, "ip": {in.Host}, "port": {strconv.Itoa(in.Port)}, "metadata": {string(meta)}}
			code, _ := do(t, &env{httpAddr: s.Addr}, http.MethodPost, "/nacos/v1/ns/instance", form.Encode(), nil)
			return code
		},
		Addresses: func(t *testing.T, s *adaptertest.Server, service string) []string {
			code, body := do(t, &env{httpAddr: s.Addr}, http.MethodGet, "/nacos/v1/ns/instance/list", url.Values{"serviceName": {service}}.Encode(), nil)
			if code != http.StatusOK {
				t.Fatalf("instance list: %d %s", code, body)
			}
			var list struct {
				Hosts []struct {
					IP   string `json:"ip"`
					Port int    `json:"port"`
				} `json:"hosts"`
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatalf("instance list: %v: %s", err, body)
			}
			var out []string
			for _, h := range list.Hosts {
				out = append(out, net.JoinHostPort(h.IP, strconv.Itoa(h.Port)))
			}
			return out
		},
		BodyLimit: 10 << 20,
	})
}
