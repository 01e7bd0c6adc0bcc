package pluginhost

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/plugins/sdk"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// describing is a plugin that declares what it is told to and serves no
// calls.
type describing struct {
	*wire.Server
	declares *pluginv1.DescribeResponse
}

func (d describing) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return d.declares, nil
}

// TestDescribe: Describe reads what the plugin declares, over the real
// protocol, and refuses a request body limit out of range.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name     string
		declares *pluginv1.DescribeResponse
		want     Info
		err      string
	}{
		{"HTTP, both phases, 4 body bytes",
			&pluginv1.DescribeResponse{SdkVersion: wire.SDKVersion, HttpRequest: true, HttpResponse: true, RequestBodyLimit: 4},
			Info{SDKVersion: wire.SDKVersion, Request: true, Response: true, RequestBodyLimit: 4}, ""},
		{"transformer", &pluginv1.DescribeResponse{SdkVersion: "0.0.9", InstanceTransformer: true},
			Info{SDKVersion: "0.0.9", Instances: true}, ""},
		{"body limit over the most", &pluginv1.DescribeResponse{HttpRequest: true, RequestBodyLimit: sdk.MaxRequestBodyLimit + 1},
			Info{}, "request body limit of 1048577 bytes; the most is 1048576"},
		{"negative body limit", &pluginv1.DescribeResponse{HttpRequest: true, RequestBodyLimit: -1},
			Info{}, "request body limit of -1 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wire.NewServer(nil, false, slog.New(slog.DiscardHandler))
			c := newClient(wire.Loopback(t, describing{Server: srv, declares: tc.declares}, srv, false))
			got, err := c.Describe(t.Context())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
