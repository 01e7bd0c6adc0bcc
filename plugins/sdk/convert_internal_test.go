package sdk

import (
	"net/http"
	"reflect"
	"testing"
)

func TestHeadersFromWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		want http.Header
	}{
		{"empty", nil, http.Header{}},
		{"one", []string{"X-A", "1"}, http.Header{"X-A": {"1"}}},
		{"canonicalised", []string{"x-a", "1", "X-A", "2"}, http.Header{"X-A": {"1", "2"}}},
		{"repeated apart", []string{"A", "1", "B", "2", "A", "3", "B", "4"}, http.Header{"A": {"1", "3"}, "B": {"2", "4"}}},
		{"odd last dropped", []string{"A", "1", "B"}, http.Header{"A": {"1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := headersFromWire(tc.kv); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("headersFromWire(%q) = %v, want %v", tc.kv, got, tc.want)
			}
		})
	}
	// The values share one array: adding to one name must not change another.
	h := headersFromWire([]string{"A", "1", "B", "2"})
	h.Add("A", "x")
	if got := h.Get("B"); got != "2" {
		t.Fatalf("after adding to A, B = %q, want 2", got)
	}
}
