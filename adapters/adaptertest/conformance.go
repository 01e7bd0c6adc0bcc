package adaptertest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// Protocol is one front-end as the conformance suite sees it: how to run
// it, and its own calls to register and to look up.
type Protocol struct {
	// Start runs a fresh front-end over a fresh, empty store for the rest
	// of the test.
	Start func(t *testing.T) *Server
	// Register sends the protocol's registration of in to s, as its
	// clients send it, and returns the HTTP status of the answer. It uses
	// the service, ID, host, port and metadata of in.
	Register func(t *testing.T, s *Server, in *registry.Instance) int
	// Addresses lists what the protocol's clients see of service through
	// s, one "host:port" per instance; nil if they see none.
	Addresses func(t *testing.T, s *Server, service string) []string
	// BodyLimit is the largest request body the front-end Start runs
	// takes, in bytes.
	BodyLimit int
}

// Run runs the conformance suite: what every front-end does whatever its
// protocol.
func Run(t *testing.T, p Protocol) {
	tests := []struct {
		name string
		fn   func(t *testing.T, p Protocol, s *Server)
	}{
		{"RegistrationReachesTheStore", testRegistrationReachesTheStore},
		{"ServesWhatTheStoreHolds", testServesWhatTheStoreHolds},
		{"RefusesAHostNoViewCanCarry", testRefusesAHostNoViewCanCarry},
		{"RefusesABodyOverItsLimit", testRefusesABodyOverItsLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, p, p.Start(t)) })
	}
}

// Instance is the instance the suite registers: service orders, with a
// version in its metadata.
func Instance(id, host string, port int) *registry.Instance {
	return &registry.Instance{
		ID: id, Service: "orders", Host: host, Port: port,
		Metadata: map[string]string{"version": "v1"}, Ephemeral: true,
		Lease: registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second},
	}
}

func testRegistrationReachesTheStore(t *testing.T, p Protocol, s *Server) {
	if code := p.Register(t, s, Instance("orders-1", "10.0.0.7", 8080)); code/100 != 2 {
		t.Fatalf("register answered %d", code)
	}
	if got := storeAddresses(t, s.Store, "orders"); !slices.Equal(got, []string{"10.0.0.7:8080"}) {
		t.Fatalf("store holds %v, want the registered 10.0.0.7:8080", got)
	}
}

func testServesWhatTheStoreHolds(t *testing.T, p Protocol, s *Server) {
	in := Instance("orders-1", "10.0.0.8", 8081)
	in.Origin = registry.OriginControl
	if _, err := s.Store.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	// A front-end may serve a view that follows the store.
	poll.UntilNil(t, "the front-end to list the store's instance", func() error {
		if got := p.Addresses(t, s, "orders"); !slices.Equal(got, []string{"10.0.0.8:8081"}) {
			return fmt.Errorf("lists %v", got)
		}
		return nil
	})
}

func testRefusesAHostNoViewCanCarry(t *testing.T, p Protocol, s *Server) {
	rev := s.Store.Revision()
	// U+0001 in a host made every Eureka XML fetch fail when it was let in.
	if code := p.Register(t, s, Instance("orders-1", "10.0.0.1\x01", 8080)); code != http.StatusBadRequest {
		t.Fatalf("register answered %d, want %d", code, http.StatusBadRequest)
	}
	if got := s.Store.Revision(); got != rev {
		t.Fatalf("a refused registration changed the store: revision %d -> %d", rev, got)
	}
}

func testRefusesABodyOverItsLimit(t *testing.T, p Protocol, s *Server) {
	rev := s.Store.Revision()
	in := Instance("orders-1", "10.0.0.7", 8080)
	in.Metadata["pad"] = strings.Repeat("x", p.BodyLimit)
	if code := p.Register(t, s, in); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("register of a body over %d bytes answered %d, want %d", p.BodyLimit, code, http.StatusRequestEntityTooLarge)
	}
	if got := s.Store.Revision(); got != rev {
		t.Fatalf("a refused registration changed the store: revision %d -> %d", rev, got)
	}
}

// storeAddresses lists "host:port" of every instance of service in st.
func storeAddresses(t *testing.T, st registry.Store, service string) []string {
	t.Helper()
	list, _, err := st.List(context.Background(), registry.Filter{Service: service})
	if err != nil {
		t.Fatalf("list %s: %v", service, err)
	}
	var out []string
	for _, in := range list {
		out = append(out, in.Address())
	}
	return out
}
