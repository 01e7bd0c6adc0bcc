package httpx

import (
	"context"
	"testing"
	"time"
)

// The request context behaves as a context.WithCancel one: Done, Err,
// AfterFunc (stopped or run), and children derived from it.
func TestRequestContext(t *testing.T) {
	ctx := &requestContext{}
	if ctx.Err() != nil {
		t.Fatal("fresh context already done")
	}
	ran := make(chan string, 3)
	stopped := ctx.AfterFunc(func() { ran <- "stopped" })
	ctx.AfterFunc(func() { ran <- "direct" })
	context.AfterFunc(ctx, func() { ran <- "via context.AfterFunc" })
	child, cancelChild := context.WithTimeout(ctx, time.Minute)
	defer cancelChild()
	if !stopped() {
		t.Error("stop did not report stopping a pending function")
	}
	if stopped() {
		t.Error("second stop reported stopping again")
	}

	ctx.cancel()
	<-ctx.Done()
	if ctx.Err() != context.Canceled {
		t.Errorf("Err = %v", ctx.Err())
	}
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("derived context not cancelled")
	}
	got := map[string]bool{}
	for range 2 {
		select {
		case s := <-ran:
			got[s] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("functions that ran: %v", got)
		}
	}
	if !got["direct"] || !got["via context.AfterFunc"] || got["stopped"] {
		t.Errorf("functions that ran: %v", got)
	}
	late := make(chan struct{})
	ctx.AfterFunc(func() { close(late) })
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterFunc on a done context did not run")
	}
}
