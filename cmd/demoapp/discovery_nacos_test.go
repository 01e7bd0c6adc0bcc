package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registrysync/legacytest"
)

// TestNacosLookupFollowsPushes registers three payments instances with
// a Nacos stand-in (the registry-adapter's Nacos front-end, HTTP and
// gRPC) through nacos-sdk-go, one of them unhealthy, and checks that the lookup picks
// the healthy ones only; then an operator disables one through the HTTP
// API (PUT /nacos/v1/ns/instance enabled=false) and the lookup stops
// picking it within a bound shorter than the client's own polling (the
// server's cacheMillis, 10 s), so by push; enabled again, it comes back.
// A second lookup whose list is reused for an hour (Spring Cloud
// LoadBalancer's cache) keeps picking what it read first.
func TestNacosLookupFollowsPushes(t *testing.T) {
	server := legacytest.StartNacos(t)
	base := "http://" + server.HTTPAddr
	app := server.Client(t)
	var ins []vo.RegisterInstanceParam
	for i := range 3 {
		ins = append(ins, vo.RegisterInstanceParam{Ip: "127.0.0.1", Port: uint64(9000 + i), Weight: 1, Enable: true, Healthy: i < 2, Ephemeral: true})
	}
	if ok, err := app.BatchRegisterInstance(vo.BatchRegisterInstanceParam{ServiceName: "payments", Instances: ins}); err != nil || !ok {
		t.Fatalf("register: %v %v", ok, err)
	}

	fresh := runNacosLookup(t, base, server.GRPCPort, 0)
	cached := runNacosLookup(t, base, server.GRPCPort, time.Hour)
	addr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(9000+i)) }
	both := func(got map[string]int) bool { return got[addr(0)] == 5 && got[addr(1)] == 5 }
	for _, l := range []*nacosLookup{fresh, cached} {
		poll.UntilNil(t, "the lookup connected", func() error { _, err := l.Pick("payments"); return err }, poll.Within(20*time.Second))
		if got := nacosPicks(t, l); !both(got) {
			t.Fatalf("two healthy, one not: picks %v, want 5 each on %s and %s", got, addr(0), addr(1))
		}
	}

	setEnabled(t, base, 9001, false)
	poll.Until(t, "the disabled instance left the picks", func() bool { return nacosPicks(t, fresh)[addr(0)] == 10 }, poll.Within(5*time.Second))
	if got := nacosPicks(t, cached); !both(got) {
		t.Fatalf("with an hour's cache: picks %v, want still 5 each", got)
	}
	setEnabled(t, base, 9001, true)
	poll.Until(t, "the enabled instance back in the picks", func() bool { return both(nacosPicks(t, fresh)) }, poll.Within(5*time.Second))

	if _, err := fresh.Pick("orders"); err == nil {
		t.Fatal("Pick of a service without instances answered")
	}
}

func TestNacosLookupBeforeConnecting(t *testing.T) {
	l, err := newNacosLookup("http://127.0.0.1:8848", 0, time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Pick("payments"); err == nil {
		t.Fatal("Pick before Run connected answered")
	}
	if _, err := newNacosLookup("http://127.0.0.1", 0, time.Second, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a Nacos URL without a port was taken")
	}
}

// runNacosLookup runs a lookup until the test ends.
func runNacosLookup(t *testing.T, rawURL string, grpcPort int, refresh time.Duration) *nacosLookup {
	t.Helper()
	l, err := newNacosLookup(rawURL, grpcPort, refresh, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return l
}

// nacosPicks tallies ten picks of payments.
func nacosPicks(t *testing.T, l *nacosLookup) map[string]int {
	t.Helper()
	out := map[string]int{}
	for range 10 {
		addr, err := l.Pick("payments")
		if err != nil {
			t.Fatal(err)
		}
		out[addr]++
	}
	return out
}

// setEnabled enables or disables a payments instance as an operator does,
// through Nacos's HTTP API.
func setEnabled(t *testing.T, base string, port int, enabled bool) {
	t.Helper()
	q := url.Values{"serviceName": {"payments"}, "ip": {"127.0.0.1"}, "port": {strconv.Itoa(port)}, "enabled": {strconv.FormatBool(enabled)}}
	req, err := http.NewRequest(http.MethodPut, base+"/nacos/v1/ns/instance?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT enabled=%t answered %s", enabled, resp.Status)
	}
}
