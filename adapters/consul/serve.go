package consul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve"
)

// drainTimeout bounds Serve's drain. There is no write timeout: a blocking
// query legitimately holds its answer for up to 10 minutes plus jitter.
const drainTimeout = 10 * time.Second

// Serve serves Handler on ln until ctx ends, then drains: blocking queries
// answer at once when Run has stopped, other requests get up to 10 s to
// finish. Run must be running alongside (Serve does not start it).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		s.port.Store(int32(a.Port))
	}
	hs := serve.NewServer(s.Handler(), s.opts.Timeouts, s.opts.Limits)
	hs.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("consul: serve: %w", err)
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err := hs.Shutdown(dctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("consul: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("consul: drain: %w", err)
	}
	return nil
}
