package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/internal/poll"
)

// TestEurekaLookupPicksUPInstancesRoundRobin registers two instances with
// a real Eureka front-end through fargo, takes one OUT_OF_SERVICE with
// Eureka's status override, and checks that the lookup then picks the UP
// one only.
func TestEurekaLookupPicksUPInstancesRoundRobin(t *testing.T) {
	store := adaptertest.Store(t)
	srv, err := eurekafe.New(store, eurekafe.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	server := adaptertest.Start(t, store, adaptertest.Frontend{Handler: srv.Handler(), Run: []func(context.Context) error{srv.Run}})
	poll.UntilNil(t, "the Eureka front-end serving", poll.GetOK(server.URL+"/eureka/apps"))
	conn := fargo.NewConn(server.URL + "/eureka")
	conn.UseJson = true
	var ins []*fargo.Instance
	for i := range 2 {
		in := &fargo.Instance{InstanceId: fmt.Sprintf("payments-%d", i), HostName: "127.0.0.1", IPAddr: "127.0.0.1", App: "PAYMENTS",
			VipAddress: "payments", Status: fargo.UP, Port: 9000 + i, PortEnabled: true,
			DataCenterInfo: fargo.DataCenterInfo{Name: fargo.MyOwn}, LeaseInfo: fargo.LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 90}}
		if err := conn.RegisterInstance(in); err != nil {
			t.Fatalf("register: %v", err)
		}
		ins = append(ins, in)
	}
	l := newEurekaLookup(server.URL+"/eureka", 1, slog.New(slog.DiscardHandler))
	if _, err := l.Pick("payments"); err == nil {
		t.Fatal("Pick before any fetch answered")
	}
	picks := picker(t, l)
	addr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(9000+i)) }
	if got := picks(); got[addr(0)] != 5 || got[addr(1)] != 5 {
		t.Fatalf("both UP: picks %v, want 5 each", got)
	}
	if err := conn.UpdateInstanceStatus(ins[1], fargo.OUTOFSERVICE); err != nil {
		t.Fatalf("override: %v", err)
	}
	if got := picks(); got[addr(0)] != 10 {
		t.Fatalf("one OUT_OF_SERVICE: picks %v, want all 10 on %s", got, addr(0))
	}
	if _, err := l.Pick("orders"); err == nil {
		t.Fatal("Pick of an unknown service answered")
	}
}

// TestConsulLookupPicksPassingInstances registers two instances with a
// real Consul front-end through consul/api, puts one in maintenance, and
// checks that the lookup then picks the other only.
func TestConsulLookupPicksPassingInstances(t *testing.T) {
	store := adaptertest.Store(t)
	srv := consulfe.New(store, consulfe.Options{Logger: slog.New(slog.DiscardHandler), NodeName: "node-1"})
	server := adaptertest.Start(t, store, adaptertest.Frontend{Handler: srv.Handler(), Run: []func(context.Context) error{srv.Run}})
	poll.UntilNil(t, "the Consul front-end serving", poll.GetOK(server.URL+"/v1/agent/services"))
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = server.Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		reg := &api.AgentServiceRegistration{ID: fmt.Sprintf("payments-%d", i), Name: "payments", Address: "127.0.0.1", Port: 9000 + i}
		if err := c.Agent().ServiceRegister(reg); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	l, err := newConsulLookup(server.URL, 1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	picks := picker(t, l)
	addr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(9000+i)) }
	if got := picks(); got[addr(0)] != 5 || got[addr(1)] != 5 {
		t.Fatalf("both passing: picks %v, want 5 each", got)
	}
	if err := c.Agent().EnableServiceMaintenance("payments-1", "drain"); err != nil {
		t.Fatalf("maintenance: %v", err)
	}
	if got := picks(); got[addr(0)] != 10 {
		t.Fatalf("one in maintenance: picks %v, want all 10 on %s", got, addr(0))
	}
}

// picker fetches l's registry once and tallies ten picks of payments.
func picker(t *testing.T, l *lookup) func() map[string]int {
	return func() map[string]int {
		t.Helper()
		if err := l.fetch(); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for range 10 {
			addr, err := l.Pick("Payments")
			if err != nil {
				t.Fatal(err)
			}
			out[addr]++
		}
		return out
	}
}
