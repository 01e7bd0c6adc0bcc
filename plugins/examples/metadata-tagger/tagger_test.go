package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func TestTagger(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sdk.TestClient(t, sdk.ServeConfig{Instances: &tagger{
		set:      map[string]string{"env": "prod"},
		defaults: map[string]string{"team": "unknown"},
		required: []string{"version"},
	}})
	tests := []struct {
		name       string
		meta       map[string]string
		want       map[string]string
		wantReject string
	}{
		{"adds and defaults", map[string]string{"version": "v1"}, map[string]string{"version": "v1", "env": "prod", "team": "unknown"}, ""},
		{"set replaces, default keeps", map[string]string{"version": "v1", "env": "dev", "team": "pay"}, map[string]string{"version": "v1", "env": "prod", "team": "pay"}, ""},
		{"missing required", map[string]string{"env": "dev"}, nil, `no metadata "version"`},
		{"empty required", map[string]string{"version": ""}, nil, `no metadata "version"`},
		{"no metadata at all", nil, nil, `no metadata "version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.TransformInstance(ctx, &sdk.Instance{ID: "o-1", Service: "orders", Metadata: tt.meta})
			if tt.wantReject != "" {
				r, ok := sdk.IsReject(err)
				if !ok || !strings.Contains(r.Reason, tt.wantReject) {
					t.Fatalf("want rejection containing %q, got %v", tt.wantReject, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out.Metadata, tt.want) {
				t.Fatalf("metadata = %v, want %v", out.Metadata, tt.want)
			}
		})
	}
}
