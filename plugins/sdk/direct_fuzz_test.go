package sdk

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// FuzzDirectConnAnswers plays a plugin that answers a call with arbitrary
// bytes: whatever it sends, the call ends (an answer or an error) and the
// host does not panic.
func FuzzDirectConnAnswers(f *testing.F) {
	f.Add(validAnswer(f, 1))
	f.Add(validAnswer(f, 1)[:20])
	f.Add([]byte{0, 0, 4, 8, 0, 0, 0, 0, 1, 0, 0, 0, 1}) // a window update
	f.Add([]byte{0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
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
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d, err := dialDirect(ctx, func(context.Context) (net.Conn, error) { return host, nil }, 1<<20)
		if err != nil {
			return
		}
		defer d.close()
		_, _ = d.call(ctx, 1, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Method: "GET"}}})
	})
}

// validAnswer is what a plugin sends for call id: settings, response
// headers and one answer.
func validAnswer(f testing.TB, id uint64) []byte {
	var out bytes.Buffer
	fw := http2.NewFramer(&out, nil)
	_ = fw.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: window})
	var hdr []byte
	// ":status: 200" is index 8 of HPACK's static table.
	hdr = append(hdr, 0x88)
	_ = fw.WriteHeaders(http2.HeadersFrameParam{StreamID: callsStream, BlockFragment: hdr, EndHeaders: true})
	msg, err := proto.Marshal(&pluginv1.CallResponse{Id: id, Result: &pluginv1.CallResponse_Request{Request: &pluginv1.RequestResult{}}})
	if err != nil {
		panic(err)
	}
	data := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	_ = fw.WriteData(callsStream, false, data)
	return out.Bytes()
}
