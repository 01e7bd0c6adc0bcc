package app

import (
	"context"
	"errors"
	"sync"

	"github.com/oklog/run"
)

// Group is the one run group of a binary: every listener, proxy server,
// gRPC server, watcher and syncer joins it as an actor, a pair of
// functions as github.com/oklog/run has them. When the first actor
// returns, the group stops: the actors added with GoFirst are stopped and
// waited for, then every other actor is interrupted, and Run returns once
// all of them have returned and the cleanups have run.
//
// A Group is filled before it runs (Run and Abort are called once, after
// every Add); it is not safe to add to it from several goroutines.
type Group struct {
	actors   run.Group
	first    []firstActor
	stopOnce sync.Once
	stopping chan struct{}

	interrupts []func(error) // every actor's, for Abort
	cleanups   []func()

	mu   sync.Mutex
	errs []error
}

// firstActor is an actor stopped before the others.
type firstActor struct {
	cancel context.CancelFunc
	done   <-chan struct{}
}

// errAborted is what Abort interrupts actors with.
var errAborted = errors.New("app: the group did not start")

// NewGroup returns an empty group.
func NewGroup() *Group { return &Group{stopping: make(chan struct{})} }

// Add adds an actor. execute runs until interrupt is called, then returns
// once what it runs has stopped (a listener has drained); interrupt must
// return quickly and may be called before execute started. An error
// execute returns stops the group and is part of what Run returns.
func (g *Group) Add(execute func() error, interrupt func(error)) {
	g.interrupts = append(g.interrupts, interrupt)
	g.actors.Add(func() error {
		err := execute()
		if err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
		}
		return err
	}, func(err error) {
		g.stop()
		interrupt(err)
	})
}

// Go adds fn as an actor: fn runs until its context ends, which happens
// when the group stops, and must then return once it has stopped. An
// error fn returns before that stops the group; one returned after its
// context ended is the stop's own business (a drain cut short by its
// bound), which fn logs if it matters, and does not fail the group.
func (g *Group) Go(fn func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	g.Add(func() error { return quiet(ctx, fn(ctx)) }, func(error) { cancel() })
}

// GoFirst adds fn as an actor that stops before every other: when the
// group stops, fn's context ends and the group waits for fn to return
// before it interrupts anything else. Deregistration goes here, so that
// callers stop choosing an instance while its listeners still serve; fn
// must bound what it does after its context ended.
func (g *Group) GoFirst(fn func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	g.first = append(g.first, firstActor{cancel: cancel, done: done})
	g.Add(func() error {
		defer close(done)
		return quiet(ctx, fn(ctx))
	}, func(error) { cancel() })
}

// Until adds an actor that stops the group when ctx ends (a signal, a
// test's cancel).
func (g *Group) Until(ctx context.Context) {
	stop := make(chan struct{})
	var once sync.Once
	g.Add(func() error {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		return nil
	}, func(error) { once.Do(func() { close(stop) }) })
}

// Cleanup adds fn to what runs once every actor has returned, or when the
// group is aborted; the last added runs first. Closing a store, stopping
// plugins and releasing a socket that may never have been served go here.
func (g *Group) Cleanup(fn func()) { g.cleanups = append(g.cleanups, fn) }

// Stopping is closed when the group starts to stop.
func (g *Group) Stopping() <-chan struct{} { return g.stopping }

// Empty reports whether no actor was added.
func (g *Group) Empty() bool { return len(g.interrupts) == 0 }

// Run runs every actor until the first returns, stops the group, runs the
// cleanups and returns every error the actors returned, joined.
func (g *Group) Run() error {
	_ = g.actors.Run() // the first actor's error; every one is recorded in errs
	g.stop()           // a group without actors stops at once too
	g.runCleanups()
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}

// Abort releases a group that will not run, because building what was to
// join it failed half way: every actor is interrupted without having been
// executed, and the cleanups run.
func (g *Group) Abort() {
	g.stopOnce.Do(func() { close(g.stopping) })
	for _, interrupt := range g.interrupts {
		interrupt(errAborted)
	}
	g.runCleanups()
}

// stop stops the GoFirst actors and waits for them; it runs once, before
// the first interrupt of any other actor.
func (g *Group) stop() {
	g.stopOnce.Do(func() {
		close(g.stopping)
		for _, f := range g.first {
			f.cancel()
		}
		for _, f := range g.first {
			<-f.done
		}
	})
}

func (g *Group) runCleanups() {
	for i := len(g.cleanups) - 1; i >= 0; i-- {
		g.cleanups[i]()
	}
	g.cleanups = nil
}

// quiet drops an error returned after ctx ended: see Go.
func quiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
