package sdk_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// TestMain lets a test run this binary as a plugin started by hand.
func TestMain(m *testing.M) {
	if os.Getenv("SDK_TEST_SERVE") == "1" {
		sdk.Serve(sdk.ServeConfig{Request: sdk.RequestHandlerFunc(func(context.Context, *sdk.Request) (*sdk.RequestResult, error) {
			return sdk.Continue(), nil
		})})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestServeRunByHandExplainsItself(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SDK_TEST_SERVE=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v; output:\n%s", err, out)
	}
	for _, want := range []string{"is a meshbridge plugin", "not meant to be run directly", "docs/plugins.md"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestServeConfigValidate(t *testing.T) {
	h := sdk.RequestHandlerFunc(func(context.Context, *sdk.Request) (*sdk.RequestResult, error) { return nil, nil })
	tests := []struct {
		name    string
		cfg     sdk.ServeConfig
		wantErr string
	}{
		{"empty", sdk.ServeConfig{}, "nothing to serve"},
		{"negative limit", sdk.ServeConfig{Request: h, RequestBodyLimit: -1}, "RequestBodyLimit: must be"},
		{"huge limit", sdk.ServeConfig{Request: h, RequestBodyLimit: sdk.MaxRequestBodyLimit + 1}, "RequestBodyLimit: must be"},
		{"limit without handler", sdk.ServeConfig{Instances: sdk.InstanceTransformerFunc(nil), RequestBodyLimit: 10}, "needs a Request handler"},
		{"ok", sdk.ServeConfig{Request: h, RequestBodyLimit: 1024}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestHeaderChangesApply(t *testing.T) {
	tests := []struct {
		name    string
		in      http.Header
		changes sdk.HeaderChanges
		want    http.Header
	}{
		{"empty", http.Header{"A": {"1"}}, sdk.HeaderChanges{}, http.Header{"A": {"1"}}},
		{"remove then set", http.Header{"A": {"1"}, "B": {"2"}},
			sdk.HeaderChanges{Remove: []string{"a"}, Set: http.Header{"B": {"3", "4"}}},
			http.Header{"B": {"3", "4"}}},
		{"set then add", http.Header{},
			sdk.HeaderChanges{Set: http.Header{"X-A": {"1"}}, Add: http.Header{"X-A": {"2"}}},
			http.Header{"X-A": {"1", "2"}}},
		{"non-canonical keys", http.Header{},
			sdk.HeaderChanges{Set: http.Header{"x-lower": {"v"}}},
			http.Header{"X-Lower": {"v"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.in.Clone()
			tt.changes.Apply(h)
			if !reflect.DeepEqual(h, tt.want) {
				t.Fatalf("got %v, want %v", h, tt.want)
			}
		})
	}
}

func TestRequestCookie(t *testing.T) {
	r := &sdk.Request{Header: http.Header{"Cookie": {"a=1; canary=v2", "b=2"}}}
	if c, err := r.Cookie("canary"); err != nil || c.Value != "v2" {
		t.Fatalf("canary cookie: %v, %v", c, err)
	}
	if c, err := r.Cookie("b"); err != nil || c.Value != "2" {
		t.Fatalf("b cookie: %v, %v", c, err)
	}
	if _, err := r.Cookie("missing"); !errors.Is(err, http.ErrNoCookie) {
		t.Fatalf("missing cookie: want ErrNoCookie, got %v", err)
	}
}

func TestRoundTripOverGRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen *sdk.Request
	c := sdk.TestClient(t, sdk.ServeConfig{
		Request: sdk.RequestHandlerFunc(func(_ context.Context, r *sdk.Request) (*sdk.RequestResult, error) {
			seen = r
			if r.Path == "/deny" {
				return sdk.Reply(http.StatusForbidden, http.Header{"X-Why": {"path"}}, []byte("no")), nil
			}
			return &sdk.RequestResult{
				Header: sdk.HeaderChanges{Set: http.Header{"X-Seen": {r.Method}}, Remove: []string{"X-Drop"}},
				State:  "s1",
			}, nil
		}),
		Response: sdk.ResponseHandlerFunc(func(_ context.Context, r *sdk.ResponseInfo) (*sdk.ResponseResult, error) {
			return &sdk.ResponseResult{Header: sdk.HeaderChanges{Add: http.Header{
				"X-Status": {http.StatusText(r.Status)}, "X-State": {r.State}, "X-Path": {r.Request.Path},
			}}}, nil
		}),
		RequestBodyLimit: 4,
	})

	req := &sdk.Request{
		Method: "POST", Scheme: "http", Host: "orders", Path: "/a", RawQuery: "x=1", Proto: "HTTP/1.1",
		RemoteAddr: "127.0.0.1:5", Header: http.Header{"X-Drop": {"1"}, "Accept": {"a", "b"}},
		Body: []byte("abcd"), BodyTruncated: true, ContentLength: 10,
	}
	res, err := c.HandleRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, req) {
		t.Fatalf("plugin saw %+v, want %+v", seen, req)
	}
	if res.Response != nil || res.State != "s1" || res.Header.Set.Get("X-Seen") != "POST" || !reflect.DeepEqual(res.Header.Remove, []string{"X-Drop"}) {
		t.Fatalf("unexpected result %+v", res)
	}

	res, err = c.HandleRequest(ctx, &sdk.Request{Path: "/deny", Header: http.Header{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Response == nil || res.Response.Status != 403 || string(res.Response.Body) != "no" || res.Response.Header.Get("X-Why") != "path" {
		t.Fatalf("unexpected direct response %+v", res.Response)
	}

	rr, err := c.HandleResponse(ctx, &sdk.ResponseInfo{Request: &sdk.Request{Path: "/a"}, Status: 404, Header: http.Header{}, State: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{"X-Status": {"Not Found"}, "X-State": {"s1"}, "X-Path": {"/a"}}
	if !reflect.DeepEqual(rr.Header.Add, want) {
		t.Fatalf("response changes = %v, want %v", rr.Header.Add, want)
	}

	if _, err := c.TransformInstance(ctx, &sdk.Instance{ID: "a"}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("transform on an HTTP-only plugin: want Unimplemented, got %v", err)
	}
}

func TestInstanceTransformOverGRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sdk.TestClient(t, sdk.ServeConfig{Instances: sdk.InstanceTransformerFunc(func(_ context.Context, in *sdk.Instance) (*sdk.Instance, error) {
		switch in.ID {
		case "reject":
			return nil, sdk.Reject("missing key %q", "team")
		case "fail":
			return nil, errors.New("database down")
		case "panic":
			panic("boom")
		case "same":
			return nil, nil
		}
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		in.Metadata["tagged"] = "yes"
		in.Weight = 2
		return in, nil
	})})

	in := &sdk.Instance{ID: "a", Service: "orders", Namespace: "public", Group: "G", Host: "10.0.0.1", Port: 8080,
		Status: "UP", Health: "passing", Weight: 1, Ephemeral: true, Tags: []string{"t"}, Origin: "eureka",
		Metadata: map[string]string{"k": "v"}, Labels: map[string]string{"l": "1"}}
	out, err := c.TransformInstance(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := *in
	want.Metadata = map[string]string{"k": "v", "tagged": "yes"}
	want.Weight = 2
	if !reflect.DeepEqual(out, &want) {
		t.Fatalf("got %+v, want %+v", out, &want)
	}

	same := &sdk.Instance{ID: "same", Service: "s"}
	if out, err := c.TransformInstance(ctx, same); err != nil || !reflect.DeepEqual(out, same) {
		t.Fatalf("nil result should keep the instance: %+v, %v", out, err)
	}
	_, err = c.TransformInstance(ctx, &sdk.Instance{ID: "reject"})
	if r, ok := sdk.IsReject(err); !ok || r.Reason != `missing key "team"` {
		t.Fatalf("want rejection, got %v", err)
	}
	if _, err := c.TransformInstance(ctx, &sdk.Instance{ID: "fail"}); status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "database down") {
		t.Fatalf("want internal error naming the cause, got %v", err)
	}
	if _, err := c.TransformInstance(ctx, &sdk.Instance{ID: "panic"}); status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("want internal error for a panic, got %v", err)
	}
	// The plugin survives a panic.
	if _, err := c.TransformInstance(ctx, &sdk.Instance{ID: "b"}); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
	if _, err := c.HandleRequest(ctx, &sdk.Request{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("request on a transformer: want Unimplemented, got %v", err)
	}
}
