package consul

import (
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/registry"
)

// TestConformance runs what every front-end does, through consul/api.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Protocol{
		Start: func(t *testing.T) *adaptertest.Server { return newEnv(t).server },
		Register: func(t *testing.T, s *adaptertest.Server, in *registry.Instance) int {
			err := apiClient(t, s).Agent().ServiceRegister(&api.AgentServiceRegistration{
				ID: in.ID, Name: in.Service, Address: in.Host, Port: in.Port, Meta: in.Metadata,
			})
			var se api.StatusError
			if errors.As(err, &se) {
				return se.Code
			}
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			return 200
		},
		Addresses: func(t *testing.T, s *adaptertest.Server, service string) []string {
			entries, _, err := apiClient(t, s).Catalog().Service(service, "", nil)
			if err != nil {
				t.Fatalf("catalog: %v", err)
			}
			var out []string
			for _, e := range entries {
				out = append(out, net.JoinHostPort(e.ServiceAddress, strconv.Itoa(e.ServicePort)))
			}
			return out
		},
		BodyLimit: 1 << 20,
	})
}

func apiClient(t *testing.T, s *adaptertest.Server) *api.Client {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: s.Addr})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
