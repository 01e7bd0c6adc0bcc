package timeout

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func TestTimeoutFor(t *testing.T) {
	d := func(v time.Duration) *control.Duration { c := control.Duration(v); return &c }
	pol := &control.ServicePolicy{Service: "s", Timeout: d(3 * time.Second), Routes: []control.RoutePolicy{
		{PathPrefix: "/slow", Timeout: d(30 * time.Second)}, {PathPrefix: "/slow/er", Timeout: d(60 * time.Second)}}}
	b, _ := json.Marshal(pol)
	withPolicy := table.Build(1, nil, []*registry.Resource{{Kind: control.KindServicePolicy, Name: "p", Spec: b}}, table.Options{}).Service("s")
	h := New(&Config{Default: 15 * time.Second})
	tests := []struct {
		name string
		svc  *table.Service
		path string
		grpc bool
		want time.Duration
	}{
		{"default", nil, "/", false, 15 * time.Second},
		{"grpc gets no default", nil, "/", true, 0},
		{"policy", withPolicy, "/fast", false, 3 * time.Second},
		{"route", withPolicy, "/slow/x", false, 30 * time.Second},
		{"longest route prefix", withPolicy, "/slow/er/x", false, 60 * time.Second},
		{"grpc with a policy", withPolicy, "/", true, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "http://s"+tt.path, nil)
			if tt.grpc {
				r.Header.Set("Content-Type", "application/grpc")
			}
			ex := chain.NewExchange(r, chain.Outbound, nil)
			ex.Service = tt.svc
			if got := h.For(ex); got != tt.want {
				t.Errorf("For = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTimeoutAnswers504(t *testing.T) {
	h := New(&Config{Default: 20 * time.Millisecond})
	r, _ := http.NewRequest("GET", "http://s/", nil)
	ex := chain.NewExchange(r, chain.Outbound, nil)
	_, err := h.Serve(ex, func(ex *chain.Exchange) (*http.Response, error) {
		<-ex.Context().Done() // an upstream that never answers
		return nil, ex.Context().Err()
	})
	if !chain.IsReason(err, chain.ReasonTimeout) || chain.AsError(err).Status != http.StatusGatewayTimeout {
		t.Fatalf("err = %v, want a 504 timeout", err)
	}
}
