package main

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in          string
		name, value string
		ok          bool
	}{
		{"X-Team: payments", "X-Team", "payments", true},
		{"x-lower:v", "X-Lower", "v", true},
		{"X-Empty:", "X-Empty", "", true},
		{"no colon", "", "", false},
		{": value", "", "", false},
		{"Bad Name: v", "", "", false},
		{"X-A: v\r\nX-Injected: 1", "", "", false},
	}
	for _, tt := range tests {
		name, value, err := parseHeader(tt.in)
		if (err == nil) != tt.ok || name != tt.name || value != tt.value {
			t.Errorf("parseHeader(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.in, name, value, err, tt.name, tt.value, tt.ok)
		}
	}
}

func TestInjectorOverGRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inj := &injector{
		request:  sdk.HeaderChanges{Set: http.Header{"X-Team": {"payments"}}, Remove: []string{"X-Debug"}},
		response: sdk.HeaderChanges{Set: http.Header{"X-Served-By": {"mesh"}}},
	}
	c := sdk.TestClient(t, sdk.ServeConfig{Request: inj, Response: inj})
	res, err := c.HandleRequest(ctx, &sdk.Request{Header: http.Header{"X-Debug": {"1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Header, inj.request) || res.Response != nil {
		t.Fatalf("request changes = %+v, want %+v", res.Header, inj.request)
	}
	rr, err := c.HandleResponse(ctx, &sdk.ResponseInfo{Status: 200, Header: http.Header{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rr.Header, inj.response) {
		t.Fatalf("response changes = %+v, want %+v", rr.Header, inj.response)
	}
}
