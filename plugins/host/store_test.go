package host_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
)

func TestTransformPolicies(t *testing.T) {
	h := startHost(t,
		pluginConfig(t, "tag", "testplugin", "-transform", "tag"),
		withPolicy(pluginConfig(t, "fail-open", "testplugin", "-transform", "fail"), host.FailOpen),
		withPolicy(pluginConfig(t, "fail-closed", "testplugin", "-transform", "fail"), host.FailClosed),
		withPolicy(pluginConfig(t, "change-id", "testplugin", "-transform", "change-id"), host.FailClosed),
		withPolicy(pluginConfig(t, "invalid", "testplugin", "-transform", "invalid"), host.FailClosed),
	)
	tests := []struct {
		name    string
		chain   []string
		tagged  bool
		wantErr error
		errText string
	}{
		{"one transformer", []string{"tag"}, true, nil, ""},
		{"fail-open is skipped", []string{"fail-open", "tag"}, true, nil, ""},
		{"fail-closed refuses", []string{"tag", "fail-closed"}, false, host.ErrFailed, "broken on purpose"},
		{"identity change refused", []string{"change-id"}, false, host.ErrFailed, "read-only fields [id]"},
		{"invalid result is the plugin's fault", []string{"invalid"}, false, host.ErrFailed, "invalid instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var chain []*host.Plugin
			for _, n := range tt.chain {
				chain = append(chain, mustPlugin(t, h, n))
			}
			store, err := host.TransformingStore(openStore(t), chain...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := store.Register(ctx, &registry.Instance{ID: "i-1", Service: "svc", Host: "10.0.0.1", Port: 80})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("want %v (not ErrInvalid) mentioning %q, got %v", tt.wantErr, tt.errText, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Metadata["seen-by"] == "testplugin") != tt.tagged || got.ID != "i-1" {
				t.Fatalf("registered %+v", got)
			}
		})
	}
}

func TestTransformingStoreNoPlugins(t *testing.T) {
	base := openStore(t)
	got, err := host.TransformingStore(base)
	if err != nil || got != base {
		t.Fatalf("no transformers should hand the store back: %v, %v", got, err)
	}
}

func TestTransformNoPlugins(t *testing.T) {
	in := &registry.Instance{ID: "a", Service: "s", Host: "h"}
	out, err := host.Transform(context.Background(), in)
	if err != nil || out != in {
		t.Fatalf("no transformers should hand the instance back: %v, %v", out, err)
	}
}
