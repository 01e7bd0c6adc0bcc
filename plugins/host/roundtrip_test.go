package host_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/plugins/host"
)

// upstreamNext stands for the rest of a client-side chain: it records the
// request it got and answers with status.
func upstreamNext(status int, got **http.Request) host.Next {
	return func(r *http.Request) (*http.Response, error) {
		*got = r
		return &http.Response{StatusCode: status, Header: http.Header{"X-Upstream": {"yes"}}, Body: io.NopCloser(strings.NewReader("upstream body"))}, nil
	}
}

func newRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://orders"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDo(t *testing.T) {
	slow := pluginConfig(t, "slow", "testplugin", "-delay", "3s")
	slow.Timeout = control.Duration(50 * time.Millisecond)
	h := startHost(t,
		pluginConfig(t, "both", "testplugin", "-deny-path", "/admin", "-response"),
		withPolicy(pluginConfig(t, "resp-closed", "testplugin", "-response-fail"), host.FailClosed),
		withPolicy(pluginConfig(t, "resp-open", "testplugin", "-response-fail"), host.FailOpen),
		slow,
	)

	t.Run("header changes and response phase", func(t *testing.T) {
		var got *http.Request
		resp, err := host.Do(mustPlugin(t, h, "both"), newRequest(t, "/orders"), upstreamNext(201, &got))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got == nil || got.Header.Get("X-Plugin-Pid") == "" {
			t.Fatalf("next did not get the plugin's header: %v", got)
		}
		if resp.StatusCode != 201 || resp.Header.Get("X-Response-Phase") != "status=201 state=/orders" || resp.Header.Get("X-Upstream") != "yes" {
			t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("direct response", func(t *testing.T) {
		var got *http.Request
		resp, err := host.Do(mustPlugin(t, h, "both"), newRequest(t, "/admin"), upstreamNext(200, &got))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got != nil || resp.StatusCode != http.StatusTeapot || string(body) != "denied\n" || resp.Header.Get("X-Denied-By") != "testplugin" || resp.ContentLength != 7 {
			t.Fatalf("next called: %v; response %d %v %q", got != nil, resp.StatusCode, resp.Header, body)
		}
	})
	t.Run("fail-closed request phase", func(t *testing.T) {
		var got *http.Request
		_, err := host.Do(mustPlugin(t, h, "slow"), newRequest(t, "/"), upstreamNext(200, &got))
		var ce *host.CallError
		if !errors.As(err, &ce) || !errors.Is(err, host.ErrTimeout) || got != nil {
			t.Fatalf("want a timeout CallError and next not called; got %v, next called %v", err, got != nil)
		}
	})
	t.Run("fail-closed response phase", func(t *testing.T) {
		var got *http.Request
		resp, err := host.Do(mustPlugin(t, h, "resp-closed"), newRequest(t, "/"), upstreamNext(200, &got))
		if !errors.Is(err, host.ErrFailed) || resp != nil || got == nil {
			t.Fatalf("want ErrFailed after next ran; got %v, %v", resp, err)
		}
	})
	t.Run("fail-open response phase", func(t *testing.T) {
		var got *http.Request
		resp, err := host.Do(mustPlugin(t, h, "resp-open"), newRequest(t, "/"), upstreamNext(200, &got))
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Response-Phase") != "" {
			t.Fatalf("want the upstream response untouched; got %v, %v", resp, err)
		}
		resp.Body.Close()
	})
}
