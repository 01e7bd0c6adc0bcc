package sdk_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// TestConcurrentCalls runs many calls at once over the call stream, each
// answered after its own delay: every caller gets its own answer, and a
// call whose deadline passes fails alone.
func TestConcurrentCalls(t *testing.T) {
	bothPaths(t, testConcurrentCalls)
}

// bothPaths runs a test with the calls on the plugin's channel and on
// grpc-go's transport.
func bothPaths(t *testing.T, test func(*testing.T, func(testing.TB, sdk.ServeConfig) *sdk.Client)) {
	t.Run("channel", func(t *testing.T) { test(t, sdk.TestClient) })
	t.Run("grpc transport", func(t *testing.T) { test(t, sdk.ClientViaGRPC) })
}

func testConcurrentCalls(t *testing.T, newClient func(testing.TB, sdk.ServeConfig) *sdk.Client) {
	c := newClient(t, sdk.ServeConfig{Request: sdk.RequestHandlerFunc(func(ctx context.Context, r *sdk.Request) (*sdk.RequestResult, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, fmt.Errorf("the handler's context has no deadline")
		}
		n, _ := strconv.Atoi(r.Header.Get("N"))
		select {
		case <-time.After(time.Duration(n%7) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &sdk.RequestResult{Header: sdk.HeaderChanges{Set: http.Header{"N": {r.Header.Get("N")}}}}, nil
	})})

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n := strconv.Itoa(i)
			res, err := c.HandleRequest(ctx, &sdk.Request{Header: http.Header{"N": {n}}})
			if err != nil {
				errs <- fmt.Errorf("call %s: %v", n, err)
				return
			}
			if got := res.Header.Set.Get("N"); got != n {
				errs <- fmt.Errorf("call %s got the answer of call %s", n, got)
			}
		})
	}
	wg.Go(func() {
		// 6 ms of work against a 1 ms deadline.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		if _, err := c.HandleRequest(ctx, &sdk.Request{Header: http.Header{"N": {"6"}}}); status.Code(err) != codes.DeadlineExceeded {
			errs <- fmt.Errorf("short deadline: want DeadlineExceeded, got %v", err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The stream is still good after a call timed out on it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.HandleRequest(ctx, &sdk.Request{Header: http.Header{"N": {"1"}}}); err != nil {
		t.Fatalf("after a timeout: %v", err)
	}
}

// TestSlowCallHoldsUpNoOther blocks one call until a second one has been
// answered: the stream must serve the second while the first runs.
func TestSlowCallHoldsUpNoOther(t *testing.T) {
	bothPaths(t, testSlowCallHoldsUpNoOther)
}

func testSlowCallHoldsUpNoOther(t *testing.T, newClient func(testing.TB, sdk.ServeConfig) *sdk.Client) {
	release := make(chan struct{})
	c := newClient(t, sdk.ServeConfig{Request: heldHandler(release, nil)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slow := make(chan error, 1)
	go func() {
		_, err := c.HandleRequest(ctx, &sdk.Request{Path: "/slow"})
		slow <- err
	}()
	for range 3 { // the slow call may not have arrived first
		if _, err := c.HandleRequest(ctx, &sdk.Request{Path: "/fast"}); err != nil {
			t.Fatalf("fast call while a slow one runs: %v", err)
		}
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("slow call: %v", err)
	}
}

// TestSequentialServesOneCallAtATime blocks the first call's handler: a
// second call sent meanwhile is not handled until the first returns, and
// then both are answered.
func TestSequentialServesOneCallAtATime(t *testing.T) {
	bothPaths(t, testSequentialServesOneCallAtATime)
}

func testSequentialServesOneCallAtATime(t *testing.T, newClient func(testing.TB, sdk.ServeConfig) *sdk.Client) {
	release := make(chan struct{})
	started := make(chan string, 2)
	c := newClient(t, sdk.ServeConfig{Sequential: true, Request: heldHandler(release, started)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := func(path string) chan error {
		done := make(chan error, 1)
		go func() {
			_, err := c.HandleRequest(ctx, &sdk.Request{Path: path})
			done <- err
		}()
		return done
	}
	slow := call("/slow")
	if got := <-started; got != "/slow" {
		t.Fatalf("first handler ran %q", got)
	}
	next := call("/next")
	select {
	case got := <-started:
		t.Fatalf("%q was handled while /slow ran", got)
	case err := <-next:
		t.Fatalf("/next answered while /slow ran: %v", err)
	case <-time.After(100 * time.Millisecond): // it waits, as it should
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("slow call: %v", err)
	}
	if got := <-started; got != "/next" {
		t.Fatalf("second handler ran %q", got)
	}
	if err := <-next; err != nil {
		t.Fatalf("next call: %v", err)
	}
}

// heldHandler answers at once, but a call to /slow only once release is
// closed (or its context ends); it tells started each call's path when
// started is not nil.
func heldHandler(release <-chan struct{}, started chan<- string) sdk.RequestHandlerFunc {
	return func(ctx context.Context, r *sdk.Request) (*sdk.RequestResult, error) {
		if started != nil {
			started <- r.Path
		}
		if r.Path == "/slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return &sdk.RequestResult{}, nil
	}
}
