package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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

// TestDirectCallsCarryBigMessages sends and receives messages far larger
// than a frame, from several callers at once, so that messages span many
// frames and senders wait for flow-control window that only readers can
// bring in.
func TestDirectCallsCarryBigMessages(t *testing.T) {
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
	if c.direct == nil || c.direct.broken() {
		t.Fatal("the calls did not stay on their own connection")
	}
}

func TestDirectCallsRefuseAnOversizedAnswer(t *testing.T) {
	c := testClient(t, newServer(bodyEcho(), Logger()), true)
	c.direct.maxRecv = 64 << 10
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

// TestDirectCallsRedial: a broken connection is replaced on the next call;
// when no connection can be made, calls go through the gRPC connection.
func TestDirectCallsRedial(t *testing.T) {
	c := testClient(t, newServer(bodyEcho(), Logger()), true)
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
	first := c.direct
	_ = first.conn.Close() // as if the connection dropped
	if _, err := c.HandleRequest(ctx, &Request{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("call on the dropped connection: want Unavailable, got %v", err)
	}
	call("after the drop")
	if c.direct == first {
		t.Fatal("the dropped connection was not replaced")
	}

	dial := c.dial
	c.mu.Lock()
	c.dial = func(context.Context) (net.Conn, error) { return nil, errors.New("no more connections") }
	c.mu.Unlock()
	c.direct.close()
	call("while dialing fails") // through the gRPC stream
	if c.stream == nil {
		t.Fatal("the call did not go through the gRPC stream")
	}
	c.mu.Lock()
	c.dial, c.dialFailed = dial, time.Time{} // as if redialAfter had passed
	c.mu.Unlock()
	call("once dialing works again")
	if c.direct == nil || c.direct.broken() {
		t.Fatal("the client did not go back to the calls' own connection")
	}
}

// TestFrameReaderKeepsAFrameCutByADeadline: a read deadline in the middle
// of a frame loses nothing; the next read completes the frame.
func TestFrameReaderKeepsAFrameCutByADeadline(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	fr := newFrameReader(a)
	frameBytes := []byte{0, 0, 3, 0x0, 0x1, 0, 0, 0, 1, 'x', 'y', 'z'} // DATA, END_STREAM, stream 1
	go func() { _, _ = b.Write(frameBytes[:7]) }()
	_ = a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := fr.next(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	go func() { _, _ = b.Write(frameBytes[7:]) }()
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	if f.stream != 1 || f.flags != 0x1 || string(f.payload) != "xyz" {
		t.Fatalf("got frame %+v", f)
	}
}

// TestDirectCallCanceledWhileReading: a call whose context has no deadline
// and is canceled gives up even while it is the one reading the socket,
// and the connection goes on serving.
func TestDirectCallCanceledWhileReading(t *testing.T) {
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
	first := c.direct
	for range 3 {
		if _, err := c.HandleRequest(ctx, &Request{Path: "/fast"}); err != nil {
			t.Fatalf("after the canceled call: %v", err)
		}
	}
	if c.direct != first {
		t.Fatal("the canceled call broke the connection")
	}
}
