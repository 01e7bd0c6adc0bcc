package wire

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// bodyEcho answers every request directly with a body of the size the
// request's X-Size asks for, and reports the hash of the body it saw.
func bodyEcho() *Server {
	return testServer(func(_ context.Context, r *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		n, _ := strconv.Atoi(headerValue(r.GetHeaders(), "X-Size"))
		sum := sha256.Sum256(r.GetBody())
		return &pluginv1.RequestResult{Response: &pluginv1.DirectResponse{
			Status:  http.StatusOK,
			Headers: []string{"X-Body-Sha256", hex.EncodeToString(sum[:])},
			Body:    bytes.Repeat([]byte{'a'}, n),
		}}, nil
	})
}

// maxBody is the largest request body a plugin may ask to see
// (sdk.MaxRequestBodyLimit).
const maxBody = 1 << 20

// TestChannelCarriesBigMessages sends and receives messages far larger
// than a pipe's buffer, from several callers at once, so that messages
// arrive in many reads and writers wait for readers.
func TestChannelCarriesBigMessages(t *testing.T) {
	c := loopback(t, bodyEcho(), true)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			body := bytes.Repeat([]byte{byte('0' + i)}, maxBody-i)
			want := sha256.Sum256(body)
			size := (i + 1) * 300 << 10 // up to 2.4 MB back
			resp, err := c.Call(ctx, httpCall("/", body, "X-Size", strconv.Itoa(size)))
			res := resp.GetRequest().GetResponse()
			switch {
			case err != nil:
				errs <- fmt.Errorf("call %d: %v", i, err)
			case headerValue(res.GetHeaders(), "X-Body-Sha256") != hex.EncodeToString(want[:]):
				errs <- fmt.Errorf("call %d: the plugin saw another body", i)
			case len(res.GetBody()) != size:
				errs <- fmt.Errorf("call %d: got %d body bytes back, want %d", i, len(res.GetBody()), size)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if cc := c.channel.Load(); cc == nil || cc.broken() {
		t.Fatal("the calls did not stay on the channel")
	}
}

// TestChannelRefusesAnOversizedAnswer: an answer over the limit fails its
// call; the channel is then broken (the host is told why, once), and the
// next calls go through the gRPC stream.
func TestChannelRefusesAnOversizedAnswer(t *testing.T) {
	c := loopback(t, bodyEcho(), true)
	c.channel.Load().in.max = 64 << 10
	breaks := make(chan error, 2)
	c.channel.Load().onBreak = func(err error) { breaks <- err } // as UseChannel's broken
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Call(ctx, httpCall("/", nil, "X-Size", strconv.Itoa(100<<10)))
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "the limit is 65536") {
		t.Fatalf("want Unavailable for an answer over the limit, got %v", err)
	}
	if len(breaks) != 1 || !strings.Contains((<-breaks).Error(), "the limit is 65536") {
		t.Fatal("the break was not reported once, with its reason")
	}
	res, err := c.Call(ctx, httpCall("/", nil, "X-Size", "10"))
	if err != nil || len(res.GetRequest().GetResponse().GetBody()) != 10 {
		t.Fatalf("after the refused answer: %+v, %v", res, err)
	}
	if c.stream == nil {
		t.Fatal("the call after the broken channel did not go through the gRPC stream")
	}
}

// TestChannelEndMovesCallsToGRPC: when the plugin's end of the channel
// closes, the call waiting on it fails at once (not at its deadline), the
// next calls go through the gRPC stream, and the plugin no longer offers
// the channel.
func TestChannelEndMovesCallsToGRPC(t *testing.T) {
	started := make(chan struct{})
	srv := testServer(func(ctx context.Context, r *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		if r.GetPath() == "/hold" {
			close(started)
			<-ctx.Done()
		}
		return &pluginv1.RequestResult{}, nil
	})
	c := loopback(t, srv, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Call(ctx, httpCall("/first", nil)); err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, httpCall("/hold", nil))
		failed <- err
	}()
	waitStarted(t, started, failed)
	srv.channel.close() // as a plugin whose channel ended
	select {
	case err := <-failed:
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("the call in flight: want Unavailable, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight waited on a channel the plugin had closed")
	}
	if _, err := c.Call(ctx, httpCall("/after", nil)); err != nil {
		t.Fatalf("after the channel ended: %v", err)
	}
	if c.stream == nil {
		t.Fatal("the call did not go through the gRPC stream")
	}
	_, err := c.rpc.OpenChannel(ctx, &pluginv1.ChannelRequest{Version: channelVersion})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("OpenChannel after the end: want Unimplemented, got %v", err)
	}
}

