package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshbridge/meshbridge/internal/poll"
)

// recorder stands in for the test the harness fails: it keeps the
// failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestStartServesAndStopsInOrder(t *testing.T) {
	answer200 := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}) // 200, where nothing else would answer
	for _, tc := range []struct {
		name string
		fe   func(order *[]string) Frontend
	}{
		{"handler", func(order *[]string) Frontend {
			return Frontend{Handler: answer200}
		}},
		{"serve", func(order *[]string) Frontend {
			return Frontend{Serve: func(ctx context.Context, ln net.Listener) error {
				srv := &http.Server{Handler: answer200}
				go func() { <-ctx.Done(); srv.Close() }()
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				*order = append(*order, "serve")
				return nil
			}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var order []string
			var ready atomic.Int32
			fe := tc.fe(&order)
			fe.Run = []func(context.Context) error{func(ctx context.Context) error {
				ready.Store(1)
				<-ctx.Done()
				order = append(order, "loop")
				return nil
			}}
			fe.Ready = func() bool { return ready.Load() == 1 }
			fe.Close = func() error { order = append(order, "close"); return nil }
			st := Store(t)
			r := &recorder{TB: t}
			s := Start(r, st, fe)
			if err := poll.GetOK(s.URL + "/")(); err != nil || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
				t.Fatalf("URL %q does not serve the front-end: %v", s.URL, err)
			}
			s.Stop()
			s.Stop()
			want := "loop close"
			if tc.name == "serve" {
				want = "serve loop close"
			}
			if got := strings.Join(order, " "); got != want || len(r.errs) != 0 {
				t.Fatalf("stopped %q with failures %q; want %q once, without failures", got, r.errs, want)
			}
			if _, err := st.Register(context.Background(), Instance("o-1", "10.0.0.1", 80)); err == nil {
				t.Error("the store still takes writes after Stop")
			}
		})
	}
}

func TestStopFailsTheTestWhenALoopEndsWithAnError(t *testing.T) {
	r := &recorder{TB: t}
	s := Start(r, Store(t), Frontend{Handler: http.NotFoundHandler(), Run: []func(context.Context) error{
		func(ctx context.Context) error { <-ctx.Done(); return errors.New("view broke") },
	}})
	s.Stop()
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "view broke") {
		t.Fatalf("failures %q, want the loop's error", r.errs)
	}
}

func TestGoStopReturnsTheError(t *testing.T) {
	r := &recorder{TB: t}
	stop := Go(r, "the gRPC server", func(ctx context.Context) error { <-ctx.Done(); return errors.New("drain failed") })
	for range 2 {
		if err := stop(); err == nil || err.Error() != "the gRPC server: drain failed" {
			t.Fatalf("stop = %v, want the server's error named", err)
		}
	}
}
