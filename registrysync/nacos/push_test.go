package nacos_test

import (
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// pushBound is how long a change may take to reach the source by push;
// generous for a shared machine, the figure seen is logged.
const pushBound = 3 * time.Second

// With the service list read once an hour, only a push can bring a new
// instance of a listed service: it must arrive within pushBound, as a
// change of that one service.
func TestPushReachesTheSourceWithinABound(t *testing.T) {
	s := startServer(t)
	apps := newApps(t, s)
	first := connectortest.App("quotes", "", 18400)
	apps.register(t, first)
	cfg := s.config()
	cfg.ListInterval = time.Hour
	c := s.connector(t, cfg, "syncer-a")
	updates := follow(t, c)
	next(t, updates, 10*time.Second, "the first listing with quotes", func(u registrysync.Update) bool {
		return u.Complete && find(u, "quotes", first.ID) != nil
	})
	second := connectortest.App("quotes", "", 18401)
	apps.register(t, second)
	start := time.Now()
	u := next(t, updates, pushBound, "the second quotes instance, by push", func(u registrysync.Update) bool {
		return find(u, "quotes", second.ID) != nil
	})
	t.Logf("push reached the source %v after the registration returned", time.Since(start))
	if u.Complete {
		t.Error("the change came as a complete listing, want a push of the one service")
	}
	if len(u.Groups) != 1 || len(u.Groups[0].Instances) != 2 {
		t.Errorf("push update %+v, want quotes with both instances", u.Groups)
	}
	apps.deregister(t, first)
	apps.deregister(t, second)
	next(t, updates, pushBound, "quotes emptied, by push", func(u registrysync.Update) bool {
		g, ok := group(u, registrysync.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Service: "quotes"})
		return ok && len(g.Instances) == 0
	})
}