// TestMsgReaderKeepsAMessageCutByADeadline: a read deadline in the middle
// of a message loses nothing; the next read completes it.
func TestMsgReaderKeepsAMessageCutByADeadline(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	mr := newMsgReader(a, 0)
	msg := []byte{0, 0, 0, 3, 'x', 'y', 'z'}
	go func() { _, _ = b.Write(msg[:5]) }()
	_ = a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := mr.next(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	go func() { _, _ = b.Write(msg[5:]) }()
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := mr.next()
	if err != nil || string(got) != "xyz" {
		t.Fatalf("got %q, %v; want \"xyz\"", got, err)
	}
}

// TestChannelCallCanceledWhileReading: a call whose context has no deadline
// and is canceled gives up even while it is the one reading the answers,
// and the channel goes on serving.
func TestChannelCallCanceledWhileReading(t *testing.T) {
	release := make(chan struct{})
	c := loopback(t, testServer(func(ctx context.Context, r *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		if r.GetPath() == "/slow" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return &pluginv1.RequestResult{}, nil
	}), true)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Call(ctx, httpCall("/slow", nil)); status.Code(err) != codes.Canceled {
		t.Fatalf("want Canceled, got %v", err)
	}
	close(release)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if _, err := c.Call(ctx, httpCall("/fast", nil)); err != nil {
			t.Fatalf("after the canceled call: %v", err)
		}
	}
	if c.channel.Load().broken() || c.stream != nil {
		t.Fatal("the canceled call broke the channel: the calls after it went through gRPC")
	}
}

// TestChannelSendWaitsNoLongerThanItsDeadline: a call queued behind a
// write the plugin does not read gives up at its own deadline, not at the
// blocked writer's.
func TestChannelSendWaitsNoLongerThanItsDeadline(t *testing.T) {
	host, plugin := net.Pipe() // the plugin end never reads
	defer plugin.Close()
	cc := testChannelConn(t, host)
	defer cc.close()
	big := &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Body: make([]byte, 1<<20)}}}
	blocked := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := cc.call(ctx, 1, big)
		blocked <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the big call take the pipe
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cc.call(ctx, 2, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{}}})
	if status.Code(err) != codes.DeadlineExceeded || time.Since(start) > 2*time.Second {
		t.Fatalf("queued call: %v after %s; want DeadlineExceeded at its own deadline", err, time.Since(start))
	}
	cc.close()
	<-blocked
}

// TestChannelHandlersEndWhenTheHostCloses: when the host closes its end
// of the channel, the handlers of its calls see their context end.
func TestChannelHandlersEndWhenTheHostCloses(t *testing.T) {
	started, ended := make(chan struct{}), make(chan error, 1)
	srv := testServer(func(ctx context.Context, _ *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	})
	pipes, err := NewPipes()
	if err != nil {
		t.Fatal(err)
	}
	ch := newChannel(srv, pipes.takePlugin())
	defer ch.close()
	ch.open(testKey)
	cc := testChannelConn(t, pipes.takeHost())
	callErr := make(chan error, 1)
	go func() {
		_, err := cc.call(context.Background(), 1, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{}}})
		callErr <- err
	}()
	waitStarted(t, started, callErr)
	cc.close()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the handler's context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context did not end when the host closed the channel")
	}
}

// TestChannelOfferNeedsTheSameVersion: a host speaking another channel
// version gets UNIMPLEMENTED, and uses the gRPC stream.
func TestChannelOfferNeedsTheSameVersion(t *testing.T) {
	c := loopback(t, bodyEcho(), false)
	_, err := c.rpc.OpenChannel(t.Context(), &pluginv1.ChannelRequest{Version: channelVersion + 1})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("OpenChannel for version %d: want Unimplemented, got %v", channelVersion+1, err)
	}
}

