package host_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := startHostWith(t, host.Options{Logger: quietLogger(), Metrics: reg}, pluginConfig(t, "m", "testplugin"))
	p := mustPlugin(t, h, "m")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if _, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}}); err != nil {
			t.Fatal(err)
		}
	}
	calls, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range calls {
		found[mf.GetName()] = true
	}
	for _, name := range []string{"meshbridge_plugin_calls_total", "meshbridge_plugin_call_seconds", "meshbridge_plugin_restarts_total", "meshbridge_plugin_up"} {
		if !found[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
	if got := metricValue(t, reg, "meshbridge_plugin_calls_total", map[string]string{"plugin": "m", "call": "request", "result": "ok"}); got != 3 {
		t.Errorf("ok request calls = %v, want 3", got)
	}
	if got := metricValue(t, reg, "meshbridge_plugin_up", map[string]string{"plugin": "m"}); got != 1 {
		t.Errorf("up = %v, want 1", got)
	}
	h.Close()
	if got := metricValue(t, reg, "meshbridge_plugin_up", map[string]string{"plugin": "m"}); got != 0 {
		t.Errorf("up after Close = %v, want 0", got)
	}
}

// metricValue reads one counter or gauge series from the registry.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
