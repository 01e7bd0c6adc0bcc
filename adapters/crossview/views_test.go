package crossview_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	logging "github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

func TestMain(m *testing.M) {
	// fargo logs every failed metadata parse; the tests report them.
	logging.SetLevel(logging.CRITICAL, "fargo")
	os.Exit(m.Run())
}

// views is one embedded store with the three front-ends over it, running
// as registry-adapter runs them; requests go straight to their handlers.
type views struct {
	store  *embedded.Store
	eureka http.Handler
	consul http.Handler
	nacos  http.Handler
	// adapter is the Nacos front-end, for serving it to nacos-sdk-go.
	adapter *nacos.Adapter
	// clock is Eureka's clock: moving it past the delta retention empties
	// /apps/delta of earlier changes.
	clock *fakeClock
}

// deltaRetention is the Eureka front-end's; the clock moves past it.
const deltaRetention = time.Minute

type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// skipDelta moves the clock past the delta retention.
func (c *fakeClock) skipDelta() { c.now.Add(int64(2 * deltaRetention)) }

func newViews(tb testing.TB) *views {
	tb.Helper()
	quiet := slog.New(slog.DiscardHandler)
	store := adaptertest.Store(tb)
	clock := &fakeClock{}
	clock.now.Store(time.Now().UnixNano())
	es, err := eureka.New(store, eureka.Options{Logger: quiet, DeltaRetention: deltaRetention, Now: clock.Now})
	if err != nil {
		tb.Fatalf("eureka: %v", err)
	}
	cs := consul.New(store, consul.Options{NodeName: "node-1", Logger: quiet})
	na, err := nacos.New(store, nacos.Options{Logger: quiet})
	if err != nil {
		tb.Fatalf("nacos: %v", err)
	}
	tb.Cleanup(func() {
		if err := na.Close(); err != nil {
			tb.Errorf("close nacos: %v", err)
		}
	})
	adaptertest.Go(tb, "the Eureka view", es.Run)
	adaptertest.Go(tb, "the Consul front-end", cs.Run)
	v := &views{store: store, eureka: es.Handler(), consul: cs.Handler(), nacos: na.HTTPHandler(), adapter: na, clock: clock}
	// Eureka answers 403 until its view has loaded.
	poll.Until(tb, "the Eureka view to load", func() bool {
		code, _ := v.get(v.eureka, "/eureka/apps", "application/json")
		return code == http.StatusOK
	})
	return v
}

// get sends a GET to a front-end's handler and returns status and body.
func (v *views) get(h http.Handler, target, accept string) (int, []byte) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}
