package mock

import (
	"errors"
	"log/slog"
	"net/http"
)

// Middleware puts a handler in front of the stubs: it gets the handler
// that serves them and returns the one to serve instead. The plugin
// host's HTTPMiddleware fits as
//
//	func(next http.Handler) (http.Handler, error) { return host.HTTPMiddleware(p, next) }
type Middleware func(next http.Handler) (http.Handler, error)

// Options configure a Server; zero values take the defaults named.
type Options struct {
	// Strict makes stubs that can never answer (an equal stub added
	// later shadows them) an error when loaded, from files or through
	// the admin API, instead of a warning (default false).
	Strict bool
	// MaxBodyBytes bounds a request's body to the stubs (default 10 MiB;
	// larger ones get 413).
	MaxBodyBytes int64
	// AdminMaxBodyBytes bounds a request's body to the admin API
	// (default 16 MiB).
	AdminMaxBodyBytes int64
	// JournalEntries bounds the journal's entries (default 10,000; -1
	// turns the journal off). The oldest go first, and are counted.
	JournalEntries int
	// JournalBytes bounds the bodies the journal keeps, requests' and
	// responses' together (default 64 MiB).
	JournalBytes int64
	// NearMisses is how many of the closest stubs an unmatched request's
	// 404 lists (default 3).
	NearMisses int
	// Middleware run in front of the stubs, the first outermost (none by
	// default). They do not stand in front of the admin API; what they
	// answer themselves is not in the journal.
	Middleware []Middleware
	// Unmatched answers the requests no stub matches, in place of the 404
	// with near misses (default: none, the 404). It gets the request with
	// its body readable again; the journal records its answer as
	// unmatched. A recorder (package mock/record) proxies them to the
	// real service and writes stub files of what came back.
	Unmatched http.Handler
	// Served is told of every request the journal records, after its
	// answer: the ID of the stub that answered, "" when none matched
	// (default: none). The binary counts them for its metrics.
	Served func(stubID string)
	// Logger receives load errors and warnings (default: discarded).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.AdminMaxBodyBytes <= 0 {
		o.AdminMaxBodyBytes = 16 << 20
	}
	switch {
	case o.JournalEntries == 0:
		o.JournalEntries = 10_000
	case o.JournalEntries < 0:
		o.JournalEntries = 0
	}
	if o.JournalBytes <= 0 {
		o.JournalBytes = 64 << 20
	}
	if o.NearMisses <= 0 {
		o.NearMisses = 3
	}
	if o.Served == nil {
		o.Served = func(string) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// errDuplicateID is a stub id already in use.
var errDuplicateID = errors.New("duplicate stub id")
