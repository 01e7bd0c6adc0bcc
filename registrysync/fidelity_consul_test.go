package registrysync_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/legacytest"
)

// Consul keeps a service ID unique per agent only, so two nodes may each
// register "orders" (the ID Consul gives a service registered without
// one). Each must reach the mesh as a copy of its own, on both nodes
// "orders@<node>"; once one node holds it alone, its copy is "orders"
// again.
//
// The stand-in refuses one ID on two nodes (its store holds one instance
// per service and ID), so the second node's instance is registered there
// as "orders~node-2" through the catalog and a proxy shows it to the
// syncer as "orders", as a real Consul's health endpoint would list it.
// Everything else is the stand-in's answer, read by consul/api.
func TestConsulSameIDOnTwoNodesMakesTwoCopies(t *testing.T) {
	c := legacytest.StartConsul(t)
	client := c.Client(t)
	cfg := c.Config()
	cfg.Address = sameIDProxy(t, c.Addr, "orders~node-2", "orders")
	_, m := pairWithMesh(t, registrysync.RegistryConfig{Name: "legacy", Type: "consul", Settings: cfg})

	// node-1 is the stand-in agent's own node.
	if err := client.Agent().ServiceRegister(&api.AgentServiceRegistration{Name: "orders", Address: "10.0.0.1", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Catalog().Register(&api.CatalogRegistration{Node: "node-2", Address: "10.0.0.2",
		Service: &api.AgentService{ID: "orders~node-2", Service: "orders", Address: "10.0.0.2", Port: 8080},
		Check:   &api.AgentCheck{CheckID: "orders-alive", ServiceID: "orders~node-2", Status: api.HealthPassing}}, nil); err != nil {
		t.Fatal(err)
	}
	holds(t, m, within, "orders/orders@node-1<-legacy", "orders/orders@node-2<-legacy")

	if _, err := client.Catalog().Deregister(&api.CatalogDeregistration{Node: "node-2", ServiceID: "orders~node-2"}, nil); err != nil {
		t.Fatal(err)
	}
	holds(t, m, within, "orders/orders<-legacy")
}

// sameIDProxy forwards to a Consul stand-in at addr, showing service ID
// from as to in health answers; it returns the proxy's address.
func sameIDProxy(t *testing.T, addr, from, to string) string {
	t.Helper()
	target, _ := url.Parse("http://" + addr)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			if !strings.HasPrefix(resp.Request.URL.Path, "/v1/health/service/") || resp.StatusCode != http.StatusOK {
				return nil
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			var entries []map[string]any
			if err := json.Unmarshal(body, &entries); err != nil {
				return err
			}
			for _, e := range entries {
				if s, ok := e["Service"].(map[string]any); ok && s["ID"] == from {
					s["ID"] = to
				}
			}
			if body, err = json.Marshal(entries); err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			return nil
		},
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// Two source instances that would make one copy (same service and id,
// here in two namespaces of the mesh, which Eureka cannot tell apart):
// the error names both, where each is, and which stays; the first is
// copied, nothing is written for the second.
func TestSameCopyErrorNamesBothInstances(t *testing.T) {
	legacy, conn := eurekaLegacy(t, "legacy")
	blue, green := app("orders", "orders-1"), app("orders", "orders-1")
	blue.Namespace, green.Namespace, green.Host = "blue", "green", "10.0.0.2"
	s, _ := pairWithMesh(t, legacy, blue, green)

	poll.UntilNil(t, "the collision reported", func() error {
		for _, e := range s.flow(t, "mesh", "legacy").Errors {
			if e.Record == "orders/orders-1" && e.Op == "record" {
				for _, want := range []string{`service "orders" and id "orders-1"`, `10.0.0.1:8080 (namespace "blue"`, `10.0.0.2:8080 (namespace "green"`, "which stays"} {
					if !strings.Contains(e.Error, want) {
						t.Fatalf("error %q does not say %s", e.Error, want)
					}
				}
				return nil
			}
		}
		return fmt.Errorf("errors %v", s.flow(t, "mesh", "legacy").Errors)
	}, poll.Within(within))
	poll.UntilNil(t, "the first copied to Eureka", func() error {
		app, err := conn.GetApp("ORDERS")
		if err != nil {
			return err
		}
		if len(app.Instances) != 1 {
			return fmt.Errorf("Eureka holds %d orders instances, want the first alone", len(app.Instances))
		}
		return nil
	}, poll.Within(within))
	s.caughtUp(t)
	if app, err := conn.GetApp("ORDERS"); err != nil || len(app.Instances) != 1 {
		t.Fatalf("after the syncer caught up: %v, err %v", app, err)
	}
}
