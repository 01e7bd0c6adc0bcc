package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// runWithin runs g and fails the test if it does not return in time.
func runWithin(t *testing.T, g *Group) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Run() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the group did not return")
		return nil
	}
}

// recorder notes events in order, from any goroutine.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) note(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// A GoFirst actor (deregistration) has finished before any other actor is
// interrupted (a listener starts draining), whichever actor ended the run
// and in whatever order the actors were added.
func TestGoFirstStopsBeforeTheOthersAreInterrupted(t *testing.T) {
	for _, firstAddedLast := range []bool{false, true} {
		var rec recorder
		g := NewGroup()
		listener := func() {
			stop := make(chan struct{})
			g.Add(func() error { <-stop; return nil }, func(error) { rec.note("listener interrupted"); close(stop) })
		}
		if !firstAddedLast {
			g.GoFirst(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(50 * time.Millisecond) // a deregistration takes a while
				rec.note("deregistered")
				return nil
			})
			listener()
		} else {
			listener()
			g.GoFirst(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(50 * time.Millisecond)
				rec.note("deregistered")
				return nil
			})
		}
		ctx, cancel := context.WithCancel(context.Background())
		g.Until(ctx)
		cancel()
		if err := runWithin(t, g); err != nil {
			t.Fatal(err)
		}
		if got := rec.list(); !slices.Equal(got, []string{"deregistered", "listener interrupted"}) {
			t.Fatalf("added last %v: %v, want the deregistration first", firstAddedLast, got)
		}
	}
}

// Every actor's error is returned, not only the first's; an error a Go
// actor returns after its context ended is the stop's and is dropped.
func TestRunReturnsEveryActorsError(t *testing.T) {
	g := NewGroup()
	release := make(chan struct{})
	g.Add(func() error { return errors.New("eureka listener: broken") }, func(error) {})
	g.Add(func() error { <-release; return errors.New("consul: drain: cut short") }, func(error) { close(release) })
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return errors.New("after the stop") })
	err := runWithin(t, g)
	if err == nil || !strings.Contains(err.Error(), "eureka listener: broken") || !strings.Contains(err.Error(), "consul: drain: cut short") {
		t.Fatalf("Run: %v, want both actors' errors", err)
	}
	if strings.Contains(err.Error(), "after the stop") {
		t.Fatalf("Run: %v, an error after the stop counted", err)
	}
}

// Cleanups run last added first, after every actor returned, and an
// aborted group interrupts its actors and runs them too.
func TestCleanupsRunLastFirstAfterRunAndAbort(t *testing.T) {
	for _, abort := range []bool{false, true} {
		var rec recorder
		g := NewGroup()
		g.Cleanup(func() { rec.note("store closed") })
		g.Go(func(ctx context.Context) error { <-ctx.Done(); rec.note("actor returned"); return nil })
		g.Add(func() error { return nil }, func(err error) {
			if abort && !errors.Is(err, errAborted) {
				t.Errorf("aborted with %v", err)
			}
			rec.note("interrupted")
		})
		g.Cleanup(func() { rec.note("plugins stopped") })
		want := []string{"interrupted", "plugins stopped", "store closed"}
		if abort {
			g.Abort()
		} else {
			if err := runWithin(t, g); err != nil {
				t.Fatal(err)
			}
			want = []string{"interrupted", "actor returned", "plugins stopped", "store closed"}
		}
		got := rec.list()
		// The Go actor returns concurrently with the other's interrupt:
		// only the cleanups, last, are ordered.
		if len(got) == len(want) {
			slices.Sort(got[:len(got)-2])
			slices.Sort(want[:len(want)-2])
		}
		if !slices.Equal(got, want) {
			t.Fatalf("abort %v: %v, want %v", abort, got, want)
		}
	}
}
