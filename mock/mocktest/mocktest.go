// Package mocktest serves the mock engine on loopback for the tests of
// the packages that make stubs (mock/openapi, mock/record).
package mocktest

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/meshbridge/meshbridge/mock"
)

// Serve loads roots into an engine made with opts (its Logger discarded
// unless set) and serves its stubs on loopback until the test ends; it
// returns the base URL.
func Serve(tb testing.TB, opts mock.Options, roots ...string) string {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := mock.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.LoadFiles(roots...); err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(hs.Close)
	return hs.URL
}
