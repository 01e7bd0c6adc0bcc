package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
)

// run runs demoapp as main does, with the test's context and buffers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Run(ctx, command, args, stdout, stderr)
}

func TestRunRejectsBadFlagsNamingThem(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "--service"},
		{[]string{"--service", "a", "--registry", "zookeeper"}, "--registry"},
		{[]string{"--service", "a", "--registry", "nacos"}, "--registry-url"},
		{[]string{"--service", "a", "--error-rate", "2"}, "--error-rate"},
		{[]string{"--service", "a", "--advertise", "nohost"}, "--advertise"},
		{[]string{"--service", "a", "--metadata", "novalue"}, "--metadata"},
		{[]string{"--service", "a", "--egress", "socks5://x"}, "--egress"},
		{[]string{"--service", "a", "--discovery-refresh", "1s"}, "--discovery-refresh"},
		{[]string{"--service", "a", "--registry", "nacos", "--registry-url", "http://127.0.0.1:8848", "--discovery-refresh", "1s", "--egress", "http://127.0.0.1:15001"}, "--discovery-refresh"},
		{[]string{"--service", "a", "extra"}, "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), c.args, &out, &errOut); code != app.ExitUsage || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %s", code, errOut.String(), app.ExitUsage, c.want)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	addr := loopback.Addr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--service", "orders", "--listen", addr, "--log-level", "error"}, io.Discard, &errOut)
	}()
	srvURL := fmt.Sprintf("http://%s", addr)
	poll.UntilNil(t, "demoapp answering", poll.GetOK(srvURL+"/"), poll.Within(5*time.Second))
	cancel()
	select {
	case code := <-done:
		if code != app.ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demoapp did not stop")
	}
}
