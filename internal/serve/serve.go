package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
)

// Listener is one named HTTP endpoint of a binary.
type Listener struct {
	Name    string
	Addr    string
	Handler http.Handler
	// Listener, when set, is used instead of listening on Addr (tests, or
	// a binary that must know its address before it serves).
	Listener net.Listener
}

// Join binds l and adds it to g as an actor: it serves l.Handler with the
// timeouts and limits given once g runs, and when g stops it drains: long
// polls and streams see the drain signal (DrainSignal) and answer at once,
// requests in flight get up to t.Shutdown to finish, then what is left is
// closed. A bind failure (a port in use) is returned before anything
// serves, naming the listener.
func Join(g *app.Group, l Listener, log *slog.Logger, t Timeouts, lim Limits) error {
	t = t.withDefaults()
	ln := l.Listener
	if ln == nil {
		if l.Addr == "" {
			return fmt.Errorf("%s listener: no address", l.Name)
		}
		var err error
		if ln, err = net.Listen("tcp", l.Addr); err != nil {
			return fmt.Errorf("%s listener on %s: %w", l.Name, l.Addr, err)
		}
	}
	drain := make(chan struct{})
	baseCtx := context.WithValue(context.Background(), drainKey{}, (<-chan struct{})(drain))
	srv := NewServer(l.Handler, t, lim)
	srv.BaseContext = func(net.Listener) context.Context { return baseCtx }
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	join(g, l.Name, srv, ln, t.Shutdown, log, func() { close(drain) })
	return nil
}

// Server is what JoinServer runs: *http.Server, and servers of the same
// shape (the sidecar's proxy server).
type Server interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// JoinServer adds srv, serving ln, to g as an actor: it serves once g
// runs, and when g stops it shuts srv down gracefully for up to drain,
// then closes what is left. ln is closed when g is done, served or not.
func JoinServer(g *app.Group, name string, srv Server, ln net.Listener, drain time.Duration, log *slog.Logger) {
	join(g, name, srv, ln, drain, log, nil)
}

func join(g *app.Group, name string, srv Server, ln net.Listener, drain time.Duration, log *slog.Logger, beforeDrain func()) {
	var once sync.Once
	drained := make(chan struct{})
	g.Add(func() error {
		log.Info("listening", "listener", name, "addr", ln.Addr().String())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s listener: %w", name, err)
		}
		<-drained
		return nil
	}, func(error) {
		once.Do(func() {
			log.Info("draining listener", "listener", name, "timeout", drain)
			if beforeDrain != nil {
				beforeDrain()
			}
			go func() {
				defer close(drained)
				ctx, cancel := context.WithTimeout(context.Background(), drain)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					log.Warn("listener did not drain in time; closing", "listener", name, "error", err)
					_ = srv.Close() // the drain's time is up
				}
			}()
		})
	})
	// A listener the group never served (its building failed half way)
	// is released here; closing a served one again does nothing.
	g.Cleanup(func() { _ = ln.Close() })
}

type drainKey struct{}

// DrainSignal returns a channel that is closed when the server serving the
// request starts draining. Long-polls and streams select on it and answer
// early. It is nil (never ready) outside a server Join built.
func DrainSignal(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainKey{}).(<-chan struct{})
	return ch
}
