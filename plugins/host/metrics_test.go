package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := startHostWith(t, host.Options{Logger: slog.New(slog.DiscardHandler), Metrics: reg}, pluginConfig(t, "m", "testplugin"))
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
	for _, name := range []string{"meshbridge_plugin_calls_total", "meshbridge_plugin_call_seconds", "meshbridge_plugin_restarts_total", "meshbridge_plugin_up", "meshbridge_plugin_channel"} {
		if !found[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
	if got := metricValue(t, reg, "meshbridge_plugin_calls_total", map[string]string{"plugin": "m", "call": "request", "result": "ok"}); got != 3 {
		t.Errorf("ok request calls = %v, want 3", got)
	}
	for _, name := range []string{"meshbridge_plugin_up", "meshbridge_plugin_channel"} {
		if got := metricValue(t, reg, name, map[string]string{"plugin": "m"}); got != 1 {
			t.Errorf("%s = %v, want 1", name, got)
		}
	}
	h.Close()
	for _, name := range []string{"meshbridge_plugin_up", "meshbridge_plugin_channel"} {
		if got := metricValue(t, reg, name, map[string]string{"plugin": "m"}); got != 0 {
			t.Errorf("%s after Close = %v, want 0", name, got)
		}
	}
}

// TestBrokenChannelIsReported: when the plugin's calls' channel breaks (an
// answer over the host's limit), the host logs it with the plugin's name,
// the channel gauge drops to 0, and the next calls go through gRPC.
func TestBrokenChannelIsReported(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	h := startHostWith(t, host.Options{Logger: logger, Metrics: reg}, pluginConfig(t, "b", "testplugin", "-huge-answer-path", "/huge"))
	p := mustPlugin(t, h, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	channel := func() float64 {
		return metricValue(t, reg, "meshbridge_plugin_channel", map[string]string{"plugin": "b"})
	}
	if got := channel(); got != 1 {
		t.Fatalf("channel gauge at start = %v, want 1", got)
	}
	pid := p.Stats().PID
	if _, err := p.HandleRequest(ctx, &sdk.Request{Path: "/huge", Header: http.Header{}}); err == nil {
		t.Fatal("a 9 MiB answer got through")
	}
	if got := channel(); got != 0 {
		t.Errorf("channel gauge after the break = %v, want 0", got)
	}
	logged := false
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["plugin"] == "b" && strings.Contains(fmt.Sprint(rec["msg"]), "its calls' channel broke") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no warning of the break with the plugin's name in the host's log:\n%s", buf.String())
	}
	res, err := p.HandleRequest(ctx, &sdk.Request{Path: "/after", Header: http.Header{}})
	if err != nil || res.Header.Set.Get("X-Plugin-Pid") != strconv.Itoa(pid) {
		t.Fatalf("the call after the break: %+v, %v; want it answered by the same process (%d), over gRPC", res, err, pid)
	}
	if s := p.Stats(); s.Restarts != 0 || s.PID != pid {
		t.Fatalf("the plugin was restarted (%+v): the break should only move the calls to gRPC", s)
	}
}

// TestCallsOnGRPCWhenTheHostSaysSo: with MESHBRIDGE_PLUGIN_CALLS=grpc in
// the host's environment, a plugin's calls go on the gRPC stream from the
// start (the channel gauge says 0) and are answered there.
func TestCallsOnGRPCWhenTheHostSaysSo(t *testing.T) {
	t.Setenv("MESHBRIDGE_PLUGIN_CALLS", "grpc")
	reg := prometheus.NewRegistry()
	h := startHostWith(t, host.Options{Logger: slog.New(slog.DiscardHandler), Metrics: reg}, pluginConfig(t, "g", "testplugin"))
	p := mustPlugin(t, h, "g")
	if got := metricValue(t, reg, "meshbridge_plugin_channel", map[string]string{"plugin": "g"}); got != 0 {
		t.Fatalf("channel gauge = %v, want 0: the calls went on the channel", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if _, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}}); err != nil {
			t.Fatalf("a call on the gRPC stream: %v", err)
		}
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
