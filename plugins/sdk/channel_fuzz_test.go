package sdk

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// FuzzChannelAnswers plays a plugin that answers a call with arbitrary
// bytes: whatever it sends, the call ends (an answer or an error) and the
// host does not panic.
func FuzzChannelAnswers(f *testing.F) {
	answer, err := appendMsg(nil, &pluginv1.CallResponse{Id: 1, Result: &pluginv1.CallResponse_Request{Request: &pluginv1.RequestResult{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(answer)
	f.Add(answer[:6])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Add(append(append([]byte{}, answer...), answer...))
	f.Fuzz(func(t *testing.T, answer []byte) {
		host, plugin := net.Pipe()
		// Each run waits for its goroutines: none outlives its input.
		var wg sync.WaitGroup
		defer wg.Wait()
		defer plugin.Close()
		wg.Go(func() { _, _ = io.Copy(io.Discard, plugin) }) // what the host sends
		wg.Go(func() {
			_, _ = plugin.Write(answer)
			_ = plugin.Close() // then the plugin is gone: the call must not wait for its deadline
		})
		const deadline = 10 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		cc := newChannelConn(host, 1<<20)
		defer cc.close()
		start := time.Now()
		_, _ = cc.call(ctx, 1, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Method: "GET"}}})
		if took := time.Since(start); took > deadline/2 {
			t.Fatalf("the call took %s: it waited for its deadline after the plugin was gone", took)
		}
	})
}

// FuzzChannelCalls plays a host that sends arbitrary bytes: whatever it
// sends, the plugin does not panic, and its channel ends when the bytes
// do.
func FuzzChannelCalls(f *testing.F) {
	call, err := appendMsg(nil, &pluginv1.CallRequest{Id: 1, Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Method: "GET"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(call)
	f.Add(call[:7])
	f.Add([]byte{0, 0, 0, 2, 0x18, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	srv := newServer(ServeConfig{Request: RequestHandlerFunc(func(context.Context, *Request) (*RequestResult, error) {
		return &RequestResult{}, nil
	})}, slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, calls []byte) {
		host, plugin := net.Pipe()
		ch := newChannel(srv, srv.log, plugin)
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = io.Copy(io.Discard, host) }) // the answers
		_, _ = host.Write(calls)
		_ = host.Close()
		select {
		case <-ch.done:
		case <-time.After(10 * time.Second):
			t.Fatal("the channel did not end when the host's bytes did")
		}
		wg.Wait()
	})
}
