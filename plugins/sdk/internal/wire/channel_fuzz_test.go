package wire

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// FuzzChannelAnswers plays a plugin that answers a call with arbitrary
// bytes (an odd first byte: the rest, as one sealed message, as a plugin
// with the key but a bug could send; otherwise the bytes as they are, as
// anything else could write): whatever it sends, the call ends (an answer
// or an error) and the host does not panic.
func FuzzChannelAnswers(f *testing.F) {
	answer, err := proto.Marshal(&pluginv1.CallResponse{Id: 1, Result: &pluginv1.CallResponse_Request{Request: &pluginv1.RequestResult{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append([]byte{1}, answer...))
	f.Add(append([]byte{1}, answer[:3]...))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 1})
	f.Add(append([]byte{0, 0, 0, 0, byte(len(answer))}, answer...))
	f.Add(append([]byte{1}, bytes.Repeat([]byte{0xee}, 40)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		answer := sealedOrRaw(t, in, answersWay)
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
		cc, err := newChannelConn(host, 1<<20, testKey)
		if err != nil {
			t.Fatal(err)
		}
		defer cc.close()
		start := time.Now()
		_, _ = cc.call(ctx, 1, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Method: "GET"}}})
		if took := time.Since(start); took > deadline/2 {
			t.Fatalf("the call took %s: it waited for its deadline after the plugin was gone", took)
		}
	})
}

// FuzzChannelCalls plays a host that sends arbitrary bytes (sealed or
// not, as in FuzzChannelAnswers): whatever it sends, the plugin does not
// panic, and its channel ends when the bytes do.
func FuzzChannelCalls(f *testing.F) {
	call, err := proto.Marshal(&pluginv1.CallRequest{Id: 1, Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Method: "GET"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append([]byte{1}, call...))
	f.Add(append([]byte{1}, call[:3]...))
	f.Add([]byte{1, 0x18, 1})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff})
	srv := testServer(func(context.Context, *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		return &pluginv1.RequestResult{}, nil
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		calls := sealedOrRaw(t, in, callsWay)
		host, plugin := net.Pipe()
		ch := newChannel(srv, plugin)
		ch.open(testKey)
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

// sealedOrRaw is in[1:] sealed as the first message going way, when in[0]
// is odd; otherwise in[1:] as it is.
func sealedOrRaw(t *testing.T, in []byte, way byte) []byte {
	if len(in) == 0 {
		return nil
	}
	if in[0]&1 == 0 {
		return in[1:]
	}
	return mustSeal(t, way).seal(append(make([]byte, sealedHeader), in[1:]...), 0)
}
