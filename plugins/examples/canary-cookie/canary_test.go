package main

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func TestCanary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name   string
		c      *canary
		header http.Header
		want   sdk.HeaderChanges
	}{
		{"cookie becomes header", &canary{cookie: "canary", header: "X-Canary"},
			http.Header{"Cookie": {"session=1; canary=v2"}}, sdk.HeaderChanges{Set: http.Header{"X-Canary": {"v2"}}}},
		{"no cookie, no change", &canary{cookie: "canary", header: "X-Canary"},
			http.Header{"X-Canary": {"v9"}}, sdk.HeaderChanges{}},
		{"no cookie, strip", &canary{cookie: "canary", header: "X-Canary", strip: true},
			http.Header{"X-Canary": {"v9"}}, sdk.HeaderChanges{Remove: []string{"X-Canary"}}},
		{"value not allowed", &canary{cookie: "canary", header: "X-Canary", allowed: []string{"v2"}},
			http.Header{"Cookie": {"canary=v3"}}, sdk.HeaderChanges{}},
		{"value allowed", &canary{cookie: "canary", header: "X-Canary", allowed: []string{"v2"}},
			http.Header{"Cookie": {"canary=v2"}}, sdk.HeaderChanges{Set: http.Header{"X-Canary": {"v2"}}}},
		{"odd characters refused", &canary{cookie: "canary", header: "X-Canary"},
			http.Header{"Cookie": {`canary="a b"`}}, sdk.HeaderChanges{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sdk.TestClient(t, sdk.ServeConfig{Request: tt.c})
			res, err := c.HandleRequest(ctx, &sdk.Request{Header: tt.header})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Header, tt.want) {
				t.Fatalf("changes = %+v, want %+v", res.Header, tt.want)
			}
		})
	}
}