// TestMsgReaderGrowsWithTheBytes: a length alone allocates nothing; a
// length over the limit fails; a big message's buffer is given back.
func TestMsgReaderGrowsWithTheBytes(t *testing.T) {
	r, w := net.Pipe()
	defer r.Close()
	mr := newMsgReader(r, 0)
	go func() { _, _ = w.Write([]byte{0x3f, 0xff, 0xff, 0xff, 1, 2, 3}); _ = w.Close() }() // a 1 GiB message, then nothing
	if _, err := mr.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if len(mr.buf) > smallBuf {
		t.Fatalf("a 1 GiB length with 3 bytes behind it grew the buffer to %d bytes", len(mr.buf))
	}

	r2, w2 := net.Pipe()
	defer r2.Close()
	limited := newMsgReader(r2, 1<<20)
	go func() { _, _ = w2.Write([]byte{0x80, 0, 0, 0}); _ = w2.Close() }() // negative as an int32
	var tooBig *tooBigError
	if _, err := limited.next(); !errors.As(err, &tooBig) {
		t.Fatalf("want a too-big error, got %v", err)
	}

	r3, w3 := net.Pipe()
	defer r3.Close()
	mr3 := newMsgReader(r3, 0)
	go func() {
		big, _ := appendMsg(nil, &pluginv1.CallRequest{Id: 1, Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Body: make([]byte, 1<<20)}}})
		small, _ := appendMsg(nil, &pluginv1.CallRequest{Id: 2})
		_, _ = w3.Write(append(big, small...))
		_, _ = w3.Write(small)
		_ = w3.Close()
	}()
	for i := range 3 {
		if _, err := mr3.next(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(mr3.buf) > smallBuf {
		t.Fatalf("the buffer stayed at %d bytes after the big message", len(mr3.buf))
	}
}

// testKey seals the messages of channels tests make by hand.
var testKey = bytes.Repeat([]byte{7}, channelKeySize)

// testChannelConn is the host's end of a channel on conn, sealed with
// testKey.
func testChannelConn(t testing.TB, conn duplex) *channelConn {
	t.Helper()
	cc, err := newChannelConn(conn, 0, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// TestChannelOpensOnlySealedMessages: the host refuses an answer that is
// not sealed with the channel's key, and one played back (sealed, but
// under an earlier number); the plugin refuses such a call and runs no
// handler for it. Either side ends the channel.
func TestChannelOpensOnlySealedMessages(t *testing.T) {
	answer := &pluginv1.CallResponse{Id: 1, Result: &pluginv1.CallResponse_Request{Request: &pluginv1.RequestResult{
		Response: &pluginv1.DirectResponse{Body: bytes.Repeat([]byte{'a'}, 64)}, // longer than a sealed header
	}}}
	plain, err := appendMsg(nil, answer)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := mustSeal(t, answersWay).appendSealed(nil, answer)
	if err != nil {
		t.Fatal(err)
	}
	call := &pluginv1.CallRequest{Id: 1, Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{}}}
	reflected, err := mustSeal(t, callsWay).appendSealed(nil, call) // the host's own call, sent back
	if err != nil {
		t.Fatal(err)
	}
	for name, answers := range map[string][]byte{
		"unsealed":    plain,
		"played back": append(bytes.Clone(sealed), sealed...), // the second under number 1 again
		"reflected":   reflected,
	} {
		t.Run(name, func(t *testing.T) {
			host, plugin := net.Pipe()
			defer plugin.Close()
			go func() { _, _ = io.Copy(io.Discard, plugin) }() // the calls
			go func() { _, _ = plugin.Write(answers) }()
			cc := testChannelConn(t, host)
			defer cc.close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if name == "played back" {
				if _, err := cc.call(ctx, 1, call); err != nil {
					t.Fatalf("the genuine answer: %v", err)
				}
			}
			_, err := cc.call(ctx, 1, call)
			if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "did not open with the channel's key") {
				t.Fatalf("want Unavailable for a message that does not open, got %v", err)
			}
		})
	}

	var ran atomic.Int32
	srv := testServer(func(context.Context, *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		ran.Add(1)
		return &pluginv1.RequestResult{}, nil
	})
	host, plugin := net.Pipe()
	defer host.Close()
	ch := newChannel(srv, plugin)
	ch.open(testKey)
	unsealed, err := appendMsg(nil, &pluginv1.CallRequest{Id: 1, Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Path: "/" + strings.Repeat("x", 64)}}}) // longer than a sealed header
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = host.Write(unsealed) }()
	select {
	case <-ch.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin's channel did not end on an unsealed call")
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("%d handlers ran for an unsealed call", n)
	}
}

// TestOpenChannelTakesOneKey: the plugin opens its channel once, with a
// key of the right size.
func TestOpenChannelTakesOneKey(t *testing.T) {
	c := loopback(t, bodyEcho(), false)
	for _, tc := range []struct {
		key  []byte
		want codes.Code
	}{
		{nil, codes.InvalidArgument}, // a host of version 2 sent none
		{make([]byte, 5), codes.InvalidArgument},
		{testKey, codes.OK},
		{testKey, codes.FailedPrecondition},
	} {
		_, err := c.rpc.OpenChannel(t.Context(), &pluginv1.ChannelRequest{Version: channelVersion, Key: tc.key})
		if status.Code(err) != tc.want {
			t.Fatalf("OpenChannel with a %d-byte key: want %v, got %v", len(tc.key), tc.want, err)
		}
	}
}

