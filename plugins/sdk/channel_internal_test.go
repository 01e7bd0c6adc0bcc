package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// bodyEcho answers every request directly with a body of the size the
// request's X-Size asks for, and reports the hash of the body it saw.
func bodyEcho() ServeConfig {
	return ServeConfig{RequestBodyLimit: MaxRequestBodyLimit, Request: RequestHandlerFunc(func(_ context.Context, r *Request) (*RequestResult, error) {
		n, _ := strconv.Atoi(r.Header.Get("X-Size"))
		sum := sha256.Sum256(r.Body)
		return &RequestResult{Response: &Response{
			Status: http.StatusOK,
			Header: http.Header{"X-Body-Sha256": {hex.EncodeToString(sum[:])}},
			Body:   bytes.Repeat([]byte{'a'}, n),
		}}, nil
	})}
}

// TestChannelCarriesBigMessages sends and receives messages far larger
// than a socket buffer, from several callers at once, so that messages
// arrive in many reads and writers wait for readers.
func TestChannelCarriesBigMessages(t *testing.T) {
	c := testClient(t, newServer(bodyEcho(), Logger()), true)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			body := bytes.Repeat([]byte{byte('0' + i)}, MaxRequestBodyLimit-i)
			want := sha256.Sum256(body)
			size := (i + 1) * 300 << 10 // up to 2.4 MB back
			res, err := c.HandleRequest(ctx, &Request{Body: body, Header: http.Header{"X-Size": {strconv.Itoa(size)}}})
			switch {
			case err != nil:
				errs <- fmt.Errorf("call %d: %v", i, err)
			case res.Response.Header.Get("X-Body-Sha256") != hex.EncodeToString(want[:]):
				errs <- fmt.Errorf("call %d: the plugin saw another body", i)
			case len(res.Response.Body) != size:
				errs <- fmt.Errorf("call %d: got %d body bytes back, want %d", i, len(res.Response.Body), size)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c.channel == nil || c.channel.broken() {
		t.Fatal("the calls did not stay on the channel")
	}
}

func TestChannelRefusesAnOversizedAnswer(t *testing.T) {
	c := testClient(t, newServer(bodyEcho(), Logger()), true)
	c.channel.in.max = 64 << 10
	c.maxReply = 64 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.HandleRequest(ctx, &Request{Header: http.Header{"X-Size": {strconv.Itoa(100 << 10)}}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("want ResourceExhausted, got %v", err)
	}
	// The next call gets a new connection and works.
	res, err := c.HandleRequest(ctx, &Request{Header: http.Header{"X-Size": {"10"}}})
	if err != nil || len(res.Response.Body) != 10 {
		t.Fatalf("after the refused answer: %+v, %v", res, err)
	}
}

// TestChannelReopens: a broken channel connection is replaced on the next
// call; when the channel cannot be opened, calls go through the gRPC
// stream, and back to the channel once it can.
func TestChannelReopens(t *testing.T) {
	srv := newServer(bodyEcho(), Logger())
	c := testClient(t, srv, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := func(what string) {
		t.Helper()
		res, err := c.HandleRequest(ctx, &Request{Header: http.Header{"X-Size": {"3"}}})
		if err != nil || string(res.Response.Body) != "aaa" {
			t.Fatalf("%s: %+v, %v", what, res, err)
		}
	}
	call("first call")
	first := c.channel
	_ = first.conn.Close() // as if the connection dropped
	if _, err := c.HandleRequest(ctx, &Request{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("call on the dropped connection: want Unavailable, got %v", err)
	}
	call("after the drop")
	if c.channel == first {
		t.Fatal("the dropped connection was not replaced")
	}

	old := srv.channel
	old.close() // its socket is gone: opening fails
	c.channel.close()
	call("while the channel cannot be opened") // through the gRPC stream
	if c.stream == nil {
		t.Fatal("the call did not go through the gRPC stream")
	}
	ch, err := openChannel(srv, Logger(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ch.close)
	srv.channel = ch
	c.mu.Lock()
	c.openFailed = time.Time{} // as if reopenAfter had passed
	c.mu.Unlock()
	call("once the channel can be opened again")
	if c.channel == nil || c.channel.broken() {
		t.Fatal("the client did not go back to the channel")
	}
}

// TestChannelRefusesAWrongToken: a connection that does not start with the
// token is closed before any call of it runs.
func TestChannelRefusesAWrongToken(t *testing.T) {
	var calls atomic.Int32
	srv := newServer(ServeConfig{Request: RequestHandlerFunc(func(context.Context, *Request) (*RequestResult, error) {
		calls.Add(1)
		return &RequestResult{}, nil
	})}, Logger())
	ch, err := openChannel(srv, Logger(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ch.close()
	offer := ch.offer()
	if info, err := os.Stat(filepath.Dir(offer.GetAddress())); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("the socket's directory: %v, %v; want mode 0700", info.Mode(), err)
	}
	for name, token := range map[string][]byte{
		"wrong token": bytes.Repeat([]byte{'x'}, tokenSize),
		"short token": offer.GetToken()[:tokenSize-1],
	} {
		conn, err := net.Dial("unix", offer.GetAddress())
		if err != nil {
			t.Fatal(err)
		}
		call, err := appendMsg(nil, &pluginv1.CallRequest{Id: 1, Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Method: "GET"}}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(append(bytes.Clone(token), call...))
		if c, ok := conn.(*net.UnixConn); ok && name == "short token" {
			_ = c.CloseWrite() // the plugin then reads the call's bytes as the rest of the token
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(make([]byte, 64))
		if n != 0 || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			t.Fatalf("%s: the plugin answered (%d bytes, %v); want the connection closed", name, n, err)
		}
		conn.Close()
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls ran on connections without the token", n)
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
// and is canceled gives up even while it is the one reading the socket,
// and the connection goes on serving.
func TestChannelCallCanceledWhileReading(t *testing.T) {
	release := make(chan struct{})
	c := testClient(t, newServer(ServeConfig{Request: RequestHandlerFunc(func(ctx context.Context, r *Request) (*RequestResult, error) {
		if r.Path == "/slow" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return &RequestResult{}, nil
	})}, Logger()), true)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.HandleRequest(ctx, &Request{Path: "/slow"}); status.Code(err) != codes.Canceled {
		t.Fatalf("want Canceled, got %v", err)
	}
	close(release)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := c.channel
	for range 3 {
		if _, err := c.HandleRequest(ctx, &Request{Path: "/fast"}); err != nil {
			t.Fatalf("after the canceled call: %v", err)
		}
	}
	if c.channel != first {
		t.Fatal("the canceled call broke the connection")
	}
}
