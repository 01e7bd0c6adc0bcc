package eureka

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// shortLease is a Spring registration whose lease lasts one second.
func shortLease(t *testing.T, id string) string {
	body := strings.ReplaceAll(springBody(t), springID, id)
	return strings.Replace(body, `"durationInSecs":90`, `"durationInSecs":1`, 1)
}

// TestLeaseExpiry: an instance that stops renewing is evicted by the
// store; one that keeps renewing stays; Eureka clients see the eviction in
// the delta and in lookups.
func TestLeaseExpiry(t *testing.T) {
	env := newEnv(t, withExpiry(embedded.ExpiryOptions{
		Interval: 50 * time.Millisecond, StartupGrace: -1, SelfPreservationThreshold: -1,
	}))
	c := springClient{env: env, base: "/eureka"}
	for _, id := range []string{"dies", "lives"} {
		if code, _ := c.register(shortLease(t, id)); code != http.StatusNoContent {
			t.Fatalf("register %s: %d", id, code)
		}
	}
	if st := mustGet(t, env, "orders", "dies"); st.Lease.Duration != time.Second {
		t.Fatalf("lease duration %v, want the 1s from leaseInfo", st.Lease.Duration)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if code, _ := c.heartbeat("lives", "UP", springDirty); code != http.StatusOK {
					t.Errorf("heartbeat of the live instance: %d", code)
					return
				}
			}
		}
	}()
	poll.Until(t, "the silent instance to expire", func() bool {
		code, _, _ := env.do(http.MethodGet, "/eureka/apps/ORDERS/dies", "", "Accept", "application/json")
		return code == http.StatusNotFound
	})
	if code, _ := c.heartbeat("dies", "UP", springDirty); code != http.StatusNotFound {
		t.Errorf("heartbeat after expiry: %d, want 404 so the client registers again", code)
	}
	// The delta is built from the store's watch and may trail the lookup
	// by a moment (Eureka's own is cached for up to 30 s).
	poll.Until(t, "the delta to report the eviction as DELETED", func() bool {
		for _, a := range c.applications(t, "/apps/delta").Apps {
			for _, in := range a.Instances {
				if in.InstanceID == "dies" && in.ActionType == "DELETED" {
					return true
				}
			}
		}
		return false
	}, poll.Within(5*time.Second))
	cancel()
	<-renewed
	if code, _, _ := env.do(http.MethodGet, "/eureka/apps/ORDERS/lives", "", "Accept", "application/json"); code != http.StatusOK {
		t.Errorf("renewed instance: %d, want 200", code)
	}
}

// TestStatusPageSelfPreservation: when most leases lapse at once the
// store pauses expiry, and the status page says so as Eureka's does.
func TestStatusPageSelfPreservation(t *testing.T) {
	env := newEnv(t, withExpiry(embedded.ExpiryOptions{
		Interval: 50 * time.Millisecond, StartupGrace: -1,
		SelfPreservationThreshold: 0.15, SelfPreservationMinLeases: 2,
	}))
	c := springClient{env: env, base: "/eureka"}
	page := func() string {
		code, h, b := env.do(http.MethodGet, "/", "")
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("status page: %d %s", code, h.Get("Content-Type"))
		}
		return string(b)
	}
	if p := page(); !strings.Contains(p, "No instances available") || strings.Contains(p, "EMERGENCY") {
		t.Errorf("empty registry page:\n%s", p)
	}
	for _, id := range []string{"a", "b", "c"} {
		if code, _ := c.register(shortLease(t, id)); code != http.StatusNoContent {
			t.Fatalf("register: %d", code)
		}
	}
	p := page()
	for _, want := range []string{"<b>ORDERS</b>", "<b>UP</b> (3)", `href="http://10.1.2.3:8080/actuator/info"`, ">a</a>", ">c</a>"} {
		if !strings.Contains(p, want) {
			t.Errorf("status page lacks %q:\n%s", want, p)
		}
	}
	// All three leases lapse together: self-preservation, nothing evicted.
	poll.Until(t, "self-preservation on the status page", func() bool {
		return strings.Contains(page(), "EMERGENCY! EUREKA MAY BE INCORRECTLY CLAIMING INSTANCES ARE UP")
	})
	if p := page(); !strings.Contains(p, `<td id="lease-expiration-enabled">false</td>`) {
		t.Errorf("lease expiration should show as disabled:\n%s", p)
	}
	if n := len(env.mustList()); n != 3 {
		t.Errorf("self-preservation must keep the instances, %d left", n)
	}
}