func mustSeal(t testing.TB, way byte) *frameSeal {
	t.Helper()
	calls, answers, err := newFrameSeals(testKey)
	if err != nil {
		t.Fatal(err)
	}
	s := answers
	if way == callsWay {
		s = calls
	}
	return s
}

// TestChannelBreaksOnInjectedBytes: bytes another process slips into a
// pipe (it can open the pipe through /proc) end the channel at once, in
// either direction, rather than leaving calls to wait for their
// deadlines: the headers are sealed, so a forged length does not open.
func TestChannelBreaksOnInjectedBytes(t *testing.T) {
	for _, into := range []string{"calls", "answers"} {
		t.Run(into, func(t *testing.T) {
			pipes, err := NewPipes()
			if err != nil {
				t.Fatal(err)
			}
			defer pipes.Close()
			victim := pipes.host[1] // the calls' write end
			if into == "answers" {
				victim = pipes.plugin[1]
			}
			forger := reopen(t, victim)
			defer forger.Close()
			ch := newChannel(bodyEcho(), pipes.takePlugin())
			defer ch.close()
			ch.open(testKey)
			cc := testChannelConn(t, pipes.takeHost())
			defer cc.close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			call := &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Headers: []string{"X-Size", "3"}}}}
			if _, err := cc.call(ctx, 1, call); err != nil {
				t.Fatal(err)
			}
			if _, err := forger.Write([]byte{0, 0x3f, 0xff, 0xff}); err != nil { // "4 MiB follow"
				t.Fatal(err)
			}
			start := time.Now()
			_, err = cc.call(ctx, 2, call)
			if status.Code(err) != codes.Unavailable || time.Since(start) > 10*time.Second || !cc.broken() {
				t.Fatalf("the call after the injected bytes: %v after %s (channel broken: %v); want Unavailable at once", err, time.Since(start), cc.broken())
			}
		})
	}
}

// reopen opens the pipe f is the write end of a second time, through
// /proc, as another process of the same user could.
func reopen(t *testing.T, f *os.File) *os.File {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	if err := rc.Control(func(d uintptr) { fd = d }); err != nil { // Fd would make it blocking
		t.Fatal(err)
	}
	g, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("cannot open a pipe through /proc here: %v", err)
	}
	return g
}

// keyRecorder is a plugin server that records the keys OpenChannel gets.
type keyRecorder struct {
	*Server
	keys chan []byte
}

func (k keyRecorder) OpenChannel(ctx context.Context, m *pluginv1.ChannelRequest) (*pluginv1.ChannelOffer, error) {
	k.keys <- m.GetKey()
	return k.Server.OpenChannel(ctx, m)
}

// TestUseChannelSendsAFreshKey: each UseChannel sends a new random key of
// the channel's size.
func TestUseChannelSendsAFreshKey(t *testing.T) {
	rec := keyRecorder{Server: bodyEcho(), keys: make(chan []byte, 2)}
	c := Loopback(t, rec, rec.Server, true)
	pipes, err := NewPipes()
	if err != nil {
		t.Fatal(err)
	}
	_ = c.UseChannel(t.Context(), pipes, 0, nil) // refused: the plugin's channel is open already
	first, second := <-rec.keys, <-rec.keys
	if len(first) != channelKeySize || len(second) != channelKeySize || bytes.Equal(first, second) {
		t.Fatalf("keys %x and %x; want two different %d-byte keys", first, second, channelKeySize)
	}
}

// Plain framing (a 4-byte length, no seal), for the msgReader tests and
// for writing what is not a sealed message.

// newMsgReader reads messages of at most max bytes (0: up to 1 GiB), each
// after its length (4 bytes, big-endian).
func newMsgReader(r io.Reader, max int) *msgReader {
	return newHeaderReader(r, max, 4, func(h []byte) (uint32, error) { return binary.BigEndian.Uint32(h), nil })
}

// appendMsg appends msg to buf after its length.
func appendMsg(buf []byte, msg proto.Message) ([]byte, error) {
	buf = append(buf, 0, 0, 0, 0)
	out, err := proto.MarshalOptions{}.MarshalAppend(buf, msg)
	if err != nil {
		return buf[:len(buf)-4], err
	}
	binary.BigEndian.PutUint32(out[len(buf)-4:], uint32(len(out)-len(buf)))
	return out, nil
}

// waitStarted waits until started closes (a handler began), failing the
// test if the call ends first (it sends on ended) or 10 s pass.
func waitStarted(t *testing.T, started <-chan struct{}, ended <-chan error) {
	t.Helper()
	select {
	case <-started:
	case err := <-ended:
		t.Fatalf("the call ended before its handler started: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not start")
	}
}
