package apptest

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
)

// Serve runs r in the test's process with args, as app.Main would, until
// stop is called or the test ends, and fails the test unless r then
// exits 0 within 30 s.
func Serve(t testing.TB, r app.Runner, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut lockedBuffer
	go func() { done <- app.Run(ctx, r, args, io.Discard, &errOut) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case code := <-done:
			if code != app.ExitOK {
				t.Errorf("exit %d: %s", code, errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("the command did not stop")
		}
	})
	t.Cleanup(stop)
	return stop
}
