package chain

import (
	"fmt"
	"net/http"
)

// Handler is one step of a chain.
type Handler interface {
	// Name is the name the handler was registered under.
	Name() string
	// Serve handles the exchange and calls next to continue the chain. The
	// returned response's body belongs to the caller, which must close it.
	Serve(ex *Exchange, next Next) (*http.Response, error)
}

// Next continues a chain.
type Next func(ex *Exchange) (*http.Response, error)

// Compile links handlers into one Next ending in end (usually nil, since the
// transport handler ends the chain and never calls next).
func Compile(handlers []Handler, end Next) Next {
	if end == nil {
		end = func(*Exchange) (*http.Response, error) {
			return nil, &Error{Status: http.StatusBadGateway, Reason: ReasonNoTransport, Err: fmt.Errorf("chain has no transport handler")}
		}
	}
	next := end
	for i := len(handlers) - 1; i >= 0; i-- {
		h, n := handlers[i], next
		next = func(ex *Exchange) (*http.Response, error) { return h.Serve(ex, n) }
	}
	return next
}

// Cleaner is implemented by handlers that hold goroutines or connections.
// Cleanup is called once when the sidecar stops, after the listeners
// drained; it must be safe on a handler whose setup was cut short.
type Cleaner interface {
	Cleanup() error
}
