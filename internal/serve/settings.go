package serve

import (
	"net/http"
	"time"
)

// Timeouts for every server; zero values take the defaults named.
type Timeouts struct {
	// ReadHeader bounds reading a request's line and header fields
	// (default 10s).
	ReadHeader time.Duration
	// ReadBody bounds reading a request's body, from the moment its
	// handler starts until the body's end (default 30s, as Nacos's
	// server). A body that is not in by then reads as a *BodyTimeoutError,
	// which front-ends answer with 408, and the connection is closed.
	// Requests without a body, and whatever a handler does once the body
	// is read (long-polls, blocking queries, streams), are not bounded by it.
	ReadBody time.Duration
	// Idle bounds how long a kept-alive connection may wait for its next
	// request (default 120s).
	Idle time.Duration
	// Shutdown bounds the drain after SIGTERM (default 30s).
	Shutdown time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.ReadHeader <= 0 {
		t.ReadHeader = 10 * time.Second
	}
	if t.ReadBody <= 0 {
		t.ReadBody = 30 * time.Second
	}
	if t.Idle <= 0 {
		t.Idle = 120 * time.Second
	}
	if t.Shutdown <= 0 {
		t.Shutdown = 30 * time.Second
	}
	return t
}

// DefaultHeaderBytes is the header limit of every listener unless
// configured otherwise: ample for any registry client or browser (they
// send a few KiB at most) and far below the 1 MiB net/http would allow.
const DefaultHeaderBytes = 64 << 10

// Limits bound what one request may make a listener hold; zero values take
// the defaults named. Body limits belong to each front-end, because each
// protocol has its own (a Consul KV value, a Nacos config).
type Limits struct {
	// HeaderBytes caps a request's line and header fields together;
	// larger ones are answered 431 before any handler runs (default
	// DefaultHeaderBytes, 64 KiB; net/http reads up to 4 KiB past it
	// before it refuses). gRPC servers use it as their maximum header
	// list size.
	HeaderBytes int
}

// WithDefaults returns l with its zero fields set to the defaults, for
// servers NewServer does not build (gRPC).
func (l Limits) WithDefaults() Limits {
	if l.HeaderBytes <= 0 {
		l.HeaderBytes = DefaultHeaderBytes
	}
	return l
}

// NewServer returns an HTTP server for h with the timeouts and limits
// applied: header read timeout and size, idle timeout, and the body read
// bound around h. The caller adds what is its own (BaseContext, ErrorLog,
// a WriteTimeout) and serves it. There is no ReadTimeout: it would count
// the header's time against the body's.
func NewServer(h http.Handler, t Timeouts, l Limits) *http.Server {
	t, l = t.withDefaults(), l.WithDefaults()
	return &http.Server{
		Handler:           BoundBodyTime(h, t.ReadBody),
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    l.HeaderBytes,
	}
}
