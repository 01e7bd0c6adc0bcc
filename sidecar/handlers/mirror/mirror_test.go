package mirror

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func mirrored(t *testing.T) *table.Service {
	a := &registry.Instance{ID: "a", Service: "s", Host: "10.0.0.1", Port: 80}
	m := &registry.Instance{ID: "m", Service: "s", Host: "10.0.0.2", Port: 80, Labels: map[string]string{"shadow": "true"}}
	a.Normalize()
	m.Normalize()
	b, _ := json.Marshal(&control.MirrorRule{Service: "s", Percent: 100, Subset: map[string]string{"shadow": "true"}})
	return table.Build(1, []*registry.Instance{a, m}, []*registry.Resource{{Kind: control.KindMirrorRule, Name: "m", Spec: b}}, table.Options{}).Service("s")
}

// Copies carry the body and the shadow header; a full queue drops copies
// and counts them instead of blocking the primary.
func TestMirrorCopiesAndDrops(t *testing.T) {
	svc := mirrored(t)
	m := metrics.New()
	block := make(chan struct{})
	var got atomic.Value
	send := func(ex *chain.Exchange) (*http.Response, error) {
		<-block
		b, _ := io.ReadAll(ex.OutboundRequest(ex.Context(), ex.Endpoint.Address).Body)
		got.Store(ex.Request.Header.Get(control.HeaderShadow) + " " + ex.Endpoint.ID + " " + string(b))
		return &http.Response{StatusCode: 500, Body: http.NoBody}, nil
	}
	h := New(&Config{QueueSize: 1, Workers: 1, MaxBody: 16, Timeout: time.Second}, send, m, nil)
	defer h.Cleanup()
	release := sync.OnceFunc(func() { close(block) })
	defer release() // before Cleanup, which waits for the blocked worker
	primary := func(*chain.Exchange) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}
	serve := func(body string) {
		r, _ := http.NewRequest("POST", "http://s/", strings.NewReader(body))
		ex := chain.NewExchange(r, chain.Outbound, nil)
		ex.Service = svc
		resp, err := h.Serve(ex, primary)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("primary: %v", err)
		}
		if b, _ := io.ReadAll(ex.OutboundRequest(ex.Context(), "x").Body); !bytes.Equal(b, []byte(body)) {
			t.Fatalf("primary body after mirroring = %q", b)
		}
	}
	serve("one") // taken by the worker, which blocks
	poll.Until(t, "the worker to take the copy", func() bool { return len(h.queue) == 0 })
	up, _ := http.NewRequest("GET", "http://s/ws", nil)
	upgrade := chain.NewExchange(up, chain.Outbound, nil)
	upgrade.Service, upgrade.Upgrade = svc, "websocket"
	if _, err := h.Serve(upgrade, primary); err != nil || len(h.queue) != 0 {
		t.Fatalf("upgrade: %v, %d copies queued; want none", err, len(h.queue))
	}
	serve("two")   // queued
	serve("three") // queue full: dropped
	serve(strings.Repeat("x", 17))
	if n := testutil.ToFloat64(m.MirrorDropped.WithLabelValues("s", "queue_full")); n != 1 {
		t.Errorf("queue_full drops = %v, want 1", n)
	}
	if n := testutil.ToFloat64(m.MirrorDropped.WithLabelValues("s", "body_too_large")); n != 1 {
		t.Errorf("body_too_large drops = %v, want 1", n)
	}
	release()
	poll.Until(t, "two copies sent", func() bool { return testutil.ToFloat64(m.MirrorSent.WithLabelValues("s")) == 2 })
	if s, _ := got.Load().(string); !strings.HasPrefix(s, "true m ") {
		t.Errorf("copy = %q; want X-Mesh-Shadow true, sent to the mirror instance m", s)
	}
}
